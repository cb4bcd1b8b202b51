package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func get(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	return resp, body
}

type problem struct {
	Type, Title, Detail, Instance string
	Status                        int
	RequestID                     string `json:"request_id"`
}

func mustProblem(t *testing.T, resp *http.Response, body []byte, status int) problem {
	t.Helper()
	if resp.StatusCode != status || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("got %d %q, want %d application/problem+json: %s", resp.StatusCode, resp.Header.Get("Content-Type"), status, body)
	}
	var p problem
	if err := json.Unmarshal(body, &p); err != nil || p.Status != status || p.Title == "" {
		t.Fatalf("bad problem body %s (%v)", body, err)
	}
	return p
}

func TestTwoNodesServeReadinessMetricsAndProblems(t *testing.T) {
	nodes := startCluster(t, 2, nil)
	for _, n := range nodes {
		resp, body := get(t, n.URL+"/readyz")
		var rep struct {
			Status string
			Checks map[string]struct{ Status string }
		}
		if err := json.Unmarshal(body, &rep); err != nil || resp.StatusCode != 200 || rep.Status != "ready" {
			t.Fatalf("%s/readyz = %d %s", n.URL, resp.StatusCode, body)
		}
		for _, dep := range []string{"postgres", "redis", "clamd", "s3"} {
			if rep.Checks[dep].Status != "up" {
				t.Errorf("%s: dependency %s is %q", n.URL, dep, rep.Checks[dep].Status)
			}
		}
		resp, body = get(t, n.URL+"/definitely/not/here")
		p := mustProblem(t, resp, body, http.StatusNotFound)
		if p.Instance != "/definitely/not/here" || p.RequestID == "" {
			t.Errorf("404 problem lacks instance or request id: %+v", p)
		}
		_, metrics := get(t, n.URL+"/metrics")
		for _, want := range []string{`gigstream_http_requests_total{method="GET",route="/readyz",status="200"}`, "go_goroutines", "process_resident_memory_bytes", "gigstream_http_request_duration_seconds_bucket"} {
			if !bytes.Contains(metrics, []byte(want)) {
				t.Errorf("%s/metrics lacks %s", n.URL, want)
			}
		}
	}
}

// TestOversizeBodyGets413 declares a 64 KiB body against a 4 KiB limit and sends only
// limit+1 bytes of it (fasthttp reads that much of a streamed body before it calls the
// handler): the 413 must come from the declared length, before the rest is read.
// Sending more would leave bytes unread when the server closes: a reset, not an answer.
func TestOversizeBodyGets413(t *testing.T) {
	n := startCluster(t, 1, map[string]string{"HTTP_BODY_LIMIT": "4096"})[0]
	conn, err := net.Dial("tcp", strings.TrimPrefix(n.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", 64<<10)
	_, _ = conn.Write(make([]byte, 4096+1))
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer before the body was sent: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	mustProblem(t, resp, body, http.StatusRequestEntityTooLarge)
}

func TestServesItsOpenAPISpec(t *testing.T) {
	n := startCluster(t, 1, nil)[0]
	resp, body := get(t, n.URL+"/openapi.yaml")
	if resp.StatusCode != 200 || !bytes.HasPrefix(body, []byte("openapi: 3.1")) {
		t.Fatalf("/openapi.yaml = %d %.40q", resp.StatusCode, body)
	}
}

func TestServeRefusesAnUnmigratedDatabase(t *testing.T) {
	env := Env(map[string]string{"DATABASE_URL": freshDatabase(t), "HTTP_ADDR": "127.0.0.1:0"})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code, out := Run(ctx, bin, env, "serve")
	if code == 0 || !strings.Contains(out, "not migrated") || !strings.Contains(out, "migrate up") {
		t.Fatalf("serve on an empty database: exit %d\n%s", code, out)
	}
}

func TestBadSettingStopsStartWithOneLine(t *testing.T) {
	env := Env(map[string]string{"CLAMD_ADDR": "clamd-without-scheme", "HTTP_ADDR": "127.0.0.1:0"})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code, out := Run(ctx, bin, env, "serve")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code == 0 || len(lines) != 1 || !strings.Contains(out, "CLAMD_ADDR") {
		t.Fatalf("bad CLAMD_ADDR: exit %d, output:\n%s", code, out)
	}
}

func TestDownDependencyShowsInReadyzAndNodeStaysUp(t *testing.T) {
	env := migratedEnv(t, map[string]string{"REDIS_URL": "redis://127.0.0.1:1/0", "CLAMD_ADDR": "tcp://127.0.0.1:1"})
	n := StartNode(t, bin, env)
	resp, body := get(t, n.URL+"/readyz")
	var rep struct {
		Status string
		Checks map[string]struct{ Status, Error string }
	}
	if err := json.Unmarshal(body, &rep); err != nil || resp.StatusCode != 503 {
		t.Fatalf("readyz = %d %s", resp.StatusCode, body)
	}
	if rep.Checks["redis"].Status != "down" || rep.Checks["clamd"].Status != "down" || rep.Checks["postgres"].Status != "up" {
		t.Fatalf("readyz checks = %+v", rep.Checks)
	}
	if resp, _ := get(t, n.URL+"/healthz"); resp.StatusCode != 200 {
		t.Fatalf("healthz = %d while a dependency is down", resp.StatusCode)
	}
}

func TestSIGTERMDrainsAndExitsCleanly(t *testing.T) {
	n := startCluster(t, 1, nil)[0]
	if err := n.Stop(t); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	if !strings.Contains(n.Logs(), `"msg":"stopped"`) {
		t.Fatalf("no clean stop in log:\n%s", n.Logs())
	}
	if _, err := http.Get(n.URL + "/healthz"); err == nil {
		t.Fatal("node still answers after shutdown")
	}
}

func TestSeedIsIdempotentThroughTheCLI(t *testing.T) {
	env := migratedEnv(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var counts []map[string]any
	for range 2 {
		code, out := Run(ctx, bin, env, "seed")
		if code != 0 {
			t.Fatalf("seed: exit %d\n%s", code, out)
		}
		counts = append(counts, logRecord(t, out, "seed loaded"))
	}
	if counts[0]["gigs"].(float64) < 1 || counts[0]["users"].(float64) < 2 {
		t.Fatalf("first seed inserted too little: %v", counts[0])
	}
	for _, k := range []string{"users", "categories", "gigs", "packages"} {
		if counts[1][k].(float64) != 0 {
			t.Errorf("second seed inserted %v %s", counts[1][k], k)
		}
	}
}

func logRecord(t *testing.T, out, msg string) map[string]any {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == msg {
			return rec
		}
	}
	t.Fatalf("no %q log line in:\n%s", msg, out)
	return nil
}

func TestDemoUsersSignInAfterSeed(t *testing.T) {
	env := migratedEnv(t, withGenerous(nil))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if code, out := Run(ctx, bin, env, "seed"); code != 0 {
		t.Fatalf("seed: exit %d\n%s", code, out)
	}
	n := StartNode(t, bin, env)
	n.WaitReady(t)
	(&client{t: t, base: n.URL}).login("maya@demo.gigstream.test", "gigstream-demo-2026")
}
