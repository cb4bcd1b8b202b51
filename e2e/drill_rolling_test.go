//go:build drill

package e2e

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// balancedCluster is three hub nodes behind a real HAProxy on loopback, with a spare
// server slot for the replacement of a rolling deploy. Slots are hub/s0..s3.
type balancedCluster struct {
	env   []string
	nodes map[int]*Node // slot → node
	spare int
	admin string // HAProxy's runtime API socket
	url   string // the balancer
}

// startBalancedCluster starts n nodes on the order fixture's database behind HAProxy,
// which checks /readyz every 500 ms, balances by least connections (sockets last),
// and retries a request only when no connection to a node could be made.
func startBalancedCluster(t *testing.T, o *orderNode, n int) *balancedCluster {
	t.Helper()
	dir := t.TempDir()
	b := &balancedCluster{env: o.env, nodes: map[int]*Node{}, spare: n, admin: filepath.Join(dir, "admin.sock")}
	servers := ""
	for slot := 0; slot <= n; slot++ {
		addr, state := "127.0.0.1:1", " disabled"
		if slot < n {
			node := o.n // the fixture's own node is the first
			if slot > 0 {
				node = StartNode(t, bin, o.env)
				node.WaitReady(t)
			}
			b.nodes[slot] = node
			addr, state = strings.TrimPrefix(node.URL, "http://"), ""
		}
		servers += fmt.Sprintf("  server s%d %s check%s\n", slot, addr, state)
	}
	front := freeAddr(t)
	startHAProxy(t, fmt.Sprintf(`global
  maxconn 4000
  stats socket %s mode 600 level admin
defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  timeout tunnel 10m
  retries 3
  option redispatch
  retry-on conn-failure
frontend hub
  bind %s
  default_backend hub
backend hub
  balance leastconn
  option httpchk GET /readyz
  http-check expect status 200
  default-server inter 500ms fall 2 rise 1
%s`, b.admin, front, servers))
	b.url = "http://" + front
	waitPort(t, front)
	b.waitUp(t, 0)
	return b
}

// haproxy sends one runtime API command and returns the answer.
func (b *balancedCluster) haproxy(t *testing.T, command string) string {
	t.Helper()
	conn, err := net.Dial("unix", b.admin)
	if err != nil {
		t.Fatalf("haproxy runtime API: %v", err)
	}
	defer conn.Close()
	fmt.Fprintln(conn, command)
	var out strings.Builder
	sc := bufio.NewScanner(conn)
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
	}
	return out.String()
}

