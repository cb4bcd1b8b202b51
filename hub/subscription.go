package hub

import (
	"cmp"
	"slices"
	"sync"
	"time"
)

// subState is where a subscription is in its life.
type subState uint8

const (
	// subPending: registered with the broker, subscribe not answered yet.
	// Durable events are held, ephemeral ones dropped.
	subPending subState = iota
	// subLive: events go straight to the socket, durable ones in seq order.
	subLive
	// subCatchingUp: one catch-up goroutine owns delivery and fills a gap
	// from History. Durable events are held, ephemeral ones pass.
	subCatchingUp
)

// heldEvent is a durable event waiting for its turn.
type heldEvent struct {
	seq   uint64
	frame outFrame
}

// subscription is one socket's interest in one channel. It guarantees the
// socket sees durable events in seq order with no gap and no duplicate:
// last is the highest seq delivered, anything at or below it is dropped,
// anything past last+1 waits until the gap is filled.
type subscription struct {
	client     *client
	channel    string
	attachedAt time.Time // when it joined the channel's live stream
	addNo      uint64    // its number in the channel index's shard (guarded by the shard's lock)

	mu      sync.Mutex
	state   subState
	synced  bool   // last is meaningful (since given, or a durable event seen)
	last    uint64 // highest seq delivered
	held    []heldEvent
	resync  bool // the broker reconnected during a catch-up: look again
	stopped bool

	gapClosed chan struct{} // live events filled the gap a catch-up waits on
}

func newSubscription(c *client, channel string, since uint64, hasSince bool) *subscription {
	return &subscription{client: c, channel: channel, last: since, synced: hasSince, gapClosed: make(chan struct{}, 1)}
}

// deliver is called by fan-out for every event on the channel. It never
// blocks on the network. Whoever emits (fan-out or a catch-up) does so
// under mu and only seq last+1, so order holds whoever gets there first.
func (s *subscription) deliver(seq uint64, f outFrame) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.stopped:
	case seq == 0:
		if s.state != subPending {
			s.client.send(f)
		}
	case s.state == subPending:
		s.holdLocked(seq, f)
	case s.synced && seq <= s.last: // duplicate or already recovered
	case !s.synced || seq == s.last+1:
		s.emitLocked(seq, f)
		if s.state == subCatchingUp && s.drainLocked() {
			signal(s.gapClosed)
		}
	case s.state == subCatchingUp:
		s.holdLocked(seq, f)
	default:
		s.holdLocked(seq, f)
		s.state = subCatchingUp
		go s.client.node.catchUp(s.client.ctx, s, catchGap)
	}
}

func (s *subscription) emitLocked(seq uint64, f outFrame) {
	s.last, s.synced = seq, true
	s.client.send(f)
}

// holdLocked keeps a durable event for later; too many held events mean
// the gap will not close, and the subscription is dropped.
func (s *subscription) holdLocked(seq uint64, f outFrame) {
	if len(s.held) >= s.client.node.cfg.MaxPendingEvents {
		s.failLocked(newError(CodeRecoveryFailed, "too many events while recovering; subscribe again with since"))
		go s.client.node.dropSubscription(s)
		return
	}
	s.held = append(s.held, heldEvent{seq: seq, frame: f})
}

// drainLocked delivers held events that continue last, in seq order, and
// reports whether nothing is left waiting.
func (s *subscription) drainLocked() bool {
	slices.SortFunc(s.held, func(a, b heldEvent) int { return cmp.Compare(a.seq, b.seq) })
	i := 0
	for ; i < len(s.held); i++ {
		h := s.held[i]
		if s.synced && h.seq <= s.last {
			continue
		}
		if s.synced && h.seq != s.last+1 {
			break
		}
		s.emitLocked(h.seq, h.frame)
	}
	s.held = slices.Delete(s.held, 0, i)
	return len(s.held) == 0
}

// flushLocked delivers every held event in order, accepting gaps: used
// when there is no History to fill them from.
func (s *subscription) flushLocked() {
	for len(s.held) > 0 {
		if !s.drainLocked() {
			s.synced = false
		}
	}
}

// failLocked stops the subscription and tells the client why.
func (s *subscription) failLocked(e *Error) {
	if s.stopped {
		return
	}
	s.stopped = true
	s.held = nil
	s.client.sendError(0, e, s.channel)
}

// stop ends delivery; the caller detaches s from the node.
func (s *subscription) stop() {
	s.mu.Lock()
	s.stopped = true
	s.held = nil
	s.mu.Unlock()
}
