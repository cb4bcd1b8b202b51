package hub

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestPublishReachesSubscriber(t *testing.T) {
	n := newTestNode(t, Config{})
	url := serve(t, n, serveOptions{})
	c := dial(t, url, "u1")
	c.mustSubscribe("conversation:1")

	ctx := context.Background()
	if err := n.Publish(ctx, "conversation:1", Event{Type: "typing", Data: jsonData(`{"user":"u2"}`)}); err != nil {
		t.Fatal(err)
	}
	if err := n.Publish(ctx, "conversation:1", Event{Seq: 1, Type: "message.created", Data: jsonData(`"hi"`)}); err != nil {
		t.Fatal(err)
	}
	ev := c.next()
	if ev.Op != OpEvent || ev.Channel != "conversation:1" || ev.Type != "typing" || ev.Seq != 0 || string(ev.Data) != `{"user":"u2"}` {
		t.Fatalf("ephemeral event = %+v", ev)
	}
	ev = c.next()
	if ev.Seq != 1 || ev.Type != "message.created" || string(ev.Data) != `"hi"` {
		t.Fatalf("durable event = %+v", ev)
	}
}

func TestPublishRejectsBadInput(t *testing.T) {
	n := newTestNode(t, Config{})
	ctx := context.Background()
	if err := n.Publish(ctx, "bad channel", Event{Type: "x", Data: jsonData(`1`)}); !errors.Is(err, ErrInvalidChannel) {
		t.Fatalf("bad channel: %v", err)
	}
	if err := n.Publish(ctx, "c:1", Event{Type: "x", Data: jsonData(`{`)}); !errors.Is(err, ErrInvalidEvent) {
		t.Fatalf("bad data: %v", err)
	}
}

func TestUnauthorizedSubscribeRefused(t *testing.T) {
	broker := NewMemoryBroker()
	n := newTestNode(t, Config{Broker: broker, Callbacks: Callbacks{
		Authorize: func(_ context.Context, info ClientInfo, channel string) error {
			if channel == "user:"+info.UserID {
				return nil
			}
			return errors.New("order 42 belongs to someone else")
		},
	}})
	c := dial(t, serve(t, n, serveOptions{}), "7")
	f := c.subscribe("order:42")
	if f.Op != OpError || f.Code != CodeForbidden || strings.Contains(f.Message, "42") {
		t.Fatalf("refused subscribe answered %+v", f)
	}
	if broker.Channels() != 0 {
		t.Fatalf("broker subscribed %d channels for a refused subscribe", broker.Channels())
	}
	c.mustSubscribe("user:7")
	_ = n.Publish(context.Background(), "order:42", Event{Type: "secret", Data: jsonData(`1`)})
	_ = n.Publish(context.Background(), "user:7", Event{Type: "mine", Data: jsonData(`2`)})
	if ev := c.next(); ev.Type != "mine" {
		t.Fatalf("got %+v, want only the user's own event", ev)
	}
}

func TestNilAuthorizeRefusesEverything(t *testing.T) {
	n, err := NewNode(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Shutdown(context.Background()) })
	c := dial(t, serve(t, n, serveOptions{}), "u")
	if f := c.subscribe("user:u"); f.Code != CodeForbidden {
		t.Fatalf("got %+v", f)
	}
}

func TestMalformedFramesGetErrorsAndSocketStaysUsable(t *testing.T) {
	n := newTestNode(t, Config{})
	c := dial(t, serve(t, n, serveOptions{}), "u")
	cases := []struct{ frame, code string }{
		{`not json`, CodeBadFrame},
		{`{"op":"subscribe","id":1}`, CodeBadChannel},
		{`{"op":"subscribe","id":2,"channel":"has space"}`, CodeBadChannel},
		{`{"op":"launch","id":3}`, CodeUnknownOp},
		{`{"op":"ping","id":-4}`, CodeBadFrame},
		{`{"op":"publish","id":5,"channel":"c:1","type":"t","data":{]}`, CodeBadFrame},
		{`[1,2,3]`, CodeBadFrame},
	}
	for _, tc := range cases {
		c.send(tc.frame)
		if f := c.next(); f.Op != OpError || f.Code != tc.code {
			t.Errorf("%s: got %+v, want error %s", tc.frame, f, tc.code)
		}
	}
	if f, _ := c.request(OpPing, nil); f.Op != OpReply || !f.OK {
		t.Fatalf("ping after malformed frames: %+v", f)
	}
}

func TestSubscribeErrors(t *testing.T) {
	n := newTestNode(t, Config{MaxSubscriptions: 1})
	c := dial(t, serve(t, n, serveOptions{}), "u")
	c.mustSubscribe("a:1")
	if f := c.subscribe("a:1"); f.Code != CodeAlreadySubscribed {
		t.Fatalf("double subscribe: %+v", f)
	}
	if f := c.subscribe("a:2"); f.Code != CodeTooManyChannels {
		t.Fatalf("over the cap: %+v", f)
	}
	if f, _ := c.request(OpUnsubscribe, map[string]any{"channel": "a:9"}); f.Code != CodeNotSubscribed {
		t.Fatalf("unsubscribe unknown: %+v", f)
	}
}

