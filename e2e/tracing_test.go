package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/gigstream/hub/telemetry/otlptest"
)

// TestChatMessageIsOneTrace runs two nodes exporting spans over OTLP/HTTP to a local
// receiver. A message sent over HTTP to node 0, with a W3C traceparent of the
// caller's, reaches the recipient's socket on node 1; the trace the caller started
// then holds the route's server span, SQL statements under it, the event's
// hub.publish on node 0, its hub.fan_out on node 1 (the context crossed in the
// Redis envelope) and the socket write under that, all with the caller's trace id.
// The frame the client got carries no trace context.
func TestChatMessageIsOneTrace(t *testing.T) {
	rec := otlptest.New(t)
	nodes := startCluster(t, 2, realtimeEnv(map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": rec.Endpoint(), "OTEL_TRACES_SAMPLER": "parentbased_always_on",
		"OTEL_BSP_SCHEDULE_DELAY": "200", "OTEL_SERVICE_NAME": "gigstream-e2e",
	}))
	a, b, _, _, conv := chatPair(t, nodes[0])
	channel := "conversation:" + conv
	sb := mustDial(t, nodes[1], b.bearer)
	sb.subscribe(channel, nil)

	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	r := a.do("POST", "/conversations/"+conv+"/messages", map[string]string{"client_id": newClientID(), "text": "traced hello"},
		"traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	expect(t, r, 201, "send a traced message")
	ev := sb.eventOfType(channel, "message.created", 20*time.Second)
	if strings.Contains(string(ev.Data), traceID) {
		t.Fatalf("the client's frame carries the trace id: %s", ev.Data)
	}

	inTrace := func(spans []otlptest.Span) map[string][]otlptest.Span {
		out := map[string][]otlptest.Span{}
		for _, s := range spans {
			if s.TraceID == traceID {
				out[s.Name] = append(out[s.Name], s)
			}
		}
		return out
	}
	route := "POST /conversations/:id/messages"
	spans := rec.WaitFor(t, 30*time.Second, "of the route, SQL, publish, fan-out and socket write in one trace", func(spans []otlptest.Span) bool {
		got := inTrace(spans)
		return len(got[route]) == 1 && len(got["hub.publish"]) > 0 && len(got["hub.fan_out"]) > 0 && len(got["hub.socket.write"]) > 0 && sqlSpans(spans, traceID) > 0
	})
	got := inTrace(spans)
	server := got[route][0]
	if server.ParentID != "00f067aa0ba902b7" || server.Kind.String() != "SPAN_KIND_SERVER" || server.Service != "gigstream-e2e" ||
		server.Attributes["http.response.status_code"] != "201" || server.Attributes["http.route"] != "/conversations/:id/messages" {
		t.Fatalf("route span: %+v", server)
	}
	byID := map[string]otlptest.Span{}
	for _, s := range spans {
		byID[s.SpanID] = s
	}
	// The message's publish descends from the request; its fan-out on node 1 is a
	// child of that publish, and the socket write a child of the fan-out.
	var publish otlptest.Span
	for _, p := range got["hub.publish"] {
		if p.Attributes["gigstream.channel_kind"] == "conversation" {
			publish = p
		}
	}
	if publish.SpanID == "" || !descends(byID, publish, server.SpanID) {
		t.Fatalf("no conversation publish under the route span: %+v", got["hub.publish"])
	}
	var fanOut otlptest.Span
	for _, f := range got["hub.fan_out"] {
		if f.ParentID == publish.SpanID {
			fanOut = f
		}
	}
	if fanOut.SpanID == "" {
		t.Fatalf("no fan-out under the publish %s: %+v", publish.SpanID, got["hub.fan_out"])
	}
	write := false
	for _, w := range got["hub.socket.write"] {
		write = write || w.ParentID == fanOut.SpanID
	}
	if !write {
		t.Fatalf("no socket write under the fan-out: %+v", got["hub.socket.write"])
	}
	for _, s := range spans {
		if s.TraceID == traceID && s.Attributes["db.system.name"] == "postgresql" && !descends(byID, s, server.SpanID) {
			t.Fatalf("SQL span %q outside the route span", s.Name)
		}
	}
}

// sqlSpans counts the statements' spans in the trace.
func sqlSpans(spans []otlptest.Span, traceID string) int {
	n := 0
	for _, s := range spans {
		if s.TraceID == traceID && s.Attributes["db.system.name"] == "postgresql" {
			n++
		}
	}
	return n
}

// descends reports whether s has ancestor among the spans' parents.
func descends(byID map[string]otlptest.Span, s otlptest.Span, ancestor string) bool {
	for i := 0; i < 64 && s.ParentID != ""; i++ {
		if s.ParentID == ancestor {
			return true
		}
		s = byID[s.ParentID]
	}
	return false
}
