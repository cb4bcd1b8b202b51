package e2e

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

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
func migratedEnv(t *testing.T, overrides map[string]string) []string {
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

// startCluster starts n ready nodes on one fresh, migrated database.
func startCluster(t *testing.T, n int, overrides map[string]string) []*Node {
	t.Helper()
	env := migratedEnv(t, overrides)
	nodes := make([]*Node, n)
	for i := range nodes {
		nodes[i] = StartNode(t, bin, env)
	}
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
