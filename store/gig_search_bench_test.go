package store

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/store/storetest"
)

// bulkGigs is how many gigs the plan test and the benchmark list from.
const bulkGigs = 5000

// bulkCatalogue is a migrated database holding bulkGigs generated gigs of one seller
// (a tenth of them drafts), with packages, review totals and fresh statistics.
func bulkCatalogue(tb testing.TB) (*DB, string) {
	tb.Helper()
	ctx := context.Background()
	db := openMigrated(tb, Config{})
	if _, err := db.Seed(ctx, SeedData{Categories: []SeedCategory{{Slug: "design", Name: "Design"}}}); err != nil {
		tb.Fatal(err)
	}
	seller, err := db.CreateUser(ctx, market.NewUser{Email: "bulk@x.test", Username: "bulk_seller", DisplayName: "Bulk", IsSeller: true})
	if err != nil {
		tb.Fatal(err)
	}
	for _, q := range []string{`
		INSERT INTO gigs (seller_id, category_id, slug, title, description, status, published_at, created_at)
		SELECT $1, (SELECT id FROM categories), 'bulk-' || i,
			initcap(w[1 + i % 10]) || ' and ' || w[1 + (i * 7) % 10] || ' service number ' || i,
			'<p>We deliver <strong>' || w[1 + (i * 3) % 10] || '</strong> and ' || w[1 + (i * 11) % 10] || ' work.</p>',
			CASE WHEN i % 10 = 0 THEN 'draft' ELSE 'published' END,
			CASE WHEN i % 10 = 0 THEN NULL ELSE now() - i * interval '1 minute' END,
			now() - i * interval '1 minute'
		FROM generate_series(1, $2) i,
			(SELECT ARRAY['logo', 'website', 'video', 'writing', 'translation', 'marketing',
				'illustration', 'music', 'animation', 'seo'] AS w) words`, `
		INSERT INTO gig_packages (gig_id, tier, title, price_minor, currency, delivery_days, revisions)
		SELECT id, 'basic', 'Basic', 500 + abs(hashtext(id::text)) % 100 * 100,
			CASE WHEN abs(hashtext(slug)) % 5 = 0 THEN 'EUR' ELSE 'USD' END, 3, 1 FROM gigs`, `
		UPDATE gigs SET rating_count = abs(hashtext(slug)) % 60, rating_total = abs(hashtext(slug)) % 60 * (3 + abs(hashtext(id::text)) % 3)`,
		`VACUUM ANALYZE`, // as autovacuum would have (it also empties the GIN pending list)
	} {
		args := []any{seller.ID, bulkGigs}
		if !strings.Contains(q, "$1") {
			args = nil
		}
		if _, err := db.x.ExecContext(ctx, q, args...); err != nil {
			tb.Fatalf("bulk catalogue: %v", err)
		}
	}
	return db, seller.ID
}

// bulkListings are the catalogue's main queries: a search and each sort's first page.
var bulkListings = map[string]market.GigFilter{
	"q":          {Query: "animation 1238", Sort: market.SortRelevance},
	"q_broad":    {Query: "website", Sort: market.SortRelevance},
	"newest":     {Sort: market.SortNewest},
	"price_asc":  {Sort: market.SortPriceAsc, Currency: "USD"},
	"price_desc": {Sort: market.SortPriceDesc, Currency: "USD"},
	"rating":     {Sort: market.SortRating},
}

// TestGigListingPlansUseTheirIndexes explains each main listing query on a few
// thousand gigs and checks that it reads its index rather than every gig.
func TestGigListingPlansUseTheirIndexes(t *testing.T) {
	db, seller := bulkCatalogue(t)
	search := "gigs_search_idx" // GIN, without the RUM extension
	if db.searchUsesRUM(context.Background()) {
		search = "gigs_search_rum_idx"
	}
	want := map[string]string{
		"q": search, "newest": "gigs_newest_idx", "price_asc": "gigs_price_idx",
		"price_desc": "gigs_price_idx", "rating": "gigs_rating_idx",
	}
	for name, f := range bulkListings {
		if want[name] == "" {
			continue // a word in a tenth of the gigs is cheaper to filter than to look up
		}
		f.Limit = market.DefaultGigPage + 1
		order := gigOrders[f.Sort]
		if f.Sort == market.SortRelevance && db.searchUsesRUM(context.Background()) {
			order = rumRelevance
		}
		query, args := publishedQuery(f, order)
		plan := explain(t, db, query, args...)
		t.Logf("%s:\n%s", name, plan)
		if !strings.Contains(plan, want[name]) || strings.Contains(plan, "Seq Scan on gigs") {
			t.Errorf("%s does not use %s:\n%s", name, want[name], plan)
		}
	}
	plan := explain(t, db, gigSelect+` WHERE g.seller_id = $1 AND g.status = 'draft' ORDER BY g.created_at DESC, g.id DESC LIMIT 21`, seller)
	t.Logf("me/gigs:\n%s", plan)
	if !strings.Contains(plan, "gigs_seller_created_idx") {
		t.Errorf("a seller's own gigs do not use gigs_seller_created_idx:\n%s", plan)
	}
}

