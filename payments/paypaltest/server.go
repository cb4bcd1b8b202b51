package paypaltest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// The credentials and webhook id the server accepts.
const (
	ClientID     = "paypaltest-client"
	ClientSecret = "paypaltest-secret"
	WebhookID    = "WH-PAYPALTEST-0001"
)

// Server is a running fake PayPal. Its zero value is not usable; call New. All
// methods are safe for concurrent use.
type Server struct {
	// URL is the API base to give the client (PAYPAL_API_BASE).
	URL string

	srv *httptest.Server

	mu            sync.Mutex
	tokenLifetime time.Duration
	tokens        map[string]time.Time
	tokenRequests int
	orders        map[string]*Order
	captures      map[string]*Capture
	refunds       []Refund
	replays       map[string]replay
	requests      []Request
	transmissions map[string]transmission
	payouts       map[string]*Payout
	payoutOrder   []string
	captureStatus string
	nextID        int
}

// Order is a PayPal order as the server holds it.
type Order struct {
	ID, Status          string // CREATED, APPROVED, COMPLETED
	CustomID, Reference string
	Currency, Value     string
	CaptureID           string
}

// Capture is a captured payment.
type Capture struct {
	ID, OrderID, Status string
	Currency, Value     string
	CustomID            string
	Created             time.Time
}

// Refund is a refund the server made, through the API or (ProviderRefundEvent) as
// if in PayPal's dashboard or by a reversal.
type Refund struct {
	ID, CaptureID, Currency, Value, CustomID, RequestID string
	Created                                             time.Time
}

// Request is one API call the server answered (token calls aside).
type Request struct {
	Method, Path, RequestID string
	Body                    []byte
}

type replay struct {
	status int
	body   []byte
}

type transmission struct {
	sig  string
	body []byte
}

// New starts a server and stops it when tb ends. Tokens live an hour unless
// SetTokenLifetime says otherwise.
func New(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{tokenLifetime: time.Hour, tokens: map[string]time.Time{}, orders: map[string]*Order{},
		captures: map[string]*Capture{}, replays: map[string]replay{}, transmissions: map[string]transmission{}, payouts: map[string]*Payout{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/oauth2/token", s.handleToken)
	mux.HandleFunc("POST /v2/checkout/orders", s.authorized(s.idempotent(s.handleCreate)))
	mux.HandleFunc("GET /v2/checkout/orders/{id}", s.authorized(s.handleGet))
	mux.HandleFunc("POST /v2/checkout/orders/{id}/capture", s.authorized(s.idempotent(s.handleCapture)))
	mux.HandleFunc("POST /v2/payments/captures/{id}/refund", s.authorized(s.idempotent(s.handleRefund)))
	mux.HandleFunc("POST /v1/notifications/verify-webhook-signature", s.authorized(s.handleVerify))
	mux.HandleFunc("POST /v1/payments/payouts", s.authorized(s.idempotent(s.handleCreatePayout)))
	mux.HandleFunc("GET /v1/payments/payouts/{id}", s.authorized(s.handleGetPayout))
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	tb.Cleanup(s.srv.Close)
	return s
}

// SetTokenLifetime sets the expires_in of tokens issued from now on.
func (s *Server) SetTokenLifetime(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenLifetime = d
}

// TokenRequests is how many tokens were issued.
func (s *Server) TokenRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenRequests
}

// Requests returns the API calls answered so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Refunds returns the refunds made so far, oldest first.
func (s *Server) Refunds() []Refund {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Refund(nil), s.refunds...)
}

// Order returns a copy of the PayPal order id, if it exists.
func (s *Server) Order(id string) (Order, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[id]
	if !ok {
		return Order{}, false
	}
	return *o, true
}

// Approve is the buyer approving the order at PayPal. It fails for an unknown order
// or one that is not CREATED.
func (s *Server) Approve(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[id]
	if !ok || o.Status != "CREATED" {
		return fmt.Errorf("paypaltest: order %s cannot be approved (exists %v)", id, ok)
	}
	o.Status = "APPROVED"
	return nil
}

// CaptureNow captures an approved order as if a call had done so whose answer was
// lost, and returns the capture's id.
func (s *Server) CaptureNow(id string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[id]
	if !ok || o.Status != "APPROVED" {
		return "", fmt.Errorf("paypaltest: order %s cannot be captured (exists %v)", id, ok)
	}
	return s.capture(o).ID, nil
}

// SetCaptureStatus makes the captures made from now on come out in status
// (PENDING: PayPal reviews the payment before it completes or denies it; "" or
// COMPLETED: at once).
func (s *Server) SetCaptureStatus(status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.captureStatus = status
}

// capture completes o with a new capture; s.mu is held.
func (s *Server) capture(o *Order) *Capture {
	status := s.captureStatus
	if status == "" {
		status = "COMPLETED"
	}
	c := &Capture{ID: s.newID("CAP"), OrderID: o.ID, Status: status, Currency: o.Currency, Value: o.Value, CustomID: o.CustomID,
		Created: time.Now().UTC()}
	s.captures[c.ID] = c
	o.Status, o.CaptureID = "COMPLETED", c.ID
	return c
}

// newID makes an id shaped like PayPal's; s.mu is held.
func (s *Server) newID(prefix string) string {
	s.nextID++
	return fmt.Sprintf("%s%013d", prefix, s.nextID)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers as PayPal does: name, message, details[].issue, debug_id.
func writeError(w http.ResponseWriter, status int, name, issue, message string) {
	body := map[string]any{"name": name, "message": message, "debug_id": "paypaltest"}
	if issue != "" {
		body["details"] = []map[string]string{{"issue": issue, "description": message}}
	}
	writeJSON(w, status, body)
}
