// Package stripetest is a recording stand-in for the part of Stripe's API that
// GigStream calls, for tests that need provider-side state (stripe-mock, which every
// other test uses for request conformance, is stateless). It speaks the documented
// shapes of PaymentIntents (create, retrieve), refunds, Connect transfers and their
// reversals, payouts, accounts and account links, and lists the platform's balance
// transactions (GET /v1/balance_transactions, newest first, created[gte],
// starting_after, expand[]=data.source) the way reconciliation reads them. Tests play
// the buyer's bank and Stripe's dashboard: Succeed charges an intent, RefundOutside
// and Dispute change money only at the provider, CloseDispute decides a dispute and
// FinishPayout a connected account's payout. Like Stripe it refuses a refund of more
// than the charge has left, a refund of a disputed charge, and a second dispute of a
// charge. Every change it makes queues the webhook event Stripe would send (TakeEvents;
// Event.Signed signs one). Idempotency-Key is honoured: a POST repeated with the same
// key gets the first answer.
package stripetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is a running fake Stripe. Call New; all methods are safe for concurrent use.
type Server struct {
	// URL is the API base to give the client (STRIPE_API_BASE).
	URL string

	srv *httptest.Server

	mu       sync.Mutex
	intents  map[string]*Intent
	lines    []line
	replays  map[string][]byte
	nextID   int
	requests []string
	events   []Event
	payouts  map[string]*Payout
	disputes map[string]*dispute
}

// Intent is a PaymentIntent as the server holds it.
type Intent struct {
	ID, Currency, OrderID, Status string
	Amount                        int64
	Charge                        string // the charge's id once Succeed ran
	Refunded                      int64  // refunded of the charge so far (the API's and the dashboard's)
	Dispute                       string // the charge's dispute, if one was opened
}

// dispute is a chargeback as the server holds it.
type dispute struct {
	id, intent, status string
	amount             int64
}

// Payout is a payout on a connected account as the server holds it: Status is
// pending until FinishPayout makes it paid or failed.
type Payout struct {
	ID, Account, Currency, WithdrawalID, Status string
	Amount                                      int64
}

// line is a balance transaction with its source object, rendered on listing.
type line struct {
	id, typ  string
	amount   int64 // signed, as on the platform's balance
	currency string
	created  int64
	source   map[string]any
}

// New starts a server that lives until the test ends.
func New(tb testing.TB) *Server {
	s := &Server{intents: map[string]*Intent{}, replays: map[string][]byte{}, payouts: map[string]*Payout{}, disputes: map[string]*dispute{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	tb.Cleanup(s.srv.Close)
	return s
}

// Requests lists "METHOD /path" of every call received, in order.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// Intent returns the PaymentIntent id, if it exists.
func (s *Server) Intent(id string) (Intent, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pi, ok := s.intents[id]
	if !ok {
		return Intent{}, false
	}
	return *pi, true
}

// Succeed charges the intent in full, as the buyer's confirmation would: a charge and
// its balance transaction. The caller then sends payment_intent.succeeded itself.
func (s *Server) Succeed(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	pi, ok := s.intents[id]
	if !ok {
		return fmt.Errorf("stripetest: no PaymentIntent %s", id)
	}
	if pi.Charge != "" {
		return nil
	}
	pi.Status, pi.Charge = "succeeded", s.id("ch")
	s.addLine("charge", pi.Amount, pi.Currency, map[string]any{"id": pi.Charge, "object": "charge",
		"amount": pi.Amount, "currency": pi.Currency, "payment_intent": pi.ID, "status": "succeeded"})
	s.emit("payment_intent.succeeded", "", intentJSON(pi))
	return nil
}

// RefundOutside refunds amount of a charged intent at the provider only, as a refund
// made in Stripe's dashboard, and returns the refund's id.
func (s *Server) RefundOutside(id string, amount int64) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refund(id, amount)
}

// Dispute opens a dispute of amount on a charged intent: Stripe withdraws the amount
// from the platform's balance. It returns the dispute's id, or an error when the
// intent is not charged, already disputed, or has less than amount left unrefunded.
func (s *Server) Dispute(id string, amount int64) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pi, ok := s.intents[id]
	switch {
	case !ok || pi.Charge == "":
		return "", fmt.Errorf("stripetest: PaymentIntent %s is not charged", id)
	case pi.Dispute != "":
		return "", fmt.Errorf("stripetest: the charge of %s is disputed already", id)
	case amount <= 0 || amount > pi.Amount-pi.Refunded:
		return "", fmt.Errorf("stripetest: cannot dispute %d of %s (%d left)", amount, id, pi.Amount-pi.Refunded)
	}
	d := &dispute{id: s.id("dp"), intent: id, status: "needs_response", amount: amount}
	s.disputes[d.id], pi.Dispute = d, d.id
	s.addLine("adjustment", -amount, pi.Currency, s.disputeJSON(d))
	s.emit("charge.dispute.created", "", s.disputeJSON(d))
	return d.id, nil
}

