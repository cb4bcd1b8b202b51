package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// trickler holds slow uploads open: each sends its request head and a first burst,
// then one byte every interval until closed, and remembers the status it was answered.
type trickler struct {
	t        testing.TB
	addr     string
	interval time.Duration
	mu       sync.Mutex
	conns    []net.Conn
	statuses map[int]int // status -> how many; 0: no answer before close
	noRetry  int         // 429 and 503 answers without Retry-After
	wg       sync.WaitGroup
}

func newTrickler(t testing.TB, n *Node, interval time.Duration) *trickler {
	u, _ := url.Parse(n.URL)
	tr := &trickler{t: t, addr: u.Host, interval: interval, statuses: map[int]int{}}
	t.Cleanup(tr.stop)
	return tr
}

// open starts one slow request: head (with its Content-Length for the whole body
// promised) then first, then a byte per interval.
func (tr *trickler) open(head string, first []byte) {
	conn, err := net.DialTimeout("tcp", tr.addr, 5*time.Second)
	if err != nil {
		tr.t.Errorf("dial: %v", err)
		return
	}
	tr.mu.Lock()
	tr.conns = append(tr.conns, conn)
	tr.mu.Unlock()
	tr.wg.Add(2)
	go func() {
		defer tr.wg.Done()
		if _, err := conn.Write(append([]byte(head), first...)); err != nil {
			return
		}
		for {
			time.Sleep(tr.interval)
			if _, err := conn.Write([]byte{'x'}); err != nil {
				return
			}
		}
	}()
	go func() {
		defer tr.wg.Done()
		status, retryAfter := 0, ""
		if resp, err := http.ReadResponse(bufio.NewReader(conn), nil); err == nil {
			status, retryAfter = resp.StatusCode, resp.Header.Get("Retry-After")
			resp.Body.Close()
		}
		tr.mu.Lock()
		tr.statuses[status]++
		if (status == 429 || status == 503) && retryAfter == "" {
			tr.noRetry++
		}
		tr.mu.Unlock()
		conn.Close()
	}()
}

// stop closes every slow connection (the clients vanish) and waits for the goroutines.
func (tr *trickler) stop() {
	tr.mu.Lock()
	for _, c := range tr.conns {
		c.Close()
	}
	tr.conns = nil
	tr.mu.Unlock()
	tr.wg.Wait()
}

// count returns how many requests were answered status so far.
func (tr *trickler) count(status int) int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.statuses[status]
}

