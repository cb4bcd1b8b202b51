package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const publishKey = "e2e-publish-key-0123456789abcdef0123456789"

// realtimeEnv is a node environment with the publish API on and generous limits.
func realtimeEnv(extra map[string]string) map[string]string {
	return withGenerous(merge(map[string]string{"PUBLISH_API_KEY": publishKey}, extra))
}

func merge(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// publish sends one event through node's server publish API and returns its seq.
func publish(t *testing.T, n *Node, channel string, i int, durable bool) uint64 {
	t.Helper()
	return publishEvent(t, n, channel, map[string]int{"i": i}, durable)
}

// publishData sends one ephemeral event with data.
func publishData(t *testing.T, n *Node, channel string, data any) {
	t.Helper()
	publishEvent(t, n, channel, data, false)
}

func publishEvent(t *testing.T, n *Node, channel string, data any, durable bool) uint64 {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"channel": channel, "type": "test.tick", "data": data, "durable": durable})
	req, _ := http.NewRequest("POST", n.URL+"/api/publish", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+publishKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	defer resp.Body.Close()
	var out struct{ Seq uint64 }
	if resp.StatusCode != 202 || json.NewDecoder(resp.Body).Decode(&out) != nil {
		t.Fatalf("publish: status %d", resp.StatusCode)
	}
	return out.Seq
}

// appUser registers a user on n and returns its id and a bearer token.
func appUser(t *testing.T, n *Node, who string) (id, token string) {
	t.Helper()
	c := &client{t: t, base: n.URL}
	email := uniqueEmail(t, who)
	id = c.register(email, fmt.Sprintf("%s_%d", who, time.Now().UnixNano()%1e9), "long enough password")
	r := expect(t, c.do("POST", "/auth/tokens", map[string]string{"email": email, "password": "long enough password"}), 201, "token")
	var tok struct{ Token string }
	r.json(t, &tok)
	return id, tok.Token
}

func TestPublishOnOneNodeReachesEveryNodeExactlyOnce(t *testing.T) {
	nodes := startCluster(t, 3, realtimeEnv(nil))
	id, token := appUser(t, nodes[0], "fan")
	channel := "user:" + id
	var socks []*socket
	for _, n := range nodes {
		s := mustDial(t, n, token)
		if f := s.subscribe(channel, nil); f.Op != "reply" || !f.OK {
			t.Fatalf("subscribe on %s: %+v", n.URL, f)
		}
		socks = append(socks, s)
	}
	for i := 1; i <= 50; i++ {
		publish(t, nodes[0], channel, i, true)
	}
	for i, s := range socks {
		assertSeqs(t, "node "+strconv.Itoa(i), s.events(channel, 50, 20*time.Second), 1, 50)
	}
	publish(t, nodes[1], channel, 0, false)
	for i, s := range socks {
		if ev := s.events(channel, 1, 10*time.Second)[0]; ev.Seq != 0 || ev.Type != "test.tick" {
			t.Fatalf("node %d: ephemeral event %+v", i, ev)
		}
	}
}

func TestSocketAdmissionAndChannelAuthorization(t *testing.T) {
	n := startCluster(t, 1, realtimeEnv(map[string]string{"ALLOWED_ORIGINS": "https://app.gigstream.test"}))[0]
	id, token := appUser(t, n, "ws")
	other, _ := appUser(t, n, "other")

	if _, resp, err := dial(t, n, "", nil); err == nil || resp == nil || resp.StatusCode != 401 {
		t.Fatalf("anonymous upgrade: err %v, resp %v; want 401", err, resp)
	}
	foreign := http.Header{"Authorization": {"Bearer " + token}, "Origin": {"https://evil.example"}}
	if _, resp, err := dial(t, n, "", foreign); err == nil || resp == nil || resp.StatusCode != 403 {
		t.Fatalf("foreign origin: err %v, resp %v; want 403", err, resp)
	}
	allowed := http.Header{"Authorization": {"Bearer " + token}, "Origin": {"https://app.gigstream.test"}}
	s, _, err := dial(t, n, "", allowed)
	if err != nil {
		t.Fatalf("allowed origin: %v", err)
	}
	if f := s.subscribe("user:"+other, nil); f.Op != "error" || f.Code != "forbidden" {
		t.Fatalf("subscribe to another user's channel: %+v", f)
	}
	if f := s.subscribe("order:00000000-0000-0000-0000-000000000000", nil); f.Op != "error" || f.Code != "forbidden" {
		t.Fatalf("subscribe to an unknown order: %+v", f)
	}
	if f := s.subscribe("user:"+id, nil); f.Op != "reply" {
		t.Fatalf("own channel: %+v", f)
	}

	c := &client{t: t, base: n.URL, bearer: token}
	var tk struct{ Ticket string }
	expect(t, c.do("POST", "/ws/ticket", nil), 201, "ticket").json(t, &tk)
	if _, _, err := dial(t, n, "?ticket="+tk.Ticket, nil); err != nil {
		t.Fatalf("ticket upgrade: %v", err)
	}
	if _, resp, err := dial(t, n, "?ticket="+tk.Ticket, nil); err == nil || resp.StatusCode != 401 {
		t.Fatalf("ticket used twice: err %v; want 401", err)
	}
	bad := (&client{t: t, base: n.URL}).do("POST", "/api/publish", map[string]any{"channel": "user:" + id, "type": "x", "data": 1}, "Authorization", "Bearer wrong")
	expect(t, bad, 401, "publish with a bad key")
	badChannel := (&client{t: t, base: n.URL, bearer: publishKey}).do("POST", "/api/publish", map[string]any{"channel": "lobby", "type": "x", "data": 1})
	expect(t, badChannel, 422, "publish to a malformed channel")
}

