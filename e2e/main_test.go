package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gigstream/hub/store/storetest"
)

// bin is the gigstream binary under test, built once in TestMain.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gigstream-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin, err = Binary(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// migratedEnv makes a private database, migrates it with the binary itself and returns
// the node environment that points at it.
func migratedEnv(t testing.TB, overrides map[string]string) []string {
	t.Helper()
	if overrides == nil {
		overrides = map[string]string{}
	}
	overrides["DATABASE_URL"] = storetest.NewDatabase(t)
	env := Env(overrides)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if code, out := Run(ctx, bin, env, "migrate", "up"); code != 0 {
		t.Fatalf("migrate up: exit %d\n%s", code, out)
	}
	return env
}

// startClusterUnready starts n nodes on one fresh, migrated database without waiting
// for them to be ready.
func startClusterUnready(t *testing.T, n int, overrides map[string]string) []*Node {
	t.Helper()
	env := migratedEnv(t, overrides)
	nodes := make([]*Node, n)
	for i := range nodes {
		nodes[i] = StartNode(t, bin, env)
	}
	return nodes
}

// startCluster starts n ready nodes on one fresh, migrated database.
func startCluster(t *testing.T, n int, overrides map[string]string) []*Node {
	t.Helper()
	nodes := startClusterUnready(t, n, overrides)
	for _, node := range nodes {
		node.WaitReady(t)
	}
	return nodes
}

// freshDatabase makes a private, unmigrated database.
func freshDatabase(t *testing.T) string {
	t.Helper()
	return storetest.NewDatabase(t)
}

// redisDB returns REDIS_URL pointing at database index db, flushed first, so a test's
// rate-limit budgets start empty.
func redisDB(t *testing.T, db int) string {
	t.Helper()
	u, err := url.Parse(os.Getenv("REDIS_URL"))
	if err != nil || u.Host == "" {
		t.Fatal("REDIS_URL is not set: run tests with `make test`")
	}
	u.Path = "/" + strconv.Itoa(db)
	opts, err := redis.ParseURL(u.String())
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	if err := rdb.FlushDB(context.Background()).Err(); err != nil {
		t.Fatalf("flush redis db %d: %v", db, err)
	}
	return u.String()
}
