package hub

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestOversizeFrameCloses1009(t *testing.T) {
	n := newTestNode(t, Config{MaxFrameBytes: 1024})
	c := dial(t, serve(t, n, serveOptions{}), "u")
	c.send(`{"op":"ping","id":1,"pad":"` + strings.Repeat("x", 2048) + `"}`)
	if code := c.closeCode(); code != CloseTooBig {
		t.Fatalf("close code = %d, want %d", code, CloseTooBig)
	}
	eventually(t, "the socket to be unregistered", func() bool { return n.Connections() == 0 })
}

func TestFrameFloodCloses1008(t *testing.T) {
	n := newTestNode(t, Config{FrameRate: 1, FrameBurst: 10})
	c := dial(t, serve(t, n, serveOptions{}), "u")
	for i := range 200 {
		if err := c.ws.WriteMessage(1, []byte(fmt.Sprintf(`{"op":"ping","id":%d}`, i+1))); err != nil {
			break // the server may already have closed
		}
	}
	if code := c.closeCode(); code != ClosePolicy {
		t.Fatalf("close code = %d, want %d", code, ClosePolicy)
	}
}

func TestBinaryFrameCloses1003(t *testing.T) {
	n := newTestNode(t, Config{})
	c := dial(t, serve(t, n, serveOptions{}), "u")
	_ = c.ws.WriteMessage(2, []byte{1, 2, 3})
	if code := c.closeCode(); code != CloseUnsupported {
		t.Fatalf("close code = %d, want %d", code, CloseUnsupported)
	}
}

// bigEvent is large enough that a few hundred overflow any socket buffer.
func bigEvent(i int) Event {
	return Event{Type: "blob", Data: []byte(`"` + fmt.Sprintf("%06d", i) + strings.Repeat("x", 32<<10) + `"`)}
}

// floodUntilSlow publishes big events on channel until the node reports a
// slow-consumer disconnect; it returns how many it published. When paced
// is set, each event is first read by that client, so only a client that
// stopped reading can fall behind.
func floodUntilSlow(t *testing.T, n *Node, channel string, paced *testConn) int {
	t.Helper()
	for i := 0; i < 20000; i++ {
		if err := n.Publish(context.Background(), channel, bigEvent(i)); err != nil {
			t.Fatal(err)
		}
		if paced != nil {
			if f := paced.next(); f.Op != OpEvent || !strings.HasPrefix(string(f.Data), fmt.Sprintf(`"%06d`, i)) {
				t.Fatalf("paced client got %+v, want event %d", f.Op, i)
			}
		}
		if counterValue(n.metrics.slowConsumers) > 0 {
			return i + 1
		}
	}
	t.Fatal("no slow-consumer disconnect after 20000 big events")
	return 0
}

func TestSlowConsumerIsCutOthersKeepReceiving(t *testing.T) {
	n := newTestNode(t, Config{SendQueueBytes: 256 << 10, CloseTimeout: guard, WriteTimeout: guard})
	url := serve(t, n, serveOptions{})
	fast := dial(t, url, "fast")
	slow := dialPaused(t, url, "slow")
	fast.mustSubscribe("order:1")
	slow.send(`{"op":"subscribe","id":1,"channel":"order:1"}`)
	eventually(t, "both subscriptions", func() bool { return n.metricsGauge("subscriptions") == 2 })

	total := floodUntilSlow(t, n, "order:1", fast)
	// The fast client is unaffected: it keeps receiving what comes next.
	if err := n.Publish(context.Background(), "order:1", bigEvent(total)); err != nil {
		t.Fatal(err)
	}
	if f := fast.next(); f.Op != OpEvent {
		t.Fatalf("fast client after the cut: %+v", f)
	}
	// The slow client resumes: it finds its backlog, then the close frame.
	if code := slow.closeCode(); code != CloseSlowConsumer {
		t.Fatalf("slow client close code = %d, want %d", code, CloseSlowConsumer)
	}
}

