package web

import (
	"os/exec"
	"testing"
)

// TestClientModuleUnderNode runs the protocol client's own tests (gigstream_test.mjs:
// reconnect and its backoff, recovery by seq and duplicate dropping, resets, bearer
// tickets, subscribe retries, typing throttle, idempotent send retries, close codes) with
// Node's test runner, so `make test` covers them too. e2e/webclient_test.go runs the
// same module against real nodes.
func TestClientModuleUnderNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed: this machine kind ships Node.js 20")
	}
	out, err := exec.Command(node, "--test", "gigstream_test.mjs").CombinedOutput()
	if err != nil {
		t.Fatalf("node --test: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
