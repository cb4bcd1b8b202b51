package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// BenchmarkFanOut1000Sockets publishes one event to a channel with 1,000
// real WebSocket subscribers on loopback and waits until every one has read
// it: the figure is the full publish → 1,000 receipts time.
func BenchmarkFanOut1000Sockets(b *testing.B) {
	benchFanOutSockets(b, Config{}, "", 1000)
}

// BenchmarkFanOutOneSocket is the publish → receipt time and the node's
// allocations for a channel with one subscriber, the shape of many-channel
// traffic (scenario 3 of bench-hub: 2,000 channels, one socket each).
func BenchmarkFanOutOneSocket(b *testing.B) {
	benchFanOutSockets(b, Config{}, "", 1)
}

// BenchmarkFanOut1000SocketsTraced is BenchmarkFanOut1000Sockets with a traced
// event on a node with a recording tracer (spans sampled, then dropped: no
// exporter), so the difference is the cost of hub.publish, hub.fan_out and the
// 1,000 hub.socket.write spans.
func BenchmarkFanOut1000SocketsTraced(b *testing.B) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	benchFanOutSockets(b, Config{Tracer: tp}, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", 1000)
}

func benchFanOutSockets(b *testing.B, cfg Config, traceparent string, subscribers int) {
	n := newTestNode(b, cfg)
	url := serve(b, n, serveOptions{})
	var received atomic.Int64
	arrived := make(chan struct{}, 1)
	var target atomic.Int64
	for i := range subscribers {
		ws, _, err := (&websocket.Dialer{}).Dial(fmt.Sprintf("%s?user=b%d", url, i), nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = ws.Close() })
		_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"op":"subscribe","id":1,"channel":"conversation:bench"}`))
		go func() {
			for {
				_, msg, err := ws.ReadMessage()
				if err != nil {
					return
				}
				if len(msg) > 12 && string(msg[:12]) == `{"op":"event` && received.Add(1) == target.Load() {
					arrived <- struct{}{}
				}
			}
		}()
	}
	eventually(b, "all subscriptions", func() bool { return n.metricsGauge("subscriptions") == float64(subscribers) })
	ev := Event{Type: "message.created", Data: []byte(`{"sent":1700000000000,"body":"hello from the benchmark"}`), Trace: traceparent}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		target.Store(int64(subscribers * (i + 1)))
		if err := n.Publish(context.Background(), "conversation:bench", ev); err != nil {
			b.Fatal(err)
		}
		select {
		case <-arrived:
		case <-time.After(guard):
			b.Fatalf("only %d of %d deliveries arrived", received.Load(), target.Load())
		}
	}
	elapsed := time.Since(start)
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(b.N)/1e6, "ms/fanout")
	b.ReportMetric(float64(b.N*subscribers)/elapsed.Seconds(), "deliveries/s")
}

// BenchmarkFanOutInProcess measures the node's share of a fan-out to 1,000
// subscriptions: preparing the frame once and queueing it per socket.
func BenchmarkFanOutInProcess(b *testing.B) {
	const subscribers = 1000
	n := newTestNode(b, Config{SendQueueBytes: 1 << 30})
	clients := make([]*client, subscribers)
	for i := range clients {
		c := newClient(context.Background(), n, nil, ClientInfo{UserID: fmt.Sprint(i)})
		s := newSubscription(c, "conversation:bench", 0, false)
		s.state = subLive
		n.channels.add(s)
		clients[i] = c
	}
	frame := encodeEventFrame("conversation:bench", Event{Type: "message.created", Data: []byte(`{"sent":1700000000000}`)})
	var scratch []outFrame
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n.fanOut("conversation:bench", 0, "", frame)
		if i%64 == 63 {
			for _, c := range clients {
				scratch = c.queue.take(scratch[:0])
				c.queue.mu.Lock()
				c.queue.bytes = 0
				c.queue.mu.Unlock()
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/subscribers, "ns/delivery")
}

var subscribeFrame = []byte(`{"op":"subscribe","id":17,"channel":"conversation:123456","since":4021}`)

func BenchmarkDecodeSubscribe(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := DecodeClientFrame(subscribeFrame); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}

// BenchmarkDecodeSubscribeEncodingJSON is the reflection baseline.
func BenchmarkDecodeSubscribeEncodingJSON(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		var f referenceFrame
		if err := json.Unmarshal(subscribeFrame, &f); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}

func BenchmarkEncodeEvent(b *testing.B) {
	ev := Event{Seq: 4022, Type: "message.created", Data: []byte(`{"sent":1700000000000,"body":"hello"}`)}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = appendEventFrame(buf[:0], "conversation:123456", ev)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}
