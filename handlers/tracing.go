package handlers

import (
	"strconv"

	"github.com/gofiber/fiber/v2"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// tracerName is the instrumentation scope of the HTTP spans.
const tracerName = "github.com/gigstream/hub/handlers"

// withTracing starts a server span per request, a child of the caller's W3C
// traceparent when it sends one, and puts it in the request's user context so the
// use cases, SQL, Redis and publishes below it join the trace. The span is named by
// the route pattern (never the path, which holds ids) once routing has chosen it,
// and carries method, route, status and request id; no header, query or body.
func withTracing(tp trace.TracerProvider) fiber.Handler {
	tracer := tp.Tracer(tracerName)
	prop := propagation.TraceContext{}
	return func(c *fiber.Ctx) error {
		ctx := prop.Extract(c.UserContext(), fasthttpCarrier{c})
		ctx, span := tracer.Start(ctx, c.Method(), trace.WithSpanKind(trace.SpanKindServer))
		defer span.End()
		c.SetUserContext(ctx)
		err := c.Next()
		status := c.Response().StatusCode()
		if err != nil {
			status = problemFor(err).Status
		}
		route := routeLabel(c)
		span.SetName(c.Method() + " " + route)
		span.SetAttributes(attribute.String("http.request.method", c.Method()), attribute.String("http.route", route),
			attribute.Int("http.response.status_code", status), attribute.String("gigstream.request_id", requestID(c)))
		if status >= fiber.StatusInternalServerError {
			span.SetStatus(codes.Error, strconv.Itoa(status))
		}
		return err
	}
}

// fasthttpCarrier reads and writes propagation headers of a Fiber request.
type fasthttpCarrier struct{ c *fiber.Ctx }

func (f fasthttpCarrier) Get(key string) string { return f.c.Get(key) }
func (f fasthttpCarrier) Set(key, value string) { f.c.Request().Header.Set(key, value) }

func (f fasthttpCarrier) Keys() []string {
	var keys []string
	f.c.Request().Header.VisitAll(func(k, _ []byte) { keys = append(keys, string(k)) })
	return keys
}
