package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Three nodes on a real Redis Cluster (3 masters, 3 replicas: `scripts/devstack cluster
// up`): sockets on every node subscribe to channels spread over every master's slots, and
// while durable events flow, the master serving one of them is killed (SIGKILL). Its
// replica takes over; every node moves that shard's channels to it and re-syncs them, the
// relay republishes what the dead master never took, and every socket ends with every seq
// of its channel exactly once, in order.
func TestRealtimeOnRedisClusterSurvivesMasterKill(t *testing.T) {
	admin := clusterAdmin(t)
	lockCluster(t)
	nodes := startCluster(t, 3, tokenEnv(map[string]string{"REDIS_CLUSTER_ADDRS": os.Getenv("DEVSTACK_REDIS_CLUSTER_ADDRS")}))
	const perMaster, rounds, killAfter = 2, 24, 8
	ctx := context.Background()
	owners := slotOwners(t, admin)
	byMaster := map[string][]string{}
	var channels, tokens []string
	for i := 0; len(byMaster) < len(owners.masters) || !everyHas(byMaster, perMaster); i++ {
		if i == 60 {
			t.Fatalf("60 users and still not %d channels on each master: %v", perMaster, byMaster)
		}
		id, bearer := appUser(t, nodes[i%3], fmt.Sprintf("cluster%d", i))
		ch := "user:" + id
		slot, err := admin.ClusterKeySlot(ctx, "gigstream:hub:ch:{"+ch+"}").Result()
		if err != nil {
			t.Fatal(err)
		}
		master := owners.owner[slot]
		if len(byMaster[master]) >= perMaster {
			continue
		}
		byMaster[master] = append(byMaster[master], ch)
		channels = append(channels, ch)
		tokens = append(tokens, connToken(t, nodes[i%3], bearer))
	}
	var sockets []*stormSocket
	for i, ch := range channels {
		for n := range 3 { // one socket per node
			sockets = append(sockets, openStormSocket(t, nodes[(i+n)%3], tokens[i], ch))
		}
	}

	// Every node subscribed every channel on the master serving its slot.
	for _, ch := range channels {
		waitShardSubscribers(t, admin, ch, 3)
	}

	kill := make(chan struct{})
	published := make(chan error, 1)
	go func() { published <- publishRounds(nodes, channels, rounds, map[int]chan struct{}{killAfter: kill}) }()
	<-kill
	victim := owners.owner[keySlotOf(t, admin, "gigstream:hub:ch:{"+channels[0]+"}")]
	killRedis(t, victim)
	if err := <-published; err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(sockets))
	for _, s := range sockets {
		wg.Go(func() { errs <- s.waitFor(rounds, 45*time.Second) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// The sockets may be whole before the failover is (what the dead master missed is
	// recovered from history), so the promotion of its replica is awaited, not assumed.
	after := slotOwners(t, admin)
	for deadline := time.Now().Add(30 * time.Second); after.masters[victim] || len(after.masters) != len(owners.masters); {
		if time.Now().After(deadline) {
			t.Fatalf("masters 30 s after the kill: %v (killed %s)", after.masters, victim)
		}
		time.Sleep(200 * time.Millisecond)
		after = slotOwners(t, admin)
	}
	for _, ch := range channels { // the killed shard's channels too, on its new master
		waitShardSubscribers(t, admin, ch, 3)
	}
}

// waitShardSubscribers waits until the master serving channel's slot counts n
// subscriber connections of the channel (PUBSUB SHARDNUMSUB asks that node only).
func waitShardSubscribers(t *testing.T, admin *redis.ClusterClient, channel string, n int64) {
	t.Helper()
	name := "gigstream:hub:ch:{" + channel + "}"
	var got int64
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		master := slotOwners(t, admin).owner[keySlotOf(t, admin, name)]
		c := redis.NewClient(&redis.Options{Addr: master})
		counts, err := c.PubSubShardNumSub(context.Background(), name).Result()
		c.Close()
		if got = counts[name]; err == nil && got == n {
			return
		}
	}
	t.Fatalf("%s: %d subscribers on its master, want %d", name, got, n)
}

// lockCluster holds the devstack cluster for the rest of the test (the hub package's
// cluster tests fail masters over too), by a lock file named after the cluster. The
// lock is released after the cleanup that restarts the killed master has run.
func lockCluster(t *testing.T) {
	t.Helper()
	name := strings.NewReplacer(":", "_", ",", "-").Replace(os.Getenv("DEVSTACK_REDIS_CLUSTER_ADDRS"))
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "gigstream-redis-cluster-"+name+".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
}

// clusterAdmin connects to the devstack's Redis Cluster; without it the test fails.
func clusterAdmin(t *testing.T) *redis.ClusterClient {
	t.Helper()
	addrs := os.Getenv("DEVSTACK_REDIS_CLUSTER_ADDRS")
	if addrs == "" {
		t.Fatal("DEVSTACK_REDIS_CLUSTER_ADDRS is not set: run `scripts/devstack cluster up` (make test does)")
	}
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: strings.Split(addrs, ",")})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.ForEachShard(ctx, func(ctx context.Context, s *redis.Client) error { return s.Ping(ctx).Err() }); err != nil {
		t.Fatalf("Redis Cluster at %s: %v (run `scripts/devstack cluster up`)", addrs, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

type clusterOwners struct {
	owner   map[int64]string
	masters map[string]bool
}

// slotOwners reads which master serves each slot (CLUSTER SHARDS; a master listed as
// failed counts only until its replica took over).
func slotOwners(t *testing.T, c *redis.ClusterClient) clusterOwners {
	t.Helper()
	shards, err := c.ClusterShards(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	o := clusterOwners{owner: map[int64]string{}, masters: map[string]bool{}}
	for _, sh := range shards {
		master := ""
		for _, n := range sh.Nodes {
			if n.Role == "master" && (master == "" || n.Health == "online") {
				master = fmt.Sprintf("%s:%d", n.IP, n.Port)
			}
		}
		if master == "" || len(sh.Slots) == 0 {
			continue
		}
		o.masters[master] = true
		for _, r := range sh.Slots {
			for s := r.Start; s <= r.End; s++ {
				o.owner[s] = master
			}
		}
	}
	return o
}

func keySlotOf(t *testing.T, c *redis.ClusterClient, key string) int64 {
	t.Helper()
	slot, err := c.ClusterKeySlot(context.Background(), key).Result()
	if err != nil {
		t.Fatal(err)
	}
	return slot
}

func everyHas(m map[string][]string, n int) bool {
	for _, v := range m {
		if len(v) < n {
			return false
		}
	}
	return true
}

// killRedis SIGKILLs the redis-server at addr and, when the test ends, has the devstack
// start it again (it rejoins as a replica of its successor) and waits for the cluster.
func killRedis(t *testing.T, addr string) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	info, err := c.Info(context.Background(), "server").Result()
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			pid, _ = strconv.Atoi(v)
		}
	}
	if pid == 0 {
		t.Fatalf("no process_id in INFO of %s", addr)
	}
	t.Cleanup(func() {
		_, file, _, _ := runtime.Caller(0)
		script := filepath.Join(filepath.Dir(file), "..", "scripts", "devstack")
		if out, err := exec.Command(script, "cluster", "up").CombinedOutput(); err != nil {
			t.Errorf("restart the redis cluster: %v\n%s", err, out)
		}
	})
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill redis %s (pid %d): %v", addr, pid, err)
	}
}
