package hub

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// PresenceChange is one socket arriving (Connected) or leaving, for
// presences that write many at once.
type PresenceChange struct {
	UserID, ConnID string
	Connected      bool
}

// PresenceBatcher is implemented by a Presence that can apply many changes
// in one round trip (RedisPresence pipelines them), in order.
type PresenceBatcher interface {
	Apply(ctx context.Context, changes []PresenceChange) error
}

// maxPresenceBacklog bounds the changes waiting to be written. Past it a
// change is dropped: the user's presence is then corrected by the next
// refresh (a connect) or by the TTL (a disconnect).
const maxPresenceBacklog = 100_000

// presenceWriter writes the node's presence changes off the connect path:
// sockets queue them and one goroutine writes whatever has piled up, in
// order, in one batch. A connect storm costs one round trip per batch, and
// no socket waits for presence before its hello.
type presenceWriter struct {
	mu      sync.Mutex
	pending []PresenceChange
	dropped int
	wake    chan struct{}
}

func newPresenceWriter() *presenceWriter {
	return &presenceWriter{wake: make(chan struct{}, 1)}
}

// queue adds one change for the writer.
func (w *presenceWriter) queue(ch PresenceChange) {
	w.mu.Lock()
	if len(w.pending) >= maxPresenceBacklog {
		w.dropped++
	} else {
		w.pending = append(w.pending, ch)
	}
	w.mu.Unlock()
	signal(w.wake)
}

func (w *presenceWriter) take() ([]PresenceChange, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	batch, dropped := w.pending, w.dropped
	w.pending, w.dropped = nil, 0
	return batch, dropped
}

// presenceWriteLoop writes queued changes until the node stops, then
// writes what is left (the sockets closed by the drain).
func (n *Node) presenceWriteLoop() {
	defer n.loops.Done()
	for {
		select {
		case <-n.presenceOut.wake:
			n.writePresence(n.ctx)
		case <-n.ctx.Done():
			ctx, cancel := context.WithTimeout(context.Background(), n.cfg.CallbackTimeout)
			n.writePresence(ctx)
			cancel()
			return
		}
	}
}

func (n *Node) writePresence(ctx context.Context) {
	batch, dropped := n.presenceOut.take()
	if dropped > 0 {
		n.log.Warn("hub: presence changes dropped (backlog full)", slog.Int("count", dropped))
	}
	if len(batch) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, n.cfg.CallbackTimeout)
	defer cancel()
	var err error
	if b, ok := n.presence.(PresenceBatcher); ok {
		err = b.Apply(ctx, batch)
	} else {
		for _, ch := range batch {
			if ch.Connected {
				err = n.presence.Connect(ctx, ch.UserID, ch.ConnID)
			} else {
				err = n.presence.Disconnect(ctx, ch.UserID, ch.ConnID)
			}
		}
	}
	if err != nil {
		n.log.Warn("hub: presence not written", slog.Int("changes", len(batch)), slog.Any("err", err))
		_ = sleepCtx(ctx, 100*time.Millisecond) // let a struggling backend breathe
	}
}