// A client that never reads again must lose its TCP connection, whether or
// not fasthttp keeps hijacked connections.
func TestSlowConsumerSocketReallyClosed(t *testing.T) {
	for _, keep := range []bool{false, true} {
		t.Run(fmt.Sprintf("KeepHijackedConns=%v", keep), func(t *testing.T) {
			n := newTestNode(t, Config{SendQueueBytes: 128 << 10, CloseTimeout: 100 * time.Millisecond})
			slow := dialPaused(t, serve(t, n, serveOptions{keepHijacked: keep}), "slow")
			slow.send(`{"op":"subscribe","id":1,"channel":"order:2"}`)
			eventually(t, "the subscription", func() bool { return n.metricsGauge("subscriptions") == 1 })
			floodUntilSlow(t, n, "order:2", nil)
			eventually(t, "the socket to be unregistered", func() bool { return n.Connections() == 0 })
			// Only now read: the backlog drains and then the connection ends.
			slow.closeCode()
		})
	}
}

func TestHeartbeatFindsDeadPeer(t *testing.T) {
	// Timeouts leave room for a loaded machine: the socket must still be
	// registered when the test first looks, and is dropped well after.
	n := newTestNode(t, Config{PingInterval: 100 * time.Millisecond, PongTimeout: 300 * time.Millisecond})
	// A paused client never reads, so it never answers pings.
	dialPaused(t, serve(t, n, serveOptions{}), "ghost")
	eventually(t, "the connection to register", func() bool { return counterValueGauge(n.metrics.connections) == 1 })
	eventually(t, "the dead peer to be dropped", func() bool { return n.Connections() == 0 })
}

func TestHeartbeatKeepsLivePeer(t *testing.T) {
	// The pong timeout is a few pings long, not a few milliseconds, so a
	// busy machine cannot fail a peer that really answers.
	n := newTestNode(t, Config{PingInterval: 10 * time.Millisecond, PongTimeout: 500 * time.Millisecond, FrameRate: 1000, FrameBurst: 1000})
	c := dial(t, serve(t, n, serveOptions{}), "alive")
	// Many pong timeouts pass while the client reads (and so answers pings).
	for range 150 {
		if f, _ := c.request(OpPing, nil); f.Op != OpReply {
			t.Fatalf("ping: %+v", f)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n.Connections() != 1 {
		t.Fatal("a live peer was dropped")
	}
}

func TestDisconnectUserSingleNode(t *testing.T) {
	n := newTestNode(t, Config{})
	url := serve(t, n, serveOptions{})
	victim1, victim2, bystander := dial(t, url, "v"), dial(t, url, "v"), dial(t, url, "b")
	if err := n.DisconnectUser(context.Background(), "v", 0, "logged out"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*testConn{victim1, victim2} {
		if code := c.closeCode(); code != CloseSessionEnded {
			t.Fatalf("close code = %d, want %d", code, CloseSessionEnded)
		}
	}
	if f, _ := bystander.request(OpPing, nil); f.Op != OpReply {
		t.Fatalf("bystander: %+v", f)
	}
}

func TestShutdownSendsGoingAway(t *testing.T) {
	n := newTestNode(t, Config{})
	url := serve(t, n, serveOptions{})
	a, b := dial(t, url, "a"), dial(t, url, "b")
	a.mustSubscribe("user:a")
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), guard)
		defer cancel()
		done <- n.Shutdown(ctx)
	}()
	for _, c := range []*testConn{a, b} {
		if code := c.closeCode(); code != CloseGoingAway {
			t.Fatalf("close code = %d, want %d", code, CloseGoingAway)
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	late := dialPaused(t, url, "late")
	if code := late.closeCode(); code != CloseGoingAway {
		t.Fatalf("socket after shutdown: close code %d, want %d", code, CloseGoingAway)
	}
}

// A client that ignores the close frame is cut when the deadline passes.
func TestShutdownForcesStuckClients(t *testing.T) {
	n := newTestNode(t, Config{CloseTimeout: guard})
	dialPaused(t, serve(t, n, serveOptions{}), "stuck")
	eventually(t, "the connection", func() bool { return n.Connections() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := n.Shutdown(ctx); err == nil {
		t.Fatal("Shutdown reported a clean drain although the client never answered")
	}
	if n.Connections() != 0 {
		t.Fatal("sockets left after a forced shutdown")
	}
}
