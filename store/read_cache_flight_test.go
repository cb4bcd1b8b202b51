package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/store"
)

// countedGigReads is the store whose Gig reads are counted and take loadTime, so
// readers that arrive together all arrive while the first read is still running.
type countedGigReads struct {
	*store.DB
	loads    *atomic.Int64
	loadTime time.Duration
}

func (s countedGigReads) Gig(ctx context.Context, idOrSlug string) (market.Gig, error) {
	s.loads.Add(1)
	time.Sleep(s.loadTime)
	return s.DB.Gig(ctx, idOrSlug)
}

// TestReadCacheLoadsAColdKeyOnceForConcurrentReaders has 32 readers ask for a gig
// whose cache entry was just invalidated, all at once: the database is read once
// (single-flight on the miss), and every reader gets that read's page. A run whose key
// the database's notices invalidated meanwhile (a new generation, which rightly starts
// a new flight) is repeated.
func TestReadCacheLoadsAColdKeyOnceForConcurrentReaders(t *testing.T) {
	ctx := context.Background()
	f := newReadCacheFixture(t)
	g := f.published(t, "A gig read by many at once")
	var loads atomic.Int64
	gigs := market.NewGigs(countedGigReads{DB: f.db, loads: &loads, loadTime: 150 * time.Millisecond}, market.GigsDeps{Cache: f.cache}, nil)
	const readers = 32
	for attempt := 1; ; attempt++ {
		must(t, f.cache.Invalidate(ctx, "gig:"+g.ID)) // cold, as after an edit
		gen, err := f.cache.Generation(ctx, "gig:"+g.ID)
		must(t, err)
		loads.Store(0)
		titles := make(chan string, readers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for range readers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				got, err := gigs.Show(ctx, g.ID, "")
				if err != nil {
					t.Error(err)
					return
				}
				titles <- got.Title
			}()
		}
		close(start)
		wg.Wait()
		close(titles)
		for title := range titles {
			if title != g.Title {
				t.Fatalf("a reader got %q, want %q", title, g.Title)
			}
		}
		after, err := f.cache.Generation(ctx, "gig:"+g.ID)
		must(t, err)
		if after != gen && attempt < 5 {
			continue // a notice of the setup invalidated the key mid-run
		}
		if n := loads.Load(); n != 1 {
			t.Fatalf("%d concurrent readers of a cold key read the database %d times, want once", readers, n)
		}
		break
	}
	// Warm now: more readers, no load (unless a notice invalidated it meanwhile).
	loads.Store(0)
	gen, err := f.cache.Generation(ctx, "gig:"+g.ID)
	must(t, err)
	for range 5 {
		_, err := gigs.Show(ctx, g.ID, "")
		must(t, err)
	}
	if after, err := f.cache.Generation(ctx, "gig:"+g.ID); err == nil && after != gen {
		return
	}
	if n := loads.Load(); n != 0 {
		t.Fatalf("a warm key was read from the database %d times", n)
	}
}
