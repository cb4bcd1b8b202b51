package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
)

// frame is any server frame of protocol v1.
type frame struct {
	Op        string          `json:"op"`
	ID        uint64          `json:"id"`
	OK        bool            `json:"ok"`
	Recovered *bool           `json:"recovered"`
	Channel   string          `json:"channel"`
	Seq       uint64          `json:"seq"`
	Type      string          `json:"type"`
	Data      json.RawMessage `json:"data"`
	Code      string          `json:"code"`
	Node      string          `json:"node"`
}

// socket is a test's WebSocket client: a reader goroutine files every frame in
// arrival order; the test takes them from the front, or picks out a reply.
type socket struct {
	t      *testing.T
	conn   *websocket.Conn
	closed chan struct{}
	mu     sync.Mutex
	queue  []frame
	notify chan struct{} // signalled after each frame is queued
	code   int           // close code from the server, once closed
	nextID uint64
}

// dial opens a socket to node with the given headers (Authorization, Origin…).
func dial(t *testing.T, n *Node, query string, header http.Header) (*socket, *http.Response, error) {
	t.Helper()
	url := "ws" + strings.TrimPrefix(n.URL, "http") + "/ws" + query
	conn, resp, err := websocket.DefaultDialer.Dial(url, header)
	if err != nil {
		return nil, resp, err
	}
	s := &socket{t: t, conn: conn, notify: make(chan struct{}, 1), closed: make(chan struct{})}
	go s.read()
	t.Cleanup(func() { _ = conn.Close() })
	hello := s.next(10 * time.Second)
	if hello.Op != "hello" {
		t.Fatalf("first frame %+v, want hello", hello)
	}
	return s, resp, nil
}

// mustDial opens a socket as the holder of a bearer token.
func mustDial(t *testing.T, n *Node, bearer string) *socket {
	t.Helper()
	s, resp, err := dial(t, n, "", http.Header{"Authorization": {"Bearer " + bearer}})
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (status %d)", n.URL, err, status)
	}
	return s
}

func (s *socket) read() {
	defer close(s.closed)
	for {
		_, raw, err := s.conn.ReadMessage()
		if err != nil {
			if ce, ok := err.(*websocket.CloseError); ok {
				s.mu.Lock()
				s.code = ce.Code
				s.mu.Unlock()
			}
			return
		}
		var f frame
		if json.Unmarshal(raw, &f) == nil {
			s.mu.Lock()
			s.queue = append(s.queue, f)
			s.mu.Unlock()
			select {
			case s.notify <- struct{}{}:
			default:
			}
		}
	}
}

// take removes and returns the first queued frame that match accepts, waiting up
// to timeout; ok is false when none came.
func (s *socket) take(match func(frame) bool, timeout time.Duration) (frame, bool) {
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		for i, f := range s.queue {
			if match(f) {
				s.queue = append(s.queue[:i:i], s.queue[i+1:]...)
				s.mu.Unlock()
				return f, true
			}
		}
		s.mu.Unlock()
		select {
		case <-s.notify:
		case <-deadline:
			return frame{}, false
		}
	}
}

// next returns the next frame, failing the test after timeout.
func (s *socket) next(timeout time.Duration) frame {
	s.t.Helper()
	f, ok := s.take(func(frame) bool { return true }, timeout)
	if !ok {
		s.t.Fatalf("no frame within %s", timeout)
	}
	return f
}

func (s *socket) send(v any) uint64 {
	s.t.Helper()
	s.mu.Lock()
	s.nextID++
	id := s.nextID
	s.mu.Unlock()
	m := map[string]any{"id": id}
	raw, _ := json.Marshal(v)
	_ = json.Unmarshal(raw, &m)
	m["id"] = id
	if err := s.conn.WriteJSON(m); err != nil {
		s.t.Fatalf("send: %v", err)
	}
	return id
}

// subscribe subscribes and returns the reply (or error) frame for it; events that
// arrive before the answer stay queued in order.
func (s *socket) subscribe(channel string, since *uint64) frame {
	s.t.Helper()
	req := map[string]any{"op": "subscribe", "channel": channel}
	if since != nil {
		req["since"] = *since
	}
	id := s.send(req)
	f, ok := s.take(func(f frame) bool { return (f.Op == "reply" || f.Op == "error") && f.ID == id }, 15*time.Second)
	if !ok {
		s.t.Fatalf("no answer to subscribe %s", channel)
	}
	return f
}

// events collects n event frames on channel, failing after timeout.
func (s *socket) events(channel string, n int, timeout time.Duration) []frame {
	s.t.Helper()
	var out []frame
	deadline := time.Now().Add(timeout)
	for len(out) < n {
		f, ok := s.take(func(f frame) bool { return f.Op == "event" && f.Channel == channel }, time.Until(deadline))
		if !ok {
			s.t.Fatalf("got %d of %d events on %s within %s", len(out), n, channel, timeout)
		}
		out = append(out, f)
	}
	return out
}

// closeCode waits for the server to close the socket and returns its code.
func (s *socket) closeCode(timeout time.Duration) int {
	s.t.Helper()
	select {
	case <-s.closed:
	case <-time.After(timeout):
		s.t.Fatalf("socket not closed within %s", timeout)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.code
}

// assertSeqs fails unless events carry exactly seqs from..to in order, each once.
func assertSeqs(t *testing.T, who string, events []frame, from, to uint64) {
	t.Helper()
	if uint64(len(events)) != to-from+1 {
		t.Fatalf("%s: %d events, want %d", who, len(events), to-from+1)
	}
	for i, ev := range events {
		if ev.Seq != from+uint64(i) {
			t.Fatalf("%s: event %d has seq %d, want %d (gap or duplicate)", who, i, ev.Seq, from+uint64(i))
		}
	}
}

// eventOfType takes the first queued event of eventType on channel, leaving others.
func (s *socket) eventOfType(channel, eventType string, timeout time.Duration) frame {
	s.t.Helper()
	f, ok := s.take(func(f frame) bool { return f.Op == "event" && f.Channel == channel && f.Type == eventType }, timeout)
	if !ok {
		s.t.Fatalf("no %s event on %s within %s", eventType, channel, timeout)
	}
	return f
}
