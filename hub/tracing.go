package hub

import (
	"context"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// tracerName is the instrumentation scope of the hub's spans.
const tracerName = "github.com/gigstream/hub/hub"

// An event whose Event.Trace names a W3C traceparent is followed through the hub as
// three kinds of span in that trace: hub.publish on the node that publishes it
// (until the broker took it), hub.fan_out on every node that hands it to its local
// subscribers, and hub.socket.write for each socket it is written to. The context
// crosses nodes in the broker envelope (envelopeV2), never in the client's frame.
// Events without a trace cost nothing: no span is started.

// traceContext is the span context a traceparent names, or the zero one.
func traceContext(traceparent string) trace.SpanContext {
	if traceparent == "" {
		return trace.SpanContext{}
	}
	ctx := propagation.TraceContext{}.Extract(context.Background(), propagation.MapCarrier{"traceparent": traceparent})
	return trace.SpanContextFromContext(ctx)
}

// traceParentOf renders the span context of ctx as a W3C traceparent.
func traceParentOf(ctx context.Context) string {
	c := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, c)
	return c["traceparent"]
}

// startPublishSpan starts the hub.publish span of an event carrying a traceparent
// and returns it with the traceparent to put in the envelope; nil and "" for an
// event without one.
func (n *Node) startPublishSpan(channel string, ev Event) (trace.Span, string) {
	parent := traceContext(ev.Trace)
	if n.tracer == nil || !parent.IsValid() {
		return nil, ""
	}
	ctx := trace.ContextWithRemoteSpanContext(context.Background(), parent)
	ctx, span := n.tracer.Start(ctx, "hub.publish", trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(channelAttrs(channel, ev.Seq)...))
	return span, traceParentOf(ctx)
}

// startFanOutSpan starts the hub.fan_out span of an envelope's traceparent; nil when
// it has none.
func (n *Node) startFanOutSpan(channel string, seq uint64, traceparent string) trace.Span {
	parent := traceContext(traceparent)
	if n.tracer == nil || !parent.IsValid() {
		return nil
	}
	ctx := trace.ContextWithRemoteSpanContext(context.Background(), parent)
	_, span := n.tracer.Start(ctx, "hub.fan_out", trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(channelAttrs(channel, seq)...))
	return span
}

// endSpan ends span (which may be nil), marking it failed when err is not nil.
func endSpan(span trace.Span, err error) {
	if span == nil {
		return
	}
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// writeSpan starts the hub.socket.write span of a traced frame; nil for the others.
func (c *client) writeSpan(f outFrame) trace.Span {
	if f.trace == nil || c.node.tracer == nil {
		return nil
	}
	ctx := trace.ContextWithSpanContext(context.Background(), *f.trace)
	_, span := c.node.tracer.Start(ctx, "hub.socket.write", trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(attribute.Int("messaging.message.body.size", f.size)))
	return span
}

// channelAttrs names the channel's kind (conversation, order, user), never its id.
func channelAttrs(channel string, seq uint64) []attribute.KeyValue {
	kind, _, _ := strings.Cut(channel, ":")
	return []attribute.KeyValue{attribute.String("messaging.system", "gigstream"),
		attribute.String("gigstream.channel_kind", kind), attribute.Int64("gigstream.seq", int64(seq))}
}
