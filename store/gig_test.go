package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/store"
)

// gigFixture is a migrated database with two sellers and two categories.
func gigFixture(t *testing.T) (*store.DB, string, string) {
	t.Helper()
	ctx := context.Background()
	db := migratedDB(t)
	_, err := db.Seed(ctx, store.SeedData{Categories: []store.SeedCategory{{Slug: "design", Name: "Design"}, {Slug: "code", Name: "Code"}}})
	if err != nil {
		t.Fatal(err)
	}
	a, b := twoUsers(t, db)
	return db, a, b
}

func newGig(t *testing.T, db *store.DB, seller, title, category string, packages ...market.GigPackage) market.Gig {
	t.Helper()
	g, err := db.CreateGig(context.Background(), market.NewGig{SellerID: seller, Title: title, Description: "<p>Work</p>", CategorySlug: category, Packages: packages})
	if err != nil {
		t.Fatalf("CreateGig %q: %v", title, err)
	}
	return g
}

func basicAt(price int64) market.GigPackage {
	return market.GigPackage{Tier: "basic", Title: "Basic", PriceMinor: price, Currency: "USD", DeliveryDays: 2, Revisions: 1}
}

func TestGigSlugsAreUniqueAndUnknownCategoryIsAField(t *testing.T) {
	db, seller, _ := gigFixture(t)
	first := newGig(t, db, seller, "Logo design, done fast!", "design", basicAt(100))
	second := newGig(t, db, seller, "Logo design -- done fast", "design", basicAt(100))
	if first.Slug != "logo-design-done-fast" || second.Slug == first.Slug || first.Status != market.GigDraft || first.Category.Slug != "design" {
		t.Fatalf("slugs %q and %q, gig %+v", first.Slug, second.Slug, first)
	}
	_, err := db.CreateGig(context.Background(), market.NewGig{SellerID: seller, Title: "Logo design done fast", Description: "x", CategorySlug: "nope", Packages: []market.GigPackage{basicAt(1)}})
	var de *market.Error
	if !errors.As(err, &de) || de.Field != "category" || de.Code != market.CodeInvalid {
		t.Fatalf("unknown category: %v", err)
	}
	bySlug, err := db.Gig(context.Background(), first.Slug)
	if err != nil || bySlug.ID != first.ID || len(bySlug.Packages) != 1 {
		t.Fatalf("Gig by slug: %+v, %v", bySlug, err)
	}
	for _, bad := range []string{"not-a-gig", "DROP TABLE", ""} {
		if _, err := db.Gig(context.Background(), bad); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Gig(%q): %v, want not found", bad, err)
		}
	}
}

func TestGigStatusChangesOnlyByItsSellerAndByTheRules(t *testing.T) {
	ctx := context.Background()
	db, seller, other := gigFixture(t)
	standardOnly := market.GigPackage{Tier: "standard", Title: "Std", PriceMinor: 500, Currency: "USD", DeliveryDays: 3}
	g := newGig(t, db, seller, "A gig without basic", "design", standardOnly)

	if _, err := db.SetGigStatus(ctx, g.ID, other, market.GigPublished); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("someone else publishes: %v", err)
	}
	if _, err := db.SetGigStatus(ctx, g.ID, seller, market.GigPublished); market.ErrorCode(err) != market.CodeConflict {
		t.Fatalf("publish without basic: %v", err)
	}
	if _, err := db.SetGigStatus(ctx, g.ID, seller, market.GigPaused); market.ErrorCode(err) != market.CodeConflict {
		t.Fatalf("pause a draft: %v", err)
	}
	if _, err := db.UpdateGig(ctx, g.ID, other, market.GigChange{Packages: []market.GigPackage{basicAt(1)}}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("someone else updates: %v", err)
	}
	title := "A gig with a basic package"
	g, err := db.UpdateGig(ctx, g.ID, seller, market.GigChange{Title: &title, Packages: []market.GigPackage{basicAt(300), standardOnly}})
	if err != nil || g.Title != title || len(g.Packages) != 2 || g.Packages[0].Tier != "basic" {
		t.Fatalf("update: %+v, %v", g, err)
	}
	pub, err := db.SetGigStatus(ctx, g.ID, seller, market.GigPublished)
	if err != nil || pub.Status != market.GigPublished || pub.PublishedAt == nil {
		t.Fatalf("publish: %+v, %v", pub, err)
	}
	if _, err := db.UpdateGig(ctx, g.ID, seller, market.GigChange{Packages: []market.GigPackage{standardOnly}}); market.ErrorCode(err) != market.CodeInvalid {
		t.Fatalf("drop basic of a published gig: %v", err)
	}
	if _, err := db.DeleteDraftGig(ctx, g.ID, seller); market.ErrorCode(err) != market.CodeConflict {
		t.Fatalf("delete a published gig: %v", err)
	}
	if _, err := db.SetGigStatus(ctx, g.ID, seller, market.GigPaused); err != nil {
		t.Fatal(err)
	}
	again, err := db.SetGigStatus(ctx, g.ID, seller, market.GigPublished)
	if err != nil || !again.PublishedAt.Equal(*pub.PublishedAt) {
		t.Fatalf("publishing again moved published_at: %v -> %v (%v)", pub.PublishedAt, again.PublishedAt, err)
	}
}

