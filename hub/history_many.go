package hub

import (
	"context"
	"fmt"
)

// HistoryRead is one channel's read in a HistoryMany call: its durable
// events with seq > Since.
type HistoryRead struct {
	Channel string
	Since   uint64
}

// HistoryPage answers one HistoryRead with what History would have
// returned for it: Events ascending, or Err (ErrHistoryGone when Since is
// outside the retention window).
type HistoryPage struct {
	Events []Event
	Err    error
}

// maxHistoryMany caps the reads sent in one HistoryMany call, so one
// query stays well inside HistoryTimeout.
const maxHistoryMany = 256

// historyQueue holds History reads waiting for a HistoryMany call. Reads
// go out as soon as one of the gate's slots is free; the ones that arrive
// while every slot is busy wait and leave together.
type historyQueue struct {
	waiting  []queuedRead // guarded by the gate's mu
	draining bool         // a drainHistoryQueue goroutine runs
}

type queuedRead struct {
	read HistoryRead
	done chan HistoryPage // buffered: the drainer never waits
}

// historyMany answers key's History read through HistoryMany, with the
// others queued at the same time. It returns History's errors, or the
// node's context error when the node stops first.
func (n *Node) historyMany(key historyKey) ([]Event, error) {
	g := n.history
	q := queuedRead{read: HistoryRead{Channel: key.channel, Since: key.since}, done: make(chan HistoryPage, 1)}
	g.mu.Lock()
	g.queue.waiting = append(g.queue.waiting, q)
	start := !g.queue.draining
	g.queue.draining = true
	g.mu.Unlock()
	if start {
		go n.drainHistoryQueue()
	}
	select {
	case p := <-q.done:
		return p.Events, p.Err
	case <-n.ctx.Done():
		return nil, n.ctx.Err()
	}
}

// drainHistoryQueue sends the queued reads, up to maxHistoryMany per call,
// each call once a slot is free, until the queue is empty.
func (n *Node) drainHistoryQueue() {
	g := n.history
	for {
		select {
		case g.slots <- struct{}{}:
		case <-n.ctx.Done():
			g.mu.Lock()
			g.queue.draining = false // the waiters see the node stop
			g.mu.Unlock()
			return
		}
		g.mu.Lock()
		k := min(len(g.queue.waiting), maxHistoryMany)
		batch := append([]queuedRead(nil), g.queue.waiting[:k]...)
		g.queue.waiting = g.queue.waiting[k:]
		if k == 0 {
			g.queue.draining = false
		}
		g.mu.Unlock()
		if k == 0 {
			<-g.slots
			return
		}
		go func() {
			defer func() { <-g.slots }()
			n.answerHistoryReads(batch)
		}()
	}
}

// answerHistoryReads makes one HistoryMany call for batch and hands each
// read its page.
func (n *Node) answerHistoryReads(batch []queuedRead) {
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.HistoryTimeout)
	defer cancel()
	reads := make([]HistoryRead, len(batch))
	for i, q := range batch {
		reads[i] = q.read
	}
	pages, err := n.cfg.Callbacks.HistoryMany(ctx, reads, n.cfg.HistoryPageSize)
	if err == nil && len(pages) != len(reads) {
		err = fmt.Errorf("hub: HistoryMany answered %d of %d reads", len(pages), len(reads))
	}
	n.metrics.historyManyReads.Observe(float64(len(batch)))
	for i, q := range batch {
		if err != nil {
			q.done <- HistoryPage{Err: err}
			continue
		}
		q.done <- pages[i]
	}
}
