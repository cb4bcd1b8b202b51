package hub

import (
	"context"
	"time"

	"github.com/fasthttp/websocket"
)

// ServeConn runs one WebSocket until it closes. The handlers package calls
// it from its contrib websocket.New handler, after its own Origin and
// authentication checks, passing the embedded *websocket.Conn (c.Conn):
//
//	app.Get("/ws", checkOriginAndAuth, websocket.New(func(c *websocket.Conn) {
//		_ = node.ServeConn(ctx, c.Conn, hub.ClientInfo{UserID: uid, SessionID: sid})
//	}))
//
// It returns only when neither of the socket's goroutines can touch conn
// any more (fasthttp reuses connection objects), and with the TCP
// connection really closed. ctx cancels the socket. It returns
// ErrShuttingDown when the node is draining (the client got 1001) and
// ErrNotStarted before Start.
func (n *Node) ServeConn(ctx context.Context, conn *websocket.Conn, info ClientInfo) error {
	c := newClient(ctx, n, conn, info)
	if err := n.register(c); err != nil {
		code := CloseGoingAway
		msg := websocket.FormatCloseMessage(code, "server shutting down: reconnect")
		_ = conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(n.cfg.WriteTimeout))
		_ = underlyingConn(conn.NetConn()).Close()
		return err
	}
	defer n.sockets.Done()
	n.announce(c)
	c.send(rawFrame(n.hello.frame(c.id)))
	c.queue.startWriting(func() { go c.writeLoop() }, n.cfg.PingInterval)
	stop := context.AfterFunc(c.ctx, func() { c.close(CloseGoingAway, "server shutting down: reconnect", true) })
	c.readLoop()
	stop()
	close(c.readerDone)
	c.close(CloseAbnormal, "connection lost", false)
	<-c.writerDone
	c.queue.stopWriting()
	c.cut()
	c.release()
	n.unregister(c)
	return nil
}

// register admits a socket unless the node is draining.
func (n *Node) register(c *client) error {
	n.lifeMu.Lock()
	defer n.lifeMu.Unlock()
	if !n.started {
		return ErrNotStarted
	}
	if n.draining {
		return ErrShuttingDown
	}
	n.sockets.Add(1)
	n.users.add(c)
	n.metrics.connections.Inc()
	return nil
}

// announce queues the presence change and runs OnConnect.
func (n *Node) announce(c *client) {
	if c.info.UserID != "" {
		n.presenceOut.queue(PresenceChange{UserID: c.info.UserID, ConnID: c.id, Connected: true})
	}
	if cb := n.cfg.Callbacks.OnConnect; cb != nil {
		onFreshStack(func() { cb(c.ctx, c.info) }) // the domain's code: see onFreshStack
	}
}

// unregister forgets a closed socket everywhere.
func (n *Node) unregister(c *client) {
	c.unsubscribeAll()
	n.users.remove(c)
	n.metrics.connections.Dec()
	code, reason, _ := c.closeInfo()
	n.metrics.disconnects.WithLabelValues(closeCodeLabel(code)).Inc()
	c.cancel()
	if c.info.UserID != "" {
		n.presenceOut.queue(PresenceChange{UserID: c.info.UserID, ConnID: c.id})
	}
	if cb := n.cfg.Callbacks.OnDisconnect; cb != nil {
		ctx, cancel := context.WithTimeout(n.ctx, n.cfg.CallbackTimeout)
		defer cancel()
		cb(ctx, c.info, code, reason)
	}
}

func closeCodeLabel(code int) string {
	switch code {
	case CloseNormal, CloseGoingAway, CloseUnsupported, CloseAbnormal, ClosePolicy, CloseTooBig,
		CloseInternal, CloseSlowConsumer, CloseSessionEnded, CloseHeartbeatMiss:
		return itoa(code)
	}
	return "other"
}

func itoa(i int) string {
	var b [20]byte
	p := len(b)
	for {
		p--
		b[p] = byte('0' + i%10)
		if i /= 10; i == 0 {
			return string(b[p:])
		}
	}
}
