package hub

import (
	"context"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestMetricsRegistered(t *testing.T) {
	reg := prometheus.NewRegistry()
	n := newTestNode(t, Config{Registerer: reg})
	c := dial(t, serve(t, n, serveOptions{}), "u")
	c.mustSubscribe("user:u")
	_ = n.Publish(context.Background(), "user:u", Event{Type: "x", Data: []byte("1")})
	c.next()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, f := range families {
		got[f.GetName()] = true
	}
	for _, name := range []string{"gigstream_hub_connections", "gigstream_hub_subscriptions",
		"gigstream_hub_frames_in_total", "gigstream_hub_frames_out_total",
		"gigstream_hub_broker_published_total", "gigstream_hub_broker_received_total"} {
		if !got[name] {
			t.Errorf("metric %s not gathered", name)
		}
	}
	if _, err := NewNode(Config{Registerer: reg}); err == nil {
		t.Error("a second node on the same registry should fail to register")
	}
}

func TestConnectDisconnectCallbacksAndPresence(t *testing.T) {
	var mu sync.Mutex
	var events []string
	record := func(s string) {
		mu.Lock()
		events = append(events, s)
		mu.Unlock()
	}
	n := newTestNode(t, Config{Callbacks: Callbacks{Authorize: allowAll,
		OnConnect: func(_ context.Context, info ClientInfo) { record("connect " + info.UserID) },
		OnDisconnect: func(_ context.Context, info ClientInfo, code int, _ string) {
			record("disconnect " + info.UserID + " " + itoa(code))
		},
	}})
	c := dial(t, serve(t, n, serveOptions{}), "pat")
	if online, err := n.IsOnline(context.Background(), "pat"); err != nil || !online {
		t.Fatalf("IsOnline while connected = %v, %v", online, err)
	}
	_ = c.ws.WriteControl(8, []byte{0x03, 0xe8}, timeNowPlusGuard()) // close 1000
	eventually(t, "the disconnect callback", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(events) == 2
	})
	if events[0] != "connect pat" || events[1] != "disconnect pat 1000" {
		t.Fatalf("callbacks = %v", events)
	}
	if online, _ := n.IsOnline(context.Background(), "pat"); !online {
		t.Fatal("user offline inside the grace window")
	}
}
