package e2e

import (
	"bufio"
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestWebClientReconnectsWithBackoffAndRecoversBySince runs the hub's client package
// (web/static/gigstream.js) under Node with a bearer token against real nodes. Its node
// is killed: it retries with growing, jittered delays while the node is down, and once
// the node is back it resubscribes with since and gets what was published meanwhile,
// once each. Then the node goes away again and the history of the missed events is
// pruned meanwhile: the client reports the reset (recovered: false) and goes on live.
func TestWebClientReconnectsWithBackoffAndRecoversBySince(t *testing.T) {
	env := migratedEnv(t, realtimeEnv(nil))
	nodeA, nodeB := StartNode(t, bin, env), StartNode(t, bin, env)
	nodeA.WaitReady(t)
	nodeB.WaitReady(t)
	id, token := appUser(t, nodeA, "webclient")
	channel := "user:" + id
	js := startLiveClient(t, nodeA.URL, token, channel)
	js.await(t, "subscribed", 20*time.Second)
	publishRange(t, nodeB, channel, 1, 5)
	js.awaitSeq(t, 5)

	// Node A dies without a close frame; events go on through node B meanwhile.
	addr := strings.TrimPrefix(nodeA.URL, "http://")
	_ = nodeA.cmd.Process.Signal(syscall.SIGKILL)
	publishRange(t, nodeB, channel, 6, 10)
	checkBackoff(t, js.reconnects(t, 4))
	nodeA = restartNode(t, env, addr)
	js.await(t, "open", 20*time.Second)
	publishRange(t, nodeB, channel, 11, 11)
	js.awaitSeq(t, 11)
	js.expectSeqs(t, "after the node came back", seqRange(1, 11), 0)

	// Node A goes away (1001); the events it misses are pruned before it is back.
	if err := nodeA.Stop(t); err != nil {
		t.Logf("node A exit: %v", err)
	}
	publishRange(t, nodeB, channel, 12, 16)
	pruneEvents(t, env, channel, 13)
	restartNode(t, env, addr)
	if r := js.await(t, "reset", 30*time.Second); r.Reason != "not_recovered" {
		t.Fatalf("reset %+v, want not_recovered", r)
	}
	publishRange(t, nodeB, channel, 17, 17)
	js.awaitSeq(t, 17)
	js.stop(t)

	js.expectSeqs(t, "after the reset", append(seqRange(1, 11), 17), 1)
}

// expectSeqs: the client delivered exactly these durable seqs so far and asked for
// resets reloads, each for recovered: false.
func (js *liveClient) expectSeqs(t *testing.T, when string, want []int, resets int) {
	t.Helper()
	if got := js.seqs(); !slices.Equal(got, want) {
		t.Fatalf("%s the client delivered seqs %v, want %v\n%s", when, got, want, js.dump())
	}
	n := 0
	for _, l := range js.seen {
		if l.Kind == "reset" {
			n++
			if l.Reason != "not_recovered" {
				t.Fatalf("%s: unexpected %s\n%s", when, l.raw, js.dump())
			}
		}
	}
	if n != resets {
		t.Fatalf("%s: %d resets, want %d\n%s", when, n, resets, js.dump())
	}
}

func seqRange(from, to int) []int {
	var out []int
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

// liveLine is one line of live.mjs: what the client saw.
type liveLine struct {
	Kind    string
	At      int64 // ms since the epoch
	Seq     *int
	Attempt int
	Delay   int
	Code    int
	Reason  string
	raw     string
}

// liveClient is a running live.mjs.
type liveClient struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan liveLine
	seen  []liveLine
}

func startLiveClient(t *testing.T, baseURL, token, channel string) *liveClient {
	t.Helper()
	dir, _ := filepath.Abs("webclient")
	cmd := exec.Command("node", "--experimental-websocket", "live.mjs", baseURL, token, channel)
	cmd.Dir = dir
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("node live.mjs: %v", err)
	}
	js := &liveClient{cmd: cmd, stdin: stdin, lines: make(chan liveLine, 1024)}
	go js.read(stdout)
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("live.mjs stderr:\n%s", stderr.String())
		}
	})
	return js
}

func (js *liveClient) read(r io.Reader) {
	defer close(js.lines)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var l liveLine
		if json.Unmarshal(sc.Bytes(), &l) == nil {
			l.raw = sc.Text()
			js.lines <- l
		}
	}
}

// next returns the next line, failing the test after timeout.
func (js *liveClient) next(t *testing.T, what string, timeout time.Duration) liveLine {
	t.Helper()
	select {
	case l, ok := <-js.lines:
		if !ok {
			t.Fatalf("live.mjs ended while waiting for %s\n%s", what, js.dump())
		}
		js.seen = append(js.seen, l)
		if l.Kind == "signedout" || l.Kind == "refused" || l.Kind == "timeout" {
			t.Fatalf("live.mjs: %s while waiting for %s\n%s", l.raw, what, js.dump())
		}
		return l
	case <-time.After(timeout):
		t.Fatalf("no %s from the client within %v\n%s", what, timeout, js.dump())
		return liveLine{}
	}
}