// await waits until want requests were answered status.
func (tr *trickler) await(status, want int, within time.Duration) {
	tr.t.Helper()
	deadline := time.Now().Add(within)
	for tr.count(status) < want {
		if time.Now().After(deadline) {
			tr.t.Fatalf("%d answers %d within %s, want %d (all: %s)", tr.count(status), status, within, want, tr.summary())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (tr *trickler) summary() string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return fmt.Sprint(tr.statuses)
}

// slowRaw starts a raw PUT that promises size bytes of a PNG and trickles.
func (tr *trickler) slowRaw(token string, size int, first []byte) {
	head := "PUT /uploads/raw?kind=avatar&filename=a.png HTTP/1.1\r\nHost: gigstream\r\n" +
		"Authorization: Bearer " + token + "\r\nContent-Length: " + strconv.Itoa(size) + "\r\n\r\n"
	tr.open(head, first)
}

// slowForm starts a multipart POST whose file part promises size bytes and trickles.
func (tr *trickler) slowForm(token string, size int, first []byte) {
	const boundary = "slowboundary"
	pre := "--" + boundary + "\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\navatar\r\n" +
		"--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n" +
		"Content-Type: image/png\r\n\r\n"
	head := "POST /uploads HTTP/1.1\r\nHost: gigstream\r\nAuthorization: Bearer " + token + "\r\n" +
		"Content-Type: multipart/form-data; boundary=" + boundary + "\r\n" +
		"Content-Length: " + strconv.Itoa(len(pre)+size+len("\r\n--"+boundary+"--\r\n")) + "\r\n\r\n"
	tr.open(head, append([]byte(pre), first...))
}

// slowPatch starts a tus PATCH at offset 0 of the upload at path (length size) and trickles.
func (tr *trickler) slowPatch(token, path string, size int, first []byte) {
	head := "PATCH " + path + " HTTP/1.1\r\nHost: gigstream\r\nAuthorization: Bearer " + token + "\r\n" +
		"Tus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\n" +
		"Content-Length: " + strconv.Itoa(size) + "\r\n\r\n"
	tr.open(head, first)
}

// honest is a well-behaved client whose every request must finish within a deadline.
type honest struct {
	t         *testing.T
	n         *Node
	http      *http.Client
	email     string
	token     string
	conv      string
	latencies map[string][]time.Duration // by request kind (see requestKind)
	retries   int                        // 503s with Retry-After that were retried
}

// The kinds of the honest client's requests, as their latencies are reported.
const (
	kindSignIn    = "sign-in"   // POST /auth/tokens: argon2id by design (tens of ms on its own)
	kindMe        = "me"        // GET /me
	kindChat      = "chat"      // POST /conversations/{id}/messages
	kindSubscribe = "subscribe" // dial a socket, connect, subscribe to the conversation
	kindReady     = "readyz"    // GET /readyz
	kindOther     = "other"
)

func requestKind(method, path string) string {
	switch {
	case path == "/auth/tokens":
		return kindSignIn
	case path == "/me":
		return kindMe
	case method == "POST" && strings.HasSuffix(path, "/messages"):
		return kindChat
	case path == "/readyz":
		return kindReady
	}
	return kindOther
}

func (h *honest) record(kind string, d time.Duration) {
	if h.latencies == nil {
		h.latencies = map[string][]time.Duration{}
	}
	h.latencies[kind] = append(h.latencies[kind], d)
}

// call sends one request and fails the test on a transport error (a hang past the
// client's timeout) or an unexpected status; it records the latency.
func (h *honest) call(method, path string, body any, want int) []byte {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, h.n.URL+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if h.token != "" {
		req.Header.Set("Authorization", "Bearer "+h.token)
	}
	start := time.Now()
	resp, err := h.http.Do(req)
	if err != nil {
		h.t.Fatalf("honest %s %s under slow-upload load: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	h.record(requestKind(method, path), time.Since(start))
	if resp.StatusCode == 503 && resp.Header.Get("Retry-After") != "" && h.retries < 20 {
		// Shed load says when to come back; a real client does, and so does this one.
		h.retries++
		time.Sleep(time.Second)
		return h.call(method, path, body, want)
	}
	if resp.StatusCode != want {
		h.t.Fatalf("honest %s %s under slow-upload load: %d, want %d: %s", method, path, resp.StatusCode, want, raw)
	}
	return raw
}

// signIn takes a new app token.
func (h *honest) signIn() {
	h.t.Helper()
	var tok struct{ Token string }
	raw := h.call("POST", "/auth/tokens", map[string]string{"email": h.email, "password": "long enough password"}, 201)
	if err := json.Unmarshal(raw, &tok); err != nil || tok.Token == "" {
		h.t.Fatalf("sign-in gave no token: %s", raw)
	}
	h.token = tok.Token
}

// round signs in, reads /me, sends a message, subscribes a socket and checks /readyz.
func (h *honest) round(i int) {
	h.t.Helper()
	h.signIn()
	h.call("GET", "/me", nil, 200)
	h.call("POST", "/conversations/"+h.conv+"/messages",
		map[string]string{"client_id": newClientID(), "text": "still here " + strconv.Itoa(i)}, 201)
	start := time.Now()
	s := mustDial(h.t, h.n, h.token)
	if f := s.subscribe("conversation:"+h.conv, nil); f.Op != "reply" || !f.OK {
		h.t.Fatalf("subscribe under slow-upload load: %+v", f)
	}
	h.record(kindSubscribe, time.Since(start))
	_ = s.conn.Close()
	saved := h.token
	h.token = ""
	h.call("GET", "/readyz", nil, 200)
	h.token = saved
}

// quantile is the q-th quantile (nearest rank, 0 < q <= 1) of the latencies of kinds,
// of all kinds when none is named, and how many there were.
func (h *honest) quantile(q float64, kinds ...string) (time.Duration, int) {
	var l []time.Duration
	for kind, ds := range h.latencies {
		if len(kinds) == 0 || slices.Contains(kinds, kind) {
			l = append(l, ds...)
		}
	}
	slices.Sort(l)
	if len(l) == 0 {
		return 0, 0
	}
	return l[max(int(math.Ceil(q*float64(len(l))))-1, 0)], len(l)
}

// report is the p50 and p99 of each kind, of the requests other than sign-in (whose
// argon2id hash alone is about 30 ms of CPU here), and of all.
func (h *honest) report() string {
	var b strings.Builder
	ms := func(d time.Duration) string { return d.Round(100 * time.Microsecond).String() }
	line := func(name string, kinds ...string) {
		p50, n := h.quantile(0.50, kinds...)
		p99, _ := h.quantile(0.99, kinds...)
		fmt.Fprintf(&b, "%s p50 %s p99 %s (%d)", name, ms(p50), ms(p99), n)
	}
	for _, kind := range []string{kindSignIn, kindMe, kindChat, kindSubscribe, kindReady} {
		line(kind, kind)
		b.WriteString(", ")
	}
	line("all but sign-in", kindMe, kindChat, kindSubscribe, kindReady)
	b.WriteString(", ")
	line("all")
	return b.String()
}

// slowest is the longest latency of any kind.
func (h *honest) slowest() time.Duration {
	var m time.Duration
	for _, ds := range h.latencies {
		for _, d := range ds {
			m = max(m, d)
		}
	}
	return m
}

// advisoryLocks counts advisory locks held on the node's database.
func advisoryLocks(t *testing.T, dbURL string) int64 {
	return queryInt64(t, dbURL, `SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database
		WHERE l.locktype = 'advisory' AND d.datname = current_database()`)
}

// The node used to freeze: 25 trickling tus PATCHes pinned 20 pooled connections with
// advisory locks, every PATCH then waited forever for one more connection, /me timed out,
// /readyz said postgres was down, and the node stayed wedged after the clients left.
// Here a node with a pool of 10 takes four times that many slow PATCHes, slow
// multipart forms and slow raw PUTs from several users, while an honest client signs
// in, reads /me, sends messages and subscribes sockets: every honest request answers
// (its p50 and p99 by kind are logged next to the same client's figures before the
// load; the 50 ms goal is judged in make bench, which runs this test with
// FREEZE_ROUNDS=200 on a build without the race detector), /readyz stays 200, and once the
// slow clients vanish the node holds no advisory lock and no busy pool connection.
func TestAbuseUploadsSlowClientsCannotFreezeANode(t *testing.T) {
	// The upload caps are lifted so that every slow body is let in: the point here is
	// that holding them costs no database connection (the caps have their own test).
	env := migratedEnv(t, map[string]string{"DB_MAX_OPEN": "10", "DB_MAX_IDLE": "5", "RATE_LIMIT_IP_PER_MINUTE": "100000",
		"RATE_LIMIT_USER_PER_MINUTE": "100000", "RATE_LIMIT_AUTH_PER_MINUTE": "100000", "RATE_LIMIT_MESSAGES_PER_MINUTE": "100000",
		"UPLOAD_STREAMS_PER_USER": "1000", "UPLOAD_STREAMS_PER_NODE": "1000"})
	dbURL := envMap(env)["DATABASE_URL"]
	n := StartNode(t, bin, env)
	n.WaitReady(t)

	const size = 4_000_000
	first := append(pngBytes(t), randomBytes(t, 200<<10)...)
	tr := newTrickler(t, n, 300*time.Millisecond)
	var tokens []string
	for i := range 4 {
		_, tok := appUser(t, n, fmt.Sprintf("slow%d", i))
		tokens = append(tokens, tok)
	}
	var paths []string
	for i := range 40 { // four times the pool in PATCHes alone
		loc, _ := tusCreate(t, n, tokens[i%len(tokens)], size, tusMetadata("kind", "avatar", "filename", "a.png"))
		paths = append(paths, strings.TrimPrefix(loc, n.URL))
	}
	_, peerTok := appUser(t, n, "peer")
	a := &client{t: t, base: n.URL}
	email := uniqueEmail(t, "honest")
	a.register(email, fmt.Sprintf("honest_%d", time.Now().UnixNano()%1e9), "long enough password")
	h := &honest{t: t, n: n, http: &http.Client{Timeout: 10 * time.Second}, email: email}
	h.signIn()
	peerID := ""
	{
		var me struct{ ID string }
		peer := &client{t: t, base: n.URL, bearer: peerTok}
		expect(t, peer.do("GET", "/me", nil), 200, "peer").json(t, &me)
		peerID = me.ID
	}
	var conv struct{ ID string }
	if err := json.Unmarshal(h.call("POST", "/conversations", map[string]string{"participant_id": peerID}, 201), &conv); err != nil {
		t.Fatal(err)
	}
	h.conv = conv.ID
	// FREEZE_ROUNDS (make bench sets 200) gives a p99 worth the name; 20 rounds are
	// enough for what this test asserts.
	rounds := 20
	if v, err := strconv.Atoi(os.Getenv("FREEZE_ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	h.latencies = nil
	for i := range rounds {
		h.round(i)
	}
	t.Logf("honest requests without load: %s (load average %s)", h.report(), loadAverage())

	for i, path := range paths {
		tr.slowPatch(tokens[i%len(tokens)], path, size, first)
	}
	for i := range 12 {
		tr.slowRaw(tokens[i%len(tokens)], size, first)
		tr.slowForm(tokens[(i+1)%len(tokens)], size, first)
	}
	time.Sleep(2 * time.Second) // the slow bodies are in flight
	h.latencies = nil
	for i := range rounds {
		h.round(i)
	}
	t.Logf("honest requests under slow-upload load: %s; %d retried after 503; slow uploads answered so far: %s (load average %s)",
		h.report(), h.retries, tr.summary(), loadAverage())
	// The figure to hold (p99 ≤ 50 ms) is measured here but judged in make bench and
	// the load tool: a timed assertion would fail with the machine's load. What must
	// hold whatever the load is that nothing waits on the slow clients: a request stuck
	// behind them would wait for a pool connection (DB_ACQUIRE_TIMEOUT, 10 s here) and
	// then be retried. On a machine loaded 30 times over its cores a sign-in took 3 s.
	if slowest := h.slowest(); slowest > 8*time.Second {
		t.Errorf("an honest request took %s under the slow-upload load", slowest)
	}

	tr.stop()
	deadline := time.Now().Add(10 * time.Second)
	for {
		locks := advisoryLocks(t, dbURL)
		busy, _ := poolInUse(t, n)
		if locks == 0 && busy <= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("10 s after the slow clients left: %d advisory locks, %v pool connections in use", locks, busy)
		}
		time.Sleep(200 * time.Millisecond)
	}
	h.latencies = nil
	h.round(99)
	t.Logf("after the slow clients left: %s", h.report())
}

// poolInUse reads gigstream_db_pool_in_use from /metrics; found is false without it.
func poolInUse(t *testing.T, n *Node) (float64, bool) {
	resp, err := http.Get(n.URL + "/metrics")
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return metricValue(string(raw), "gigstream_db_pool_in_use")
}

// Upload bodies are capped per user and per node on every path, refused at once with
// Retry-After, and a body that trickles below the minimum rate is cut (408) within a
// couple of windows instead of holding its slot for the idle timeout after every byte;
// the slots come back, and an ordinary upload then goes through.
func TestAbuseUploadsCapsAndSlowBodiesAreRefusedOrCut(t *testing.T) {
	n := startCluster(t, 1, map[string]string{"UPLOAD_STREAMS_PER_USER": "2", "UPLOAD_STREAMS_PER_NODE": "4",
		"UPLOAD_RATE_WINDOW": "2s", "UPLOAD_MIN_RATE": "4096"})[0]
	_, a := appUser(t, n, "capped")
	_, b := appUser(t, n, "other")
	first := append(pngBytes(t), randomBytes(t, 64<<10)...)
	tr := newTrickler(t, n, 300*time.Millisecond)
	tr.slowRaw(a, 4_000_000, first)
	tr.slowForm(a, 4_000_000, first)
	time.Sleep(time.Second)
	tr.slowRaw(a, 4_000_000, first) // the user's third: refused
	tr.await(429, 1, 10*time.Second)
	loc, _ := tusCreate(t, n, b, 4_000_000, tusMetadata("kind", "avatar", "filename", "a.png"))
	tr.slowPatch(b, strings.TrimPrefix(loc, n.URL), 4_000_000, first)
	tr.slowRaw(b, 4_000_000, first)
	time.Sleep(time.Second)
	_, c := appUser(t, n, "third")
	tr.slowRaw(c, 4_000_000, first) // the node's fifth: refused
	tr.await(503, 1, 10*time.Second)

	tr.await(408, 4, 30*time.Second) // all four trickling bodies cut, each within a few windows
	if tr.noRetry != 0 {
		t.Errorf("%d refusals without Retry-After", tr.noRetry)
	}
	expect(t, uploadRaw(t, n, a, "kind=avatar&filename=a.png", pngBytes(t)), 201, "an ordinary upload after the slow ones were cut")
	r := expect(t, tusRequest(t, "HEAD", loc, b, nil), 200, "HEAD of the cut tus upload")
	if off, _ := strconv.Atoi(r.header.Get("Upload-Offset")); off < len(first) {
		t.Errorf("the cut tus upload kept %d bytes, want at least the %d of its first burst", off, len(first))
	}
	t.Logf("slow uploads answered: %s", tr.summary())
}
