package fcmtest

import (
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Server is a running fake FCM endpoint. Its zero value is not usable; call New.
// All methods are safe for concurrent use.
type Server struct {
	// URL is the server's base URL; Endpoint and ServiceAccountJSON derive from it.
	URL string

	project     string
	clientEmail string
	keyID       string
	key         *rsa.PrivateKey
	srv         *httptest.Server

	mu            sync.Mutex
	accessTokens  map[string]bool
	tokenRequests int
	attempts      int
	messages      []Message
	dead          map[string]deadToken
	failures      []failure
	nextID        int
}

type deadToken struct {
	httpStatus   int
	status, code string
	message      string
}

type failure struct {
	httpStatus   int
	status, code string
}

// New starts a server for project "fcmtest-project" with a fresh RSA key and
// stops it when tb ends.
func New(tb testing.TB) *Server {
	tb.Helper()
	key, keyID, err := newKey()
	if err != nil {
		tb.Fatalf("fcmtest: generate key: %v", err)
	}
	s := &Server{
		project:      "fcmtest-project",
		clientEmail:  "fcm-sender@fcmtest-project.iam.gserviceaccount.com",
		keyID:        keyID,
		key:          key,
		accessTokens: map[string]bool{},
		dead:         map[string]deadToken{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", s.handleToken)
	mux.HandleFunc("POST /v1/projects/{project}/{method}", s.handleSend)
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	tb.Cleanup(s.srv.Close)
	return s
}

// Endpoint is the FCM v1 base URL to give the client (option.WithEndpoint).
func (s *Server) Endpoint() string { return s.URL + "/v1" }

// ProjectID is the Firebase project the server accepts.
func (s *Server) ProjectID() string { return s.project }

// Unregister makes every later send to token fail as FCM does for an
// uninstalled app: 404 NOT_FOUND with FcmError UNREGISTERED.
func (s *Server) Unregister(token string) {
	s.markDead(token, deadToken{http.StatusNotFound, "NOT_FOUND", "UNREGISTERED", "Requested entity was not found."})
}

// Invalidate makes every later send to token fail as FCM does for a malformed
// token: 400 INVALID_ARGUMENT with FcmError INVALID_ARGUMENT.
func (s *Server) Invalidate(token string) {
	s.markDead(token, deadToken{http.StatusBadRequest, "INVALID_ARGUMENT", "INVALID_ARGUMENT",
		"The registration token is not a valid FCM registration token"})
}

func (s *Server) markDead(token string, d deadToken) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dead[token] = d
}

// FailNext makes the next n messages:send requests fail with httpStatus, one
// of 503 (UNAVAILABLE), 500 (INTERNAL) or 429 (QUOTA_EXCEEDED); other values
// panic. Failures carry "Retry-After: 3600". firebase-admin-go retries 503
// itself, but gives up at once when Retry-After exceeds its 2-minute cap, so
// the error reaches the caller without the library's slow backoff and the
// caller's own retry policy is what gets tested.
func (s *Server) FailNext(n int, httpStatus int) {
	f := failure{httpStatus: httpStatus}
	switch httpStatus {
	case http.StatusServiceUnavailable:
		f.status, f.code = "UNAVAILABLE", "UNAVAILABLE"
	case http.StatusInternalServerError:
		f.status, f.code = "INTERNAL", "INTERNAL"
	case http.StatusTooManyRequests:
		f.status, f.code = "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED"
	default:
		panic(fmt.Sprintf("fcmtest: FailNext does not simulate status %d", httpStatus))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures = append(s.failures, f)
	}
}

// Messages returns the messages accepted so far, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Attempts counts messages:send requests that passed authentication,
// including the ones answered with an error.
func (s *Server) Attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

// TokenRequests counts successful OAuth token exchanges.
func (s *Server) TokenRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenRequests
}

func (s *Server) handleSend(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("project") != s.project || r.PathValue("method") != "messages:send" {
		writeJSON(w, http.StatusNotFound, errorBody(http.StatusNotFound, "NOT_FOUND", "", "unknown project or method"))
		return
	}
	if !s.authorized(r) {
		writeJSON(w, http.StatusUnauthorized, errorBody(http.StatusUnauthorized, "UNAUTHENTICATED", "",
			"Request had invalid authentication credentials. Expected OAuth 2 access token."))
		return
	}
	var req sendRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Message) == 0 {
		writeJSON(w, http.StatusBadRequest, errorBody(http.StatusBadRequest, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "Invalid JSON payload"))
		return
	}
	var msg Message
	if err := json.Unmarshal(req.Message, &msg); err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody(http.StatusBadRequest, "INVALID_ARGUMENT", "INVALID_ARGUMENT", err.Error()))
		return
	}
	msg.Raw = req.Message
	status, body, retry := s.accept(msg, req.ValidateOnly)
	if retry {
		w.Header().Set("Retry-After", "3600")
	}
	writeJSON(w, status, body)
}

// accept decides the outcome of one authenticated send and records it.
func (s *Server) accept(msg Message, validateOnly bool) (status int, body []byte, retryAfter bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts++
	if len(s.failures) > 0 {
		f := s.failures[0]
		s.failures = s.failures[1:]
		return f.httpStatus, errorBody(f.httpStatus, f.status, f.code, "simulated failure"), true
	}
	if targets(msg) != 1 {
		return http.StatusBadRequest, errorBody(http.StatusBadRequest, "INVALID_ARGUMENT", "INVALID_ARGUMENT",
			"exactly one of token, topic or condition is required"), false
	}
	if d, ok := s.dead[msg.Token]; ok && msg.Token != "" {
		return d.httpStatus, errorBody(d.httpStatus, d.status, d.code, d.message), false
	}
	s.nextID++
	if !validateOnly {
		s.messages = append(s.messages, msg)
	}
	name, _ := json.Marshal(map[string]string{"name": fmt.Sprintf("projects/%s/messages/%d", s.project, s.nextID)})
	return http.StatusOK, name, false
}

func targets(m Message) int {
	n := 0
	for _, t := range []string{m.Token, m.Topic, m.Condition} {
		if t != "" {
			n++
		}
	}
	return n
}

func (s *Server) authorized(r *http.Request) bool {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	defer s.mu.Unlock()
	return ok && s.accessTokens[token]
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	w.Write(body)
}
