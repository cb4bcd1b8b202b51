package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/riverqueue/rivercontrib/otelriver"
	"go.opentelemetry.io/otel/trace"

	"github.com/gigstream/hub/handlers"
	"github.com/gigstream/hub/hub"
	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/telemetry"
)

// release names this build in error reports; `go build -ldflags "-X main.release=…"`
// sets it, and SENTRY_RELEASE overrides it.
var release string

// telemetryConfig switches on error reporting and tracing.
type telemetryConfig struct {
	SentryDSN         secret  // SENTRY_DSN; empty: no error reporting
	SentryEnvironment string  // SENTRY_ENVIRONMENT; default GIGSTREAM_ENV
	SentryRelease     string  // SENTRY_RELEASE; default the build's release
	SentrySampleRate  float64 // SENTRY_SAMPLE_RATE: share of faults sent, (0, 1]; default 1
	// Tracing is OpenTelemetry over OTLP/HTTP, on when OTEL_EXPORTER_OTLP_ENDPOINT
	// (or _TRACES_ENDPOINT) is set and OTEL_SDK_DISABLED is not true.
	Tracing telemetry.TracingConfig
	// tracer is the provider serve built from Tracing; nil while tracing is off, so
	// nothing is wrapped then.
	tracer trace.TracerProvider
	// FaultRoutes is DEBUG_FAULT_ROUTES: the test hooks /debug/fault/panic and
	// /debug/fault/error. Refused in production.
	FaultRoutes bool
}

// loadTelemetryConfig reads the error reporting settings.
func loadTelemetryConfig(e *envReader, c *config) {
	env := "development"
	if c.Production {
		env = "production"
	}
	c.Telemetry = telemetryConfig{
		SentryDSN:         secret(e.str("SENTRY_DSN", "")),
		SentryEnvironment: e.str("SENTRY_ENVIRONMENT", env),
		SentryRelease:     e.str("SENTRY_RELEASE", defaultRelease()),
		SentrySampleRate:  ratio(e, "SENTRY_SAMPLE_RATE", 1, false),
		FaultRoutes:       e.boolean("DEBUG_FAULT_ROUTES", false),
		Tracing:           loadTracingConfig(e, env),
	}
	if c.Production && c.Telemetry.FaultRoutes {
		e.fail("DEBUG_FAULT_ROUTES", "false in production (GIGSTREAM_ENV=production): the routes fail on purpose", "true")
	}
}

// loadTracingConfig reads the standard OpenTelemetry variables we act on. The
// exporter reads the rest of its own (OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT,
// _COMPRESSION, _CERTIFICATE, OTEL_BSP_*) under their standard names.
func loadTracingConfig(e *envReader, env string) telemetry.TracingConfig {
	endpoint := e.str("OTEL_EXPORTER_OTLP_ENDPOINT", "") + e.str("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	disabled := e.boolean("OTEL_SDK_DISABLED", false)
	if p := e.str("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"); p != "http/protobuf" {
		e.fail("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf (the only OTLP transport built in)", p)
	}
	cfg := telemetry.TracingConfig{
		Enabled:     endpoint != "" && !disabled,
		Sampler:     e.oneOf("OTEL_TRACES_SAMPLER", "parentbased_always_on", "always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio"),
		SamplerArg:  ratio(e, "OTEL_TRACES_SAMPLER_ARG", 1, true),
		ServiceName: e.str("OTEL_SERVICE_NAME", "gigstream"),
		Release:     defaultRelease(),
		Environment: env,
	}
	return cfg
}

// ratio reads a share from 0 to 1 (zero allowed only when zeroOK).
func ratio(e *envReader, name string, def float64, zeroOK bool) float64 {
	v := e.str(name, "")
	if v == "" {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f > 1 || f < 0 || f == 0 && !zeroOK {
		e.fail(name, "a ratio such as 0.25 from 0 to 1", v)
	}
	return f
}

// defaultRelease is the linked-in release, else the VCS revision Go recorded, else
// "gigstream@dev".
func defaultRelease() string {
	if release != "" {
		return release
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return "gigstream@" + s.Value[:12]
			}
		}
	}
	return "gigstream@dev"
}

// newReporter builds the Sentry reporter; without SENTRY_DSN it reports nothing.
func newReporter(cfg config) (*telemetry.Reporter, error) {
	return telemetry.NewReporter(telemetry.SentryConfig{
		DSN: string(cfg.Telemetry.SentryDSN), Release: cfg.Telemetry.SentryRelease, Environment: cfg.Telemetry.SentryEnvironment,
		SampleRate: cfg.Telemetry.SentrySampleRate,
	})
}

// startTracing builds the tracer provider (a no-op one without an OTLP endpoint) and
// keeps it in cfg for the parts that trace; the returned function exports what is
// still queued.
func startTracing(ctx context.Context, cfg *config, log *slog.Logger) (func(), error) {
	tracing, err := telemetry.NewTracing(ctx, cfg.Telemetry.Tracing)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if tracing.Enabled() {
		cfg.Telemetry.tracer = tracing.Provider()
		log.InfoContext(ctx, "tracing on (OTLP/HTTP)", "sampler", cfg.Telemetry.Tracing.Sampler, "ratio", cfg.Telemetry.Tracing.SamplerArg)
	}
	return func() {
		if err := tracing.Shutdown(context.WithoutCancel(ctx)); err != nil {
			log.WarnContext(ctx, "spans not exported at shutdown", "err", err)
		}
	}, nil
}

// httpFaults reports the HTTP layer's faults (handlers.FaultReporter).
type httpFaults struct{ rep *telemetry.Reporter }

