package hub

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// redisClient connects to the Redis in REDIS_URL under a connection name
// unique to the test, so a test can kill exactly its own connections.
// These tests need a real Redis: without REDIS_URL they fail, never skip.
func redisClient(t testing.TB, name string) *redis.Client {
	t.Helper()
	url := os.Getenv("REDIS_URL")
	if url == "" {
		t.Fatal("REDIS_URL is not set: the hub's Redis tests need a real Redis " +
			"(start the devstack, which exports REDIS_URL=redis://127.0.0.1:16379/0)")
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("REDIS_URL %q: %v", url, err)
	}
	opt.ClientName = name
	c := redis.NewClient(opt)
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("Redis at %s: %v", url, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// testPrefix namespaces a test's Redis channels and keys so parallel test
// packages never see each other's traffic.
func testPrefix(t testing.TB) string {
	return "test:" + strings.ReplaceAll(t.Name(), "/", "-") + ":" + randomID() + ":"
}

type redisNode struct {
	node   *Node
	client *redis.Client
	name   string // Redis connection name of this node's connections
	url    string // ws:// URL of the node's Fiber app
}

// newRedisNode starts a node with a RedisBroker under prefix, served by
// its own Fiber app.
func newRedisNode(t testing.TB, prefix string, sharded bool, cfg Config) *redisNode {
	t.Helper()
	return newRedisNodeWith(t, RedisBrokerConfig{Prefix: prefix, Sharded: sharded}, cfg)
}

// newRedisNodeWith is newRedisNode with the broker configured by bcfg
// (its Client is filled in).
func newRedisNodeWith(t testing.TB, bcfg RedisBrokerConfig, cfg Config) *redisNode {
	t.Helper()
	name := "hubtest-" + randomID()
	client := redisClient(t, name)
	bcfg.Client = client
	broker, err := NewRedisBroker(bcfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Broker = broker
	n := newTestNode(t, cfg)
	return &redisNode{node: n, client: client, name: name, url: serve(t, n, serveOptions{})}
}

// killConnections closes every Redis connection of the node from the
// server side, as a Redis restart or network cut would.
func (r *redisNode) killConnections(t testing.TB, admin *redis.Client) int {
	t.Helper()
	list, err := admin.ClientList(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	killed := 0
	for _, line := range strings.Split(list, "\n") {
		if !strings.Contains(line, " name="+r.name+" ") {
			continue
		}
		for _, field := range strings.Fields(line) {
			if id, ok := strings.CutPrefix(field, "id="); ok {
				if err := admin.Do(context.Background(), "CLIENT", "KILL", "ID", id).Err(); err == nil {
					killed++
				}
			}
		}
	}
	return killed
}