func TestDeleteDraftGigReturnsItsMediaKeys(t *testing.T) {
	ctx := context.Background()
	db, seller, other := gigFixture(t)
	g := newGig(t, db, seller, "A draft with an image", "design", basicAt(100))
	up, _, err := db.CreateUpload(ctx, market.NewUpload{OwnerID: seller, Kind: market.UploadGigImage, Filename: "a.png", GigID: &g.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.SettleUpload(ctx, up.ID, market.StoredObject{Key: "u/" + seller + "/a.png", Size: 3, SHA256: sha64, ContentType: "image/png", Filename: "a.png"}); err != nil {
		t.Fatal(err)
	}
	media, err := db.GigMedia(ctx, []string{g.ID})
	if err != nil || len(media) != 1 || media[0].ID != up.ID {
		t.Fatalf("GigMedia: %+v, %v", media, err)
	}
	if _, err := db.DeleteDraftGig(ctx, g.ID, other); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("someone else deletes: %v", err)
	}
	keys, err := db.DeleteDraftGig(ctx, g.ID, seller)
	if err != nil || !slices.Equal(keys, []string{"u/" + seller + "/a.png"}) {
		t.Fatalf("delete: %v, %v", keys, err)
	}
	if _, err := db.Upload(ctx, up.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the media row outlived its gig: %v", err)
	}
}

const sha64 = "0000000000000000000000000000000000000000000000000000000000000000"

func TestPublishedGigsFilterAndPageByKeyset(t *testing.T) {
	ctx := context.Background()
	db, seller, other := gigFixture(t)
	var published []string
	for i, price := range []int64{100, 200, 300, 400, 500} {
		category := "design"
		if i%2 == 1 {
			category = "code"
		}
		g := newGig(t, db, seller, "Gig number "+string(rune('A'+i))+" of the test", category, basicAt(price))
		if i == 2 {
			continue // stays a draft
		}
		if _, err := db.SetGigStatus(ctx, g.ID, seller, market.GigPublished); err != nil {
			t.Fatal(err)
		}
		published = append([]string{g.ID}, published...) // newest first
	}
	newGig(t, db, other, "A draft of the other seller", "design", basicAt(1))

	page := func(f market.GigFilter) []string {
		t.Helper()
		f.Limit = 100
		list, err := db.PublishedGigs(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, g := range list {
			out = append(out, g.ID)
		}
		return out
	}
	if got := page(market.GigFilter{}); !slices.Equal(got, published) {
		t.Fatalf("all: %v, want %v", got, published)
	}
	var walked []string
	f := market.GigFilter{Limit: 2}
	for {
		list, err := db.PublishedGigs(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range list {
			walked = append(walked, g.ID)
		}
		if len(list) < 2 {
			break
		}
		last := list[len(list)-1]
		f.After = &market.GigCursor{PublishedAt: *last.PublishedAt, ID: last.ID}
	}
	if !slices.Equal(walked, published) {
		t.Fatalf("pages: %v, want %v", walked, published)
	}
	cases := map[string]struct {
		f    market.GigFilter
		want []string
	}{
		"category":    {market.GigFilter{CategorySlug: "code"}, []string{published[1], published[2]}},
		"price range": {market.GigFilter{MinPrice: 150, MaxPrice: 250, Currency: "USD"}, []string{published[2]}},
		"currency":    {market.GigFilter{Currency: "EUR"}, nil},
		"query":       {market.GigFilter{Query: "number e"}, []string{published[0]}},
		"like chars":  {market.GigFilter{Query: "100%"}, nil},
		"seller":      {market.GigFilter{Seller: "user_a"}, published},
		"no gigs":     {market.GigFilter{Seller: other}, nil},
	}
	for name, tc := range cases {
		if got := page(tc.f); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", name, got, tc.want)
		}
	}
	if _, err := db.PublishedGigs(ctx, market.GigFilter{Query: "%", Limit: 1}); market.ErrorCode(err) != market.CodeInvalid {
		t.Errorf("a query without words: %v, want invalid", err)
	}
}