func (h httpFaults) ReportFault(ctx context.Context, f handlers.Fault) {
	tags := map[string]string{}
	for k, v := range map[string]string{"request_id": f.RequestID, "method": f.Method, "route": f.Route} {
		if v != "" {
			tags[k] = v
		}
	}
	if f.Status != 0 {
		tags["status"] = strconv.Itoa(f.Status)
	}
	h.rep.Report(ctx, telemetry.Fault{Err: f.Err, Panic: f.Panic, Stack: f.Stack, Source: f.Source, Tags: tags, UserID: f.UserID})
}

// reportedCallbacks wraps the hub's callbacks so that a panic in one is reported with
// its stack and answered as an error (the client's request fails; its socket and
// the node live on), and an unexpected error is reported too. Refusals (a domain
// error, the hub's own errors) are the callbacks' answers, not faults.
func reportedCallbacks(cb hub.Callbacks, rep *telemetry.Reporter) hub.Callbacks {
	if !rep.Enabled() {
		return cb
	}
	guard := func(ctx context.Context, name string, info hub.ClientInfo, channel string, err *error) {
		fault := telemetry.Fault{Source: "socket", UserID: info.UserID, Tags: map[string]string{"callback": name, "channel_kind": channelKind(channel)}}
		if r := recover(); r != nil {
			fault.Err, fault.Panic, fault.Stack = fmt.Errorf("socket callback %s panicked: %v", name, r), true, telemetry.Callers()
			*err = fault.Err
		} else if fault.Err = *err; !unexpected(fault.Err) {
			return
		}
		rep.Report(ctx, fault)
	}
	out := cb
	if f := cb.Authorize; f != nil {
		out.Authorize = func(ctx context.Context, info hub.ClientInfo, channel string) (err error) {
			defer guard(ctx, "authorize", info, channel, &err)
			return f(ctx, info, channel)
		}
	}
	if f := cb.History; f != nil {
		out.History = func(ctx context.Context, channel string, since uint64, limit int) (evs []hub.Event, err error) {
			defer guard(ctx, "history", hub.ClientInfo{}, channel, &err)
			return f(ctx, channel, since, limit)
		}
	}
	if f := cb.HistoryMany; f != nil {
		out.HistoryMany = func(ctx context.Context, reads []hub.HistoryRead, limit int) (pages []hub.HistoryPage, err error) {
			defer guard(ctx, "history_many", hub.ClientInfo{}, "", &err)
			return f(ctx, reads, limit)
		}
	}
	if f := cb.ClientEvent; f != nil {
		out.ClientEvent = func(ctx context.Context, info hub.ClientInfo, channel, eventType string, data []byte) (err error) {
			defer guard(ctx, "client_event", info, channel, &err)
			return f(ctx, info, channel, eventType, data)
		}
	}
	if f := cb.Ack; f != nil {
		out.Ack = func(ctx context.Context, info hub.ClientInfo, channel string, seq uint64) (err error) {
			defer guard(ctx, "ack", info, channel, &err)
			return f(ctx, info, channel, seq)
		}
	}
	return out
}

// unexpected says whether a callback's error is a fault: not a domain error, not one
// of the hub's answers, not the end of history or of the caller's context.
func unexpected(err error) bool {
	var de *market.Error
	var he *hub.Error
	return err != nil && !errors.As(err, &de) && !errors.As(err, &he) && !errors.Is(err, hub.ErrHistoryGone) &&
		!errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// channelKind is the part of a channel name before its id ("conversation"), so a tag
// never carries an id.
func channelKind(channel string) string {
	for i := range len(channel) {
		if channel[i] == ':' {
			return channel[:i]
		}
	}
	return channel
}

// jobFaults is river middleware that reports a job's panic (with its stack) and the
// error of a job river gives up on (its last attempt, or cancelled). Errors of
// attempts that will be retried are not faults yet.
type jobFaults struct {
	river.MiddlewareDefaults
	rep *telemetry.Reporter
}

// Work runs the job and reports its fault; the panic goes on to river, which records
// it on the job as it would without us.
func (m *jobFaults) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) (err error) {
	fault := telemetry.Fault{Source: "job", Tags: map[string]string{"job_kind": job.Kind, "queue": job.Queue,
		"attempt": strconv.Itoa(job.Attempt), "job_id": strconv.FormatInt(job.ID, 10)}}
	defer func() {
		if r := recover(); r != nil {
			fault.Err, fault.Panic, fault.Stack = fmt.Errorf("job %s panicked: %v", job.Kind, r), true, telemetry.Callers()
			m.rep.Report(ctx, fault)
			panic(r)
		}
	}()
	err = doInner(ctx)
	var cancel *river.JobCancelError
	if err != nil && (job.Attempt >= job.MaxAttempts || errors.As(err, &cancel)) {
		fault.Err = err
		m.rep.Report(context.WithoutCancel(ctx), fault)
	}
	return err
}

// jobMiddleware is the river middleware of tracing (otelriver: a span per insert and
// per job, the job's linked to its inserter's through the job's metadata) and of
// error reporting; none when both are off.
func jobMiddleware(rep *telemetry.Reporter, tp trace.TracerProvider) []rivertype.Middleware {
	var out []rivertype.Middleware
	if tp != nil {
		out = append(out, otelriver.NewMiddleware(&otelriver.MiddlewareConfig{TracerProvider: tp}))
	}
	if rep.Enabled() {
		out = append(out, &jobFaults{rep: rep})
	}
	return out
}

// flushReports waits briefly for queued error reports at shutdown.
func flushReports(rep *telemetry.Reporter) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	rep.Flush(ctx)
}