// CloseDispute decides an open dispute: won reinstates its amount to the platform's
// balance, lost leaves it with the buyer. It errors when the dispute is not open.
func (s *Server) CloseDispute(id string, won bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.disputes[id]
	if !ok || d.status != "needs_response" {
		return fmt.Errorf("stripetest: dispute %s is not open", id)
	}
	d.status = "lost"
	if won {
		d.status = "won"
		s.addLine("adjustment", d.amount, s.intents[d.intent].Currency, s.disputeJSON(d))
	}
	s.emit("charge.dispute.closed", "", s.disputeJSON(d))
	return nil
}

// OpenDisputes lists the ids of the disputes not decided yet.
func (s *Server) OpenDisputes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for id, d := range s.disputes {
		if d.status == "needs_response" {
			out = append(out, id)
		}
	}
	return out
}

// disputeJSON is a dispute as events and balance lines show it; s.mu is held.
func (s *Server) disputeJSON(d *dispute) map[string]any {
	pi := s.intents[d.intent]
	return map[string]any{"id": d.id, "object": "dispute", "amount": d.amount, "currency": pi.Currency,
		"payment_intent": pi.ID, "charge": pi.Charge, "status": d.status, "reason": "fraudulent"}
}

// refund records a refund line; s.mu is held.
func (s *Server) refund(id string, amount int64) (string, error) {
	pi, ok := s.intents[id]
	switch {
	case !ok || pi.Charge == "":
		return "", fmt.Errorf("stripetest: PaymentIntent %s is not charged", id)
	case pi.Dispute != "":
		return "", fmt.Errorf("%w: the charge of %s has been charged back", errChargeDisputed, id)
	case amount > pi.Amount-pi.Refunded:
		return "", fmt.Errorf("stripetest: refund amount (%d) is greater than unrefunded amount on charge (%d)", amount, pi.Amount-pi.Refunded)
	}
	re := s.id("re")
	pi.Refunded += amount
	s.addLine("refund", -amount, pi.Currency, map[string]any{"id": re, "object": "refund",
		"amount": amount, "currency": pi.Currency, "payment_intent": pi.ID, "charge": pi.Charge, "status": "succeeded"})
	s.emit("charge.refunded", "", map[string]any{"id": pi.Charge, "object": "charge", "amount": pi.Amount,
		"amount_refunded": pi.Refunded, "currency": pi.Currency, "payment_intent": pi.ID, "refunded": pi.Refunded == pi.Amount})
	return re, nil
}

// addLine appends a balance transaction; s.mu is held.
func (s *Server) addLine(typ string, amount int64, currency string, source map[string]any) {
	s.lines = append(s.lines, line{id: s.id("txn"), typ: typ, amount: amount, currency: currency,
		created: time.Now().Unix(), source: source})
}

