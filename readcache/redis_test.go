package readcache_test

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/gigstream/hub/readcache"
)

// clients are the real Redis servers the cache must work on: the single node of
// REDIS_URL and the Cluster of DEVSTACK_REDIS_CLUSTER_ADDRS (`scripts/devstack cluster
// up`). Without them the tests fail, never skip.
func clients(t *testing.T) map[string]redis.UniversalClient {
	t.Helper()
	url, addrs := os.Getenv("REDIS_URL"), os.Getenv("DEVSTACK_REDIS_CLUSTER_ADDRS")
	if url == "" || addrs == "" {
		t.Fatal("REDIS_URL and DEVSTACK_REDIS_CLUSTER_ADDRS must be set (eval \"$(scripts/devstack env)\"; scripts/devstack cluster up)")
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	single := redis.NewClient(opts)
	cluster := redis.NewClusterClient(&redis.ClusterOptions{Addrs: strings.Split(addrs, ",")})
	t.Cleanup(func() { _ = single.Close(); _ = cluster.Close() })
	return map[string]redis.UniversalClient{"single": single, "cluster": cluster}
}

func newCache(t *testing.T, rdb redis.UniversalClient) *readcache.Redis {
	t.Helper()
	c, err := readcache.NewRedis(readcache.Config{Client: rdb, Prefix: "test-" + uuid.NewString()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestAReaderThatReadBeforeAnInvalidationCannotStore walks the race the generations
// close: a reader misses, reads the old value, a writer commits and invalidates, and
// the reader's store must be refused; a store that wins the race is dropped by the
// invalidation after it.
func TestAReaderThatReadBeforeAnInvalidationCannotStore(t *testing.T) {
	ctx := context.Background()
	for name, rdb := range clients(t) {
		t.Run(name, func(t *testing.T) {
			c := newCache(t, rdb)
			key := "gig:" + uuid.NewString()
			value, gen, err := c.Load(ctx, key)
			if err != nil || value != nil || gen != "0" {
				t.Fatalf("first load: %q %q %v", value, gen, err)
			}
			// The writer commits and invalidates while the reader reads the database.
			if err := c.Invalidate(ctx, key); err != nil {
				t.Fatal(err)
			}
			if stored, err := c.Fill(ctx, key, gen, []byte("old"), time.Minute); err != nil || stored {
				t.Fatalf("stale fill stored=%v err=%v, want refused", stored, err)
			}
			if value, _, _ := c.Load(ctx, key); value != nil {
				t.Fatalf("after a refused fill: %q", value)
			}
			// A reader that began after the invalidation stores and is served.
			_, gen, _ = c.Load(ctx, key)
			if stored, err := c.Fill(ctx, key, gen, []byte("new"), time.Minute); err != nil || !stored {
				t.Fatalf("fresh fill stored=%v err=%v", stored, err)
			}
			if value, _, _ := c.Load(ctx, key); string(value) != "new" {
				t.Fatalf("hit: %q", value)
			}
			// The other order: the stale store lands first, the invalidation after it.
			_, gen, _ = c.Load(ctx, key)
			if err := c.Invalidate(ctx, key); err != nil {
				t.Fatal(err)
			}
			if value, _, _ := c.Load(ctx, key); value != nil {
				t.Fatalf("after invalidation: %q", value)
			}
			if stored, _ := c.Fill(ctx, key, gen, []byte("older"), time.Minute); stored {
				t.Fatal("a fill under the old generation stored")
			}
		})
	}
}

// TestValuesExpireAndInvalidationReachesManyKeys checks the TTL bound and that one
// pipeline invalidates keys spread over the Cluster's slots.
func TestValuesExpireAndInvalidationReachesManyKeys(t *testing.T) {
	ctx := context.Background()
	for name, rdb := range clients(t) {
		t.Run(name, func(t *testing.T) {
			c := newCache(t, rdb)
			var keys []string
			for range 50 {
				key := "profile:u" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
				_, gen, err := c.Load(ctx, key)
				if err != nil {
					t.Fatal(err)
				}
				if stored, err := c.Fill(ctx, key, gen, []byte("v"), time.Minute); err != nil || !stored {
					t.Fatalf("fill %s: %v %v", key, stored, err)
				}
				keys = append(keys, key)
			}
			if err := c.Invalidate(ctx, keys...); err != nil {
				t.Fatal(err)
			}
			for _, key := range keys {
				if value, gen, _ := c.Load(ctx, key); value != nil || gen != "1" {
					t.Fatalf("%s after invalidation: %q at generation %s", key, value, gen)
				}
			}
			_, gen, _ := c.Load(ctx, keys[0])
			if _, err := c.Fill(ctx, keys[0], gen, []byte("short"), 50*time.Millisecond); err != nil {
				t.Fatal(err)
			}
			time.Sleep(120 * time.Millisecond)
			if value, _, _ := c.Load(ctx, keys[0]); value != nil {
				t.Fatalf("past its TTL: %q", value)
			}
		})
	}
}

// TestConcurrentFillsAndInvalidationsNeverLeaveAStaleValue races readers that store
// the version they read against a writer that bumps the version and then invalidates:
// once an invalidation returned, no load may give a version older than the one
// written before it.
func TestConcurrentFillsAndInvalidationsNeverLeaveAStaleValue(t *testing.T) {
	ctx := context.Background()
	for name, rdb := range clients(t) {
		t.Run(name, func(t *testing.T) {
			c := newCache(t, rdb)
			key := "gig:" + uuid.NewString()
			var mu sync.RWMutex
			version, invalidated := 0, 0 // the "database" and the version known invalidated
			stop := make(chan struct{})
			var wg sync.WaitGroup
			errs := make(chan string, 8)
			for range 6 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						select {
						case <-stop:
							return
						default:
						}
						mu.RLock()
						floor := invalidated
						mu.RUnlock()
						value, gen, err := c.Load(ctx, key)
						if err != nil {
							errs <- err.Error()
							return
						}
						if value == nil {
							mu.RLock()
							read := version
							mu.RUnlock()
							value = []byte{byte(read)}
							_, _ = c.Fill(ctx, key, gen, value, time.Minute)
						}
						if int(value[0]) < floor {
							errs <- "stale read"
							return
						}
					}
				}()
			}
			for v := 1; v < 200; v++ {
				mu.Lock()
				version = v
				mu.Unlock()
				if err := c.Invalidate(ctx, key); err != nil {
					t.Fatal(err)
				}
				mu.Lock()
				invalidated = v
				mu.Unlock()
			}
			close(stop)
			wg.Wait()
			close(errs)
			for e := range errs {
				t.Fatal(e)
			}
		})
	}
}
