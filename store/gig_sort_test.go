package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/gigstream/hub/market"
)

// tiedCatalogue publishes gigs whose sort keys tie in groups: a shared published_at,
// equal cheapest prices, equal review totals and identical text.
func tiedCatalogue(t *testing.T, f searchFixture) {
	t.Helper()
	prices := []int64{500, 500, 500, 700, 700, 900, 300, 700, 500, 1200, 300}
	ratings := [][2]int{{1, 5}, {50, 240}, {0, 0}, {1, 5}, {0, 0}, {3, 15}, {50, 240}, {0, 0}, {2, 2}, {1, 5}, {0, 0}}
	for i, price := range prices {
		title := fmt.Sprintf("Logo design package %02d", i%4) // every fourth gig reads the same
		g := f.published(t, title, "<p>Logo work</p>", basicAt(price))
		_, err := f.raw.Exec(`UPDATE gigs SET published_at = CASE WHEN $2 % 3 = 0 THEN '2026-01-01' ELSE published_at END,
			rating_count = $3, rating_total = $4 WHERE id = $1`, g.ID, i, ratings[i][0], ratings[i][1])
		must(t, err)
	}
	euro := basicAt(100)
	euro.Currency = "EUR"
	f.published(t, "Logo design in euros", "<p>Logo work</p>", euro)
}

// listAll pages through f's listing limit gigs at a time, following next_cursor.
func listAll(t *testing.T, gigs *market.Gigs, f market.GigFilter, limit int) []market.Gig {
	t.Helper()
	var all []market.Gig
	f.Limit = limit
	for pages := 0; ; pages++ {
		page, err := gigs.List(context.Background(), f)
		if err != nil {
			t.Fatalf("list %+v: %v", f, err)
		}
		all = append(all, page.Gigs...)
		if page.Next == nil {
			return all
		}
		if pages > 50 {
			t.Fatal("pages never end")
		}
		f.After = page.Next
	}
}

// sortKey is what each order compares first, computed here from what a gig shows.
func sortKey(s market.GigSort, g market.Gig) float64 {
	switch s {
	case market.SortNewest:
		return float64(g.PublishedAt.UnixMicro())
	case market.SortRelevance:
		return float64(g.Rank)
	case market.SortPriceAsc:
		return -float64(g.Packages[0].PriceMinor)
	case market.SortPriceDesc:
		return float64(g.Packages[0].PriceMinor)
	default:
		return float64((int64(g.Rating.Total) + 40) * 1_000_000 / (int64(g.Rating.Count) + 10))
	}
}

func TestEverySortPagesThroughTiesWithoutGapsOrDuplicates(t *testing.T) {
	f := newSearchFixture(t)
	tiedCatalogue(t, f)
	filters := map[market.GigSort]market.GigFilter{
		market.SortNewest:    {},
		market.SortRelevance: {Query: "logo"},
		market.SortPriceAsc:  {Sort: market.SortPriceAsc, Currency: "USD"},
		market.SortPriceDesc: {Sort: market.SortPriceDesc, Currency: "USD"},
		market.SortRating:    {Sort: market.SortRating},
	}
	for sort, filter := range filters {
		full := listAll(t, f.gigs, filter, market.MaxGigPage)
		want := 12
		if filter.Currency != "" {
			want = 11
		}
		if len(full) != want {
			t.Fatalf("%s lists %d gigs, want %d", sort, len(full), want)
		}
		for i := 1; i < len(full); i++ {
			a, b := sortKey(sort, full[i-1]), sortKey(sort, full[i])
			ascID := sort == market.SortPriceAsc
			if a < b || a == b && (full[i-1].ID < full[i].ID) != ascID {
				t.Fatalf("%s: %s (%v) before %s (%v)", sort, full[i-1].Title, a, full[i].Title, b)
			}
		}
		for _, limit := range []int{1, 2, 5} {
			paged := listAll(t, f.gigs, filter, limit)
			if !slices.EqualFunc(paged, full, func(a, b market.Gig) bool { return a.ID == b.ID }) {
				t.Errorf("%s in pages of %d differs from the full list", sort, limit)
			}
		}
	}
}

func TestRatingSortPutsManyGoodReviewsAboveOnePerfectOne(t *testing.T) {
	f := newSearchFixture(t)
	tiedCatalogue(t, f)
	list := listAll(t, f.gigs, market.GigFilter{Sort: market.SortRating}, market.MaxGigPage)
	if list[0].Rating.Count != 50 || list[1].Rating.Count != 50 {
		t.Fatalf("best rated: %+v then %+v, want the two with fifty 4.8s", list[0].Rating, list[1].Rating)
	}
	last := list[len(list)-1]
	if last.Rating.Count != 2 || last.Rating.Total != 2 {
		t.Fatalf("worst rated: %+v, want two 1-star reviews", last.Rating)
	}
}

