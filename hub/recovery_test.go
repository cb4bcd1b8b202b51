package hub

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeHistory is the test's Postgres: an append-only, dense, per-channel
// event log. Append "commits" an event; the test decides when (and
// whether) it is published.
type fakeHistory struct {
	mu     sync.Mutex
	events map[string][]Event
	gone   uint64 // since values below this are outside the window
	calls  atomic.Int64
}

func newFakeHistory() *fakeHistory { return &fakeHistory{events: make(map[string][]Event)} }

func (h *fakeHistory) append(channel string) Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	seq := uint64(len(h.events[channel]) + 1)
	ev := Event{Seq: seq, Type: "message.created", Data: []byte(fmt.Sprintf(`{"n":%d}`, seq))}
	h.events[channel] = append(h.events[channel], ev)
	return ev
}

func (h *fakeHistory) head(channel string) uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return uint64(len(h.events[channel]))
}

func (h *fakeHistory) History(_ context.Context, channel string, since uint64, limit int) ([]Event, error) {
	h.calls.Add(1)
	h.mu.Lock()
	defer h.mu.Unlock()
	if since < h.gone {
		return nil, ErrHistoryGone
	}
	all := h.events[channel]
	if since >= uint64(len(all)) {
		return nil, nil
	}
	out := append([]Event(nil), all[since:]...)
	return out[:min(limit, len(out))], nil
}

func (c *testConn) subscribeSince(channel string, since uint64) serverFrame {
	c.t.Helper()
	f, before := c.request(OpSubscribe, map[string]any{"channel": channel, "since": since})
	if len(before) > 0 {
		c.t.Fatalf("events before the subscribe reply: %+v", before)
	}
	return f
}

// expectSeqs reads events until seq to and fails on any gap or duplicate.
func (c *testConn) expectSeqs(channel string, from, to uint64) {
	c.t.Helper()
	for want := from; want <= to; want++ {
		f := c.nextFor(fmt.Sprintf("seq %d of %d on %s", want, to, channel))
		if f.Op != OpEvent || f.Channel != channel || f.Seq != want {
			c.t.Fatalf("want seq %d on %s, got %+v", want, channel, f)
		}
	}
}

func TestRecoverySinceThenLive(t *testing.T) {
	h := newFakeHistory()
	n := newTestNode(t, Config{Callbacks: Callbacks{Authorize: allowAll, History: h.History}, HistoryPageSize: 3})
	ch := "conversation:1"
	for range 10 {
		h.append(ch)
	}
	c := dial(t, serve(t, n, serveOptions{}), "u")
	if f := c.subscribeSince(ch, 4); f.Op != OpReply || f.Recovered == nil || !*f.Recovered {
		t.Fatalf("subscribe reply: %+v", f)
	}
	c.expectSeqs(ch, 5, 10) // two pages and a bit
	ev := h.append(ch)
	_ = n.Publish(context.Background(), ch, ev)
	c.expectSeqs(ch, 11, 11)
}

func TestRecoveryHistoryGone(t *testing.T) {
	h := newFakeHistory()
	h.gone = 100
	n := newTestNode(t, Config{Callbacks: Callbacks{Authorize: allowAll, History: h.History}})
	c := dial(t, serve(t, n, serveOptions{}), "u")
	if f := c.subscribeSince("order:1", 3); f.Op != OpReply || f.Recovered == nil || *f.Recovered {
		t.Fatalf("subscribe reply: %+v", f)
	}
}

func TestGapIsFilledFromHistory(t *testing.T) {
	h := newFakeHistory()
	n := newTestNode(t, Config{Callbacks: Callbacks{Authorize: allowAll, History: h.History}, GapWait: -1})
	ch := "order:7"
	c := dial(t, serve(t, n, serveOptions{}), "u")
	c.subscribeSince(ch, 0)
	ctx := context.Background()
	e1, e2, e3 := h.append(ch), h.append(ch), h.append(ch)
	_ = n.Publish(ctx, ch, e1)
	_ = n.Publish(ctx, ch, e3) // e2 was committed but its publish was lost
	c.expectSeqs(ch, 1, 3)
	_ = n.Publish(ctx, ch, e2) // late duplicate: dropped
	e4 := h.append(ch)
	_ = n.Publish(ctx, ch, e4)
	c.expectSeqs(ch, 4, 4)
}

