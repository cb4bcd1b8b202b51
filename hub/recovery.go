package hub

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// catchKind says why a catch-up runs; it labels the recovery metric.
type catchKind string

const (
	catchSubscribe catchKind = "subscribe" // since given on subscribe
	catchGap       catchKind = "gap"       // a durable event arrived early
	catchResync    catchKind = "resync"    // the broker reconnected
)

const historyChunk = 64 // events emitted per lock hold during recovery

// errGapPersists means History keeps missing seqs that later events show
// exist.
var errGapPersists = errors.New("hub: history does not close the gap")

// startSubscription answers a subscribe whose broker subscription is in
// place. With since it first sends the missed events from History; events
// published meanwhile are held and merged by seq, so nothing is lost or
// repeated.
func (n *Node) startSubscription(ctx context.Context, s *subscription, f ClientFrame) {
	if !f.HasSince || n.cfg.Callbacks.History == nil {
		n.goLive(s, f, !f.HasSince)
		return
	}
	events, err := n.fetchHistory(ctx, s.channel, f.Since, s.attachedAt, true)
	switch {
	case errors.Is(err, ErrHistoryGone):
		n.recoveryResult(catchSubscribe, "gone")
		n.goLive(s, f, false)
		return
	case err != nil:
		n.recoveryResult(catchSubscribe, "failed")
		n.log.Warn("hub: history failed", slog.String("channel", s.channel), slog.Any("err", err))
		s.stop()
		s.client.forget(s)
		n.detach(s)
		s.client.sendError(f.ID, newError(CodeUnavailable, "try again later"), "")
		return
	}
	n.recoveryResult(catchSubscribe, "ok")
	recovered := true
	s.mu.Lock()
	s.client.send(rawFrame(replyFrame(f.ID, &recovered)))
	s.state = subCatchingUp
	s.mu.Unlock()
	n.applyHistory(ctx, s, events)
	go n.continueCatchUp(ctx, s, len(events) == n.cfg.HistoryPageSize)
}

// goLive answers the subscribe and starts live delivery with no recovery;
// recovered is reported only when the client asked for since.
func (n *Node) goLive(s *subscription, f ClientFrame, noSince bool) {
	var recovered *bool
	if !noSince {
		recovered = new(bool)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.synced = false
	s.client.send(rawFrame(replyFrame(f.ID, recovered)))
	s.state = subLive
	if !s.drainLocked() {
		s.state = subCatchingUp
		go n.catchUp(s.client.ctx, s, catchGap)
	}
}

// continueCatchUp finishes a subscribe-time recovery after its first page.
func (n *Node) continueCatchUp(ctx context.Context, s *subscription, more bool) {
	s.mu.Lock()
	done := !more && !s.resync && s.drainLocked()
	if done {
		s.state = subLive
	}
	s.mu.Unlock()
	if !done {
		n.runCatchUp(ctx, s, catchSubscribe)
	}
}

// catchUp fills a gap or re-syncs after a broker reconnect. It is the only
// deliverer of durable events for s until it sets subLive.
func (n *Node) catchUp(ctx context.Context, s *subscription, kind catchKind) {
	if kind == catchGap && n.waitForGap(ctx, s) {
		return
	}
	n.recoveryResult(kind, "started")
	n.runCatchUp(ctx, s, kind)
}

func (n *Node) runCatchUp(ctx context.Context, s *subscription, kind catchKind) {
	if err := n.catchUpLoop(ctx, s); err != nil {
		if ctx.Err() != nil {
			return // the socket is gone
		}
		n.recoveryResult(kind, "failed")
		n.log.Warn("hub: recovery failed", slog.String("channel", s.channel), slog.Any("err", err))
		s.mu.Lock()
		s.failLocked(newError(CodeRecoveryFailed, "subscribe again with since"))
		s.mu.Unlock()
		n.dropSubscription(s)
	}
}

// waitForGap gives reordered events GapWait to arrive live and reports
// whether the gap closed without asking History.
func (n *Node) waitForGap(ctx context.Context, s *subscription) bool {
	if n.cfg.GapWait > 0 {
		t := time.NewTimer(n.cfg.GapWait)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return true
		case <-t.C:
		case <-s.gapClosed:
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return true
	}
	if !s.resync && s.drainLocked() {
		s.state = subLive
		return true
	}
	return false
}

// catchUpLoop reads History from last until the held events continue it,
// then goes live. It gives up after RecoveryAttempts rounds that make no
// progress.
func (n *Node) catchUpLoop(ctx context.Context, s *subscription) error {
	if n.cfg.Callbacks.History == nil {
		s.mu.Lock()
		s.flushLocked()
		s.state = subLive
		s.mu.Unlock()
		return nil
	}
	for attempt, kept := 0, true; ; {
		since, stopped := s.beginRound()
		if stopped {
			return nil
		}
		events, err := n.fetchHistory(ctx, s.channel, since, time.Now(), kept)
		if err == nil {
			n.applyHistory(ctx, s, events)
			if s.finishRound(len(events) == n.cfg.HistoryPageSize) {
				return nil
			}
		}
		if errors.Is(err, ErrHistoryGone) {
			return err
		}
		if s.progressSince(since) {
			attempt = 0
			continue
		}
		// The kept events may lag what this node delivered itself (its own
		// publishes still on their way to Redis): History is the truth.
		kept = false
		if attempt++; attempt >= n.cfg.RecoveryAttempts {
			return errors.Join(errGapPersists, err)
		}
		if err := sleepCtx(ctx, backoff(attempt)); err != nil {
			return err
		}
	}
}

func (s *subscription) beginRound() (since uint64, stopped bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resync = false
	return s.last, s.stopped
}

// finishRound goes live when the held events continue last and no further
// page or re-sync is due.
func (s *subscription) finishRound(more bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return true
	}
	if s.drainLocked() && !more && !s.resync {
		s.state = subLive
		return true
	}
	return false
}

