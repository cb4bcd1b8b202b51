package sentrytest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// publicKey is the DSN key the server expects in X-Sentry-Auth.
const publicKey = "sentrytestkey"

// Server receives Sentry envelopes on a loopback port.
type Server struct {
	srv     *httptest.Server
	mu      sync.Mutex
	events  []Event
	refused []string // why requests were refused, for the test's failure message
	changed chan struct{}
}

// Event is the part of a Sentry error event the tests read
// (https://develop.sentry.dev/sdk/data-model/event-payloads/).
type Event struct {
	EventID     string            `json:"event_id"`
	Level       string            `json:"level"`
	Message     string            `json:"message"`
	Release     string            `json:"release"`
	Environment string            `json:"environment"`
	ServerName  string            `json:"server_name"`
	Tags        map[string]string `json:"tags"`
	User        map[string]any    `json:"user"`
	Request     map[string]any    `json:"request"`
	Extra       map[string]any    `json:"extra"`
	Exception   Exceptions        `json:"exception"`
	Raw         json.RawMessage   `json:"-"` // the whole payload as received
}

// Exceptions are an event's exceptions, innermost last. Sentry takes them as
// {"values": [...]} or as a bare list (what sentry-go sends).
type Exceptions struct {
	Values []Exception
}

// UnmarshalJSON accepts both shapes.
func (e *Exceptions) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &e.Values); err == nil {
		return nil
	}
	var wrapped struct {
		Values []Exception `json:"values"`
	}
	err := json.Unmarshal(b, &wrapped)
	e.Values = wrapped.Values
	return err
}

// Exception is one exception of an event, with its stack.
type Exception struct {
	Type      string `json:"type"`
	Value     string `json:"value"`
	Mechanism *struct {
		Type    string `json:"type"`
		Handled *bool  `json:"handled"`
	} `json:"mechanism"`
	Stacktrace *struct {
		Frames []Frame `json:"frames"`
	} `json:"stacktrace"`
}

// Frame is one stack frame, oldest first as Sentry orders them.
type Frame struct {
	Function string `json:"function"`
	Module   string `json:"module"`
	Filename string `json:"filename"`
	AbsPath  string `json:"abs_path"`
	Lineno   int    `json:"lineno"`
}

// New starts a server; it stops when the test ends.
func New(t testing.TB) *Server {
	s := &Server{changed: make(chan struct{})}
	s.srv = httptest.NewServer(http.HandlerFunc(s.handle))
	t.Cleanup(s.srv.Close)
	return s
}

// DSN is the Sentry DSN that sends events to this server (project 1).
func (s *Server) DSN() string {
	return strings.Replace(s.srv.URL, "http://", "http://"+publicKey+"@", 1) + "/1"
}

// Events returns the error events received so far.
func (s *Server) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Event(nil), s.events...)
}

// WaitFor returns the first event match accepts, failing the test when none arrives
// within timeout.
func (s *Server) WaitFor(t testing.TB, timeout time.Duration, what string, match func(Event) bool) Event {
	t.Helper()
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		changed := s.changed
		for _, ev := range s.events {
			if match(ev) {
				s.mu.Unlock()
				return ev
			}
		}
		refused := append([]string(nil), s.refused...)
		n := len(s.events)
		s.mu.Unlock()
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("sentrytest: no event %s within %s (%d events received; refused: %q)", what, timeout, n, refused)
		}
	}
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	events, err := s.decode(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.refused = append(s.refused, err.Error())
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.events = append(s.events, events...)
	close(s.changed)
	s.changed = make(chan struct{})
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"id":"`+firstID(events)+`"}`)
}

func firstID(events []Event) string {
	if len(events) == 0 {
		return ""
	}
	return events[0].EventID
}

// decode checks the request as Sentry's ingestion does (route, method, auth) and
// returns the error events of its envelope.
func (s *Server) decode(r *http.Request) ([]Event, error) {
	if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/api/1/envelope") {
		return nil, fmt.Errorf("%s %s: not the envelope endpoint of project 1", r.Method, r.URL.Path)
	}
	if auth := r.Header.Get("X-Sentry-Auth"); !strings.Contains(auth, "sentry_key="+publicKey) {
		return nil, fmt.Errorf("X-Sentry-Auth %q lacks the DSN's key", auth)
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, err
		}
		body = zr
	}
	return ParseEnvelope(body)
}

// ParseEnvelope reads one envelope and returns its items of type "event".
func ParseEnvelope(r io.Reader) ([]Event, error) {
	br := bufio.NewReader(r)
	header, err := readLine(br)
	if err != nil || !json.Valid(header) {
		return nil, fmt.Errorf("envelope header %q: not JSON (%v)", header, err)
	}
	var events []Event
	for {
		itemHeader, err := readLine(br)
		if errors.Is(err, io.EOF) && len(itemHeader) == 0 {
			return events, nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		if len(bytes.TrimSpace(itemHeader)) == 0 {
			continue
		}
		var ih struct {
			Type   string `json:"type"`
			Length *int   `json:"length"`
		}
		if err := json.Unmarshal(itemHeader, &ih); err != nil {
			return nil, fmt.Errorf("item header %q: %w", itemHeader, err)
		}
		payload, err := readPayload(br, ih.Length)
		if err != nil {
			return nil, fmt.Errorf("%s item: %w", ih.Type, err)
		}
		if ih.Type != "event" {
			continue
		}
		var ev Event
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, fmt.Errorf("event payload: %w", err)
		}
		ev.Raw = append(json.RawMessage(nil), payload...)
		events = append(events, ev)
	}
}

// readPayload reads an item's payload: length bytes and the newline after them, or
// up to the next newline when the header gives no length.
func readPayload(br *bufio.Reader, length *int) ([]byte, error) {
	if length == nil {
		return readLine(br)
	}
	buf := make([]byte, *length)
	if _, err := io.ReadFull(br, buf); err != nil {
		return nil, fmt.Errorf("payload shorter than its length %d: %w", *length, err)
	}
	if b, err := br.ReadByte(); err == nil && b != '\n' {
		_ = br.UnreadByte()
	}
	return buf, nil
}

func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadBytes('\n')
	return bytes.TrimSuffix(line, []byte("\n")), err
}