func TestOutOfOrderPublishesAreReordered(t *testing.T) {
	h := newFakeHistory()
	n := newTestNode(t, Config{Callbacks: Callbacks{Authorize: allowAll, History: h.History}, GapWait: guard})
	ch := "order:8"
	c := dial(t, serve(t, n, serveOptions{}), "u")
	c.subscribeSince(ch, 0)
	e1, e2 := h.append(ch), h.append(ch)
	_ = n.Publish(context.Background(), ch, e2)
	_ = n.Publish(context.Background(), ch, e1)
	c.expectSeqs(ch, 1, 2)
	if h.calls.Load() != 1 { // only the subscribe's own call
		t.Fatalf("History called %d times; the reordering should not need it", h.calls.Load())
	}
}

func TestBrokerReconnectResyncs(t *testing.T) {
	h := newFakeHistory()
	broker := NewMemoryBroker()
	n := newTestNode(t, Config{Broker: broker, Callbacks: Callbacks{Authorize: allowAll, History: h.History}})
	ch := "conversation:5"
	c := dial(t, serve(t, n, serveOptions{}), "u")
	c.subscribeSince(ch, 0)
	ctx := context.Background()
	_ = n.Publish(ctx, ch, h.append(ch))
	c.expectSeqs(ch, 1, 1)
	broker.Disconnect()
	_ = n.Publish(ctx, ch, h.append(ch)) // lost in the outage, and nothing follows it
	_ = n.Publish(ctx, ch, h.append(ch))
	broker.Reconnect()
	c.expectSeqs(ch, 2, 3)
	if counterValue(n.metrics.brokerReconnects) != 1 {
		t.Fatal("reconnect not counted")
	}
}

// TestRecoveryUnderConcurrentPublishers: see runRecoveryStress.
func TestRecoveryUnderConcurrentPublishers(t *testing.T) {
	h := newFakeHistory()
	n := newTestNode(t, stressConfig(h))
	runRecoveryStress(t, h, n, serve(t, n, serveOptions{}), nil)
}

// The same over Redis: publishes go into node A, clients sit on node B,
// and node B's Redis connections are killed in the middle.
func TestRedisRecoveryUnderConcurrentPublishersAndConnectionKill(t *testing.T) {
	h := newFakeHistory()
	prefix := testPrefix(t)
	a := newRedisNode(t, prefix, false, stressConfig(h))
	b := newRedisNode(t, prefix, false, stressConfig(h))
	admin := redisClient(t, "hubtest-admin")
	runRecoveryStress(t, h, a.node, b.url, func() {
		if b.killConnections(t, admin) == 0 {
			t.Error("found no Redis connection of node B to kill")
		}
	})
	if counterValue(b.node.metrics.brokerReconnects) == 0 {
		t.Error("node B never reconnected")
	}
}

func stressConfig(h *fakeHistory) Config {
	return Config{
		Callbacks:       Callbacks{Authorize: allowAll, History: h.History},
		GapWait:         time.Millisecond,
		HistoryPageSize: 100,
		SendQueueBytes:  8 << 20,
	}
}

