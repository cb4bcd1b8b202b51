// Package telemetry reports what operators need to see beyond logs and metrics:
// server faults to Sentry (Reporter, through sentry-go).
//
// It imports nothing else of ours. Callers describe a fault (Fault: the error,
// where it happened, a few tags and the pseudonymous user id) and the Reporter
// turns it into a Sentry event; no request headers, bodies, addresses or e-mails
// are ever attached. A Reporter built without a DSN reports nothing, so callers
// never check whether error reporting is on.
//
// Wiring, in cmd/:
//
//	rep, err := telemetry.NewReporter(telemetry.SentryConfig{DSN: dsn, Release: release})
//	defer rep.Flush(ctx)
//	rep.Report(ctx, telemetry.Fault{Err: err, Source: "http", Tags: map[string]string{"route": "/orders"}})
//
// Tests point the real sentry-go client at telemetry/sentrytest, a local
// endpoint that parses Sentry envelopes.
package telemetry