func (s *subscription) progressSince(since uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last > since || s.resync
}

// applyHistory emits the events that continue last, in chunks, waiting
// for room in the send queue between chunks.
func (n *Node) applyHistory(ctx context.Context, s *subscription, events []Event) {
	for len(events) > 0 {
		if s.client.queue.waitRoom(ctx) != nil {
			return
		}
		chunk := events[:min(historyChunk, len(events))]
		events = events[len(chunk):]
		if !s.emitHistory(chunk) {
			return
		}
	}
}

// emitHistory reports false when it met a gap or the subscription stopped.
func (s *subscription) emitHistory(events []Event) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ev := range events {
		switch {
		case s.stopped:
			return false
		case ev.Seq <= s.last:
		case ev.Seq != s.last+1:
			return false
		case ev.frame != nil:
			s.emitLocked(ev.Seq, rawFrame(ev.frame))
		default:
			s.emitLocked(ev.Seq, rawFrame(encodeEventFrame(s.channel, ev)))
		}
	}
	return true
}

func backoff(attempt int) time.Duration {
	return min(10*time.Millisecond<<attempt, time.Second)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (n *Node) recoveryResult(kind catchKind, result string) {
	n.metrics.recoveries.WithLabelValues(string(kind), result).Inc()
}

// resyncAll re-reads History for every durable subscription after the
// broker reconnected, since events published during the outage are lost.
func (n *Node) resyncAll() {
	n.metrics.brokerReconnects.Inc()
	n.channels.forEach(n.resync)
}

// resyncChannels is resyncAll for the channels of one cluster shard whose
// connection was lost (or that moved to another shard).
func (n *Node) resyncChannels(channels []string) {
	n.metrics.brokerReconnects.Inc()
	for _, ch := range channels {
		n.channels.forChannel(ch, func(_ int, s *subscription) { n.resync(s) })
	}
}

// resync makes s read History again: at once when it is live, after the
// running catch-up otherwise.
func (n *Node) resync(s *subscription) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.stopped:
	case s.state != subLive:
		s.resync = true
	case s.synced:
		s.state = subCatchingUp
		go n.catchUp(s.client.ctx, s, catchResync)
	}
}

// historyGate coalesces identical History calls (many sockets of a
// channel catching up from the same seq) and caps how many run at once.
type historyGate struct {
	mu    sync.Mutex
	calls map[historyKey]*historyCall
	slots chan struct{}
	queue historyQueue // reads waiting for HistoryMany
}

type historyKey struct {
	channel string
	since   uint64
	noKept  bool // History only
}