// runRecoveryStress publishes thousands of durable events into pub from
// several goroutines (so publishes overtake each other, and some are lost
// outright) while clients of url subscribe at random moments with random
// since values; midway it calls fault, if any. Every client must see
// exactly since+1..total, in order.
func runRecoveryStress(t *testing.T, h *fakeHistory, pub *Node, url string, fault func()) {
	const (
		channel    = "conversation:stress"
		total      = 4000
		publishers = 4
		clients    = 16
	)
	var wg sync.WaitGroup
	var committed atomic.Int64
	for p := range publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(p), 1))
			for committed.Add(1) <= total {
				ev := h.append(channel)
				if rng.IntN(5) == 0 {
					time.Sleep(time.Duration(rng.IntN(200)) * time.Microsecond) // overtaken by others
				}
				if ev.Seq < total-publishers && rng.IntN(100) == 0 {
					continue // the publish after commit was lost (node crash)
				}
				if err := pub.Publish(context.Background(), channel, ev); err != nil {
					t.Error(err)
				}
			}
		}()
	}

	results := make(chan error, clients)
	for i := range clients {
		if i == clients/2 && fault != nil {
			fault()
		}
		since := h.head(channel)
		if i%3 == 0 && since > 0 {
			since = uint64(rand.IntN(int(since)))
		}
		c := dial(t, url, fmt.Sprintf("u%d", i))
		if f := c.subscribeSince(channel, since); f.Op != OpReply {
			t.Fatalf("subscribe: %+v", f)
		}
		go func() { results <- c.collect(channel, since, total) }()
		time.Sleep(time.Duration(rand.IntN(3)) * time.Millisecond)
	}
	wg.Wait()
	for range clients {
		if err := <-results; err != nil {
			t.Error(err)
		}
	}
}

// collect reads events until seq total and reports any gap or duplicate.
func (c *testConn) collect(channel string, since, total uint64) error {
	for want := since + 1; want <= total; want++ {
		select {
		case f := <-c.frames:
			if f.Op != OpEvent || f.Channel != channel || f.Seq != want {
				return fmt.Errorf("since %d: want seq %d, got %+v", since, want, f)
			}
		case <-c.done:
			return fmt.Errorf("since %d: connection ended at seq %d: %v", since, want, c.readErr)
		case <-time.After(guard):
			return fmt.Errorf("since %d: stuck before seq %d", since, want)
		}
	}
	return nil
}

// A subscriber must not share a History read that began before it attached:
// an event committed and published between that read and its attach would be
// in neither, and with nothing published after it the gap would stay silent.
func TestRecoveryNeverSharesAReadOlderThanTheSubscription(t *testing.T) {
	h := newFakeHistory()
	first := make(chan struct{})
	release := make(chan struct{})
	var calls atomic.Int64
	history := func(ctx context.Context, channel string, since uint64, limit int) ([]Event, error) {
		events, err := h.History(ctx, channel, since, limit) // the read happens now...
		if calls.Add(1) == 1 {
			close(first)
			<-release // ...and is answered late
		}
		return events, err
	}
	n := newTestNode(t, Config{Callbacks: Callbacks{Authorize: allowAll, History: history}})
	url := serve(t, n, serveOptions{})
	ch := "conversation:late"
	h.append(ch)
	early := dial(t, url, "a")
	early.send(`{"op":"subscribe","id":1,"channel":"` + ch + `","since":1}`)
	<-first
	// Committed and published after the first read, before the second socket attaches.
	_ = n.Publish(context.Background(), ch, h.append(ch))
	late := dial(t, url, "b")
	late.send(`{"op":"subscribe","id":1,"channel":"` + ch + `","since":1}`)
	for end := time.Now().Add(2 * time.Second); calls.Load() < 2 && time.Now().Before(end); {
		time.Sleep(time.Millisecond) // the second read, if it is made
	}
	close(release)
	if f := late.next(); f.Op != OpReply || f.Recovered == nil || !*f.Recovered {
		t.Fatalf("late subscribe: %+v", f)
	}
	if f := late.next(); f.Op != OpEvent || f.Seq != 2 {
		t.Fatalf("late subscriber: %+v, want seq 2", f)
	}
}

// laggingKept is a broker whose kept events lag what was published (its
// publishes are still on their way to Redis): it says nothing was missed.
type laggingKept struct{ *MemoryBroker }

func (laggingKept) Recent(context.Context, string, uint64, int) ([]Event, bool, error) {
	return nil, true, nil
}

