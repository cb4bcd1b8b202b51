package hub

import (
	"context"
	"sync"
	"time"

	"github.com/fasthttp/websocket"
	"go.opentelemetry.io/otel/trace"
)

// outFrame is one queued server frame: either an event prepared once and
// shared by every subscriber on the node, or bytes for this socket only.
type outFrame struct {
	pm   *websocket.PreparedMessage
	raw  []byte
	size int
	// trace is the fan-out span of a traced event, parent of its socket write;
	// nil for the others.
	trace *trace.SpanContext
}

func rawFrame(b []byte) outFrame { return outFrame{raw: b, size: len(b)} }

// sendQueue is a socket's outgoing queue, capped in bytes. Producers never
// block: a push past the cap fails and the socket is cut as a slow consumer.
//
// The queue also owns the socket's writer goroutine, which runs only while
// there is something to write: an idle socket has none (its stack would
// be most of what the socket costs). At most one writer runs at a time; a
// push, a due ping or a close finding none starts one, and a writer that
// finds nothing left to do exits. Once the queue is closed the writer
// stays until the close handshake is over.
type sendQueue struct {
	mu      sync.Mutex
	frames  []outFrame
	bytes   int // queued plus taken-but-unwritten
	limit   int
	closed  bool
	ping    bool          // a heartbeat ping is due
	idle    bool          // no writer runs; the next work starts one
	start   func()        // starts a writer goroutine
	space   chan struct{} // the writer made room
	pingDue *time.Timer   // arms the next heartbeat
}

// newSendQueue returns a queue with no writer: frames pile up until
// startWriting.
func newSendQueue(limit int) *sendQueue {
	return &sendQueue{limit: limit, space: make(chan struct{}, 1)}
}

// startWriting lets the queue run writers (start runs one) and arms the
// heartbeat every interval.
func (q *sendQueue) startWriting(start func(), interval time.Duration) {
	q.mu.Lock()
	q.start = start
	q.idle = true
	q.pingDue = time.AfterFunc(interval, func() {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return
		}
		q.ping = true
		q.pingDue.Reset(interval)
		wake := q.wakeLocked()
		q.mu.Unlock()
		wake()
	})
	wake := q.wakeLocked()
	q.mu.Unlock()
	wake()
}

// wakeLocked returns the function that starts a writer when none runs and
// there is work for it (call it after unlocking), else a no-op.
func (q *sendQueue) wakeLocked() func() {
	if !q.idle || (len(q.frames) == 0 && !q.ping && !q.closed) {
		return noop
	}
	q.idle = false
	return q.start
}

func noop() {}

// stopWriting disarms the heartbeat once the writer is done for good.
func (q *sendQueue) stopWriting() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.pingDue != nil {
		q.pingDue.Stop()
	}
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
	start := q.wakeLocked()
	q.mu.Unlock()
	start()
	return true
}

// take moves the queued frames into buf for the writer.
func (q *sendQueue) take(buf []outFrame) []outFrame {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.takeLocked(buf)
}

func (q *sendQueue) takeLocked(buf []outFrame) []outFrame {
	buf = append(buf, q.frames...)
	clear(q.frames)
	q.frames = q.frames[:0]
	return buf
}

// writerWork is what the writer finds to do next.
type writerWork uint8

const (
	workNone    writerWork = iota // nothing: the writer has marked itself gone
	workFrames                    // frames (and maybe a ping) to write
	workClosing                   // the socket is closing
)

// next hands the writer its next job; with nothing to do the writer must
// exit, and the queue notes that none runs.
func (q *sendQueue) next(buf []outFrame) ([]outFrame, bool, writerWork) {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case q.closed:
		return buf, false, workClosing
	case len(q.frames) == 0 && !q.ping:
		q.idle = true
		if len(q.frames) == 0 && cap(q.frames) > 16 {
			q.frames = nil // a burst's backing array is not kept by an idle socket
		}
		return buf, false, workNone
	}
	ping := q.ping
	q.ping = false
	return q.takeLocked(buf), ping, workFrames
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
	start := q.wakeLocked()
	q.mu.Unlock()
	start()
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

// writeLoop is the socket's only writer of data frames while it runs (the
// queue starts it when there is work, see sendQueue). It returns when
// nothing is left to write, or after the close handshake (or its timeout)
// once the socket is closing or a write failed.
func (c *client) writeLoop() {
	var batch []outFrame
	for {
		var ping bool
		var work writerWork
		batch, ping, work = c.queue.next(batch[:0])
		switch work {
		case workNone:
			return
		case workClosing:
			c.finishClose()
			close(c.writerDone)
			return
		}
		if ping {
			deadline := time.Now().Add(c.node.cfg.WriteTimeout)
			if err := c.ws.WriteControl(websocket.PingMessage, nil, deadline); err != nil {
				c.close(CloseAbnormal, "ping failed", false)
				continue
			}
		}
		c.writeBatch(batch) // on failure the queue is closed: next says so
		clear(batch)
	}
}

// writeBatch writes frames in order; it stops early when the socket is
// closing or a write fails (and then closes it).
func (c *client) writeBatch(batch []outFrame) {
	for _, f := range batch {
		if c.isClosing() {
			return
		}
		span := c.writeSpan(f)
		err := c.writeFrame(f)
		endSpan(span, err)
		if err != nil {
			c.close(CloseAbnormal, "write failed", false)
			return
		}
		c.queue.written(f.size)
		c.node.metrics.framesOut.Inc()
	}
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
