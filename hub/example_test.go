package hub_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/gigstream/hub/hub"
)

// ExampleNode wires a single node in memory the way cmd/gigstream wires a cluster on
// Redis: the node first, then the domain that publishes through it, then the domain's
// decisions installed as callbacks, then Start.
func ExampleNode() {
	ctx := context.Background()
	node, err := hub.NewNode(hub.Config{}) // a MemoryBroker and a MemoryPresence: one node
	if err != nil {
		panic(err)
	}

	// The domain: here, who may subscribe, and a channel's durable events.
	history := map[string][]hub.Event{"order:42": {{Seq: 1, Type: "order.paid", Data: []byte(`{"id":"42"}`)}}}
	publish := func(ctx context.Context, channel string, ev hub.Event) error {
		history[channel] = append(history[channel], ev) // stored before it is published
		return node.Publish(ctx, channel, ev)
	}

	err = node.SetCallbacks(hub.Callbacks{
		Authorize: func(_ context.Context, info hub.ClientInfo, channel string) error {
			if channel != "user:"+info.UserID && channel != "order:42" {
				return errors.New("not yours")
			}
			return nil
		},
		History: func(_ context.Context, channel string, since uint64, limit int) ([]hub.Event, error) {
			var out []hub.Event
			for _, ev := range history[channel] {
				if ev.Seq > since && len(out) < limit {
					out = append(out, ev)
				}
			}
			return out, nil
		},
	})
	fmt.Println("callbacks:", err)
	if err := node.Start(ctx); err != nil {
		panic(err)
	}
	defer node.Shutdown(ctx)

	fmt.Println("publish:", publish(ctx, "order:42", hub.Event{Seq: 2, Type: "order.delivered", Data: []byte(`{"id":"42"}`)}))
	fmt.Println("bad channel:", node.Publish(ctx, "no channel", hub.Event{Type: "x", Data: []byte(`1`)}))
	online, err := node.IsOnline(ctx, "u1")
	fmt.Println("u1 online:", online, err)
	fmt.Println("callbacks after Start:", node.SetCallbacks(hub.Callbacks{}))
	// Output:
	// callbacks: <nil>
	// publish: <nil>
	// bad channel: hub: invalid channel name
	// u1 online: false <nil>
	// callbacks after Start: hub: node already started
}
