package main

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/gigstream/hub/hub"
	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/telemetry"
	"github.com/gigstream/hub/telemetry/sentrytest"
)

func testReporter(t *testing.T) (*telemetry.Reporter, *sentrytest.Server) {
	srv := sentrytest.New(t)
	rep, err := telemetry.NewReporter(telemetry.SentryConfig{DSN: srv.DSN(), Release: "gigstream@unit"})
	if err != nil {
		t.Fatal(err)
	}
	return rep, srv
}

//go:noinline
func authorizeThatPanics(context.Context, hub.ClientInfo, string) error {
	panic("no rule for this channel")
}

// TestSocketCallbackPanicIsReportedAndAnswered: a panicking hub callback is reported
// with its stack, the user's id and the channel's kind (never its id), and the hub
// gets an error back instead of the panic; a domain refusal is not a fault.
func TestSocketCallbackPanicIsReportedAndAnswered(t *testing.T) {
	rep, srv := testReporter(t)
	cb := reportedCallbacks(hub.Callbacks{
		Authorize: authorizeThatPanics,
		Ack: func(context.Context, hub.ClientInfo, string, uint64) error {
			return &market.Error{Code: market.CodeForbidden, Message: "not yours"}
		},
	}, rep)
	info := hub.ClientInfo{UserID: "user-9", SessionID: "s"}
	if err := cb.Authorize(t.Context(), info, "order:secret-order-id"); err == nil || !strings.Contains(err.Error(), "panicked") {
		t.Fatalf("authorize: %v, want the panic as an error", err)
	}
	if err := cb.Ack(t.Context(), info, "conversation:c1", 3); err == nil {
		t.Fatal("the refusal was swallowed")
	}
	ev := srv.WaitFor(t, 10*time.Second, "for the callback's panic", func(sentrytest.Event) bool { return true })
	frames := ev.Exception.Values[0].Stacktrace.Frames
	if ev.Level != "fatal" || ev.Tags["callback"] != "authorize" || ev.Tags["channel_kind"] != "order" ||
		ev.Tags["source"] != "socket" || ev.User["id"] != "user-9" || frames[len(frames)-1].Function != "authorizeThatPanics" {
		t.Fatalf("event: %s", ev.Raw)
	}
	if strings.Contains(string(ev.Raw), "secret-order-id") {
		t.Fatal("the channel's id was sent")
	}
	time.Sleep(200 * time.Millisecond)
	if n := len(srv.Events()); n != 1 {
		t.Fatalf("%d events, want only the panic (a refusal is no fault)", n)
	}
}

//go:noinline
func jobThatPanics(context.Context) error { panic("settlement lost a cent") }

// TestJobFaultsReportPanicsAndGivenUpJobs: the job middleware reports a panic (and
// lets it go on to river) and the error of a job's last attempt, but not an error
// river will retry.
func TestJobFaultsReportPanicsAndGivenUpJobs(t *testing.T) {
	rep, srv := testReporter(t)
	m := jobMiddleware(rep, nil)[0].(rivertype.WorkerMiddleware)
	job := &rivertype.JobRow{ID: 77, Kind: "settle_sweep", Queue: "money", Attempt: 1, MaxAttempts: 3}
	func() {
		defer func() {
			if r := recover(); r == nil {
				t.Fatal("the panic did not reach river")
			}
		}()
		_ = m.Work(t.Context(), job, jobThatPanics)
	}()
	retried := errors.New("stripe timed out")
	if err := m.Work(t.Context(), job, func(context.Context) error { return retried }); !errors.Is(err, retried) {
		t.Fatalf("work: %v", err)
	}
	last := *job
	last.Attempt = 3
	_ = m.Work(t.Context(), &last, func(context.Context) error { return errors.New("gave up on payout") })

	panicked := srv.WaitFor(t, 10*time.Second, "for the job's panic", func(ev sentrytest.Event) bool { return ev.Level == "fatal" })
	frames := panicked.Exception.Values[0].Stacktrace.Frames
	if panicked.Tags["job_kind"] != "settle_sweep" || panicked.Tags["queue"] != "money" || frames[len(frames)-1].Function != "jobThatPanics" {
		t.Fatalf("panic event: %s", panicked.Raw)
	}
	gaveUp := srv.WaitFor(t, 10*time.Second, "for the given-up job", func(ev sentrytest.Event) bool { return ev.Level == "error" })
	if gaveUp.Tags["attempt"] != "3" || !strings.Contains(gaveUp.Exception.Values[0].Value, "gave up on payout") {
		t.Fatalf("given-up event: %s", gaveUp.Raw)
	}
	time.Sleep(200 * time.Millisecond)
	for _, ev := range srv.Events() {
		if strings.Contains(string(ev.Raw), "stripe timed out") {
			t.Fatal("an attempt river retries was reported")
		}
	}
}

// TestTracingConfig: tracing is on only with an OTLP endpoint and without
// OTEL_SDK_DISABLED; the sampler and its ratio are checked, and a protocol we do not
// build in, a bad ratio or a bad Sentry sample rate stop start-up naming the variable.
func TestTracingConfig(t *testing.T) {
	load := func(extra map[string]string) (config, error) {
		env := validServeEnv()
		maps.Copy(env, extra)
		return loadServeConfig(envFrom(env))
	}
	if c, err := load(nil); err != nil || c.Telemetry.Tracing.Enabled || c.Telemetry.SentrySampleRate != 1 {
		t.Fatalf("default: tracing %v, sentry rate %v, err %v", c.Telemetry.Tracing.Enabled, c.Telemetry.SentrySampleRate, err)
	}
	c, err := load(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
		"OTEL_TRACES_SAMPLER_ARG": "0.1", "SENTRY_SAMPLE_RATE": "0.5"})
	if err != nil || !c.Telemetry.Tracing.Enabled || c.Telemetry.Tracing.Sampler != "parentbased_traceidratio" ||
		c.Telemetry.Tracing.SamplerArg != 0.1 || c.Telemetry.SentrySampleRate != 0.5 {
		t.Fatalf("configured: %+v %v, err %v", c.Telemetry.Tracing, c.Telemetry.SentrySampleRate, err)
	}
	if c, _ := load(map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces", "OTEL_SDK_DISABLED": "true"}); c.Telemetry.Tracing.Enabled {
		t.Fatal("OTEL_SDK_DISABLED=true left tracing on")
	}
	for name, value := range map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_TRACES_SAMPLER": "xray",
		"OTEL_TRACES_SAMPLER_ARG": "1.5", "SENTRY_SAMPLE_RATE": "0"} {
		if _, err := load(map[string]string{name: value}); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: err %v, want one naming it", name, value, err)
		}
	}
}