// waitUp waits until HAProxy's health check sees slot's server UP.
func (b *balancedCluster) waitUp(t *testing.T, slot int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(b.haproxy(t, "show servers state hub"), "\n") {
			f := strings.Fields(line)
			// be_id be_name srv_id srv_name srv_addr srv_op_state(2 = running) ...
			if len(f) > 5 && f[3] == fmt.Sprintf("s%d", slot) && f[5] == "2" {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("server s%d never came up at HAProxy:\n%s", slot, b.haproxy(t, "show servers state hub"))
}

// replace is one step of a rolling deploy: a new node in the spare slot, ready and
// taking traffic, then the old one drained at the balancer and stopped with SIGTERM.
func (b *balancedCluster) replace(t *testing.T, old int) time.Duration {
	t.Helper()
	start := time.Now()
	node := StartNode(t, bin, b.env)
	node.WaitReady(t)
	host, port, _ := strings.Cut(strings.TrimPrefix(node.URL, "http://"), ":")
	b.haproxy(t, fmt.Sprintf("set server hub/s%d addr %s port %s", b.spare, host, port))
	b.haproxy(t, fmt.Sprintf("set server hub/s%d state ready", b.spare))
	b.waitUp(t, b.spare)
	b.nodes[b.spare] = node
	b.haproxy(t, fmt.Sprintf("set server hub/s%d state drain", old))
	time.Sleep(time.Second) // requests already sent to it finish; sockets stay until SIGTERM
	if err := b.nodes[old].Stop(t); err != nil {
		t.Errorf("old node s%d exited with %v", old, err)
	}
	b.haproxy(t, fmt.Sprintf("set server hub/s%d state maint", old))
	delete(b.nodes, old)
	b.spare = old
	return time.Since(start)
}

// any returns a running node (for direct checks).
func (b *balancedCluster) any() *Node {
	for _, n := range b.nodes {
		return n
	}
	return nil
}

func (o *orderNode) open(t *testing.T) (*sql.DB, error) {
	t.Helper()
	return sql.Open("postgres", o.dbURL)
}

// startLoad starts the drill's mixed load through url, scale times: three shoppers,
// three conversations with both members' sockets open, one uploader. stop ends it and
// waits.
func startLoad(t *testing.T, o *orderNode, url string, scale int) (*mixedLoad, func()) {
	t.Helper()
	l := newMixedLoad(url, o)
	// Producers stop first; listeners a little later, so they receive what was sent.
	ctx, cancel := context.WithCancel(context.Background())
	listenCtx, stopListening := context.WithCancel(context.Background())
	var wg, listeners sync.WaitGroup
	run := func(f func()) { wg.Add(1); go func() { defer wg.Done(); f() }() }
	listen := func(f func()) { listeners.Add(1); go func() { defer listeners.Done(); f() }() }
	_, lena := demoToken(t, o.n, "lena@demo.gigstream.test")
	_, sam := demoToken(t, o.n, "sam@demo.gigstream.test")
	for i := 0; i < scale; i++ {
		for _, buyer := range []string{lena, sam, lena} {
			run(func() { l.restWorker(ctx, buyer, 100*time.Millisecond) })
		}
		for j := 0; j < 3; j++ {
			c := newChatStream(t, o.n)
			l.chats = append(l.chats, c)
			listen(func() { l.receiver(listenCtx, c) })
			listen(func() { l.listen(listenCtx, c, c.sender, false) })
			run(func() { l.chatWorker(ctx, c, 150*time.Millisecond) })
		}
		run(func() { l.uploadWorker(ctx, l.chats[0].sender, l.chats[0].conv, 1536<<10, 256<<10) })
	}
	return l, func() {
		cancel()
		wg.Wait()
		time.Sleep(2 * time.Second)
		stopListening()
		listeners.Wait()
	}
}

// newChatStream opens a conversation between two new users on n.
func newChatStream(t *testing.T, n *Node) *chatStream {
	t.Helper()
	_, aTok := appUser(t, n, "talker")
	bID, bTok := appUser(t, n, "listener")
	var c struct{ ID string }
	expect(t, (&client{t: t, base: n.URL, bearer: aTok}).do("POST", "/conversations", map[string]string{"participant_id": bID}), 201, "open conversation").json(t, &c)
	return &chatStream{conv: c.ID, sender: aTok, receiver: bTok, sent: map[uint64]string{}}
}

// TestDrillRollingDeploy replaces every node of a three-node cluster, one by one, behind
// HAProxy while REST, chat and upload traffic runs through it, and checks nothing was
// lost: no request failed beyond the clients' documented retries, every order was paid
// exactly once, every message reached its receiver once and in order (sockets moved by
// reconnecting with jitter and resuming by seq), every upload finished clean.
func TestDrillRollingDeploy(t *testing.T) {
	o := startOrderNode(t, map[string]string{"RATE_LIMIT_USER_PER_MINUTE": "100000", "RATE_LIMIT_MESSAGES_PER_MINUTE": "100000"}, true)
	b := startBalancedCluster(t, o, 3)
	l, stop := startLoad(t, o, b.url, 1)
	sleepCtx(context.Background(), 5*time.Second)
	var steps []string
	for _, slot := range []int{0, 1, 2} {
		took := b.replace(t, slot)
		steps = append(steps, took.Round(time.Millisecond).String())
		sleepCtx(context.Background(), 3*time.Second)
	}
	sleepCtx(context.Background(), 3*time.Second)
	stop()
	o.n = b.any()
	l.verify(t)
	r := l.report()
	t.Logf("rolling deploy of 3 nodes (each step: %s)", strings.Join(steps, ", "))
	t.Logf("requests %d, retried %d, failed %d, answered 5xx %d", r.Requests, r.Retries, r.Failures, r.Status5xx)
	t.Logf("orders paid %d, messages %d, events received %d, uploads %d (PATCHes resumed %d)", r.Orders, r.Messages, r.Events, r.Uploads, r.Resumes)
	t.Logf("socket opens %d, reconnects %d, longest reconnect %d ms", r.SocketOpens, r.Reconnects, r.MaxReconnectMS)
	if r.Orders == 0 || r.Messages == 0 || r.Uploads == 0 || r.Reconnects == 0 {
		t.Errorf("the load did too little to prove anything: %+v", r)
	}
	admin := &client{t: t, base: b.url, bearer: o.adminToken(t)}
	assertCheckClean(t, admin)
}
