package store

import (
	"context"
	"database/sql/driver"
	"encoding/json"

	"github.com/XSAM/otelsql"
	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// openPool opens the database/sql pool, traced through otelsql when tp is set: a span
// per statement (its text, never its arguments) and per transaction step, only
// inside a trace a request or job started, so pollers (river, the relay) make no
// root spans of their own.
func openPool(url string, tp trace.TracerProvider) (*sqlx.DB, error) {
	if tp == nil {
		return sqlx.Open("postgres", url)
	}
	db, err := otelsql.Open("postgres", url, otelsql.WithTracerProvider(tp),
		otelsql.WithAttributes(attribute.String("db.system.name", "postgresql")),
		otelsql.WithSpanOptions(otelsql.SpanOptions{OmitConnResetSession: true, OmitRows: true, OmitConnectorConnect: true,
			SpanFilter: func(ctx context.Context, _ otelsql.Method, _ string, _ []driver.NamedValue) bool {
				return trace.SpanContextFromContext(ctx).IsValid()
			}}))
	if err != nil {
		return nil, err
	}
	return sqlx.NewDb(db, "postgres"), nil
}

// traceParent is the W3C traceparent of the sampled span in ctx, or "" when there is
// none: durable events keep it so their delivery joins the trace of the request
// that caused them.
func traceParent(ctx context.Context) string {
	if !trace.SpanContextFromContext(ctx).IsSampled() {
		return ""
	}
	c := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, c)
	return c["traceparent"]
}

// jobTraceOpts puts the traceparent of ctx in a job's metadata, where the workers'
// tracing middleware (otelriver) finds it, so the job's span links to the request's; nil
// (the job's own options) when ctx is not traced.
func jobTraceOpts(ctx context.Context) *river.InsertOpts {
	tp := traceParent(ctx)
	if tp == "" {
		return nil
	}
	meta, _ := json.Marshal(map[string]string{"traceparent": tp})
	return &river.InsertOpts{Metadata: meta}
}
