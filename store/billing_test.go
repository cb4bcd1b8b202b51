package store_test

import (
	"context"
	"testing"

	"github.com/gigstream/hub/market"
)

func TestBillingProfilePutReadAndDeletedWithTheAccount(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	b := market.NewBilling(f.db, market.BillingConfig{ServiceFeeBPS: 1000, TaxRates: map[string]int{"FR": 2000}})
	if _, err := b.Profile(ctx, f.buyer); market.ErrorCode(err) != market.CodeNotFound {
		t.Fatalf("no profile yet: %v", err)
	}
	_, err := b.PutProfile(ctx, market.BillingProfile{UserID: f.buyer, Name: "Ada", AddressLine1: "1 rue X", City: "Paris", Country: "ZZ"})
	if e, ok := err.(*market.Error); !ok || e.Field != "country" {
		t.Fatalf("bad country: %v", err)
	}
	p, err := b.PutProfile(ctx, market.BillingProfile{UserID: f.buyer, Name: "Ada", AddressLine1: "1 rue X", City: "Paris",
		Country: "fr", TaxID: "fr 12 345"})
	must(t, err)
	if p.Country != "FR" || p.TaxID != "FR12345" || p.UpdatedAt.IsZero() {
		t.Fatalf("stored %+v", p)
	}
	p, err = b.PutProfile(ctx, market.BillingProfile{UserID: f.buyer, Name: "Ada B", AddressLine1: "2 rue Y", City: "Lyon", Country: "FR"})
	must(t, err)
	got, err := b.Profile(ctx, f.buyer)
	must(t, err)
	if got.Name != "Ada B" || got.City != "Lyon" || got.TaxID != "" {
		t.Fatalf("replaced %+v", got)
	}
	// The quote reads the package and the profile: 10.00 + 1.00 fee, 20 % French tax on both.
	q, err := b.Quote(ctx, f.buyer, f.gig, "basic")
	must(t, err)
	if q.PriceMinor != f.price || q.ServiceFeeMinor != 100 || q.TaxMinor != 220 || q.TotalMinor != 1320 || q.TaxCountry != "FR" {
		t.Fatalf("quote %+v", q)
	}
	if _, err := b.Quote(ctx, f.seller, f.gig, "basic"); market.ErrorCode(err) != market.CodeInvalid {
		t.Fatalf("own gig: %v", err)
	}
	if _, err := b.Quote(ctx, f.buyer, newUUID(t), "basic"); market.ErrorCode(err) != market.CodeNotFound {
		t.Fatalf("no such gig: %v", err)
	}
	if _, err := f.db.AnonymizeUser(ctx, f.buyer); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Profile(ctx, f.buyer); market.ErrorCode(err) != market.CodeNotFound {
		t.Fatalf("after deletion: %v", err)
	}
}