func TestCursorOfAnotherSortOrFilterIsRefused(t *testing.T) {
	f := newSearchFixture(t)
	tiedCatalogue(t, f)
	ctx := context.Background()
	page, err := f.gigs.List(ctx, market.GigFilter{Limit: 2})
	must(t, err)
	next := page.Next
	_, err = f.gigs.List(ctx, market.GigFilter{Sort: market.SortRating, After: next, Limit: 2})
	var de *market.Error
	if !errors.As(err, &de) || de.Field != "cursor" {
		t.Fatalf("newest cursor with sort=rating: %v", err)
	}
	refused := map[string]market.GigFilter{
		"currency": {Sort: market.SortPriceAsc},
		"sort":     {Sort: market.SortRelevance},
	}
	for field, filter := range refused {
		if _, err := f.gigs.List(ctx, filter); !errors.As(err, &de) || de.Field != field || de.Code != market.CodeInvalid {
			t.Errorf("%+v: %v, want invalid %s", filter, err, field)
		}
	}
	if _, err := f.gigs.List(ctx, market.GigFilter{Sort: "cheapest"}); !errors.As(err, &de) || de.Field != "sort" {
		t.Errorf("unknown sort: %v", err)
	}
}

func TestSellerSeesTheirOwnGigsInEveryStatus(t *testing.T) {
	f := newSearchFixture(t)
	ctx := context.Background()
	live := f.published(t, "A published logo gig", "<p>Logo</p>")
	paused, err := f.db.SetGigStatus(ctx, f.published(t, "A paused logo gig", "<p>Logo</p>").ID, f.seller, market.GigPaused)
	must(t, err)
	draft, err := f.db.CreateGig(ctx, market.NewGig{SellerID: f.seller, Title: "A draft logo gig", Description: "<p>x</p>", CategorySlug: "design", Packages: []market.GigPackage{basicAt(1)}})
	must(t, err)

	var ids []string
	var after *market.SellerGigCursor
	for range 4 {
		list, next, err := f.gigs.Mine(ctx, f.seller, market.SellerGigFilter{After: after, Limit: 1})
		must(t, err)
		for _, g := range list {
			ids = append(ids, g.ID)
		}
		if after = next; next == nil {
			break
		}
	}
	if want := []string{draft.ID, paused.ID, live.ID}; !slices.Equal(ids, want) {
		t.Fatalf("own gigs %v, want %v (newest created first)", ids, want)
	}
	drafts, _, err := f.gigs.Mine(ctx, f.seller, market.SellerGigFilter{Status: market.GigDraft})
	if err != nil || len(drafts) != 1 || drafts[0].ID != draft.ID {
		t.Fatalf("drafts: %v, %v", drafts, err)
	}
	if others, _, err := f.gigs.Mine(ctx, f.other, market.SellerGigFilter{}); err != nil || len(others) != 0 {
		t.Fatalf("another user's own gigs: %v, %v", others, err)
	}
	var de *market.Error
	if _, _, err := f.gigs.Mine(ctx, f.seller, market.SellerGigFilter{Status: "deleted"}); !errors.As(err, &de) || de.Field != "status" {
		t.Fatalf("unknown status: %v", err)
	}
}

func TestCheapestPriceFollowsPackageChanges(t *testing.T) {
	f := newSearchFixture(t)
	ctx := context.Background()
	g := f.published(t, "A logo gig with packages", "<p>Logo</p>", basicAt(900))
	cheap := func() []market.Gig {
		page, err := f.gigs.List(ctx, market.GigFilter{Currency: "USD", MaxPrice: 500})
		must(t, err)
		return page.Gigs
	}
	if got := cheap(); len(got) != 0 {
		t.Fatalf("a 900 gig is at most 500: %v", got)
	}
	premium := market.GigPackage{Tier: "premium", Title: "Premium", PriceMinor: 5000, Currency: "USD", DeliveryDays: 5}
	_, err := f.db.UpdateGig(ctx, g.ID, f.seller, market.GigChange{Packages: []market.GigPackage{basicAt(400), premium}})
	must(t, err)
	if got := cheap(); len(got) != 1 || got[0].ID != g.ID {
		t.Fatalf("after a cheaper basic package: %v", got)
	}
}
