package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// benchToken registers a user over HTTP and returns an app token (the e2e client
// helpers take a *testing.T; a benchmark has a *testing.B).
func benchToken(b *testing.B, n *Node, who string) string {
	b.Helper()
	email := fmt.Sprintf("%s-%d@e2e.gigstream.test", who, time.Now().UnixNano())
	post := func(path string, body any, want int) []byte {
		raw, _ := json.Marshal(body)
		resp, err := http.Post(n.URL+path, "application/json", bytes.NewReader(raw))
		if err != nil {
			b.Fatalf("%s: %v", path, err)
		}
		defer resp.Body.Close()
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(resp.Body)
		if resp.StatusCode != want {
			b.Fatalf("%s: %d %s", path, resp.StatusCode, buf.String())
		}
		return buf.Bytes()
	}
	post("/auth/register", map[string]any{"email": email, "username": fmt.Sprintf("%s_%d", who, time.Now().UnixNano()%1e9),
		"display_name": who, "password": "long enough password", "is_seller": true}, 201)
	var tok struct{ Token string }
	if err := json.Unmarshal(post("/auth/tokens", map[string]string{"email": email, "password": "long enough password"}, 201), &tok); err != nil {
		b.Fatal(err)
	}
	return tok.Token
}

// benchTusCreate starts a tus upload of size bytes and returns its path.
func benchTusCreate(b *testing.B, n *Node, token string, size int) string {
	b.Helper()
	req, _ := http.NewRequest("POST", n.URL+"/uploads/tus/", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Length", strconv.Itoa(size))
	req.Header.Set("Upload-Metadata", tusMetadata("kind", "avatar", "filename", "a.png"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		b.Fatalf("tus create: %d", resp.StatusCode)
	}
	loc := resp.Header.Get("Location")
	return "/" + strings.TrimPrefix(strings.TrimPrefix(loc, n.URL), "/")
}

// BenchmarkTricklingUploadsRSS weighs 300 trickling uploads: 100 tus PATCHes, 100 raw
// PUTs and 100 multipart forms from ten users, each sending its head and 200 KiB and
// then a byte every 300 ms, all at once against one node. The per-node and per-user
// caps are lifted so that every one of them is let in (the worst case: with the
// default caps, 64 a node and 4 a user, most are refused at once); the minimum rate
// (UPLOAD_MIN_RATE over UPLOAD_RATE_WINDOW, defaults) then cuts them. It reports the
// node's resident memory growth at its peak over 40 s (the target is under 128 MiB),
// and after the slow clients left. It runs once whatever -benchtime says; the figures
// move with the machine's load, which is logged.
func BenchmarkTricklingUploadsRSS(b *testing.B) {
	load := loadAverage()
	env := migratedEnv(b, map[string]string{"RATE_LIMIT_IP_PER_MINUTE": "100000", "RATE_LIMIT_USER_PER_MINUTE": "100000",
		"RATE_LIMIT_AUTH_PER_MINUTE": "100000", "RATE_LIMIT_UPLOADS_PER_MINUTE": "100000",
		"UPLOAD_STREAMS_PER_USER": "1000", "UPLOAD_STREAMS_PER_NODE": "1000"})
	n := StartNode(b, bin, env)
	n.WaitReady(b)
	pid := n.cmd.Process.Pid

	const size, users, each = 4_000_000, 10, 100
	first := append(pngBytes(b), randomBytes(b, 200<<10)...)
	tokens := make([]string, users)
	for i := range tokens {
		tokens[i] = benchToken(b, n, "trickle"+strconv.Itoa(i))
	}
	paths := make([]string, each)
	for i := range paths {
		paths[i] = benchTusCreate(b, n, tokens[i%users], size)
	}
	time.Sleep(time.Second)
	before := residentKiB(pid)
	tr := newTrickler(b, n, 300*time.Millisecond)
	start := time.Now()
	for i := range each {
		tr.slowPatch(tokens[i%users], paths[i], size, first)
		tr.slowRaw(tokens[(i+1)%users], size, first)
		tr.slowForm(tokens[(i+2)%users], size, first)
	}
	opened := time.Since(start)
	peak := before
	for end := time.Now().Add(40 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		peak = max(peak, residentKiB(pid))
	}
	answered := tr.summary()
	tr.stop()
	time.Sleep(5 * time.Second)
	after := residentKiB(pid)
	growth := float64(peak-before) / 1024
	b.ReportMetric(growth, "rss-growth-MiB")
	b.ReportMetric(float64(peak)/1024, "rss-peak-MiB")
	b.ReportMetric(float64(after-before)/1024, "rss-after-MiB")
	b.Logf("300 trickling uploads (opened in %v): resident %d MiB before, peak %d MiB (growth %.1f MiB, target < 128), %d MiB 5 s after the clients left; answers by status within 40 s: %s; load average before %s, after %s (2 cores)",
		opened.Round(time.Millisecond), before/1024, peak/1024, growth, after/1024, answered, load, loadAverage())
	if growth >= 128 {
		b.Errorf("resident memory grew %.1f MiB with 300 trickling uploads, the target is under 128 MiB", growth)
	}
	for range b.N {
		// Once: the load above is the measurement.
	}
}
