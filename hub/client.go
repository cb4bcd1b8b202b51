package hub

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/fasthttp/websocket"
)

// client is one WebSocket: the goroutine in ServeConn reads, writeLoop
// writes, and nothing else touches the socket except through connMu.
type client struct {
	node      *Node
	ws        *websocket.Conn
	info      ClientInfo
	id        string
	connected time.Time
	ctx       context.Context
	cancel    context.CancelFunc
	queue     *sendQueue
	bucket    tokenBucket
	auth      authorizations // subscribe authorizations: remembered and budgeted

	subsMu sync.Mutex
	subs   map[string]*subscription

	closeOnce   sync.Once
	closing     chan struct{}
	closeCode   int
	closeReason string
	closeFrame  bool

	readerDone chan struct{}
	writerDone chan struct{}

	connMu   sync.Mutex // orders deadline changes and the final cut
	kicked   bool       // the reader must not extend its deadline any more
	released bool       // ServeConn returned: the conn may belong to someone else
}

func newClient(ctx context.Context, n *Node, ws *websocket.Conn, info ClientInfo) *client {
	c := &client{
		node: n, ws: ws, info: info, id: randomID(), connected: time.Now(),
		queue:      newSendQueue(n.cfg.SendQueueBytes),
		bucket:     newTokenBucket(n.cfg.FrameRate, n.cfg.FrameBurst),
		auth:       authorizations{bucket: newTokenBucket(n.cfg.AuthorizeRate, n.cfg.AuthorizeBurst)},
		subs:       make(map[string]*subscription),
		closing:    make(chan struct{}),
		readerDone: make(chan struct{}),
		writerDone: make(chan struct{}),
	}
	c.ctx, c.cancel = context.WithCancel(ctx)
	return c
}

// send queues a frame; an overflow cuts the socket as a slow consumer.
func (c *client) send(f outFrame) {
	if !c.queue.push(f) {
		c.node.metrics.slowConsumers.Inc()
		c.close(CloseSlowConsumer, "slow consumer", true)
		c.bumpWriteDeadline()
	}
}

func (c *client) sendError(id uint64, e *Error, channel string) {
	c.send(rawFrame(errorFrame(id, e, channel)))
}

// close starts closing the socket once; later calls are ignored. With
// frame set the writer announces code and reason to the peer.
func (c *client) close(code int, reason string, frame bool) {
	c.closeOnce.Do(func() {
		if len(reason) > 120 { // a close frame carries at most 123 bytes of text
			reason = reason[:120]
		}
		c.closeCode, c.closeReason, c.closeFrame = code, reason, frame
		c.queue.close()
		close(c.closing)
	})
}

func (c *client) closeInfo() (int, string, bool) {
	<-c.closing
	return c.closeCode, c.closeReason, c.closeFrame
}

func (c *client) isClosing() bool {
	select {
	case <-c.closing:
		return true
	default:
		return false
	}
}

// bumpWriteDeadline bounds a write that may be blocked on a peer that
// stopped reading, so the writer gets to the close frame or gives up.
func (c *client) bumpWriteDeadline() {
	c.connMu.Lock()
	defer c.connMu.Unlock()
	if !c.released {
		_ = c.ws.NetConn().SetWriteDeadline(time.Now().Add(c.node.cfg.CloseTimeout))
	}
}

// extendReadDeadline keeps a live peer's socket open; a peer silent past
// PingInterval+PongTimeout has its read fail.
func (c *client) extendReadDeadline() {
	c.connMu.Lock()
	defer c.connMu.Unlock()
	if !c.kicked {
		_ = c.ws.NetConn().SetReadDeadline(time.Now().Add(c.node.cfg.PingInterval + c.node.cfg.PongTimeout))
	}
}

// kickReader makes the reader's current or next read fail at once.
func (c *client) kickReader() {
	c.connMu.Lock()
	defer c.connMu.Unlock()
	c.kicked = true
	if !c.released {
		_ = c.ws.NetConn().SetReadDeadline(time.Unix(1, 0))
	}
}

// cut really closes the TCP connection. fasthttp's hijacked conn ignores
// Close unless the server sets KeepHijackedConns, so close what it wraps.
func (c *client) cut() {
	c.connMu.Lock()
	defer c.connMu.Unlock()
	if c.released {
		return
	}
	c.kicked = true
	_ = underlyingConn(c.ws.NetConn()).Close()
}

// release marks the conn as no longer ours (fasthttp reuses it).
func (c *client) release() {
	c.connMu.Lock()
	c.released = true
	c.connMu.Unlock()
}

func underlyingConn(nc net.Conn) net.Conn {
	if u, ok := nc.(interface{ UnsafeConn() net.Conn }); ok {
		return u.UnsafeConn()
	}
	return nc
}

// readLoop reads frames until the connection fails or is kicked.
func (c *client) readLoop() {
	c.ws.SetReadLimit(c.node.cfg.MaxFrameBytes)
	c.ws.SetPongHandler(func(string) error { c.extendReadDeadline(); return nil })
	for {
		c.extendReadDeadline()
		kind, msg, err := c.ws.ReadMessage()
		if err != nil {
			c.closeOnReadError(err)
			return
		}
		if c.isClosing() {
			continue // waiting for the peer's close frame
		}
		c.node.metrics.framesIn.Inc()
		c.handleMessage(kind, msg)
	}
}

func (c *client) handleMessage(kind int, msg []byte) {
	switch {
	case !c.bucket.allow(time.Now()):
		c.close(ClosePolicy, "frame rate exceeded", true)
	case kind != websocket.TextMessage:
		c.close(CloseUnsupported, "binary frames are not supported", true)
	default:
		onFreshStack(func() { c.handleFrame(msg) })
	}
}

// onFreshStack runs f on a short-lived goroutine and waits for it, passing
// on its panic. A goroutine's stack never shrinks below what it once used
// while it stays deep, so work that needs a deep stack (the domain's
// callbacks, Redis calls, encoding/json) must not run on a socket's reader:
// an idle reader, parked in its read, then fits its starting stack for
// good. The caller blocks, so order is kept.
func onFreshStack(f func()) {
	var p any
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() { p = recover() }()
		f()
	}()
	<-done
	if p != nil {
		panic(p)
	}
}

func (c *client) closeOnReadError(err error) {
	var ce *websocket.CloseError
	var ne net.Error
	switch {
	case errors.Is(err, websocket.ErrReadLimit):
		c.close(CloseTooBig, "frame too big", false) // the library already sent 1009
	case errors.As(err, &ce):
		c.close(ce.Code, ce.Text, false) // the library already answered
	case errors.As(err, &ne) && ne.Timeout() && !c.isClosing():
		c.close(CloseHeartbeatMiss, "heartbeat timeout", true)
	default:
		c.close(CloseAbnormal, "connection lost", false)
	}
}
