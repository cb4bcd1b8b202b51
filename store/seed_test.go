package store_test

import (
	"context"
	"testing"

	"github.com/gigstream/hub/store"
	"github.com/gigstream/hub/store/storetest"
)

var testSeed = store.SeedData{
	Users: []store.SeedUser{
		{Email: "s@example.test", Username: "seller_one", DisplayName: "Seller", IsSeller: true},
	},
	Categories: []store.SeedCategory{{Slug: "design", Name: "Design"}},
	Gigs: []store.SeedGig{{
		Slug: "logo-gig", SellerUsername: "seller_one", CategorySlug: "design",
		Title: "I will design a logo", Description: "d",
		Packages: []store.SeedPackage{
			{Tier: "basic", Title: "b", PriceMinor: 1000, Currency: "USD", DeliveryDays: 2, Revisions: 1},
			{Tier: "premium", Title: "p", PriceMinor: 5000, Currency: "USD", DeliveryDays: 5, Revisions: 3},
		},
	}},
}

func migratedDB(t *testing.T) *store.DB {
	t.Helper()
	db, _ := migratedDBAt(t)
	return db
}

// migratedDBAt opens a fresh migrated database (river's tables too) and returns it
// with its URL, for tests that also reach it with a connection of their own.
func migratedDBAt(t testing.TB) (*store.DB, string) {
	t.Helper()
	url := storetest.NewDatabase(t)
	db, err := store.Open(context.Background(), store.Config{URL: url})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := newMigrator(t, db).Up(context.Background()); err != nil {
		t.Fatalf("Up: %v", err)
	}
	return db, url
}

func TestSeedIsIdempotent(t *testing.T) {
	ctx := context.Background()
	db := migratedDB(t)
	first, err := db.Seed(ctx, testSeed)
	if err != nil {
		t.Fatalf("first Seed: %v", err)
	}
	if want := (store.SeedCounts{Users: 1, Categories: 1, Gigs: 1, Packages: 2}); first != want {
		t.Fatalf("first Seed inserted %+v, want %+v", first, want)
	}
	second, err := db.Seed(ctx, testSeed)
	if err != nil {
		t.Fatalf("second Seed: %v", err)
	}
	if second != (store.SeedCounts{}) {
		t.Fatalf("second Seed inserted %+v, want nothing", second)
	}
}

func TestSeedRejectsInvalidRowsAtomically(t *testing.T) {
	ctx := context.Background()
	db := migratedDB(t)
	bad := testSeed
	bad.Gigs = []store.SeedGig{{
		Slug: "bad-gig", SellerUsername: "seller_one", CategorySlug: "design",
		Title: "I will do something", Description: "d",
		Packages: []store.SeedPackage{{Tier: "basic", Title: "b", PriceMinor: -5, Currency: "USD", DeliveryDays: 2}},
	}}
	if _, err := db.Seed(ctx, bad); err == nil {
		t.Fatal("Seed with a negative price succeeded")
	}
	n, err := db.Seed(ctx, store.SeedData{Users: testSeed.Users})
	if err != nil {
		t.Fatalf("Seed users: %v", err)
	}
	if n.Users != 1 {
		t.Fatalf("the failed Seed left its user behind (inserted now: %d, want 1)", n.Users)
	}
}