// await reads lines until one of kind.
func (js *liveClient) await(t *testing.T, kind string, timeout time.Duration) liveLine {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if l := js.next(t, kind, time.Until(deadline)); l.Kind == kind {
			return l
		}
	}
}

// awaitSeq reads lines until the event of seq.
func (js *liveClient) awaitSeq(t *testing.T, seq int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		l := js.next(t, fmt.Sprintf("event %d", seq), time.Until(deadline))
		if l.Kind == "event" && l.Seq != nil && *l.Seq >= seq {
			return
		}
	}
}

// reconnects reads the next n scheduled reconnects, which must come before any hello.
func (js *liveClient) reconnects(t *testing.T, n int) []liveLine {
	t.Helper()
	var out []liveLine
	deadline := time.Now().Add(30 * time.Second)
	for len(out) < n {
		l := js.next(t, "reconnecting", time.Until(deadline))
		switch l.Kind {
		case "reconnecting":
			out = append(out, l)
		case "open":
			t.Fatalf("the client reconnected to a dead node\n%s", js.dump())
		}
	}
	return out
}

func (js *liveClient) stop(t *testing.T) {
	t.Helper()
	fmt.Fprintln(js.stdin, "exit")
	js.await(t, "bye", 10*time.Second)
}

// seqs are the durable events' seqs in delivery order.
func (js *liveClient) seqs() []int {
	var out []int
	for _, l := range js.seen {
		if l.Kind == "event" && l.Seq != nil {
			out = append(out, *l.Seq)
		}
	}
	return out
}

func (js *liveClient) dump() string {
	var b strings.Builder
	for _, l := range js.seen {
		b.WriteString(l.raw + "\n")
	}
	return b.String()
}

// checkBackoff: the tries count up from 1, each delay is under its exponential cap
// (base 100 ms, max 1600 ms in live.mjs), and the client really waited that long.
func checkBackoff(t *testing.T, tries []liveLine) {
	t.Helper()
	for i, r := range tries {
		limit := min(1600, 100<<(r.Attempt-1))
		if r.Attempt != i+1 || r.Delay < 0 || r.Delay >= limit {
			t.Errorf("try %d: attempt %d waited %d ms, want attempt %d under %d ms", i+1, r.Attempt, r.Delay, i+1, limit)
		}
		if i > 0 && r.At-tries[i-1].At < int64(tries[i-1].Delay) {
			t.Errorf("try %d came %d ms after the previous, which was to wait %d ms", i+1, r.At-tries[i-1].At, tries[i-1].Delay)
		}
	}
	var seen []string
	for _, r := range tries {
		seen = append(seen, fmt.Sprintf("#%d waited %d ms", r.Attempt, r.Delay))
	}
	t.Logf("reconnect tries while the node was down: %s", strings.Join(seen, ", "))
}

// restartNode starts a node on addr again, so a client of the old one finds it.
func restartNode(t *testing.T, env []string, addr string) *Node {
	t.Helper()
	n := StartNode(t, bin, append(slices.Clone(env), "HTTP_ADDR="+addr))
	n.WaitReady(t)
	return n
}

func publishRange(t *testing.T, n *Node, channel string, from, to int) {
	t.Helper()
	for i := from; i <= to; i++ {
		if seq := publish(t, n, channel, i, true); seq != uint64(i) {
			t.Fatalf("publish %d got seq %d", i, seq)
		}
	}
}

// pruneEvents deletes channel's events up to seq, as the retention job does with old ones.
func pruneEvents(t *testing.T, env []string, channel string, upTo int) {
	t.Helper()
	var dbURL, redisURL string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "DATABASE_URL="); ok {
			dbURL = v
		}
		if v, ok := strings.CutPrefix(kv, "REDIS_URL="); ok {
			redisURL = v
		}
	}
	// The nodes also keep a channel's latest events in Redis for recoveries
	// (hub/broker_redis_recent.go); history is gone only when those are too.
	opts, err := redis.ParseURL(cmp.Or(redisURL, os.Getenv("REDIS_URL")))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	if err := rdb.Del(context.Background(), "gigstream:hub:recent:{"+channel+"}").Err(); err != nil {
		t.Fatalf("prune kept events: %v", err)
	}
	db, err := sql.Open("postgres", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`DELETE FROM events WHERE channel = $1 AND seq <= $2`, channel, upTo); err != nil {
		t.Fatalf("prune events: %v", err)
	}
}
