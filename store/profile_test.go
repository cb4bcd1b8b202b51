package store_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/store"
)

// TestProfileCountsPublishedGigsAndPointsAtTheRest publishes more gigs than a profile
// lists: the profile counts them all, and the catalogue filtered by the seller,
// continued from the profile's cursor, lists the rest, none twice and none missing;
// through SQL, through the read cache (which keeps the cursor) and through the search
// engine. A profile that lists every gig has no cursor.
func TestProfileCountsPublishedGigsAndPointsAtTheRest(t *testing.T) {
	ctx := context.Background()
	f := newReadCacheFixture(t)
	const total = market.ProfileGigs + 3
	published := map[string]bool{}
	for i := range total {
		published[f.published(t, fmt.Sprintf("Profile gig number %d", i)).ID] = true
	}
	newGig(t, f.db, f.seller, "A draft the profile does not count", "design", basicAt(1500))
	engine := store.NewGigSearch(f.db, store.GigSearchConfig{}, slog.New(slog.DiscardHandler))
	must(t, engine.Load(ctx))
	searched := market.NewGigs(f.db, market.GigsDeps{Search: engine}, nil)
	for via, lister := range map[string]struct {
		profiles *market.Profiles
		gigs     *market.Gigs
	}{
		"sql":          {market.NewProfiles(f.db, f.direct, nil, nil, nil), f.direct},
		"cache miss":   {f.profile, f.gigs},
		"cache again":  {f.profile, f.gigs},
		"search index": {market.NewProfiles(f.db, searched, nil, nil, nil), searched},
	} {
		prof, err := lister.profiles.Public(ctx, "user_b")
		must(t, err)
		if prof.Stats == nil || prof.Stats.PublishedGigs != total {
			t.Fatalf("%s: stats %+v, want %d published gigs", via, prof.Stats, total)
		}
		if len(prof.Gigs) != market.ProfileGigs || prof.MoreGigs == nil {
			t.Fatalf("%s: %d gigs, more %v; want %d and a cursor", via, len(prof.Gigs), prof.MoreGigs, market.ProfileGigs)
		}
		seen := map[string]bool{}
		for _, g := range prof.Gigs {
			seen[g.ID] = true
		}
		rest, err := lister.gigs.List(ctx, market.GigFilter{Seller: "user_b", Sort: market.SortNewest, After: prof.MoreGigs, Limit: market.DefaultGigPage})
		must(t, err)
		for _, g := range rest.Gigs {
			if seen[g.ID] {
				t.Fatalf("%s: gig %s on the profile and again after its cursor", via, g.ID)
			}
			seen[g.ID] = true
		}
		if len(seen) != total || rest.Next != nil {
			t.Fatalf("%s: profile and the rest list %d gigs (next %v), want the %d published", via, len(seen), rest.Next, total)
		}
		for id := range seen {
			if !published[id] {
				t.Fatalf("%s: listed %s, not one of the published gigs", via, id)
			}
		}
	}
	// Exactly a profile's worth left published: nothing more to point at.
	_, err := f.raw.ExecContext(ctx, `UPDATE gigs SET status = 'paused' WHERE id IN (
		SELECT id FROM gigs WHERE seller_id = $1 AND status = 'published' ORDER BY published_at LIMIT 3)`, f.seller)
	must(t, err)
	prof, err := market.NewProfiles(f.db, f.direct, nil, nil, nil).Public(ctx, "user_b")
	must(t, err)
	if len(prof.Gigs) != market.ProfileGigs || prof.MoreGigs != nil || prof.Stats.PublishedGigs != market.ProfileGigs {
		t.Fatalf("with %d published: %d gigs, more %v, count %d", market.ProfileGigs, len(prof.Gigs), prof.MoreGigs, prof.Stats.PublishedGigs)
	}
}