func TestLogoutOnOneNodeClosesSocketsOnAnother(t *testing.T) {
	nodes := startCluster(t, 2, realtimeEnv(nil))
	id, token := appUser(t, nodes[0], "bye")
	s := mustDial(t, nodes[1], token)
	// The same user on another device: that session must survive the logout.
	email := ""
	var me struct{ Email string }
	expect(t, (&client{t: t, base: nodes[0].URL, bearer: token}).do("GET", "/me", nil), 200, "me").json(t, &me)
	email = me.Email
	r := expect(t, (&client{t: t, base: nodes[0].URL}).do("POST", "/auth/tokens", map[string]string{"email": email, "password": "long enough password"}), 201, "second device")
	var tok struct{ Token string }
	r.json(t, &tok)
	other := mustDial(t, nodes[1], tok.Token)

	expect(t, (&client{t: t, base: nodes[0].URL, bearer: token}).do("POST", "/auth/logout", nil), 204, "logout")
	if code := s.closeCode(5 * time.Second); code != 4001 {
		t.Fatalf("socket closed with %d, want 4001 (session ended)", code)
	}
	if f := other.subscribe("user:"+id, nil); f.Op != "reply" {
		t.Fatalf("the other device's socket did not survive: %+v", f)
	}
}

func TestNodeDeathClientRecoversOnAnotherBySeq(t *testing.T) {
	nodes := startCluster(t, 3, realtimeEnv(nil))
	id, token := appUser(t, nodes[0], "crash")
	channel := "user:" + id
	s := mustDial(t, nodes[1], token)
	s.subscribe(channel, nil)
	for i := 1; i <= 20; i++ {
		publish(t, nodes[0], channel, i, true)
	}
	got := s.events(channel, 20, 20*time.Second)
	assertSeqs(t, "before the crash", got, 1, 20)

	_ = nodes[1].cmd.Process.Signal(syscall.SIGKILL)
	for i := 21; i <= 40; i++ {
		publish(t, nodes[0], channel, i, true)
	}
	last := got[len(got)-1].Seq
	again := mustDial(t, nodes[2], token)
	if f := again.subscribe(channel, &last); f.Op != "reply" || f.Recovered == nil || !*f.Recovered {
		t.Fatalf("resubscribe with since=%d: %+v", last, f)
	}
	for i := 41; i <= 50; i++ {
		publish(t, nodes[0], channel, i, true)
	}
	assertSeqs(t, "after reconnecting elsewhere", again.events(channel, 30, 20*time.Second), 21, 50)
}

func TestRedisOutageLeavesNoSilentGap(t *testing.T) {
	redisURL, restart := privateRedis(t)
	nodes := startCluster(t, 2, realtimeEnv(map[string]string{"REDIS_URL": redisURL}))
	id, token := appUser(t, nodes[0], "outage")
	channel := "user:" + id
	s := mustDial(t, nodes[1], token)
	s.subscribe(channel, nil)
	for i := 1; i <= 10; i++ {
		publish(t, nodes[0], channel, i, true)
	}
	assertSeqs(t, "before the outage", s.events(channel, 10, 20*time.Second), 1, 10)

	restart(func() {
		for i := 11; i <= 20; i++ {
			publish(t, nodes[0], channel, i, true) // stored; the broker is down
		}
	})
	for i := 21; i <= 30; i++ {
		publish(t, nodes[0], channel, i, true)
	}
	assertSeqs(t, "across the outage", s.events(channel, 20, 30*time.Second), 11, 30)
}

// privateRedis runs a redis-server of the test's own, which it may kill: the shared
// devstack Redis must stay up for the other packages. restart kills it, runs during,
// and starts it again on the same port.
func privateRedis(t *testing.T) (string, func(during func())) {
	t.Helper()
	addr := freeAddr(t)
	_, port, _ := strings.Cut(addr, ":")
	dir := t.TempDir()
	start := func() *exec.Cmd {
		cmd := exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatalf("redis-server: %v (the devstack installs it)", err)
		}
		waitPort(t, addr)
		return cmd
	}
	cmd := start()
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return "redis://" + addr + "/0", func(during func()) {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		during()
		cmd = start()
	}
}

func waitPort(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("nothing listens on %s", addr)
}

func TestNodeStartsWhileRedisIsDownAndJoinsWhenItComesBack(t *testing.T) {
	redisURL, restart := privateRedis(t)
	var nodes []*Node
	restart(func() {
		nodes = startClusterUnready(t, 1, realtimeEnv(map[string]string{"REDIS_URL": redisURL}))
		resp, _ := get(t, nodes[0].URL+"/readyz")
		if resp.StatusCode != 503 {
			t.Fatalf("readyz with Redis down: %d", resp.StatusCode)
		}
	})
	n := nodes[0]
	n.WaitReady(t)
	id, token := appUser(t, n, "late")
	s := mustDial(t, n, token)
	if f := s.subscribe("user:"+id, nil); f.Op != "reply" {
		t.Fatalf("subscribe after Redis came back: %+v", f)
	}
	publish(t, n, "user:"+id, 1, true)
	assertSeqs(t, "after Redis came back", s.events("user:"+id, 1, 20*time.Second), 1, 1)
}
