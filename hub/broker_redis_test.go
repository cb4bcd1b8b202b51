package hub

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestRedisPublishOnOneNodeReachesOthersExactlyOnce(t *testing.T) {
	for _, sharded := range []bool{false, true} {
		t.Run(fmt.Sprintf("sharded=%v", sharded), func(t *testing.T) {
			prefix := testPrefix(t)
			a := newRedisNode(t, prefix, sharded, Config{})
			b := newRedisNode(t, prefix, sharded, Config{})
			c := newRedisNode(t, prefix, sharded, Config{})
			onA, onB, onC := dial(t, a.url, "1"), dial(t, b.url, "2"), dial(t, c.url, "3")
			for _, conn := range []*testConn{onA, onB, onC} {
				conn.mustSubscribe("conversation:1")
			}
			const events = 50
			for i := 1; i <= events; i++ {
				ev := Event{Seq: uint64(i), Type: "message.created", Data: []byte(fmt.Sprint(i))}
				if err := a.node.Publish(context.Background(), "conversation:1", ev); err != nil {
					t.Fatal(err)
				}
			}
			// A sentinel on another channel, published after, proves nothing
			// else is still on its way.
			for _, conn := range []*testConn{onA, onB, onC} {
				conn.expectSeqs("conversation:1", 1, events)
				conn.mustSubscribe("sentinel:1")
			}
			_ = a.node.Publish(context.Background(), "sentinel:1", Event{Type: "end", Data: []byte("0")})
			for _, conn := range []*testConn{onA, onB, onC} {
				if f := conn.next(); f.Channel != "sentinel:1" {
					t.Fatalf("extra frame before the sentinel: %+v", f)
				}
			}
		})
	}
}

// The publishing node delivers to its own sockets at once and drops the
// copy Redis hands back: identical ephemeral events (typing twice), sync and
// async, reach every socket exactly as often as they were published.
func TestLocalDeliveryDropsItsEchoOnly(t *testing.T) {
	prefix := testPrefix(t)
	a, b := newRedisNode(t, prefix, false, Config{}), newRedisNode(t, prefix, false, Config{})
	onA, onB := dial(t, a.url, "1"), dial(t, b.url, "2")
	for _, conn := range []*testConn{onA, onB} {
		conn.mustSubscribe("conversation:7")
		conn.mustSubscribe("sentinel:7")
	}
	const events = 60
	typing := Event{Type: "typing", Data: []byte(`{"user":"u1"}`)}
	var published sync.WaitGroup
	for i := range events {
		if i%2 == 0 {
			if err := a.node.Publish(context.Background(), "conversation:7", typing); err != nil {
				t.Fatal(err)
			}
			continue
		}
		published.Add(1)
		if err := a.node.PublishAsync("conversation:7", typing, func(err error) {
			if err != nil {
				t.Error(err)
			}
			published.Done()
		}); err != nil {
			t.Fatal(err)
		}
	}
	published.Wait()
	// The same payload from node B is not mistaken for node A's echo.
	if err := b.node.Publish(context.Background(), "conversation:7", typing); err != nil {
		t.Fatal(err)
	}
	if err := a.node.PublishAsync("bad channel", typing, nil); !errors.Is(err, ErrInvalidChannel) {
		t.Fatalf("PublishAsync to a bad channel: %v", err)
	}
	time.Sleep(100 * time.Millisecond) // let stray duplicates, if any, arrive before the sentinel
	_ = a.node.Publish(context.Background(), "sentinel:7", Event{Type: "end", Data: []byte("0")})
	for name, conn := range map[string]*testConn{"local": onA, "remote": onB} {
		got := 0
		for f := conn.next(); f.Channel != "sentinel:7"; f = conn.next() {
			got++
		}
		if got != events+1 {
			t.Errorf("%s socket got %d typing events, want %d", name, got, events+1)
		}
	}
}

