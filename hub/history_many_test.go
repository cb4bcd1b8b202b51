package hub

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// manyHistory adds HistoryMany to the fake: History for each read, each
// call first waiting for its turn on gate (when set).
type manyHistory struct {
	*fakeHistory
	gate  chan struct{} // each call takes one value first; nil: no wait
	mu    sync.Mutex
	sizes []int // reads per call, in call order
	reads atomic.Int64
	fail  error // every call fails with it
}

func (h *manyHistory) HistoryMany(ctx context.Context, reads []HistoryRead, limit int) ([]HistoryPage, error) {
	h.mu.Lock()
	h.sizes = append(h.sizes, len(reads))
	h.mu.Unlock()
	h.reads.Add(int64(len(reads)))
	if h.gate != nil {
		select {
		case <-h.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if h.fail != nil {
		return nil, h.fail
	}
	pages := make([]HistoryPage, len(reads))
	for i, r := range reads {
		pages[i].Events, pages[i].Err = h.History(ctx, r.Channel, r.Since, limit)
	}
	h.fakeHistory.calls.Add(-int64(len(reads))) // History here is the fake's store, not a call
	return pages, nil
}

func (n *Node) queuedHistoryReads() int {
	n.history.mu.Lock()
	defer n.history.mu.Unlock()
	return len(n.history.queue.waiting)
}

func (h *manyHistory) callSizes() []int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]int(nil), h.sizes...)
}

// TestRecoveryStormReadsHistoryTogether: many sockets resubscribing with
// since on as many channels at once (a reconnect storm) are answered by
// two HistoryMany calls, the first reads and every read that queued
// behind them while they ran, never by History one channel at a time; and each
// is recovered exactly as one History call would have: the events after
// its since, then the live ones, nothing missing or doubled, "recovered":
// false only where history is gone.
func TestRecoveryStormReadsHistoryTogether(t *testing.T) {
	h := &manyHistory{fakeHistory: newFakeHistory(), gate: make(chan struct{})}
	h.gone = 1 // since 0 is outside the window
	n := newTestNode(t, Config{Callbacks: Callbacks{Authorize: allowAll, History: h.History, HistoryMany: h.HistoryMany},
		RecoveryConcurrency: 1, HistoryPageSize: 2})
	url := serve(t, n, serveOptions{})
	const sockets, head = 40, 3
	conns := make([]*testConn, sockets)
	for i := range conns {
		ch := fmt.Sprintf("conversation:%d", i)
		for range head {
			h.append(ch)
		}
		conns[i] = dial(t, url, fmt.Sprintf("u%d", i))
	}
	for i, c := range conns {
		c.send(fmt.Sprintf(`{"op":"subscribe","id":1,"channel":"conversation:%d","since":%d}`, i, i%4))
	}
	eventually(t, "every read in the first call or queued behind it", func() bool {
		return h.reads.Load()+int64(n.queuedHistoryReads()) == sockets
	})
	close(h.gate)
	for i, c := range conns {
		ch, since := fmt.Sprintf("conversation:%d", i), uint64(i%4)
		f := c.next()
		if f.Op != OpReply || f.ID != 1 || f.Recovered == nil || *f.Recovered != (since >= h.gone) {
			t.Fatalf("socket %d (since %d): reply %+v", i, since, f)
		}
		if since >= h.gone {
			c.expectSeqs(ch, since+1, head)
		}
		if err := n.Publish(context.Background(), ch, h.append(ch)); err != nil {
			t.Fatal(err)
		}
		c.expectSeqs(ch, head+1, head+1)
	}
	if got := h.fakeHistory.calls.Load(); got != 0 {
		t.Errorf("History called %d times; want every read through HistoryMany", got)
	}
	// The first two calls carry every subscribe's read; the second may also
	// carry the next page of a socket the first call answered (it queues
	// while the second call is still forming), so one more is allowed.
	sizes := h.callSizes()
	if len(sizes) < 2 || sizes[0]+sizes[1] < sockets || sizes[0]+sizes[1] > sockets+1 {
		t.Errorf("HistoryMany calls of %v reads; want the first two to carry all %d subscribes", sizes, sockets)
	}
	// A page of 2 leaves each socket that missed 2 events (since 1) one
	// more read, to learn nothing follows.
	if reads := h.reads.Load(); reads != sockets+sockets/4 {
		t.Errorf("%d reads; want %d", reads, sockets+sockets/4)
	}
}

// TestHistoryManyFailureAnswersUnavailable: when the HistoryMany call
// fails, every subscribe it was reading for is refused with unavailable,
// to be retried, and no socket is told its history is gone.
func TestHistoryManyFailureAnswersUnavailable(t *testing.T) {
	h := &manyHistory{fakeHistory: newFakeHistory(), fail: errors.New("database down")}
	n := newTestNode(t, Config{Callbacks: Callbacks{Authorize: allowAll, History: h.History, HistoryMany: h.HistoryMany}})
	url := serve(t, n, serveOptions{})
	conns := make([]*testConn, 8)
	for i := range conns {
		conns[i] = dial(t, url, fmt.Sprintf("u%d", i))
	}
	for i, c := range conns {
		c.send(fmt.Sprintf(`{"op":"subscribe","id":1,"channel":"order:%d","since":5}`, i))
	}
	for i, c := range conns {
		if f := c.next(); f.Op != OpError || f.ID != 1 || f.Code != CodeUnavailable {
			t.Errorf("socket %d: %+v, want error unavailable", i, f)
		}
	}
}