// id makes a new object id with prefix; s.mu is held.
func (s *Server) id(prefix string) string {
	s.nextID++
	return fmt.Sprintf("%s_test%08d", prefix, s.nextID)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer sk_") {
		writeError(w, http.StatusUnauthorized, "invalid_request_error", "", "Invalid API Key provided.")
		return
	}
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", "cannot parse the form")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r.Method+" "+r.URL.Path)
	key := r.Header.Get("Idempotency-Key")
	if r.Method == http.MethodPost && key != "" {
		if body, ok := s.replays[r.URL.Path+" "+key]; ok {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Idempotent-Replayed", "true")
			_, _ = w.Write(body)
			return
		}
	}
	status, v := s.route(r)
	body, _ := json.Marshal(v)
	if r.Method == http.MethodPost && key != "" && status < 300 {
		s.replays[r.URL.Path+" "+key] = body
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// route answers one call; s.mu is held.
func (s *Server) route(r *http.Request) (int, any) {
	f := r.PostForm
	path := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case r.Method == http.MethodPost && path == "/v1/payment_intents":
		amount, err := positive(f, "amount")
		if err != nil {
			return errorBody(err.Error(), "amount")
		}
		cur := strings.ToLower(f.Get("currency"))
		if len(cur) != 3 {
			return errorBody("Invalid currency", "currency")
		}
		pi := &Intent{ID: s.id("pi"), Amount: amount, Currency: cur, OrderID: f.Get("metadata[order_id]"), Status: "requires_payment_method"}
		s.intents[pi.ID] = pi
		return http.StatusOK, intentJSON(pi)
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/v1/payment_intents/"):
		pi, ok := s.intents[strings.TrimPrefix(path, "/v1/payment_intents/")]
		if !ok {
			return http.StatusNotFound, stripeError("invalid_request_error", "resource_missing", "No such payment_intent", "id")
		}
		return http.StatusOK, intentJSON(pi)
	case r.Method == http.MethodPost && path == "/v1/refunds":
		amount, err := positive(f, "amount")
		if err != nil {
			return errorBody(err.Error(), "amount")
		}
		re, err := s.refund(f.Get("payment_intent"), amount)
		if errors.Is(err, errChargeDisputed) {
			return http.StatusBadRequest, stripeError("invalid_request_error", "charge_disputed", err.Error(), "")
		}
		if err != nil {
			return errorBody(err.Error(), "payment_intent")
		}
		return http.StatusOK, map[string]any{"id": re, "object": "refund", "amount": amount, "status": "succeeded",
			"payment_intent": f.Get("payment_intent")}
	case r.Method == http.MethodPost && path == "/v1/transfers":
		amount, err := positive(f, "amount")
		if err != nil {
			return errorBody(err.Error(), "amount")
		}
		tr := map[string]any{"id": s.id("tr"), "object": "transfer", "amount": amount,
			"currency": strings.ToLower(f.Get("currency")), "destination": f.Get("destination")}
		s.addLine("transfer", -amount, strings.ToLower(f.Get("currency")), tr)
		return http.StatusOK, tr
	case r.Method == http.MethodPost && strings.HasPrefix(path, "/v1/transfers/") && strings.HasSuffix(path, "/reversals"):
		trID := strings.TrimSuffix(strings.TrimPrefix(path, "/v1/transfers/"), "/reversals")
		tr := s.transfer(trID)
		if tr == nil {
			return http.StatusNotFound, stripeError("invalid_request_error", "resource_missing", "No such transfer", "id")
		}
		amount := tr["amount"].(int64)
		if f.Get("amount") != "" {
			var err error
			if amount, err = positive(f, "amount"); err != nil {
				return errorBody(err.Error(), "amount")
			}
		}
		rev := map[string]any{"id": s.id("trr"), "object": "transfer_reversal", "amount": amount,
			"currency": tr["currency"], "transfer": trID}
		s.addLine("transfer_cancel", amount, tr["currency"].(string), rev)
		return http.StatusOK, rev
	case r.Method == http.MethodPost && path == "/v1/payouts":
		amount, err := positive(f, "amount")
		if err != nil {
			return errorBody(err.Error(), "amount")
		}
		// A payout on a connected account (Stripe-Account) leaves the platform's balance alone.
		po := &Payout{ID: s.id("po"), Account: r.Header.Get("Stripe-Account"), Amount: amount,
			Currency: strings.ToLower(f.Get("currency")), WithdrawalID: f.Get("metadata[withdrawal_id]"), Status: "pending"}
		s.payouts[po.ID] = po
		return http.StatusOK, payoutJSON(po, "")
	case r.Method == http.MethodPost && path == "/v1/accounts":
		return http.StatusOK, map[string]any{"id": s.id("acct"), "object": "account", "type": f.Get("type")}
	case r.Method == http.MethodPost && path == "/v1/account_links":
		return http.StatusOK, map[string]any{"object": "account_link", "url": "https://connect.stripe.test/setup/" + f.Get("account"),
			"expires_at": time.Now().Add(5 * time.Minute).Unix()}
	case r.Method == http.MethodGet && path == "/v1/balance_transactions":
		return s.listLines(r.URL.Query())
	}
	return http.StatusNotFound, stripeError("invalid_request_error", "", "Unrecognized request URL ("+r.Method+": "+r.URL.Path+")", "")
}

