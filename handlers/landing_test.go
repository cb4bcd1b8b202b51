package handlers

import (
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/prometheus/client_golang/prometheus"
)

func TestRootIsALandingPageLinkingTheClientWhenServed(t *testing.T) {
	for _, withClient := range []bool{false, true} {
		deps := Deps{Log: slog.New(slog.DiscardHandler), Registry: prometheus.NewRegistry()}
		if withClient {
			deps.WebApp = fstest.MapFS{"index.html": {Data: []byte("<!doctype html>")}}
		}
		app, err := New(Config{}, deps)
		if err != nil {
			t.Fatal(err)
		}
		resp, body := do(t, app, httptest.NewRequest("GET", "/", nil))
		page := string(body)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(page, `href="/openapi.yaml"`) || strings.Contains(page, `href="/app/"`) != withClient {
			t.Fatalf("client %v: GET / = %d %q\n%s", withClient, resp.StatusCode, resp.Header.Get("Content-Type"), page)
		}
		etag := resp.Header.Get("ETag")
		if etag == "" || !strings.Contains(resp.Header.Get("Cache-Control"), "max-age=300") || resp.Header.Get("Content-Security-Policy") == "" {
			t.Fatalf("GET / headers %v", resp.Header)
		}
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("If-None-Match", etag)
		if resp, _ := do(t, app, req); resp.StatusCode != 304 {
			t.Fatalf("GET / with its ETag = %d, want 304", resp.StatusCode)
		}
	}
}
