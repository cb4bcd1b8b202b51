package main

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/gigstream/hub/handlers"
	"github.com/gigstream/hub/hub"
	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/telemetry"
)

// release names this build in error reports; `go build -ldflags "-X main.release=…"`
// sets it, and SENTRY_RELEASE overrides it.
var release string

// telemetryConfig switches on error reporting.
type telemetryConfig struct {
	SentryDSN         secret // SENTRY_DSN; empty: no error reporting
	SentryEnvironment string // SENTRY_ENVIRONMENT; default GIGSTREAM_ENV
	SentryRelease     string // SENTRY_RELEASE; default the build's release
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
		FaultRoutes:       e.boolean("DEBUG_FAULT_ROUTES", false),
	}
	if c.Production && c.Telemetry.FaultRoutes {
		e.fail("DEBUG_FAULT_ROUTES", "false in production (GIGSTREAM_ENV=production): the routes fail on purpose", "true")
	}
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
	})
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

// jobMiddleware is the river middleware of error reporting; none without a DSN.
func jobMiddleware(rep *telemetry.Reporter) []rivertype.Middleware {
	if !rep.Enabled() {
		return nil
	}
	return []rivertype.Middleware{&jobFaults{rep: rep}}
}

// flushReports waits briefly for queued error reports at shutdown.
func flushReports(rep *telemetry.Reporter) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	rep.Flush(ctx)
}
