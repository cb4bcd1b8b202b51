package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/prometheus/client_golang/prometheus"
)

func newTestApp(t *testing.T, cfg Config, checks ...Check) *fiber.App {
	t.Helper()
	app, err := New(cfg, Deps{Log: slog.New(slog.DiscardHandler), Registry: prometheus.NewRegistry(), Checks: checks})
	if err != nil {
		t.Fatal(err)
	}
	return app
}

func do(t *testing.T, app *fiber.App, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := app.Test(req, -1)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp, body
}

func decodeProblem(t *testing.T, resp *http.Response, body []byte) Problem {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json (body %s)", ct, body)
	}
	var p Problem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("problem body %s: %v", body, err)
	}
	if p.Status != resp.StatusCode || p.Title == "" || p.Type == "" {
		t.Fatalf("problem %+v does not match status %d", p, resp.StatusCode)
	}
	return p
}

func TestUnknownRouteIsProblem404(t *testing.T) {
	app := newTestApp(t, Config{})
	resp, body := do(t, app, httptest.NewRequest("GET", "/no/such/route", nil))
	if resp.StatusCode != 404 {
		t.Fatalf("status = %d, want 404", resp.StatusCode)
	}
	p := decodeProblem(t, resp, body)
	if p.Instance != "/no/such/route" || p.RequestID == "" || p.RequestID != resp.Header.Get("X-Request-Id") {
		t.Fatalf("problem %+v lacks instance or request id (header %q)", p, resp.Header.Get("X-Request-Id"))
	}
}

func TestRequestIDKeepsPlainCallerIDsOnly(t *testing.T) {
	app := newTestApp(t, Config{})
	for in, keep := range map[string]bool{"abc-123_x.y": true, "evil\"id<script>": false, strings.Repeat("a", 65): false} {
		req := httptest.NewRequest("GET", "/healthz", nil)
		req.Header.Set("X-Request-Id", in)
		resp, _ := do(t, app, req)
		got := resp.Header.Get("X-Request-Id")
		if (got == in) != keep || got == "" {
			t.Errorf("X-Request-Id %q came back as %q; keep = %v", in, got, keep)
		}
	}
}

func TestReadyzReportsEachDependency(t *testing.T) {
	up := Check{Name: "postgres", Ping: func(context.Context) error { return nil }}
	down := Check{Name: "redis", Ping: func(context.Context) error { return errors.New("connection refused") }}

	resp, body := do(t, newTestApp(t, Config{}, up), httptest.NewRequest("GET", "/readyz", nil))
	if resp.StatusCode != 200 {
		t.Fatalf("all up: status %d, body %s", resp.StatusCode, body)
	}
	resp, body = do(t, newTestApp(t, Config{}, up, down), httptest.NewRequest("GET", "/readyz", nil))
	if resp.StatusCode != 503 {
		t.Fatalf("one down: status %d, want 503", resp.StatusCode)
	}
	var rep readiness
	if err := json.Unmarshal(body, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Status != "unready" || rep.Checks["postgres"].Status != "up" || rep.Checks["redis"].Status != "down" || rep.Checks["redis"].Error == "" {
		t.Fatalf("readiness = %+v", rep)
	}
}

func TestReadyzTimesOutAHangingCheck(t *testing.T) {
	hang := Check{Name: "clamd", Ping: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }}
	app := newTestApp(t, Config{CheckTimeout: 50e6}, hang)
	resp, _ := do(t, app, httptest.NewRequest("GET", "/readyz", nil))
	if resp.StatusCode != 503 {
		t.Fatalf("hanging check: status %d, want 503", resp.StatusCode)
	}
}

func TestMetricsCountRequestsByRoutePattern(t *testing.T) {
	app := newTestApp(t, Config{})
	do(t, app, httptest.NewRequest("GET", "/healthz", nil))
	do(t, app, httptest.NewRequest("GET", "/random/path/123", nil))
	_, body := do(t, app, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{
		`gigstream_http_requests_total{method="GET",route="/healthz",status="200"} 1`,
		`gigstream_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`gigstream_http_request_duration_seconds_bucket{method="GET",route="/healthz"`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(string(body), "/random/path") {
		t.Error("metrics label a raw path")
	}
}

func TestMetricsTokenGuardsMetrics(t *testing.T) {
	app := newTestApp(t, Config{MetricsToken: "s3cret"})
	resp, body := do(t, app, httptest.NewRequest("GET", "/metrics", nil))
	if resp.StatusCode != 401 {
		t.Fatalf("no token: status %d", resp.StatusCode)
	}
	decodeProblem(t, resp, body)
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Authorization", "Bearer s3cret")
	if resp, _ := do(t, app, req); resp.StatusCode != 200 {
		t.Fatalf("with token: status %d", resp.StatusCode)
	}
}
