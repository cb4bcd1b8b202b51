package e2e

import (
	"testing"
	"time"
)

type apiFavoritePage struct {
	Favorites []struct {
		Gig         gigView   `json:"gig"`
		FavoritedAt time.Time `json:"favorited_at"`
	} `json:"favorites"`
	NextCursor *string `json:"next_cursor"`
}

// favoriteCount reads a published gig's favorite_count.
func favoriteCount(t *testing.T, c *client, gigID string) int {
	t.Helper()
	var g struct {
		FavoriteCount *int `json:"favorite_count"`
	}
	expect(t, c.do("GET", "/gigs/"+gigID, nil), 200, "gig").json(t, &g)
	if g.FavoriteCount == nil {
		t.Fatalf("gig %s has no favorite_count", gigID)
	}
	return *g.FavoriteCount
}

// TestFavoritesAreIdempotentPagedAndOnlyPublished: PUT and DELETE are idempotent and
// move the gig's count, the list pages newest first with a cursor and each gig once,
// a paused gig leaves the list (and cannot be added), bad paging is named.
func TestFavoritesAreIdempotentPagedAndOnlyPublished(t *testing.T) {
	o := startOrderNode(t, nil, true)
	buyer := &client{t: t, base: o.n.URL, bearer: o.buyer}
	seller := &client{t: t, base: o.n.URL, bearer: o.seller}
	anon := &client{t: t, base: o.n.URL}

	var all gigPage
	expect(t, anon.do("GET", "/gigs?limit=100", nil), 200, "catalogue").json(t, &all)
	if len(all.Gigs) < 4 {
		t.Fatalf("the seed has %d published gigs, want 4", len(all.Gigs))
	}
	expect(t, anon.do("PUT", "/me/favorites/"+o.gigID, nil), 401, "anonymous favorite")
	before := favoriteCount(t, anon, o.gigID)
	for range 2 {
		expect(t, buyer.do("PUT", "/me/favorites/"+o.gigID, nil), 204, "favorite")
	}
	if got := favoriteCount(t, anon, o.gigID); got != before+1 {
		t.Fatalf("favorite_count after two PUTs = %d, want %d", got, before+1)
	}
	// The other gigs, newest last; the slug works too.
	added := []string{o.gigID}
	for _, g := range all.Gigs {
		if g.ID == o.gigID {
			continue
		}
		time.Sleep(5 * time.Millisecond)
		expect(t, buyer.do("PUT", "/me/favorites/"+g.Slug, nil), 204, "favorite by slug")
		added = append(added, g.ID)
	}
	// Pages of 3, newest first, each gig once.
	var seen []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > len(added) {
			t.Fatal("the cursor never ends")
		}
		var p apiFavoritePage
		expect(t, buyer.do("GET", "/me/favorites?limit=3&cursor="+cursor, nil), 200, "favorites page").json(t, &p)
		for _, f := range p.Favorites {
			seen = append(seen, f.Gig.ID)
			if len(f.Gig.Packages) == 0 {
				t.Fatalf("favorite %s without packages", f.Gig.ID)
			}
		}
		if p.NextCursor == nil {
			break
		}
		cursor = *p.NextCursor
	}
	if len(seen) != len(added) {
		t.Fatalf("listed %v, want %v", seen, added)
	}
	for i := range seen {
		if seen[i] != added[len(added)-1-i] {
			t.Fatalf("listed %v, want newest first of %v", seen, added)
		}
	}

	// A paused gig leaves the list and cannot be added; published again, it is back.
	expect(t, seller.do("POST", "/gigs/"+o.gigID+"/pause", nil), 200, "pause")
	var p apiFavoritePage
	expect(t, buyer.do("GET", "/me/favorites?limit=100", nil), 200, "favorites").json(t, &p)
	for _, f := range p.Favorites {
		if f.Gig.ID == o.gigID {
			t.Fatal("a paused gig is listed among favorites")
		}
	}
	if len(p.Favorites) != len(added)-1 {
		t.Fatalf("%d favorites listed, want %d", len(p.Favorites), len(added)-1)
	}
	expect(t, buyer.do("PUT", "/me/favorites/"+o.gigID, nil), 404, "favorite a paused gig")
	expect(t, seller.do("POST", "/gigs/"+o.gigID+"/publish", nil), 200, "publish again")

	for range 2 {
		expect(t, buyer.do("DELETE", "/me/favorites/"+o.gigID, nil), 204, "unfavorite")
	}
	if got := favoriteCount(t, anon, o.gigID); got != before {
		t.Fatalf("favorite_count after DELETE = %d, want %d", got, before)
	}
	expect(t, buyer.do("DELETE", "/me/favorites/not-a-uuid", nil), 404, "malformed id")
	expect(t, buyer.do("PUT", "/me/favorites/00000000-0000-4000-8000-000000000000", nil), 404, "unknown gig")
	expectField(t, buyer.do("GET", "/me/favorites?cursor=garbage", nil), 400, "cursor", "bad cursor")
	expectField(t, buyer.do("GET", "/me/favorites?limit=0", nil), 400, "limit", "bad limit")
}