func explain(t *testing.T, db *DB, query string, args ...any) string {
	t.Helper()
	var lines []string
	if err := db.x.SelectContext(context.Background(), &lines, "EXPLAIN (ANALYZE, COSTS OFF, BUFFERS OFF) "+query, args...); err != nil {
		t.Fatalf("explain: %v", err)
	}
	return strings.Join(lines, "\n")
}

// BenchmarkGigSearch lists the first page of a search and of each sort over a few
// thousand gigs, packages included.
func BenchmarkGigSearch(b *testing.B) {
	db, _ := bulkCatalogue(b)
	for _, name := range []string{"q", "q_broad", "newest", "price_asc", "price_desc", "rating"} {
		f := bulkListings[name]
		f.Limit = market.DefaultGigPage + 1
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				list, err := db.PublishedGigs(context.Background(), f)
				if err != nil || len(list) == 0 {
					b.Fatal(fmt.Errorf("%s: %d gigs, %w", name, len(list), err))
				}
			}
		})
	}
}

// BenchmarkGigIndexLoad builds a node's search index from a generated catalogue of
// 100,000 gigs of 10,000 sellers, as serve does at start-up, and reports how long
// the load takes and how much Go heap the index holds once loaded; then again with
// half the gigs paused, so the two points split the memory into what each gig costs
// and what does not grow with the catalogue (the lexicon, the categories), from which
// the log extrapolates to 1,000,000 gigs.
func BenchmarkGigIndexLoad(b *testing.B) {
	ctx := context.Background()
	url := storetest.NewDatabase(b)
	db, err := Open(ctx, Config{URL: url})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	m, err := NewMigrator(db, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := m.Up(ctx); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if _, err := storetest.GenerateCatalogue(ctx, db.x.DB.DB, storetest.CatalogueSpec{Gigs: 100_000, Sellers: 10_000, Seed: 14}); err != nil {
		b.Fatal(err)
	}
	b.Logf("100,000 gigs generated with COPY in %v", time.Since(start).Round(time.Millisecond))
	full, took := indexHeap(b, db)
	b.ReportMetric(float64(full)/(1<<20), "MiB/100k-gigs")
	b.ReportMetric(took.Seconds(), "load-s/100k-gigs")
	if _, err := db.x.ExecContext(ctx, `UPDATE gigs SET status = 'paused' WHERE abs(hashtext(id::text)) % 2 = 0`); err != nil {
		b.Fatal(err)
	}
	var listed int
	if err := db.x.GetContext(ctx, &listed, `SELECT count(*) FROM gigs WHERE status = 'published'`); err != nil {
		b.Fatal(err)
	}
	half, _ := indexHeap(b, db)
	perGig := float64(full-half) / float64(100_000-listed)
	fixed := float64(full) - perGig*100_000
	b.Logf("index heap: %.1f MiB at 100,000 gigs (loaded in %v), %.1f MiB at %d; %.0f bytes per gig + %.1f MiB fixed → %.0f MiB at 1,000,000 (the same vocabulary)",
		float64(full)/(1<<20), took.Round(time.Millisecond), float64(half)/(1<<20), listed, perGig, fixed/(1<<20), (fixed+perGig*1_000_000)/(1<<20))
	for range b.N {
		// Once: the loads above are the measurement.
	}
}

// indexHeap loads a fresh engine and returns the live heap it added and the load time.
func indexHeap(b *testing.B, db *DB) (uint64, time.Duration) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := NewGigSearch(db, GigSearchConfig{}, slog.New(slog.DiscardHandler))
	start := time.Now()
	if err := s.Load(context.Background()); err != nil {
		b.Fatal(err)
	}
	took := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(s)
	return after.HeapAlloc - before.HeapAlloc, took
}
