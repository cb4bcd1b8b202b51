package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Binary builds cmd/gigstream once per test process, with the race detector unless
// E2E_RACE=0 (the soak measures memory, which the detector multiplies), into dir and
// returns its path.
func Binary(dir string) (string, error) {
	out := filepath.Join(dir, "gigstream")
	args := []string{"build", "-race", "-o", out, "github.com/gigstream/hub/cmd/gigstream"}
	if os.Getenv("E2E_RACE") == "0" {
		args = slices.Delete(args, 1, 2)
	}
	cmd := exec.Command("go", args...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, msg)
	}
	return out, nil
}

// Env is the environment a node runs with: the test process's own (the devstack's
// variables) with overrides applied on top.
func Env(overrides map[string]string) []string {
	env := []string{}
	for _, kv := range os.Environ() {
		if _, ok := overrides[strings.SplitN(kv, "=", 2)[0]]; !ok {
			env = append(env, kv)
		}
	}
	for k, v := range overrides {
		env = append(env, k+"="+v)
	}
	return env
}

// Run runs one subcommand of the binary to its end and returns its exit code and
// its combined output.
func Run(ctx context.Context, bin string, env []string, args ...string) (int, string) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return exit.ExitCode(), string(out)
	case err != nil:
		return -1, err.Error() + "\n" + string(out)
	}
	return 0, string(out)
}

// Node is one running `gigstream serve` process.
type Node struct {
	URL  string // http://127.0.0.1:port
	cmd  *exec.Cmd
	logs *logBuffer
	done chan struct{} // closed when the process has exited
	err  error         // the exit error, set before done closes
}

// StartNode starts `serve` (on a free loopback port unless env sets HTTP_ADDR) and
// waits until it listens (at most 3 minutes). The
// node is stopped, with SIGTERM, when the test ends; its log is printed if the test failed.
func StartNode(t testing.TB, bin string, env []string) *Node {
	t.Helper()
	return StartCommand(t, exec.Command(bin, "serve"), env)
}

// StartCommand is StartNode for a command that ends up running `gigstream serve` in its
// own process (the binary inside an image's file system, behind a chroot).
func StartCommand(t testing.TB, cmd *exec.Cmd, env []string) *Node {
	t.Helper()
	// A free loopback port unless the caller chose one: later entries win.
	cmd.Env = append([]string{"HTTP_ADDR=127.0.0.1:0"}, env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start node: %v", err)
	}
	n := &Node{cmd: cmd, logs: &logBuffer{}, done: make(chan struct{})}
	addr := make(chan string, 1)
	go n.readLog(stderr, addr)
	t.Cleanup(func() { n.cleanup(t) })
	select {
	case a := <-addr:
		n.URL = "http://" + a
	case <-n.done:
		t.Fatalf("node exited before listening: %v\n%s", n.err, n.logs)
	case <-time.After(3 * time.Minute): // a node loads its search index before it listens: 100,000 gigs take a minute on a loaded machine
		t.Fatalf("node did not listen within 3 minutes\n%s", n.logs)
	}
	return n
}

// readLog keeps the node's JSON log and reports the address from its "listening" line.
func (n *Node) readLog(r io.Reader, addr chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		n.logs.add(line)
		var rec struct{ Msg, Addr string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
			addr <- rec.Addr
		}
	}
	n.err = n.cmd.Wait()
	close(n.done)
}

// WaitReady polls /readyz until it answers 200.
func (n *Node) WaitReady(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(n.URL + "/readyz")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			t.Logf("readyz %d: %s", resp.StatusCode, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("node %s never became ready\n%s", n.URL, n.logs)
}

// Stop sends SIGTERM and waits for the process to exit, returning its exit error.
func (n *Node) Stop(t testing.TB) error {
	t.Helper()
	select {
	case <-n.done:
		return n.err
	default:
	}
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
	case <-time.After(30 * time.Second):
		_ = n.cmd.Process.Kill()
		t.Errorf("node %s ignored SIGTERM for 30s", n.URL)
		<-n.done
	}
	return n.err
}

// Logs returns every line the node has logged so far.
func (n *Node) Logs() string { return n.logs.String() }

func (n *Node) cleanup(t testing.TB) {
	_ = n.Stop(t)
	if t.Failed() {
		t.Logf("log of node %s:\n%s", n.URL, n.logs)
	}
}

// logBuffer collects log lines from the reader goroutine for the test goroutine.
type logBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (b *logBuffer) add(line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines = append(b.lines, line)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.lines, "\n")
}