// The node must subscribe in Redis only to channels it has local
// subscribers for.
func TestRedisSubscribesOnlyLocalChannels(t *testing.T) {
	prefix := testPrefix(t)
	a := newRedisNode(t, prefix, false, Config{})
	conn := dial(t, a.url, "1")
	conn.mustSubscribe("order:5")
	channels := func() []string {
		got, err := a.client.PubSubChannels(context.Background(), prefix+"ch:*").Result()
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := channels(); len(got) != 1 || got[0] != prefix+"ch:order:5" {
		t.Fatalf("Redis channels = %v, want only order:5", got)
	}
	conn.request(OpUnsubscribe, map[string]any{"channel": "order:5"})
	eventually(t, "the Redis unsubscribe", func() bool { return len(channels()) == 0 })
}

func TestRedisUnauthorizedSubscribeRefused(t *testing.T) {
	a := newRedisNode(t, testPrefix(t), false, Config{Callbacks: Callbacks{
		Authorize: func(context.Context, ClientInfo, string) error { return fmt.Errorf("no") },
	}})
	if f := dial(t, a.url, "1").subscribe("order:1"); f.Code != CodeForbidden {
		t.Fatalf("got %+v", f)
	}
}

func TestRedisDisconnectUserAcrossNodes(t *testing.T) {
	prefix := testPrefix(t)
	a := newRedisNode(t, prefix, false, Config{})
	b := newRedisNode(t, prefix, false, Config{})
	victim, other := dial(t, b.url, "alice"), dial(t, b.url, "bob")
	if err := a.node.DisconnectUser(context.Background(), "alice", CloseSessionEnded, "logged out"); err != nil {
		t.Fatal(err)
	}
	if code := victim.closeCode(); code != CloseSessionEnded {
		t.Fatalf("close code on node B = %d, want %d", code, CloseSessionEnded)
	}
	if f, _ := other.request(OpPing, nil); f.Op != OpReply {
		t.Fatalf("bob lost his socket: %+v", f)
	}
}

// Killing node B's Redis connections mid-stream loses what was published
// meanwhile; the broker reconnects, the node re-syncs from history and the
// client sees every event once, in order.
func TestRedisConnectionKillNoSilentGap(t *testing.T) {
	prefix := testPrefix(t)
	h := newFakeHistory()
	cfg := Config{Callbacks: Callbacks{Authorize: allowAll, History: h.History}}
	a := newRedisNode(t, prefix, false, cfg)
	b := newRedisNode(t, prefix, false, cfg)
	admin := redisClient(t, "hubtest-admin")
	ch := "conversation:kill"
	conn := dial(t, b.url, "u")
	conn.subscribeSince(ch, 0)
	ctx := context.Background()
	publish := func() {
		if err := a.node.Publish(ctx, ch, h.append(ch)); err != nil {
			t.Fatal(err)
		}
	}
	publish()
	conn.expectSeqs(ch, 1, 1)
	if b.killConnections(t, admin) == 0 {
		t.Fatal("found no Redis connection of node B to kill")
	}
	for range 20 { // some land in the outage, some after
		publish()
	}
	eventually(t, "node B to reconnect", func() bool { return counterValue(b.node.metrics.brokerReconnects) >= 1 })
	conn.expectSeqs(ch, 2, 21)
	publish()
	conn.expectSeqs(ch, 22, 22)
}

func TestRedisPresence(t *testing.T) {
	client := redisClient(t, "hubtest-presence")
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	p, err := NewRedisPresence(RedisPresenceConfig{Client: client, Prefix: testPrefix(t),
		TTL: 30 * time.Second, Grace: 10 * time.Second, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	testPresence(t, p, clock)
}

// The batched writes (Apply) tell the same story as Connect and Disconnect,
// and a batch keeps its order: a socket that came and went is gone.
func TestRedisPresenceBatched(t *testing.T) {
	client := redisClient(t, "hubtest-presence")
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	p, err := NewRedisPresence(RedisPresenceConfig{Client: client, Prefix: testPrefix(t),
		TTL: 30 * time.Second, Grace: 10 * time.Second, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	testPresence(t, batchedPresence{p}, clock)
	ctx := context.Background()
	must(t, p.Apply(ctx, []PresenceChange{
		{UserID: "u9", ConnID: "a", Connected: true}, {UserID: "u8", ConnID: "b", Connected: true},
		{UserID: "u9", ConnID: "a"},
	}))
	clock.advance(11 * time.Second) // past u9's grace window
	if on, _ := p.IsOnline(ctx, "u9"); on {
		t.Error("a socket that came and went in one batch is still online")
	}
	if on, _ := p.IsOnline(ctx, "u8"); !on {
		t.Error("a socket that came in a batch is offline")
	}
}

// batchedPresence routes Connect and Disconnect through Apply.
type batchedPresence struct{ *RedisPresence }

func (b batchedPresence) Connect(ctx context.Context, user, conn string) error {
	return b.Apply(ctx, []PresenceChange{{UserID: user, ConnID: conn, Connected: true}})
}

func (b batchedPresence) Disconnect(ctx context.Context, user, conn string) error {
	return b.Apply(ctx, []PresenceChange{{UserID: user, ConnID: conn}})
}

func TestMemoryPresence(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	testPresence(t, NewMemoryPresence(MemoryPresenceConfig{TTL: 30 * time.Second, Grace: 10 * time.Second, Now: clock.Now}), clock)
}

type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time          { return c.now }
func (c *fakeClock) advance(d time.Duration) { c.now = c.now.Add(d) }

// testPresence runs the same story on both implementations.
func testPresence(t *testing.T, p Presence, clock *fakeClock) {
	ctx := context.Background()
	online := func(user string) bool {
		t.Helper()
		ok, err := p.IsOnline(ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if online("u1") {
		t.Fatal("unknown user online")
	}
	must(t, p.Connect(ctx, "u1", "c1"))
	must(t, p.Connect(ctx, "u1", "c2"))
	must(t, p.Disconnect(ctx, "u1", "c1"))
	clock.advance(20 * time.Second)
	if !online("u1") {
		t.Fatal("user with one socket left is offline")
	}
	must(t, p.Refresh(ctx, []PresenceConn{{UserID: "u1", ConnID: "c2"}}))
	must(t, p.Disconnect(ctx, "u1", "c2"))
	clock.advance(5 * time.Second)
	if !online("u1") {
		t.Fatal("user inside the grace window is offline")
	}
	clock.advance(6 * time.Second)
	if online("u1") {
		t.Fatal("user still online after the grace window")
	}
	// A node that dies stops refreshing: its user falls offline after TTL.
	must(t, p.Connect(ctx, "u2", "c3"))
	clock.advance(29 * time.Second)
	if !online("u2") {
		t.Fatal("user offline before the TTL")
	}
	clock.advance(2 * time.Second)
	if online("u2") {
		t.Fatal("crashed node's user still online after the TTL")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// A recovery reads the channel's kept events from Redis instead of History
// when they continue since (or show nothing was missed); older than what is
// kept, or with reads turned off, it asks History.
func TestRecoveryFromKeptEvents(t *testing.T) {
	h := newFakeHistory()
	prefix := testPrefix(t)
	cfg := func() Config { return Config{Callbacks: Callbacks{Authorize: allowAll, History: h.History}} }
	a := newRedisNodeWith(t, RedisBrokerConfig{Prefix: prefix, KeepRecent: 5}, cfg())
	b := newRedisNodeWith(t, RedisBrokerConfig{Prefix: prefix, KeepRecent: 5}, cfg())
	off := newRedisNodeWith(t, RedisBrokerConfig{Prefix: prefix, KeepRecent: 5, NoRecentReads: true}, cfg())
	ch := "conversation:kept"
	for range 12 {
		if err := a.node.Publish(context.Background(), ch, h.append(ch)); err != nil {
			t.Fatal(err)
		}
	}
	calls := func() int64 { return h.calls.Load() }
	conn := dial(t, b.url, "1")
	before := calls()
	if f := conn.subscribeSince(ch, 9); f.Recovered == nil || !*f.Recovered {
		t.Fatalf("subscribe since 9: %+v", f)
	}
	conn.expectSeqs(ch, 10, 12)
	if calls() != before {
		t.Fatalf("History asked %d times for events Redis keeps", calls()-before)
	}
	conn2 := dial(t, b.url, "2")
	conn2.subscribeSince(ch, 12) // nothing missed
	if calls() != before {
		t.Fatal("History asked although nothing was missed")
	}
	conn3 := dial(t, b.url, "3")
	conn3.subscribeSince(ch, 2) // older than the 5 kept
	conn3.expectSeqs(ch, 3, 12)
	if calls() == before {
		t.Fatal("History not asked for events no longer kept")
	}
	// A hole in the kept events (a publish that failed and waits for the
	// relay) is not trusted: History fills it.
	key := prefix + "recent:{" + ch + "}"
	if err := a.client.ZRemRangeByScore(context.Background(), key, "11", "11").Err(); err != nil {
		t.Fatal(err)
	}
	before = calls()
	conn5 := dial(t, b.url, "5")
	if f := conn5.subscribeSince(ch, 9); f.Recovered == nil || !*f.Recovered {
		t.Fatalf("subscribe since 9 over a hole: %+v", f)
	}
	conn5.expectSeqs(ch, 10, 12)
	if calls() == before {
		t.Fatal("History not asked although the kept events have a hole at 11")
	}
	before = calls()
	conn4 := dial(t, off.url, "4")
	conn4.subscribeSince(ch, 9)
	conn4.expectSeqs(ch, 10, 12)
	if calls() == before {
		t.Fatal("NoRecentReads: History not asked")
	}
	// Live events go on after a recovery from kept events, in order.
	_ = a.node.Publish(context.Background(), ch, h.append(ch))
	for _, c := range []*testConn{conn, conn2, conn3, conn4, conn5} {
		c.expectSeqs(ch, 13, 13)
	}
}
