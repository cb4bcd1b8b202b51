package hub

// Wiring, as cmd/ and handlers/ are expected to do it:
//
//	rdb := redis.NewClient(opts)
//	broker, _ := hub.NewRedisBroker(hub.RedisBrokerConfig{Client: rdb})
//	presence, _ := hub.NewRedisPresence(hub.RedisPresenceConfig{Client: rdb})
//	node, err := hub.NewNode(hub.Config{
//		Broker: broker, Presence: presence, Logger: logger, Registerer: prometheus.DefaultRegisterer,
//		Callbacks: hub.Callbacks{
//			Authorize:   market.AuthorizeChannel,   // user:{id}, conversation:{id}, order:{id}
//			History:     store.ChannelEventsSince,  // durable events, seq > since, ascending
//			ClientEvent: market.HandleClientEvent,  // typing → node.Publish(ctx, ch, hub.Event{Type: "typing", ...})
//			Ack:         market.MarkRead,
//		},
//	})
//	if err := node.Start(ctx); err != nil { ... }
//
//	// connection tokens (Config.TokenSecret): tok, exp, err := node.IssueToken(info) for
//	// POST /ws/token; info, err := node.VerifyToken(tok) before a ?token= upgrade.
//	// handlers: Origin and auth first (403/401), then the upgrade.
//	app.Get("/ws", requireOrigin, requireSession, websocket.New(func(c *websocket.Conn) {
//		info := hub.ClientInfo{UserID: c.Locals("user_id").(string), SessionID: c.Locals("session_id").(string)}
//		_ = node.ServeConn(context.Background(), c.Conn, info)
//	}, websocket.Config{Subprotocols: []string{hub.Subprotocol}}))
//
//	// after commit (outbox relay), durable: node.Publish(ctx, "order:42", hub.Event{Seq: seq, Type: "order.paid", Data: payload})
//	// logout / disable:                     node.DisconnectUser(ctx, userID, hub.CloseSessionEnded, "logged out")
//	// push decisions:                       online, err := node.IsOnline(ctx, userID)
//	// on SIGTERM, before app.Shutdown:      node.Shutdown(ctxWithDeadline)
//
// For the memory figures in shared/anchors/realtime.md, create the Fiber app
// with fiber.Config{ReduceMemoryUsage: true} and give websocket.Config small
// ReadBufferSize/WriteBufferSize (256) and a shared WriteBufferPool.
