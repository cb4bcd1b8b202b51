package telemetry

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// TracingConfig switches OpenTelemetry tracing on. The zero value traces nothing.
//
// Where spans go (OTEL_EXPORTER_OTLP_ENDPOINT or _TRACES_ENDPOINT, _HEADERS,
// _TIMEOUT, _COMPRESSION, _CERTIFICATE) and how they are batched (OTEL_BSP_*) are
// read by the OTLP/HTTP exporter and the SDK themselves, under their standard names.
type TracingConfig struct {
	// Enabled builds an SDK tracer provider exporting over OTLP/HTTP (protobuf);
	// false installs a no-op provider, whose spans cost an interface call.
	Enabled bool
	// Sampler is an OTEL_TRACES_SAMPLER name: always_on, always_off,
	// traceidratio, parentbased_always_on, parentbased_always_off,
	// parentbased_traceidratio. Empty means parentbased_always_on.
	Sampler string
	// SamplerArg is the ratio of the traceidratio samplers, [0, 1].
	SamplerArg float64
	// ServiceName names this program in traces; empty means "gigstream".
	ServiceName string
	Release     string // service.version
	Environment string // deployment.environment.name
}

// Tracing owns the tracer provider of the process.
type Tracing struct {
	provider trace.TracerProvider
	shutdown func(context.Context) error
}

// NewTracing builds the tracer provider cfg describes and installs it, with the W3C
// trace-context propagator, as the process-wide default (otel.SetTracerProvider), so
// that the instrumentation libraries and our own spans share it. It returns an error
// for an unknown sampler or an exporter that cannot be built.
func NewTracing(ctx context.Context, cfg TracingConfig) (*Tracing, error) {
	otel.SetTextMapPropagator(propagation.TraceContext{})
	if !cfg.Enabled {
		tp := noop.NewTracerProvider()
		otel.SetTracerProvider(tp)
		return &Tracing{provider: tp, shutdown: func(context.Context) error { return nil }}, nil
	}
	sampler, err := Sampler(cfg.Sampler, cfg.SamplerArg)
	if err != nil {
		return nil, err
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("otlp trace exporter: %w", err)
	}
	name := cfg.ServiceName
	if name == "" {
		name = "gigstream"
	}
	res := resource.NewSchemaless(attribute.String("service.name", name), attribute.String("service.version", cfg.Release),
		attribute.String("deployment.environment.name", cfg.Environment))
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithSampler(sampler), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	return &Tracing{provider: tp, shutdown: tp.Shutdown}, nil
}

// Sampler returns the sampler an OTEL_TRACES_SAMPLER name and argument describe.
// It returns an error naming the variable for an unknown name or a ratio outside
// [0, 1].
func Sampler(name string, arg float64) (sdktrace.Sampler, error) {
	if arg < 0 || arg > 1 {
		return nil, fmt.Errorf("OTEL_TRACES_SAMPLER_ARG: %v is not a ratio in [0, 1]", arg)
	}
	switch name {
	case "always_on":
		return sdktrace.AlwaysSample(), nil
	case "always_off":
		return sdktrace.NeverSample(), nil
	case "traceidratio":
		return sdktrace.TraceIDRatioBased(arg), nil
	case "", "parentbased_always_on":
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), nil
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample()), nil
	case "parentbased_traceidratio":
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(arg)), nil
	}
	return nil, fmt.Errorf("OTEL_TRACES_SAMPLER: unknown sampler %q", name)
}

// Provider is the tracer provider to hand to instrumentation.
func (t *Tracing) Provider() trace.TracerProvider { return t.provider }

// Enabled reports whether spans are recorded and exported anywhere.
func (t *Tracing) Enabled() bool {
	_, noopProvider := t.provider.(noop.TracerProvider)
	return !noopProvider
}

// Shutdown exports the spans still queued, waiting at most 5 seconds.
func (t *Tracing) Shutdown(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := t.shutdown(ctx); err != nil {
		return fmt.Errorf("tracing shutdown: %w", err)
	}
	return nil
}

// ChildSpansOnly wraps tp so that its tracers start spans only inside a trace: a
// Start on a context without a span returns that context and a non-recording span.
// Clients used both for requests and for background loops (Redis for presence and
// pub/sub, S3 for upkeep) then add detail to traces without making a root span of
// every poll.
func ChildSpansOnly(tp trace.TracerProvider) trace.TracerProvider { return childOnlyProvider{tp} }

type childOnlyProvider struct{ trace.TracerProvider }

func (p childOnlyProvider) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	return childOnlyTracer{p.TracerProvider.Tracer(name, opts...)}
}

type childOnlyTracer struct{ trace.Tracer }

func (t childOnlyTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ctx, trace.SpanFromContext(ctx)
	}
	return t.Tracer.Start(ctx, name, opts...)
}