type historyCall struct {
	done    chan struct{}
	events  []Event
	err     error
	started time.Time // when the call began; its reads begin later
}

// recentEvents answers key from the broker's kept events when they settle
// it: the channel is known and nothing after since is kept (nothing was
// missed), or what is kept continues since without a hole. Anything else
// (nothing kept, older than what is kept, a hole left by a publish that
// failed and waits for the relay, a read error) is left to History.
func (n *Node) recentEvents(key historyKey) ([]Event, bool) {
	rb, ok := n.broker.(RecentBroker)
	if !ok {
		return nil, false
	}
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.HistoryTimeout)
	defer cancel()
	events, known, err := rb.Recent(ctx, key.channel, key.since, n.cfg.HistoryPageSize)
	switch {
	case err != nil:
		n.log.Warn("hub: kept events not read; asking History", slog.String("channel", key.channel), slog.Any("err", err))
	case known && continues(events, key.since):
		n.metrics.recentReads.WithLabelValues("hit").Inc()
		return events, true
	}
	n.metrics.recentReads.WithLabelValues("miss").Inc()
	return nil, false
}

func newHistoryGate(concurrency int) *historyGate {
	return &historyGate{calls: make(map[historyKey]*historyCall), slots: make(chan struct{}, concurrency)}
}

// fetchHistory returns the durable events of channel after since, sorted,
// from a History call made at or after notBefore: a subscription attached
// at some moment needs a read that began after it, or an event published
// just before it attached could be in neither the read nor its live
// stream. An identical call that qualifies is shared. The returned slice is
// shared and must not be modified.
// With kept false the broker's kept events are not read.
func (n *Node) fetchHistory(ctx context.Context, channel string, since uint64, notBefore time.Time, kept bool) ([]Event, error) {
	g, key := n.history, historyKey{channel, since, !kept}
	g.mu.Lock()
	call, ok := g.calls[key]
	if !ok || (!call.started.IsZero() && call.started.Before(notBefore)) {
		call = &historyCall{done: make(chan struct{})}
		g.calls[key] = call
		go n.runHistory(key, call)
	}
	g.mu.Unlock()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-call.done:
		return call.events, call.err
	}
}

// runHistory makes one History call on the node's context, so a caller
// that goes away does not fail the others waiting on it.
func (n *Node) runHistory(key historyKey, call *historyCall) {
	g := n.history
	defer func() {
		g.mu.Lock()
		if g.calls[key] == call {
			delete(g.calls, key)
		}
		g.mu.Unlock()
		close(call.done)
	}()
	g.mu.Lock()
	call.started = time.Now() // every read below begins after this
	g.mu.Unlock()
	if !key.noKept {
		if events, ok := n.recentEvents(key); ok {
			call.events = events
			return
		}
	}
	events, err := n.readHistory(key)
	if err != nil {
		call.err = fmt.Errorf("hub: history of %q since %d: %w", key.channel, key.since, err)
		return
	}
	if !slices.IsSortedFunc(events, func(a, b Event) int { return cmp.Compare(a.Seq, b.Seq) }) {
		slices.SortFunc(events, func(a, b Event) int { return cmp.Compare(a.Seq, b.Seq) })
	}
	call.events = events
}

// readHistory makes key's History read: through HistoryMany when the
// domain gave it, else one History call once a slot is free.
func (n *Node) readHistory(key historyKey) ([]Event, error) {
	if n.cfg.Callbacks.HistoryMany != nil {
		return n.historyMany(key)
	}
	g := n.history
	select {
	case g.slots <- struct{}{}:
		defer func() { <-g.slots }()
	case <-n.ctx.Done():
		return nil, n.ctx.Err()
	}
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.HistoryTimeout)
	defer cancel()
	return n.cfg.Callbacks.History(ctx, key.channel, key.since, n.cfg.HistoryPageSize)
}

// continues reports whether events are exactly the seqs since+1, since+2, …
// (none at all included): durable seqs of a channel have no gaps, so a
// missing or repeated one in the kept events means they cannot be trusted.
func continues(events []Event, since uint64) bool {
	for i, e := range events {
		if e.Seq != since+1+uint64(i) {
			return false
		}
	}
	return true
}
