package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gigstream/hub/telemetry/sentrytest"
)

// TestServerFaultsReachSentry runs a node with SENTRY_DSN pointing at a local
// endpoint that parses Sentry envelopes: a panicking route and a failing route each
// become one event with the request id, route, status, release and the signed-in
// user's id (and no other personal data); the panic carries its stack down to the
// handler. A 404 is the client's problem and reports nothing.
func TestServerFaultsReachSentry(t *testing.T) {
	sentry := sentrytest.New(t)
	n := startCluster(t, 1, realtimeEnv(map[string]string{
		"SENTRY_DSN": sentry.DSN(), "SENTRY_RELEASE": "gigstream@e2e", "DEBUG_FAULT_ROUTES": "true",
	}))[0]
	userID, token := appUser(t, n, "faulty")
	call := func(path string, status int) string {
		req, _ := http.NewRequest("GET", n.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != status {
			t.Fatalf("GET %s: %d, want %d", path, resp.StatusCode, status)
		}
		return resp.Header.Get("X-Request-Id")
	}
	notFound := call("/no/such/route", 404)
	panicked := call("/debug/fault/panic", 500)
	failed := call("/debug/fault/error", 500)

	byRequest := func(id string) func(sentrytest.Event) bool {
		return func(ev sentrytest.Event) bool { return ev.Tags["request_id"] == id }
	}
	p := sentry.WaitFor(t, 20*time.Second, "for the panic", byRequest(panicked))
	ex := p.Exception.Values[len(p.Exception.Values)-1]
	if p.Level != "fatal" || ex.Type != "panic" || !strings.Contains(ex.Value, "deliberate panic") ||
		p.Tags["route"] != "/debug/fault/panic" || p.Tags["status"] != "500" || p.Tags["method"] != "GET" ||
		p.Release != "gigstream@e2e" || p.Environment != "development" {
		t.Fatalf("panic event: %s", p.Raw)
	}
	if ex.Stacktrace == nil || !strings.Contains(ex.Stacktrace.Frames[len(ex.Stacktrace.Frames)-1].Module, "gigstream/hub/handlers") {
		t.Fatalf("panic event's stack does not end in the handler: %+v", ex.Stacktrace)
	}
	f := sentry.WaitFor(t, 20*time.Second, "for the server error", byRequest(failed))
	if f.Level != "error" || f.Tags["route"] != "/debug/fault/error" || f.Tags["status"] != "500" ||
		!strings.Contains(f.Exception.Values[len(f.Exception.Values)-1].Value, "deliberate server error") {
		t.Fatalf("error event: %s", f.Raw)
	}
	for _, ev := range []sentrytest.Event{p, f} {
		if len(ev.User) != 1 || ev.User["id"] != userID || ev.Request != nil {
			t.Fatalf("event carries more than the user's id: user %v, request %v", ev.User, ev.Request)
		}
		if raw := string(ev.Raw); strings.Contains(raw, "@e2e.gigstream.test") || strings.Contains(raw, token) || strings.Contains(raw, "127.0.0.1") {
			t.Fatalf("event carries personal data or credentials: %s", raw)
		}
	}
	for _, ev := range sentry.Events() {
		if ev.Tags["request_id"] == notFound {
			t.Fatalf("a 404 was reported: %s", ev.Raw)
		}
	}
}
