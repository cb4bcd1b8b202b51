package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	contribws "github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// guard bounds every wait in these tests; it is a failure guard, never a
// measured time.
const guard = 15 * time.Second

func allowAll(context.Context, ClientInfo, string) error { return nil }

// newTestNode starts a node with permissive callbacks unless cfg sets them.
func newTestNode(t testing.TB, cfg Config) *Node {
	t.Helper()
	if cfg.Callbacks.Authorize == nil {
		cfg.Callbacks.Authorize = allowAll
	}
	n, err := NewNode(cfg)
	if err != nil {
		t.Fatalf("NewNode: %v", err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), guard)
		defer cancel()
		_ = n.Shutdown(ctx)
	})
	return n
}

type serveOptions struct {
	keepHijacked bool
}

// serve runs a Fiber app on a random loopback port that hands /ws sockets
// to n, taking the user id from the query (tests only), and returns the
// ws:// URL.
func serve(t testing.TB, n *Node, opts serveOptions) string {
	t.Helper()
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Server().KeepHijackedConns = opts.keepHijacked
	app.Get("/ws", func(c *fiber.Ctx) error {
		c.Locals("user", c.Query("user"))
		return c.Next()
	}, contribws.New(func(c *contribws.Conn) {
		user, _ := c.Locals("user").(string)
		_ = n.ServeConn(context.Background(), c.Conn, ClientInfo{UserID: user, SessionID: "s-" + user})
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.ShutdownWithTimeout(guard) })
	return "ws://" + ln.Addr().String() + "/ws"
}

// serverFrame is any server frame, decoded for assertions.
type serverFrame struct {
	Op        string          `json:"op"`
	ID        uint64          `json:"id"`
	OK        bool            `json:"ok"`
	Recovered *bool           `json:"recovered"`
	Code      string          `json:"code"`
	Message   string          `json:"message"`
	Channel   string          `json:"channel"`
	Seq       uint64          `json:"seq"`
	Type      string          `json:"type"`
	Data      json.RawMessage `json:"data"`
	Version   int             `json:"v"`
}

// testConn is a real WebSocket client. Frames are read by a background
// goroutine once started, so a test can also play a client that stops
// reading.
type testConn struct {
	t       testing.TB
	ws      *websocket.Conn
	frames  chan serverFrame
	done    chan struct{}
	readErr error
	ids     atomic.Uint64
	once    sync.Once
}

func dial(t testing.TB, url, user string) *testConn {
	t.Helper()
	c := dialPaused(t, url, user)
	c.start()
	if f := c.next(); f.Op != OpHello || f.Version != ProtocolVersion {
		t.Fatalf("first frame = %+v, want hello v1", f)
	}
	return c
}

// dialPaused connects without reading anything yet.
func dialPaused(t testing.TB, url, user string) *testConn {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: guard}
	ws, resp, err := d.Dial(url+"?user="+user, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	_ = resp.Body.Close()
	c := &testConn{t: t, ws: ws, frames: make(chan serverFrame, 1<<16), done: make(chan struct{})}
	t.Cleanup(func() { _ = ws.Close() })
	return c
}

func (c *testConn) start() {
	c.once.Do(func() { go c.readLoop() })
}

func (c *testConn) readLoop() {
	defer close(c.done)
	for {
		_, msg, err := c.ws.ReadMessage()
		if err != nil {
			c.readErr = err
			return
		}
		var f serverFrame
		if err := json.Unmarshal(msg, &f); err != nil {
			c.readErr = fmt.Errorf("undecodable server frame %q: %w", msg, err)
			return
		}
		c.frames <- f
	}
}

// next returns the next frame or fails the test.
func (c *testConn) next() serverFrame {
	c.t.Helper()
	return c.nextFor("a frame")
}

// nextFor is next naming what the test waits for when it fails.
func (c *testConn) nextFor(what string) serverFrame {
	c.t.Helper()
	select {
	case f := <-c.frames:
		return f
	case <-c.done:
		select {
		case f := <-c.frames:
			return f
		default:
		}
		c.t.Fatalf("connection ended while waiting for %s: %v", what, c.readErr)
	case <-time.After(guard):
		c.t.Fatalf("no frame within %v (waiting for %s)", guard, what)
	}
	return serverFrame{}
}

// send writes a raw text frame.
func (c *testConn) send(frame string) {
	c.t.Helper()
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// request sends a frame built from op and fields with a fresh id and
// returns the answer (reply or error) for that id; events that arrive
// first are returned too.
func (c *testConn) request(op string, fields map[string]any) (serverFrame, []serverFrame) {
	c.t.Helper()
	id := c.ids.Add(1)
	m := map[string]any{"op": op, "id": id}
	for k, v := range fields {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	c.send(string(b))
	var before []serverFrame
	for {
		f := c.next()
		if (f.Op == OpReply || f.Op == OpError) && f.ID == id {
			return f, before
		}
		before = append(before, f)
	}
}

func (c *testConn) subscribe(channel string) serverFrame {
	c.t.Helper()
	f, _ := c.request(OpSubscribe, map[string]any{"channel": channel})
	return f
}

func (c *testConn) mustSubscribe(channel string) {
	c.t.Helper()
	if f := c.subscribe(channel); f.Op != OpReply || !f.OK {
		c.t.Fatalf("subscribe %s: %+v", channel, f)
	}
}

// closeCode waits for the connection to end and returns the close code
// the server sent, or -1 when it ended without a close frame.
func (c *testConn) closeCode() int {
	c.t.Helper()
	c.start()
	deadline := time.After(guard)
	for {
		select {
		case <-c.frames:
		case <-c.done:
			var ce *websocket.CloseError
			if errors.As(c.readErr, &ce) {
				return ce.Code
			}
			return -1
		case <-deadline:
			c.t.Fatalf("connection still open after %v", guard)
		}
	}
}

// eventually polls cond until it holds or the guard expires.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(guard)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

func jsonData(s string) []byte { return []byte(s) }

func counterValueGauge(g prometheus.Gauge) float64 {
	var m dto.Metric
	if err := g.Write(&m); err != nil {
		panic(err)
	}
	return m.GetGauge().GetValue()
}

func (n *Node) metricsGauge(name string) float64 {
	switch name {
	case "subscriptions":
		return counterValueGauge(n.metrics.subscriptions)
	case "connections":
		return counterValueGauge(n.metrics.connections)
	}
	panic(name)
}

func timeNowPlusGuard() time.Time { return time.Now().Add(guard) }
