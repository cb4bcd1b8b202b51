package hub

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// clusterClient connects to the devstack's Redis Cluster of 3 masters and 3
// replicas (DEVSTACK_REDIS_CLUSTER_ADDRS; `scripts/devstack cluster up`,
// which `make test` runs). Without it the test fails, never skips.
func clusterClient(t testing.TB, name string) *redis.ClusterClient {
	t.Helper()
	addrs := os.Getenv("DEVSTACK_REDIS_CLUSTER_ADDRS")
	if addrs == "" {
		t.Fatal("DEVSTACK_REDIS_CLUSTER_ADDRS is not set: start the cluster with `scripts/devstack cluster up` " +
			`and load its settings with eval "$(scripts/devstack env)"`)
	}
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: strings.Split(addrs, ","), ClientName: name})
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	if err := c.ForEachShard(ctx, func(ctx context.Context, s *redis.Client) error { return s.Ping(ctx).Err() }); err != nil {
		t.Fatalf("Redis Cluster at %s: %v (run `scripts/devstack cluster up`)", addrs, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// lockCluster holds the devstack cluster for the rest of the test: tests of
// other packages (e2e) kill and fail over its masters, which must not happen
// in the middle of this one. The lock is a file named after the cluster.
func lockCluster(t testing.TB) {
	t.Helper()
	name := strings.NewReplacer(":", "_", ",", "-").Replace(os.Getenv("DEVSTACK_REDIS_CLUSTER_ADDRS"))
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "gigstream-redis-cluster-"+name+".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() }) // closing releases the lock
}

// newClusterNode starts a node whose broker, presence and kept events live
// on the cluster.
func newClusterNode(t testing.TB, prefix string, cfg Config) *redisNode {
	t.Helper()
	name := "hubtest-" + randomID()
	client := clusterClient(t, name)
	broker, err := NewRedisBroker(RedisBrokerConfig{Client: client, Prefix: prefix, HealthInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	presence, err := NewRedisPresence(RedisPresenceConfig{Client: client, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Broker, cfg.Presence = broker, presence
	n := newTestNode(t, cfg)
	return &redisNode{node: n, name: name, url: serve(t, n, serveOptions{})}
}

func TestKeySlotMatchesRedis(t *testing.T) {
	lockCluster(t)
	c := clusterClient(t, "hubtest-keyslot")
	keys := []string{"", "foo", "{user1000}.following", "foo{}{bar}", "foo{{bar}}zap", "a{b}c{d}", "{}", "gigstream:hub:ch:{conversation:42}"}
	for range 200 {
		keys = append(keys, fmt.Sprintf("gigstream:hub:recent:{user:%d}", rand.Uint64()))
	}
	for _, k := range keys {
		want, err := c.ClusterKeySlot(context.Background(), k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if got := keySlot(k); got != int(want) {
			t.Fatalf("keySlot(%q) = %d, Redis says %d", k, got, want)
		}
	}
}

// clusterPair holds the cluster for the test and starts two nodes on it that
// share a fake History, with an admin client and the slot map as it is before
// the test fails anything over.
func clusterPair(t *testing.T) (a, b *redisNode, h *fakeHistory, admin *redis.ClusterClient, slots *slotMap) {
	t.Helper()
	lockCluster(t)
	prefix := testPrefix(t)
	h = newFakeHistory()
	cfg := Config{Callbacks: Callbacks{Authorize: allowAll, History: h.History}}
	a, b = newClusterNode(t, prefix, cfg), newClusterNode(t, prefix, cfg)
	admin = clusterClient(t, "hubtest-admin")
	slots, err := readSlots(context.Background(), admin)
	if err != nil {
		t.Fatal(err)
	}
	return a, b, h, admin, slots
}

// clusterChannels returns n channels for every shard master of the cluster:
// channels spread over all slot ranges.
func clusterChannels(t testing.TB, b *RedisBroker, slots *slotMap, n int) map[string][]string {
	t.Helper()
	out := make(map[string][]string)
	for i := 0; len(out) < len(slots.masters) || !enough(out, n); i++ {
		ch := fmt.Sprintf("conversation:%d", i)
		owner := slots.owner[keySlot(b.redisChannel(ch))]
		if len(out[owner]) < n {
			out[owner] = append(out[owner], ch)
		}
	}
	return out
}

func enough(m map[string][]string, n int) bool {
	for _, chs := range m {
		if len(chs) < n {
			return false
		}
	}
	return true
}

// A replica of one shard takes over (CLUSTER FAILOVER) while events flow on
// channels of every shard: Redis unsubscribes the old master's subscribers,
// the broker reads the slot map again, subscribes those channels on the new
// master and the node re-syncs them, so every socket still gets every seq
// once, in order; the other shards' channels never notice.
func TestRedisClusterFanOutOnEveryShardThroughFailover(t *testing.T) {
	a, b, h, admin, slots := clusterPair(t)
	ctx := context.Background()
	byMaster := clusterChannels(t, a.node.broker.(*RedisBroker), slots, 2)
	conns := make(map[string]*testConn)
	var channels []string
	for _, chs := range byMaster {
		for _, ch := range chs {
			conns[ch] = dial(t, b.url, "u")
			conns[ch].subscribeSince(ch, 0)
			channels = append(channels, ch)
		}
	}
	publishRound := func() {
		for _, ch := range channels {
			_ = a.node.Publish(ctx, ch, h.append(ch)) // a lost one is in history: the re-sync brings it
		}
	}
	publishRound()
	for _, ch := range channels {
		conns[ch].expectSeqs(ch, 1, 1)
	}

	victim := slots.owner[keySlot(a.node.broker.(*RedisBroker).redisChannel(channels[0]))]
	replica := replicaOf(t, admin, victim)
	if err := replica.Do(ctx, "CLUSTER", "FAILOVER").Err(); err != nil {
		t.Fatalf("CLUSTER FAILOVER on %s: %v", replica.Options().Addr, err)
	}
	for range 10 {
		publishRound()
		time.Sleep(20 * time.Millisecond)
	}
	eventually(t, "the replica to serve the shard", func() bool {
		s, err := readSlots(ctx, admin)
		return err == nil && s.masters[replica.Options().Addr] && !s.masters[victim]
	})
	eventually(t, "node B to move the shard's channels", func() bool { return counterValue(b.node.metrics.brokerReconnects) >= 1 })
	for { // a last round that Redis takes shows any event still missing
		ok := true
		for _, ch := range channels {
			ok = ok && a.node.Publish(ctx, ch, h.append(ch)) == nil
		}
		if ok {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, ch := range channels {
		conns[ch].expectSeqs(ch, 2, h.head(ch))
	}
	online, err := a.node.IsOnline(ctx, "u")
	if err != nil || !online {
		t.Fatalf("presence on the cluster: online=%v err=%v", online, err)
	}
}

// A failover reaches the cluster's nodes one by one: the slot map a node
// reads right after Redis unsubscribed it may still name the demoted
// master. Redis lets that node, a replica now, take the SSUBSCRIBE, but it
// hears of the new master's publishes only once the new master counts it
// as a replica, so events published meanwhile would be lost to the link
// for good. The broker notices it reached a replica and reads the map
// again until it subscribes at the new master.
func TestRedisClusterStaleSlotMapAfterFailover(t *testing.T) {
	a, b, h, admin, slots := clusterPair(t)
	ctx := context.Background()
	rb := b.node.broker.(*RedisBroker)
	var victim string
	var channels []string
	for victim, channels = range clusterChannels(t, rb, slots, 2) {
		break
	}
	conns := make(map[string]*testConn)
	for _, ch := range channels {
		conns[ch] = dial(t, b.url, "u")
		conns[ch].subscribeSince(ch, 0)
		_ = a.node.Publish(ctx, ch, h.append(ch))
		conns[ch].expectSeqs(ch, 1, 1)
	}

	var staleServed atomic.Bool // node B's next read of the map is the old one
	rb.mu.Lock()
	fresh := rb.slotReader
	rb.slotReader = func(ctx context.Context) (*slotMap, error) {
		if staleServed.CompareAndSwap(false, true) {
			return slots, nil
		}
		return fresh(ctx)
	}
	rb.mu.Unlock()
	replica := replicaOf(t, admin, victim)
	if err := replica.Do(ctx, "CLUSTER", "FAILOVER").Err(); err != nil {
		t.Fatalf("CLUSTER FAILOVER on %s: %v", replica.Options().Addr, err)
	}
	eventually(t, "the replica to serve the shard", func() bool {
		s, err := readSlots(ctx, admin)
		return err == nil && s.masters[replica.Options().Addr] && !s.masters[victim]
	})
	for _, ch := range channels {
		name := rb.redisChannel(ch)
		eventually(t, "node B to subscribe "+ch+" at the new master", func() bool {
			n, err := replica.PubSubShardNumSub(ctx, name).Result()
			return err == nil && n[name] == 1
		})
	}
	if !staleServed.Load() {
		t.Fatal("node B never read the slot map after the failover")
	}
	for _, ch := range channels {
		for a.node.Publish(ctx, ch, h.append(ch)) != nil {
			time.Sleep(50 * time.Millisecond)
		}
		conns[ch].expectSeqs(ch, 2, h.head(ch))
	}
}

// replicaOf returns a client of one replica of the master at addr.
func replicaOf(t testing.TB, admin *redis.ClusterClient, addr string) *redis.Client {
	t.Helper()
	shards, err := admin.ClusterShards(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, sh := range shards {
		if shardMaster(sh) != addr {
			continue
		}
		for _, n := range sh.Nodes {
			if n.Role == "replica" && n.Health == "online" {
				c := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("%s:%d", n.IP, n.Port)})
				t.Cleanup(func() { _ = c.Close() })
				return c
			}
		}
	}
	t.Fatalf("no online replica of %s in CLUSTER SHARDS", addr)
	return nil
}
