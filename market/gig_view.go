package market

import (
	"cmp"
	"context"
	"log/slog"
	"sync"
	"time"
)

// GigViews counts views of published gigs cheaply: a view is an increment in this
// node's memory, and Run adds the counts to the store in one statement per interval
// (per gig and UTC day). A popular gig thus costs one row write per node and interval
// instead of one per view; the counts of the last interval die with a crashed node.
type GigViews struct {
	store GigViewStore
	every time.Duration
	log   *slog.Logger
	now   func() time.Time

	mu      sync.Mutex
	counts  map[string]int64
	dropped int64 // views not counted because the map was full
}

// GigViewStore adds view counts; store/ implements it.
type GigViewStore interface {
	// AddGigViews adds counts (by gig id) to the views of day; ids of gigs deleted
	// since are skipped.
	AddGigViews(ctx context.Context, day time.Time, counts map[string]int64) error
}

// maxPendingGigViews bounds the gigs counted between two flushes (about 10 MB).
const maxPendingGigViews = 100_000

// NewGigViews returns a counter that flushes every interval (default 10 s).
func NewGigViews(s GigViewStore, every time.Duration, log *slog.Logger) *GigViews {
	return &GigViews{store: s, every: cmp.Or(every, 10*time.Second), log: cmp.Or(log, slog.Default()),
		now: time.Now, counts: map[string]int64{}}
}

// Count records that viewerID ("" anonymous) viewed gig, unless the gig is not
// published or the viewer is its seller. It never blocks on I/O.
func (v *GigViews) Count(gig Gig, viewerID string) {
	if v == nil || gig.Status != GigPublished || (viewerID != "" && viewerID == gig.Seller.ID) {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, ok := v.counts[gig.ID]; !ok && len(v.counts) >= maxPendingGigViews {
		v.dropped++
		return
	}
	v.counts[gig.ID]++
}

// Run flushes the counts every interval until ctx ends, then once more within 5 s.
func (v *GigViews) Run(ctx context.Context) {
	tick := time.NewTicker(v.every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			last, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			v.flushLogged(last)
			return
		case <-tick.C:
			v.flushLogged(ctx)
		}
	}
}

func (v *GigViews) flushLogged(ctx context.Context) {
	if err := v.Flush(ctx); err != nil {
		v.log.WarnContext(ctx, "gig views: flush failed; the counts are kept for the next one", "err", err)
	}
}

// Flush adds the pending counts to the store under today's UTC date. On failure the
// counts go back to the pending ones, to be retried by the next flush.
func (v *GigViews) Flush(ctx context.Context) error {
	v.mu.Lock()
	counts, dropped := v.counts, v.dropped
	v.counts, v.dropped = map[string]int64{}, 0
	v.mu.Unlock()
	if dropped > 0 {
		v.log.WarnContext(ctx, "gig views: too many gigs between flushes; views not counted", "dropped", dropped)
	}
	if len(counts) == 0 {
		return nil
	}
	if err := v.store.AddGigViews(ctx, v.now().UTC(), counts); err != nil {
		v.restore(counts)
		return err
	}
	return nil
}

func (v *GigViews) restore(counts map[string]int64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for id, n := range counts {
		if _, ok := v.counts[id]; ok || len(v.counts) < maxPendingGigViews {
			v.counts[id] += n
		}
	}
}
