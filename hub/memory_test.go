package hub

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// TestIdleSocketMemory opens HUB_MEMTEST idle sockets (100 per user, each
// subscribed to its user's channel) from a child process and reports what
// the server side holds per socket: Go heap, goroutine stacks and
// goroutines, and checks that an idle socket keeps a single goroutine. It
// opens 300 sockets unless HUB_MEMTEST says how many (the figures are
// reported, not asserted); with REDIS_URL set the node uses the Redis broker,
// as in production. Example:
//
//	HUB_MEMTEST=5000 go test -run TestIdleSocketMemory -v ./hub/
func TestIdleSocketMemory(t *testing.T) {
	if os.Getenv("HUB_MEMTEST_CHILD") != "" {
		memTestClients(t)
		return
	}
	// A few hundred sockets by default prove the idle shape; HUB_MEMTEST=10000 measures.
	conns, _ := strconv.Atoi(os.Getenv("HUB_MEMTEST"))
	if conns <= 0 {
		conns = 300
	}
	if os.Getenv("HUB_MEMTEST_PROFILE") != "" {
		runtime.MemProfileRate = 1
	}
	cfg := Config{}
	// Authorize uses ~6 KB of stack, as a callback that queries a database does.
	cfg.Callbacks.Authorize = func(context.Context, ClientInfo, string) error { deepStack(24); return nil }
	if os.Getenv("REDIS_URL") != "" {
		client := redisClient(t, "hubmem-"+randomID())
		broker, err := NewRedisBroker(RedisBrokerConfig{Client: client, Prefix: testPrefix(t)})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Broker = broker
	}
	n := newTestNode(t, cfg)
	url := serveLikeProduction(t, n)

	before := memSnapshot()
	child := exec.Command(os.Args[0], "-test.run=^TestIdleSocketMemory$", "-test.v")
	child.Env = append(os.Environ(), "HUB_MEMTEST_CHILD=1", "HUB_MEMTEST_URL="+url, "HUB_MEMTEST_N="+strconv.Itoa(conns))
	stdin, _ := child.StdinPipe()
	stdout, _ := child.StdoutPipe()
	child.Stderr = os.Stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stdin.Close(); _ = child.Wait() }()
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if sc.Text() == "READY" {
			break
		}
	}
	eventually(t, "all subscriptions", func() bool { return n.metricsGauge("subscriptions") == float64(conns) })
	time.Sleep(2 * time.Second)
	after := memSnapshot()
	per := func(a, b uint64) float64 { return (float64(a) - float64(b)) / float64(conns) / 1024 }
	t.Logf("%d sockets: heap in use %.2f KiB, stacks %.2f KiB, total (heap+stacks) %.2f KiB, %.2f goroutines per socket",
		conns, per(after.heap, before.heap), per(after.stack, before.stack),
		per(after.heap+after.stack, before.heap+before.stack),
		float64(after.goroutines-before.goroutines)/float64(conns))
	// An idle socket keeps only its reader: the writer runs only while there is
	// something to write.
	// (The node's own fixed goroutines are amortized over the sockets, so the
	// figure is a little above 1; 2 would mean a parked writer per socket.)
	if g := float64(after.goroutines-before.goroutines) / float64(conns); g >= 1.5 {
		t.Errorf("%.2f goroutines per idle socket, want about 1", g)
	}
	if path := os.Getenv("HUB_MEMTEST_PROFILE"); path != "" {
		writeHeapProfile(t, path)
	}
}

type memFigures struct {
	heap, stack uint64
	goroutines  int
}

func memSnapshot() memFigures {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return memFigures{heap: m.HeapInuse, stack: m.StackInuse, goroutines: runtime.NumGoroutine()}
}

// serveLikeProduction serves n the way handlers/realtime.go does: Fiber with
// ReduceMemoryUsage and the same upgrade settings.
func serveLikeProduction(t testing.TB, n *Node) string {
	t.Helper()
	app := fiber.New(fiber.Config{DisableStartupMessage: true, ReduceMemoryUsage: true})
	up := websocket.FastHTTPUpgrader{
		ReadBufferSize: 256, WriteBufferSize: 256, WriteBufferPool: &sync.Pool{},
		Subprotocols: []string{Subprotocol},
		CheckOrigin:  func(*fasthttp.RequestCtx) bool { return true },
	}
	app.Get("/ws", func(c *fiber.Ctx) error {
		user := c.Query("user")
		return up.Upgrade(c.Context(), func(conn *websocket.Conn) {
			_ = n.ServeConn(context.Background(), conn, ClientInfo{UserID: user, SessionID: "s-" + user})
		})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.ShutdownWithTimeout(guard) })
	return "ws://" + ln.Addr().String() + "/ws"
}

// memTestClients is the child: it dials, subscribes, then waits for stdin
// to close.
func memTestClients(t *testing.T) {
	url := os.Getenv("HUB_MEMTEST_URL")
	conns, _ := strconv.Atoi(os.Getenv("HUB_MEMTEST_N"))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	keep := make([]*websocket.Conn, conns)
	for i := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			user := fmt.Sprintf("u%d", i/100)
			ws, _, err := (&websocket.Dialer{HandshakeTimeout: guard, ReadBufferSize: 256, WriteBufferSize: 256}).Dial(url+"?user="+user, nil)
			if err != nil {
				t.Error(err)
				return
			}
			keep[i] = ws
			_, _, _ = ws.ReadMessage() // hello
			_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"op":"subscribe","id":1,"channel":"user:`+user+`"}`))
			_, _, _ = ws.ReadMessage() // reply
			go func() {
				for {
					if _, _, err := ws.ReadMessage(); err != nil {
						return
					}
				}
			}()
		}()
	}
	wg.Wait()
	fmt.Println("READY")
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	for _, ws := range keep {
		if ws != nil {
			_ = ws.Close()
		}
	}
}

func writeHeapProfile(t testing.TB, path string) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		t.Fatal(err)
	}
}

//go:noinline
func deepStack(depth int) byte {
	var pad [256]byte
	pad[depth%256] = byte(depth)
	if depth > 0 {
		return deepStack(depth-1) + pad[0]
	}
	return pad[1]
}