// transfer finds a transfer's source object; s.mu is held.
func (s *Server) transfer(id string) map[string]any {
	for _, l := range s.lines {
		if l.typ == "transfer" && l.source["id"] == id {
			return l.source
		}
	}
	return nil
}

// listLines is GET /v1/balance_transactions: newest first, pages of limit (10 by
// default, at most 100) after starting_after, filtered by created[gte].
func (s *Server) listLines(q url.Values) (int, any) {
	limit := 10
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return errorBody("limit must be between 1 and 100", "limit")
		}
		limit = n
	}
	var gte int64
	if v := q.Get("created[gte]"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return errorBody("Invalid integer: "+v, "created[gte]")
		}
		gte = n
	}
	expand := false
	for k, vs := range q {
		if strings.HasPrefix(k, "expand") && len(vs) > 0 && vs[0] == "data.source" {
			expand = true
		}
	}
	// Newest first: lines are appended in time order, so the listing is that reversed.
	all := make([]line, 0, len(s.lines))
	for _, l := range s.lines {
		if l.created >= gte {
			all = append(all, l)
		}
	}
	for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
		all[i], all[j] = all[j], all[i]
	}
	if after := q.Get("starting_after"); after != "" {
		for i, l := range all {
			if l.id == after {
				all = all[i+1:]
				break
			}
		}
	}
	more := len(all) > limit
	if more {
		all = all[:limit]
	}
	data := make([]any, len(all))
	for i, l := range all {
		var src any = l.source["id"]
		if expand {
			src = l.source
		}
		data[i] = map[string]any{"id": l.id, "object": "balance_transaction", "amount": l.amount, "currency": l.currency,
			"created": l.created, "type": l.typ, "fee": 0, "net": l.amount, "status": "available", "source": src}
	}
	return http.StatusOK, map[string]any{"object": "list", "url": "/v1/balance_transactions", "has_more": more, "data": data}
}

func intentJSON(pi *Intent) map[string]any {
	out := map[string]any{"id": pi.ID, "object": "payment_intent", "amount": pi.Amount, "currency": pi.Currency,
		"status": pi.Status, "client_secret": pi.ID + "_secret_test", "metadata": map[string]string{"order_id": pi.OrderID}}
	if pi.Charge != "" {
		out["latest_charge"] = pi.Charge
	}
	return out
}

func positive(f url.Values, name string) (int64, error) {
	n, err := strconv.ParseInt(f.Get(name), 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("invalid positive integer for %s", name)
	}
	return n, nil
}

func errorBody(msg, param string) (int, any) {
	return http.StatusBadRequest, stripeError("invalid_request_error", "parameter_invalid_integer", msg, param)
}

func stripeError(typ, code, msg, param string) map[string]any {
	e := map[string]any{"type": typ, "message": msg}
	if code != "" {
		e["code"] = code
	}
	if param != "" {
		e["param"] = param
	}
	return map[string]any{"error": e}
}

func writeError(w http.ResponseWriter, status int, typ, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(stripeError(typ, code, msg, ""))
}
