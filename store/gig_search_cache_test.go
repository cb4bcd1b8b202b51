package store_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/store"
)

// searchedCache is the read cache as cmd/gigstream gives it to the use cases: the
// keys their writes invalidate reach the node's search too.
type searchedCache struct {
	market.ReadCache
	search *store.GigSearch
}

func (c searchedCache) Invalidate(ctx context.Context, keys ...string) error {
	_ = c.search.Stale(ctx, keys...)
	return c.ReadCache.Invalidate(ctx, keys...)
}

// heardSearch is the read-cache fixture with a search engine that hears the
// database's notices, and the catalogue over both, wired as a node wires them.
type heardSearch struct {
	readCacheFixture
	engine *store.GigSearch
	gigs   *market.Gigs
}

func newHeardSearch(t *testing.T) heardSearch {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	f := newReadCacheFixture(t)
	engine := store.NewGigSearch(f.db, store.GigSearchConfig{}, slog.New(slog.DiscardHandler))
	must(t, engine.Load(ctx))
	go func() { _ = store.ListenReadCache(ctx, f.url, slog.New(slog.DiscardHandler), engine) }()
	return heardSearch{readCacheFixture: f, engine: engine,
		gigs: market.NewGigs(f.db, market.GigsDeps{Search: engine, Cache: searchedCache{f.cache, engine}}, nil)}
}

// within searches q until a gig of the page satisfies ok, for up to two seconds.
func (h heardSearch) within(t *testing.T, what, q string, ok func(market.Gig) bool) {
	t.Helper()
	var last []market.Gig
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		page, err := h.gigs.List(context.Background(), market.GigFilter{Query: q, Facets: true})
		must(t, err)
		for _, g := range page.Gigs {
			if ok(g) {
				return
			}
		}
		last = page.Gigs
	}
	t.Fatalf("%s: not seen by a search for %q within 2 s: %+v", what, q, last)
}

// TestSearchCacheNeverServesAGigOlderThanItsLastEdit has the seller edit three gigs
// through the catalogue (as the API does) while readers search for them, with facets,
// concurrently: once an edit returned, no search may show an earlier edition, though
// the searches are answered from the result cache and without a read of changes
// whenever nothing changed.
func TestSearchCacheNeverServesAGigOlderThanItsLastEdit(t *testing.T) {
	ctx := context.Background()
	h := newHeardSearch(t)
	const gigCount, editions = 3, 25
	list := make([]market.Gig, gigCount)
	floors := make([]atomic.Int64, gigCount)
	index := map[string]int{}
	for i := range list {
		list[i] = h.published(t, fmt.Sprintf("Edition 0000 of zebra gig %d", i))
		index[list[i].ID] = i
	}
	h.within(t, "the listener", "zebra", func(market.Gig) bool { return true })
	hits0, _ := h.engine.CacheStats()
	var readers sync.WaitGroup
	done := make(chan struct{})
	failures := make(chan string, 16)
	// A pause between edits lets hits happen between them.
	writers := startEditions(ctx, h.gigs, h.seller, list, editions, "Edition %04d of zebra gig %d", 2*time.Millisecond, floors, failures)
	for range 6 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				var floor [gigCount]int64
				for i := range floor {
					floor[i] = floors[i].Load()
				}
				page, err := h.gigs.List(ctx, market.GigFilter{Query: "zebra", Facets: true})
				if err != nil {
					failures <- err.Error()
					return
				}
				if len(page.Gigs) != gigCount {
					failures <- fmt.Sprintf("%d gigs found, want %d", len(page.Gigs), gigCount)
					return
				}
				for _, g := range page.Gigs {
					var edition int64
					if _, err := fmt.Sscanf(g.Title, "Edition %d", &edition); err != nil || edition < floor[index[g.ID]] {
						failures <- fmt.Sprintf("search showed %q after edition %d returned", g.Title, floor[index[g.ID]])
						return
					}
				}
			}
		}()
	}
	awaitEditions(t, writers, done, &readers, failures)
	if hits, _ := h.engine.CacheStats(); hits == hits0 {
		t.Fatal("no search was a cache hit: the cache was never used")
	}
}

// TestSearchCacheHearsOfEveryChangeItShows caches a search, then changes what its page
// shows but the index does not hold (the seller's name, the category's name, a
// package's title) with plain SQL, as another node or an admin command
// would, and expects the next searches to show it within two seconds through the
// database's notices alone; repeated searches after them are cache hits.
func TestSearchCacheHearsOfEveryChangeItShows(t *testing.T) {
	ctx := context.Background()
	h := newHeardSearch(t)
	g := h.published(t, "A cached quokka portrait")
	h.within(t, "the listener", "quokka", func(market.Gig) bool { return true })
	changes := []struct {
		what, sql string
		arg       string
		seen      func(market.Gig) bool
	}{
		{"seller renamed", `UPDATE users SET display_name = 'Renamed Seller' WHERE id = $1`, h.seller,
			func(x market.Gig) bool { return x.Seller.DisplayName == "Renamed Seller" }},
		{"category renamed", `UPDATE categories SET name = 'Renamed Design' WHERE slug = $1`, "design",
			func(x market.Gig) bool { return x.Category.Name == "Renamed Design" }},
		{"package retitled", `UPDATE gig_packages SET title = 'Retitled package' WHERE gig_id = $1`, g.ID,
			func(x market.Gig) bool { return len(x.Packages) > 0 && x.Packages[0].Title == "Retitled package" }},
	}
	for _, c := range changes {
		_, err := h.raw.ExecContext(ctx, c.sql, c.arg)
		must(t, err)
		h.within(t, c.what, "quokka", c.seen)
	}
	hits0, _ := h.engine.CacheStats()
	for range 3 {
		_, err := h.gigs.List(ctx, market.GigFilter{Query: "quokka", Facets: true})
		must(t, err)
	}
	if hits, _ := h.engine.CacheStats(); hits < hits0+3 {
		t.Fatalf("three repeated searches, %d cache hits", hits-hits0)
	}
}