// A gap the kept events cannot close (they lag this node's own publishes,
// as when a cluster shard's pipeline waits on a dead master) is closed from
// History, not given up on.
func TestGapClosedFromHistoryWhenKeptEventsLag(t *testing.T) {
	h := newFakeHistory()
	n := newTestNode(t, Config{Broker: laggingKept{NewMemoryBroker()}, Callbacks: Callbacks{Authorize: allowAll, History: h.History}})
	ch := "conversation:lag"
	c := dial(t, serve(t, n, serveOptions{}), "u")
	c.subscribeSince(ch, 0)
	ctx := context.Background()
	_ = n.Publish(ctx, ch, h.append(ch))
	c.expectSeqs(ch, 1, 1)
	h.append(ch) // 2 is stored but its publish is lost
	_ = n.Publish(ctx, ch, h.append(ch))
	c.expectSeqs(ch, 2, 3)
}

// keptLater is a broker whose publishes wait while hold is set, as a Redis
// pipeline (keep the event, then publish it) still on its way does, and
// whose kept events are what it has published so far.
type keptLater struct {
	*MemoryBroker
	hold    atomic.Bool
	release chan struct{}
	mu      sync.Mutex
	kept    map[string][]Event
}

func (b *keptLater) Publish(ctx context.Context, channel string, payload []byte) error {
	if b.hold.Load() {
		<-b.release
	}
	if seq, _, frame, err := decodeEnvelope(payload); err == nil && seq > 0 {
		b.mu.Lock()
		b.kept[channel] = append(b.kept[channel], Event{Seq: seq, frame: frame})
		b.mu.Unlock()
	}
	return b.MemoryBroker.Publish(ctx, channel, payload)
}

func (b *keptLater) Recent(_ context.Context, channel string, since uint64, limit int) ([]Event, bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Event
	for _, ev := range b.kept[channel] {
		if ev.Seq > since && len(out) < limit {
			out = append(out, ev)
		}
	}
	return out, len(b.kept[channel]) > 0, nil
}

// A socket that subscribes with since on the node that published an event,
// after the node delivered it to its own sockets but before the broker kept
// it, reads kept events without it: the event's echo from the broker must
// then reach the new socket, not be dropped as already delivered (it used
// to wait for the channel's next event to show the gap: seconds in a
// reconnect storm).
func TestEventPublishedWhileASocketJoinsReachesIt(t *testing.T) {
	h := newFakeHistory()
	b := &keptLater{MemoryBroker: NewMemoryBroker(), release: make(chan struct{}), kept: make(map[string][]Event)}
	n := newTestNode(t, Config{Broker: b, Callbacks: Callbacks{Authorize: allowAll, History: h.History}})
	url := serve(t, n, serveOptions{})
	ch := "user:joiner"
	ctx := context.Background()
	first := dial(t, url, "a")
	first.subscribeSince(ch, 0)
	for range 5 {
		if err := n.Publish(ctx, ch, h.append(ch)); err != nil {
			t.Fatal(err)
		}
	}
	first.expectSeqs(ch, 1, 5)

	b.hold.Store(true)
	if err := n.PublishAsync(ch, h.append(ch), nil); err != nil {
		t.Fatal(err)
	}
	first.expectSeqs(ch, 6, 6) // delivered locally; the broker has not kept it yet
	reads := h.calls.Load()
	joiner := dial(t, url, "b")
	if f := joiner.subscribeSince(ch, 5); f.Op != OpReply || f.Recovered == nil || !*f.Recovered {
		t.Fatalf("subscribe reply: %+v", f)
	}
	close(b.release)
	joiner.expectSeqs(ch, 6, 6)
	if got := h.calls.Load() - reads; got != 0 {
		t.Fatalf("History was read %d times; the kept events and the echo should carry it", got)
	}
	first.send(`{"op":"ping","id":9}`) // the first socket did not get 6 twice
	if f := first.next(); f.Op != OpReply {
		t.Fatalf("first socket after the echo: %+v, want only the ping's reply", f)
	}
}
