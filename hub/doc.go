// Package hub is GigStream's domain-free real-time engine: it moves opaque JSON
// payloads on named channels between WebSocket clients and the nodes of a cluster. It
// knows nothing about users, orders or conversations; the domain reaches it only
// through the callbacks in Callbacks, installed at wiring time.
//
// The wire protocol (version 1) is described in docs/protocol.md; the constants in
// protocol.go are its source of truth.
//
// Wiring, as cmd/gigstream does it (serve.go, realtime.go, chat.go): the domain
// publishes through the node and the node's callbacks are the domain's decisions, so
// the node is built first, the domain over it, and the callbacks installed with
// SetCallbacks before Start (ExampleNode runs the same steps in memory):
//
//	broker, _ := hub.NewRedisBroker(hub.RedisBrokerConfig{Client: rdb})
//	presence, _ := hub.NewRedisPresence(hub.RedisPresenceConfig{Client: rdb})
//	node, err := hub.NewNode(hub.Config{Broker: broker, Presence: presence, Registerer: reg})
//
//	realtime := market.NewRealtime(db, hubPublisher{node}, members, market.RealtimeConfig{}, log)
//	chat := market.NewChat(db, realtime, node, pusher, gate, market.ChatConfig{}, log)
//	err = node.SetCallbacks(hub.Callbacks{
//		Authorize:   func(ctx, info, channel) error { return realtime.AuthorizeChannel(ctx, info.UserID, channel) },
//		History:     history(realtime),        // realtime.History: durable events, seq > since, ascending
//		ClientEvent: clientEvent(chat),        // typing and message.send on conversation:{id}
//		Ack:         ack(chat),                // chat.MarkRead: read receipts
//	})
//	err = node.Start(ctx)
//
//	// handlers/realtime.go: Origin and authentication first (403/401), then the upgrade,
//	// and the admitted socket is served by the node:
//	err = node.ServeConn(ctx, conn, hub.ClientInfo{UserID: userID, SessionID: sessionID})
//
//	// after commit (and again from the outbox relay), a durable event:
//	err = node.Publish(ctx, "order:42", hub.Event{Seq: seq, Type: "order.paid", Data: payload})
//	// logout, session revocation, disable:
//	err = node.DisconnectSessions(ctx, userID, sessionIDs, hub.CloseSessionEnded, "session ended")
//	// push decisions:
//	online, err := node.IsOnline(ctx, userID)
//	// on SIGTERM, before the HTTP server drains:
//	err = node.Shutdown(ctxWithDeadline)
//
// For the memory figures in shared/anchors/realtime.md, create the Fiber app
// with fiber.Config{ReduceMemoryUsage: true} and give websocket.Config small
// ReadBufferSize/WriteBufferSize (256) and a shared WriteBufferPool.
package hub
