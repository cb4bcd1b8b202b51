package store_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"log/slog"
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

func newGig(t testing.TB, db *store.DB, seller, title, category string, packages ...market.GigPackage) market.Gig {
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
	if err := db.DeleteDraftGig(ctx, g.ID, seller); market.ErrorCode(err) != market.CodeConflict {
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

// Deleting a draft removes its media rows and queues, in the same transaction, one
// object_delete job with their objects (the original and a video's poster and
// rendition), so a failed S3 delete is retried by river rather than lost; someone
// else's draft is not found and queues nothing.
func TestDeleteDraftGigQueuesTheDeletionOfItsMedia(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	_, err := f.db.MigrateJobs(ctx, slog.New(slog.DiscardHandler))
	must(t, err)
	g := newGig(t, f.db, f.seller, "A draft with an image", "design", basicAt(100))
	up, _, err := f.db.CreateUpload(ctx, market.NewUpload{OwnerID: f.seller, Kind: market.UploadGigImage, Filename: "a.png", GigID: &g.ID})
	must(t, err)
	if _, _, err := f.db.SettleUpload(ctx, up.ID, market.StoredObject{Key: "u/" + f.seller + "/a.png", Size: 3, SHA256: sha64, ContentType: "image/png", Filename: "a.png"}); err != nil {
		t.Fatal(err)
	}
	var video string
	must(t, f.raw.QueryRow(`INSERT INTO uploads (owner_id, kind, status, object_key, poster_key, rendition_key, gig_id, size, sha256, content_type)
		VALUES ($1, 'gig_video', 'clean', 'u/s/video', 'u/s/poster', 'u/s/rendition', $2, 1, $3, 'video/mp4') RETURNING id`,
		f.seller, g.ID, sha64).Scan(&video))
	media, err := f.db.GigMedia(ctx, []string{g.ID})
	if err != nil || len(media) != 2 {
		t.Fatalf("GigMedia: %+v, %v", media, err)
	}
	if err := f.db.DeleteDraftGig(ctx, g.ID, f.buyer); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("someone else deletes: %v", err)
	}
	if jobs := objectDeleteJobs(t, f.raw); len(jobs) != 0 {
		t.Fatalf("a refused deletion queued %v", jobs)
	}
	if err := f.db.DeleteDraftGig(ctx, g.ID, f.seller); err != nil {
		t.Fatalf("delete: %v", err)
	}
	for _, id := range []string{up.ID, video} {
		if _, err := f.db.Upload(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the media row %s outlived its gig: %v", id, err)
		}
	}
	jobs := objectDeleteJobs(t, f.raw)
	if len(jobs) != 1 {
		t.Fatalf("object_delete jobs: %v, want one", jobs)
	}
	want := []string{"u/" + f.seller + "/a.png", "u/s/poster", "u/s/rendition", "u/s/video"}
	slices.Sort(jobs[0])
	slices.Sort(want)
	if !slices.Equal(jobs[0], want) {
		t.Errorf("object_delete keys %v, want %v", jobs[0], want)
	}
}

// objectDeleteJobs returns the keys of every queued object_delete job.
func objectDeleteJobs(t *testing.T, raw *sql.DB) [][]string {
	t.Helper()
	rows, err := raw.Query(`SELECT args::text FROM river_job WHERE kind = 'object_delete' ORDER BY id`)
	must(t, err)
	defer rows.Close()
	var jobs [][]string
	for rows.Next() {
		var text string
		must(t, rows.Scan(&text))
		var args struct{ Keys []string }
		must(t, json.Unmarshal([]byte(text), &args))
		jobs = append(jobs, args.Keys)
	}
	must(t, rows.Err())
	return jobs
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
