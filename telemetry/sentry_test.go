package telemetry_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gigstream/hub/telemetry"
	"github.com/gigstream/hub/telemetry/sentrytest"
)

func newReporter(t *testing.T, srv *sentrytest.Server) *telemetry.Reporter {
	t.Helper()
	rep, err := telemetry.NewReporter(telemetry.SentryConfig{DSN: srv.DSN(), Release: "gigstream@test", Environment: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

//go:noinline
func explode() { panic(fmt.Sprintf("the ledger is %s", "upside down")) }

// reportPanic recovers explode's panic and reports it as the HTTP layer does.
func reportPanic(ctx context.Context, rep *telemetry.Reporter) {
	defer func() {
		r := recover()
		rep.Report(ctx, telemetry.Fault{Err: fmt.Errorf("panic: %v", r), Panic: true, Stack: telemetry.Callers(), Source: "http",
			Tags: map[string]string{"request_id": "req-1", "route": "/boom"}, UserID: "user-42"})
	}()
	explode()
}

// TestReporterSendsAPanicWithItsStack: a recovered panic reaches Sentry as a fatal,
// unhandled "panic" whose stack ends in the function that panicked (the recovery
// frames are dropped), with the release, tags and the user id only.
func TestReporterSendsAPanicWithItsStack(t *testing.T) {
	srv := sentrytest.New(t)
	rep := newReporter(t, srv)
	reportPanic(t.Context(), rep)
	ev := srv.WaitFor(t, 10*time.Second, "for the panic", func(sentrytest.Event) bool { return true })
	if ev.Level != "fatal" || ev.Release != "gigstream@test" || ev.Environment != "test" ||
		ev.Tags["request_id"] != "req-1" || ev.Tags["route"] != "/boom" || ev.Tags["source"] != "http" {
		t.Fatalf("event: %s", ev.Raw)
	}
	if len(ev.User) != 1 || ev.User["id"] != "user-42" {
		t.Fatalf("user %v: want only the id", ev.User)
	}
	ex := ev.Exception.Values[len(ev.Exception.Values)-1]
	if ex.Type != "panic" || !strings.Contains(ex.Value, "upside down") || ex.Mechanism == nil || *ex.Mechanism.Handled {
		t.Fatalf("exception %+v: want an unhandled panic", ex)
	}
	frames := ex.Stacktrace.Frames
	last := frames[len(frames)-1]
	if last.Function != "explode" || !strings.HasSuffix(last.AbsPath, "sentry_test.go") {
		t.Fatalf("innermost frame %+v, want explode in sentry_test.go (frames %+v)", last, frames)
	}
}

// TestReporterSendsAnErrorAndNothingWithoutDSN: a plain error is reported at error
// level, handled; a Reporter without a DSN sends nothing and does not fail.
func TestReporterSendsAnErrorAndNothingWithoutDSN(t *testing.T) {
	off, err := telemetry.NewReporter(telemetry.SentryConfig{})
	if err != nil || off.Enabled() {
		t.Fatalf("no DSN: %v, enabled %v", err, off.Enabled())
	}
	off.Report(t.Context(), telemetry.Fault{Err: errors.New("unseen")})

	srv := sentrytest.New(t)
	rep := newReporter(t, srv)
	rep.Report(t.Context(), telemetry.Fault{Err: fmt.Errorf("settle: %w", errors.New("pool exhausted")), Source: "job",
		Tags: map[string]string{"job_kind": "settle"}})
	ev := srv.WaitFor(t, 10*time.Second, "for the error", func(sentrytest.Event) bool { return true })
	ex := ev.Exception.Values[len(ev.Exception.Values)-1]
	if ev.Level != "error" || ev.Tags["job_kind"] != "settle" || ex.Mechanism == nil || !*ex.Mechanism.Handled ||
		!strings.Contains(ex.Value, "pool exhausted") || len(ev.User) != 0 {
		t.Fatalf("event: %s", ev.Raw)
	}
	if _, err := telemetry.NewReporter(telemetry.SentryConfig{DSN: "not a dsn"}); err == nil {
		t.Fatal("a malformed DSN was accepted")
	}
}