func TestBrokerSubscriptionsAreReferenceCounted(t *testing.T) {
	broker := NewMemoryBroker()
	n := newTestNode(t, Config{Broker: broker})
	url := serve(t, n, serveOptions{})
	a, b := dial(t, url, "a"), dial(t, url, "b")
	a.mustSubscribe("conversation:9")
	b.mustSubscribe("conversation:9")
	if got := broker.Channels(); got != 1 {
		t.Fatalf("broker channels = %d, want 1", got)
	}
	if f, _ := a.request(OpUnsubscribe, map[string]any{"channel": "conversation:9"}); f.Op != OpReply {
		t.Fatalf("unsubscribe: %+v", f)
	}
	if got := broker.Channels(); got != 1 {
		t.Fatalf("broker channels after one unsubscribe = %d, want 1", got)
	}
	_ = b.ws.Close()
	eventually(t, "the last subscriber's channel to leave the broker", func() bool { return broker.Channels() == 0 })
}

func TestUnsubscribeStopsDelivery(t *testing.T) {
	n := newTestNode(t, Config{})
	c := dial(t, serve(t, n, serveOptions{}), "u")
	c.mustSubscribe("a:1")
	c.mustSubscribe("a:2")
	c.request(OpUnsubscribe, map[string]any{"channel": "a:1"})
	_ = n.Publish(context.Background(), "a:1", Event{Type: "gone", Data: jsonData(`1`)})
	_ = n.Publish(context.Background(), "a:2", Event{Type: "kept", Data: jsonData(`2`)})
	if ev := c.next(); ev.Type != "kept" {
		t.Fatalf("got %+v after unsubscribe", ev)
	}
}

func TestClientEventCallback(t *testing.T) {
	var n *Node
	n = newTestNode(t, Config{Callbacks: Callbacks{
		Authorize: allowAll,
		ClientEvent: func(ctx context.Context, info ClientInfo, channel, typ string, data []byte) error {
			if typ != "typing" {
				return &Error{Code: "not_typing", Message: "only typing"}
			}
			return n.Publish(ctx, channel, Event{Type: "typing", Data: []byte(`"` + info.UserID + `"`)})
		},
	}})
	url := serve(t, n, serveOptions{})
	watcher, typist := dial(t, url, "w"), dial(t, url, "t")
	watcher.mustSubscribe("conversation:3")
	f, _ := typist.request(OpPublish, map[string]any{"channel": "conversation:3", "type": "typing", "data": true})
	if f.Op != OpReply {
		t.Fatalf("client event: %+v", f)
	}
	if ev := watcher.next(); ev.Type != "typing" || string(ev.Data) != `"t"` {
		t.Fatalf("watcher got %+v", ev)
	}
	f, _ = typist.request(OpPublish, map[string]any{"channel": "conversation:3", "type": "shout", "data": 1})
	if f.Code != "not_typing" {
		t.Fatalf("refused client event: %+v", f)
	}
}

func TestAckCallback(t *testing.T) {
	acked := make(chan uint64, 1)
	n := newTestNode(t, Config{Callbacks: Callbacks{Authorize: allowAll,
		Ack: func(_ context.Context, _ ClientInfo, channel string, seq uint64) error {
			acked <- seq
			return nil
		}}})
	c := dial(t, serve(t, n, serveOptions{}), "u")
	if f, _ := c.request(OpAck, map[string]any{"channel": "conversation:1", "seq": 12}); f.Op != OpReply {
		t.Fatalf("ack: %+v", f)
	}
	if got := <-acked; got != 12 {
		t.Fatalf("acked %d", got)
	}
}

func TestSetCallbacksBeforeStartOnly(t *testing.T) {
	n, err := NewNode(Config{})
	if err != nil {
		t.Fatal(err)
	}
	// The callback publishes through the node it is installed on: the wiring that
	// SetCallbacks is for.
	if err := n.SetCallbacks(Callbacks{Authorize: allowAll,
		ClientEvent: func(ctx context.Context, info ClientInfo, channel, typ string, _ []byte) error {
			return n.Publish(ctx, channel, Event{Type: typ, Data: []byte(`"` + info.UserID + `"`)})
		},
	}); err != nil {
		t.Fatalf("before Start: %v", err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), guard)
		defer cancel()
		_ = n.Shutdown(ctx)
	})
	if err := n.SetCallbacks(Callbacks{}); !errors.Is(err, ErrStarted) {
		t.Fatalf("after Start: %v, want ErrStarted", err)
	}
	url := serve(t, n, serveOptions{})
	watcher, typist := dial(t, url, "w"), dial(t, url, "t")
	watcher.mustSubscribe("conversation:3")
	if f, _ := typist.request(OpPublish, map[string]any{"channel": "conversation:3", "type": "typing", "data": true}); f.Op != OpReply {
		t.Fatalf("client event: %+v", f)
	}
	if ev := watcher.next(); ev.Type != "typing" || string(ev.Data) != `"t"` {
		t.Fatalf("watcher got %+v; the callbacks installed before Start must stay", ev)
	}
}
