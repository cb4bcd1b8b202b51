// Package ga4test is a local stand-in for Google Analytics 4's Measurement
// Protocol endpoint, for tests only. It takes POST /mp/collect with the
// measurement_id and api_secret query parameters and a JSON body (client_id and
// up to 25 events, each with a valid name and params), checks them as GA4's
// validation server documents, and keeps every accepted request.
package ga4test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"
	"time"
)

// Request is one accepted Measurement Protocol request.
type Request struct {
	MeasurementID, APISecret string
	ClientID                 string  `json:"client_id"`
	UserID                   string  `json:"user_id"`
	Events                   []Event `json:"events"`
}

// Event is one event of a request.
type Event struct {
	Name            string         `json:"name"`
	Params          map[string]any `json:"params"`
	TimestampMicros int64          `json:"timestamp_micros"`
}

// Server receives Measurement Protocol requests on a loopback port.
type Server struct {
	URL                      string // the collect endpoint
	measurementID, apiSecret string
	mu                       sync.Mutex
	requests                 []Request
	refused                  []string
}

// eventName is GA4's rule for event names: a letter, then letters, digits or
// underscores, at most 40 in all.
var eventName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,39}$`)

// New starts a server expecting measurementID and apiSecret; it stops when the test ends.
func New(t testing.TB, measurementID, apiSecret string) *Server {
	s := &Server{measurementID: measurementID, apiSecret: apiSecret}
	srv := httptest.NewServer(http.HandlerFunc(s.handle))
	t.Cleanup(srv.Close)
	s.URL = srv.URL + "/mp/collect"
	return s
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	req, err := s.decode(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.refused = append(s.refused, err.Error())
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.requests = append(s.requests, req)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) decode(r *http.Request) (Request, error) {
	var req Request
	if r.Method != http.MethodPost || r.URL.Path != "/mp/collect" {
		return req, fmt.Errorf("%s %s: not the collect endpoint", r.Method, r.URL.Path)
	}
	req.MeasurementID, req.APISecret = r.URL.Query().Get("measurement_id"), r.URL.Query().Get("api_secret")
	if req.MeasurementID != s.measurementID || req.APISecret != s.apiSecret {
		return req, fmt.Errorf("measurement_id %q / api_secret %q do not match the stream", req.MeasurementID, req.APISecret)
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 130_000)) // GA4's request size limit
	if err := dec.Decode(&req); err != nil {
		return req, fmt.Errorf("body: %w", err)
	}
	if req.ClientID == "" || len(req.Events) == 0 || len(req.Events) > 25 {
		return req, fmt.Errorf("client_id %q with %d events: want a client_id and 1–25 events", req.ClientID, len(req.Events))
	}
	for _, ev := range req.Events {
		if !eventName.MatchString(ev.Name) || len(ev.Params) > 25 {
			return req, fmt.Errorf("event %q: invalid name or more than 25 params", ev.Name)
		}
	}
	return req, nil
}

// Requests returns the accepted requests so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Events returns every accepted event, with its request's client_id, in arrival order.
func (s *Server) Events() []ClientEvent {
	var out []ClientEvent
	for _, r := range s.Requests() {
		for _, ev := range r.Events {
			out = append(out, ClientEvent{ClientID: r.ClientID, Event: ev})
		}
	}
	return out
}

// ClientEvent is an event with the client_id it was sent for.
type ClientEvent struct {
	ClientID string
	Event
}

// WaitEvents waits until at least n events arrived and returns them, failing the test
// after timeout.
func (s *Server) WaitEvents(t testing.TB, n int, timeout time.Duration) []ClientEvent {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		evs := s.Events()
		if len(evs) >= n {
			return evs
		}
		if time.Now().After(deadline) {
			s.mu.Lock()
			refused := s.refused
			s.mu.Unlock()
			t.Fatalf("ga4test: %d events within %s, want %d (refused: %q)", len(evs), timeout, n, refused)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
