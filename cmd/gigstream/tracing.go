package main

import (
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/redis/go-redis/extra/redisotel/v9"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/gigstream/hub/telemetry"
)

// OpenTelemetry tracing is wired here, and only when it is on (cfg.Telemetry.tracer
// set by startTracing): off, nothing is wrapped and no span is started anywhere.
// Requests (handlers), statements (store), jobs (otelriver) and events through the
// hub are traced by their packages from the provider handed to them; the clients of
// other services are wrapped below.

// outboundTransport wraps the default transport in client spans named after the
// service called. It propagates no trace context: trace ids stay inside the system,
// not in the requests that reach Stripe, PayPal, GA4 or S3.
func outboundTransport(tp trace.TracerProvider, service string) http.RoundTripper {
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.MaxIdleConnsPerHost = 64 // the default 2 would throttle S3's parallel parts
	return otelhttp.NewTransport(base, otelhttp.WithTracerProvider(telemetry.ChildSpansOnly(tp)),
		otelhttp.WithPropagators(propagation.NewCompositeTextMapPropagator()),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return service + " " + r.Method }))
}

// providerHTTP is the HTTP client of a provider's adapter: a traced one with timeout
// when tracing is on, nil (the adapter's own default) when it is off.
func providerHTTP(cfg config, service string, timeout time.Duration) *http.Client {
	if cfg.Telemetry.tracer == nil {
		return nil
	}
	return &http.Client{Timeout: timeout, Transport: outboundTransport(cfg.Telemetry.tracer, service)}
}

// traceAWS wraps an AWS SDK client's HTTP client (which keeps its own transport
// settings, such as a CA bundle) in client spans; nil when tracing is off.
func traceAWS(cfg config, service string) func(aws.HTTPClient) aws.HTTPClient {
	if cfg.Telemetry.tracer == nil {
		return nil
	}
	return func(inner aws.HTTPClient) aws.HTTPClient {
		return tracedDoer{otelhttp.NewTransport(doerTransport{inner}, otelhttp.WithTracerProvider(telemetry.ChildSpansOnly(cfg.Telemetry.tracer)),
			otelhttp.WithPropagators(propagation.NewCompositeTextMapPropagator()),
			otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return service + " " + r.Method }))}
	}
}

// doerTransport lets otelhttp's transport call an SDK client.
type doerTransport struct{ inner aws.HTTPClient }

func (d doerTransport) RoundTrip(r *http.Request) (*http.Response, error) { return d.inner.Do(r) }

// tracedDoer is an SDK client whose calls go through a traced transport.
type tracedDoer struct{ rt http.RoundTripper }

func (d tracedDoer) Do(r *http.Request) (*http.Response, error) { return d.rt.RoundTrip(r) }

// providerTransport is providerHTTP's transport alone: nil when tracing is off.
func providerTransport(cfg config, service string) http.RoundTripper {
	if cfg.Telemetry.tracer == nil {
		return nil
	}
	return outboundTransport(cfg.Telemetry.tracer, service)
}

// traceRedis adds a client span per Redis command (and per pipeline) when tracing is
// on; commands outside any trace (pollers, presence) start none.
func traceRedis(cfg config, rdb redis.UniversalClient) error {
	if cfg.Telemetry.tracer == nil {
		return nil
	}
	if err := redisotel.InstrumentTracing(rdb, redisotel.WithTracerProvider(telemetry.ChildSpansOnly(cfg.Telemetry.tracer)),
		redisotel.WithDBStatement(false), redisotel.WithCallerEnabled(false), redisotel.WithDialFilter(true)); err != nil {
		return fmt.Errorf("redis tracing: %w", err)
	}
	return nil
}
