package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
)

// The reconnect storm of `make bench-hub` (10,000 sockets), scaled down: sockets on a
// node that is killed in the middle of durable traffic reconnect to the survivors with
// connection tokens and since, all at once; every socket ends with every seq of its
// channel exactly once, in order. Figures (time until whole, others' latency) are the
// benchmark's; this test only proves the behaviour.
func TestReconnectStormLosesAndDoublesNothing(t *testing.T) {
	nodes := startCluster(t, 3, tokenEnv(nil))
	const users, socketsPerUser, rounds, killAfter = 10, 8, 24, 8
	var channels, tokens []string
	for i := range users {
		id, bearer := appUser(t, nodes[1], fmt.Sprintf("storm%d", i))
		channels = append(channels, "user:"+id)
		tokens = append(tokens, connToken(t, nodes[1], bearer))
	}
	var victims, others []*stormSocket
	for i := range users * socketsPerUser {
		victims = append(victims, openStormSocket(t, nodes[0], tokens[i%users], channels[i%users]))
	}
	for i := range users {
		others = append(others, openStormSocket(t, nodes[1+i%2], tokens[i], channels[i]))
	}

	// The node dies after killAfter rounds; its sockets come back only after three
	// more, so every one of them must recover at least three events by since, while
	// the rest of the rounds are published.
	kill, missed := make(chan struct{}), make(chan struct{})
	published := make(chan error, 1)
	go func() {
		published <- publishRounds(nodes[1:], channels, rounds, map[int]chan struct{}{killAfter: kill, killAfter + 3: missed})
	}()
	<-kill
	if err := nodes[0].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill node 0: %v", err)
	}
	<-missed
	var wg sync.WaitGroup
	errs := make(chan error, len(victims))
	for i, s := range victims {
		wg.Go(func() { errs <- s.reconnect(nodes[1+i%2], nodes[2-i%2]) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := <-published; err != nil {
		t.Fatal(err)
	}
	for i, s := range append(victims, others...) {
		if err := s.waitFor(rounds, 30*time.Second); err != nil {
			t.Fatalf("socket %d: %v", i, err)
		}
	}
}

// stormSocket is a minimal client that keeps every seq it receives on its channel.
type stormSocket struct {
	token, channel string
	mu             sync.Mutex
	seqs           []uint64
	conn           *websocket.Conn
	done           chan struct{} // closed when the current connection ends
}

func openStormSocket(t *testing.T, n *Node, token, channel string) *stormSocket {
	t.Helper()
	s := &stormSocket{token: token, channel: channel}
	if err := s.open(n, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.conn.Close() })
	return s
}

// open connects to n, subscribes (with since when given) and starts reading.
func (s *stormSocket) open(n *Node, since *uint64) error {
	url := "ws" + strings.TrimPrefix(n.URL, "http") + "/ws?token=" + s.token
	conn, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		return fmt.Errorf("dial %s: %w", n.URL, err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	if _, hello, err := conn.ReadMessage(); err != nil || !bytes.Contains(hello, []byte(`"op":"hello"`)) {
		conn.Close()
		return fmt.Errorf("hello from %s: %q, %v", n.URL, hello, err)
	}
	sub := map[string]any{"op": "subscribe", "id": 1, "channel": s.channel}
	if since != nil {
		sub["since"] = *since
	}
	if err := conn.WriteJSON(sub); err != nil {
		conn.Close()
		return err
	}
	_, reply, err := conn.ReadMessage()
	want := `{"op":"reply","id":1,"ok":true`
	if since != nil {
		want += `,"recovered":true`
	}
	if err != nil || !bytes.HasPrefix(reply, []byte(want)) {
		conn.Close()
		return fmt.Errorf("subscribe on %s since %v: %q, %v", n.URL, since, reply, err)
	}
	_ = conn.SetReadDeadline(time.Time{})
	s.mu.Lock()
	s.conn, s.done = conn, make(chan struct{})
	done := s.done
	s.mu.Unlock()
	go s.read(conn, done)
	return nil
}

func (s *stormSocket) read(conn *websocket.Conn, done chan struct{}) {
	defer close(done)
	for {
		_, raw, err := conn.ReadMessage()
		if err != nil {
			return
		}
		var f frame
		if json.Unmarshal(raw, &f) == nil && f.Op == "event" && f.Channel == s.channel {
			s.mu.Lock()
			s.seqs = append(s.seqs, f.Seq)
			s.mu.Unlock()
		}
	}
}

// reconnect waits for the dead node's connection to end, then resubscribes on one of
// the survivors with since = the last seq it has, retrying for a while.
func (s *stormSocket) reconnect(first, second *Node) error {
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		return fmt.Errorf("%s: the killed node's socket did not end", s.channel)
	}
	var err error
	for attempt := range 40 {
		s.mu.Lock()
		var last uint64
		if len(s.seqs) > 0 {
			last = s.seqs[len(s.seqs)-1]
		}
		s.mu.Unlock()
		if err = s.open([]*Node{first, second}[attempt%2], &last); err == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s: no reconnect: %w", s.channel, err)
}

// waitFor waits until the socket has seq upto, then checks it has 1..upto exactly.
func (s *stormSocket) waitFor(upto uint64, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		s.mu.Lock()
		seqs := slices.Clone(s.seqs)
		s.mu.Unlock()
		if len(seqs) > 0 && seqs[len(seqs)-1] >= upto || time.Now().After(deadline) {
			for i, seq := range seqs {
				if seq != uint64(i+1) {
					return fmt.Errorf("%s: seqs %v: want 1..%d, each once", s.channel, seqs, upto)
				}
			}
			if uint64(len(seqs)) != upto {
				return fmt.Errorf("%s: %d events, want %d", s.channel, len(seqs), upto)
			}
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// publishRounds publishes one durable event on every channel per round, into the
// nodes in turn, and closes after[r] once round r is published.
func publishRounds(nodes []*Node, channels []string, rounds int, after map[int]chan struct{}) error {
	for r := 1; r <= rounds; r++ {
		if ch, ok := after[r-1]; ok {
			close(ch)
		}
		for i, ch := range channels {
			body, _ := json.Marshal(map[string]any{"channel": ch, "type": "test.storm", "data": map[string]int{"r": r}, "durable": true})
			req, _ := http.NewRequest("POST", nodes[(r+i)%len(nodes)].URL+"/api/publish", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+publishKey)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return fmt.Errorf("publish round %d: %w", r, err)
			}
			resp.Body.Close()
			if resp.StatusCode != 202 {
				return fmt.Errorf("publish round %d on %s: status %d", r, ch, resp.StatusCode)
			}
		}
	}
	return nil
}
