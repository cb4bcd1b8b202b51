package hub

import (
	"context"
	"sync"
	"time"

	"github.com/fasthttp/websocket"
)

// outFrame is one queued server frame: either an event prepared once and
// shared by every subscriber on the node, or bytes for this socket only.
type outFrame struct {
	pm   *websocket.PreparedMessage
	raw  []byte
	size int
}

func rawFrame(b []byte) outFrame { return outFrame{raw: b, size: len(b)} }

// sendQueue is a socket's outgoing queue, capped in bytes. Producers never
// block: a push past the cap fails and the socket is cut as a slow consumer.
type sendQueue struct {
	mu     sync.Mutex
	frames []outFrame
	bytes  int // queued plus taken-but-unwritten
	limit  int
	closed bool
	wake   chan struct{} // frames are waiting
	space  chan struct{} // the writer made room
}

func newSendQueue(limit int) *sendQueue {
	return &sendQueue{limit: limit, wake: make(chan struct{}, 1), space: make(chan struct{}, 1)}
}

// push queues f. It returns false when f would overflow the cap; a frame
// larger than the cap still goes through when the queue is empty. Pushes to
// a closed queue are dropped and reported as success.
func (q *sendQueue) push(f outFrame) bool {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return true
	}
	if q.bytes > 0 && q.bytes+f.size > q.limit {
		q.closeLocked()
		q.mu.Unlock()
		return false
	}
	q.frames = append(q.frames, f)
	q.bytes += f.size
	q.mu.Unlock()
	signal(q.wake)
	return true
}

// take moves the queued frames into buf for the writer.
func (q *sendQueue) take(buf []outFrame) []outFrame {
	q.mu.Lock()
	defer q.mu.Unlock()
	buf = append(buf, q.frames...)
	clear(q.frames)
	q.frames = q.frames[:0]
	return buf
}

// written releases the bytes of a frame the writer has sent.
func (q *sendQueue) written(size int) {
	q.mu.Lock()
	q.bytes -= size
	roomy := q.bytes <= q.limit/2
	q.mu.Unlock()
	if roomy {
		signal(q.space)
	}
}

func (q *sendQueue) roomy() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.closed || q.bytes <= q.limit/2
}

// waitRoom blocks until the queue is at most half full, so recovery can
// stream history without tripping the slow-consumer cap.
func (q *sendQueue) waitRoom(ctx context.Context) error {
	for !q.roomy() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-q.space:
		case <-time.After(10 * time.Millisecond): // another waiter took the signal
		}
	}
	return nil
}

func (q *sendQueue) close() {
	q.mu.Lock()
	q.closeLocked()
	q.mu.Unlock()
}

func (q *sendQueue) closeLocked() {
	q.closed = true
	clear(q.frames)
	q.frames = nil
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// writeLoop is the socket's only writer of data frames. It exits after the
// close handshake (or its timeout), or when a write fails.
func (c *client) writeLoop() {
	defer close(c.writerDone)
	ping := time.NewTicker(c.node.cfg.PingInterval)
	defer ping.Stop()
	var batch []outFrame
	for {
		select {
		case <-c.closing:
			c.finishClose()
			return
		case <-c.queue.wake:
			batch = c.queue.take(batch[:0])
			if !c.writeBatch(batch) {
				c.finishClose()
				return
			}
			clear(batch)
		case <-ping.C:
			deadline := time.Now().Add(c.node.cfg.WriteTimeout)
			if err := c.ws.WriteControl(websocket.PingMessage, nil, deadline); err != nil {
				c.close(CloseAbnormal, "ping failed", false)
			}
		}
	}
}

// writeBatch writes frames in order and reports false when the socket is
// closing or broken.
func (c *client) writeBatch(batch []outFrame) bool {
	for _, f := range batch {
		select {
		case <-c.closing:
			return false
		default:
		}
		if err := c.writeFrame(f); err != nil {
			c.close(CloseAbnormal, "write failed", false)
			return false
		}
		c.queue.written(f.size)
		c.node.metrics.framesOut.Inc()
	}
	return true
}

func (c *client) writeFrame(f outFrame) error {
	_ = c.ws.SetWriteDeadline(time.Now().Add(c.node.cfg.WriteTimeout))
	if f.pm != nil {
		return c.ws.WritePreparedMessage(f.pm)
	}
	return c.ws.WriteMessage(websocket.TextMessage, f.raw)
}

// finishClose sends the close frame (when the close was ours to announce),
// waits for the peer's answer or CloseTimeout, then stops the reader.
func (c *client) finishClose() {
	code, reason, send := c.closeInfo()
	if send {
		msg := websocket.FormatCloseMessage(code, reason)
		_ = c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(c.node.cfg.WriteTimeout))
	}
	t := time.NewTimer(c.node.cfg.CloseTimeout)
	defer t.Stop()
	select {
	case <-c.readerDone:
	case <-t.C:
	}
	c.kickReader()
}
