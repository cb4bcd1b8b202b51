package telemetry_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/gigstream/hub/telemetry"
	"github.com/gigstream/hub/telemetry/otlptest"
)

// TestTracingExportsOverOTLP builds the real SDK and OTLP/HTTP exporter against the
// local receiver: a parent and a child span arrive, decoded from protobuf, sharing
// their trace id, with this service's name; the W3C propagator is installed.
func TestTracingExportsOverOTLP(t *testing.T) {
	rec := otlptest.New(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rec.Endpoint())
	tr, err := telemetry.NewTracing(context.Background(), telemetry.TracingConfig{Enabled: true, Sampler: "always_on", ServiceName: "gigstream-test", Release: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	if !tr.Enabled() {
		t.Fatal("an enabled config built a no-op provider")
	}
	ctx, parent := otel.Tracer("test").Start(context.Background(), "parent")
	_, child := otel.Tracer("test").Start(ctx, "child", trace.WithSpanKind(trace.SpanKindClient))
	child.End()
	parent.End()
	carrier := propagation.MapCarrier{}
	otel.GetTextMapPropagator().Inject(ctx, carrier)
	if carrier["traceparent"] == "" {
		t.Fatal("no W3C traceparent propagated")
	}
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	spans := rec.Spans()
	if len(spans) != 2 {
		t.Fatalf("received %d spans, want 2: %+v", len(spans), spans)
	}
	byName := map[string]otlptest.Span{}
	for _, s := range spans {
		byName[s.Name] = s
	}
	p, c := byName["parent"], byName["child"]
	if p.TraceID == "" || c.TraceID != p.TraceID || c.ParentID != p.SpanID || p.ParentID != "" {
		t.Fatalf("spans not linked: parent %+v child %+v", p, c)
	}
	if p.Service != "gigstream-test" || c.Kind.String() != "SPAN_KIND_CLIENT" {
		t.Fatalf("service %q kind %s", p.Service, c.Kind)
	}
}

// TestTracingOffIsNoop: without Enabled nothing is recorded, and spans carry no
// context to propagate.
func TestTracingOffIsNoop(t *testing.T) {
	tr, err := telemetry.NewTracing(context.Background(), telemetry.TracingConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Enabled() {
		t.Fatal("zero config enabled tracing")
	}
	ctx, span := otel.Tracer("test").Start(context.Background(), "x")
	defer span.End()
	if span.IsRecording() || trace.SpanContextFromContext(ctx).IsValid() {
		t.Fatal("a no-op provider recorded a span")
	}
}

// TestSampler maps OTEL_TRACES_SAMPLER names and refuses unknown ones and bad ratios.
func TestSampler(t *testing.T) {
	for _, name := range []string{"", "always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio"} {
		if _, err := telemetry.Sampler(name, 0.5); err != nil {
			t.Errorf("%q: %v", name, err)
		}
	}
	if _, err := telemetry.Sampler("jaeger_remote", 0); err == nil {
		t.Error("an unsupported sampler was accepted")
	}
	if _, err := telemetry.Sampler("traceidratio", 1.5); err == nil {
		t.Error("a ratio of 1.5 was accepted")
	}
}

// TestChildSpansOnly: the wrapped provider records a span inside a trace and none
// outside one.
func TestChildSpansOnly(t *testing.T) {
	rec := otlptest.New(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rec.Endpoint())
	tr, err := telemetry.NewTracing(context.Background(), telemetry.TracingConfig{Enabled: true, Sampler: "always_on"})
	if err != nil {
		t.Fatal(err)
	}
	child := telemetry.ChildSpansOnly(tr.Provider()).Tracer("test")
	if _, orphan := child.Start(context.Background(), "orphan"); orphan.IsRecording() {
		t.Fatal("a span without a parent was recorded")
	}
	ctx, parent := tr.Provider().Tracer("test").Start(context.Background(), "parent")
	_, inner := child.Start(ctx, "inner")
	if !inner.IsRecording() {
		t.Fatal("a span inside a trace was not recorded")
	}
	inner.End()
	parent.End()
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if spans := rec.Spans(); len(spans) != 2 {
		t.Fatalf("%d spans exported, want parent and inner", len(spans))
	}
}
