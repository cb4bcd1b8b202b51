package store_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/store"
)

func TestTakenDownGigStaysPausedUntilRestoredAndCarriesItsReason(t *testing.T) {
	ctx := context.Background()
	db, url := migratedDBAt(t)
	if _, err := db.Seed(ctx, store.SeedData{Categories: []store.SeedCategory{{Slug: "design", Name: "Design"}}}); err != nil {
		t.Fatal(err)
	}
	seller, admin := twoUsers(t, db)
	raw, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	g := newGig(t, db, seller, "Logo design, done fast!", "design", basicAt(100))
	if _, err := db.TakeDownGig(ctx, g.ID, admin, "r"); market.ErrorCode(err) != market.CodeConflict {
		t.Fatalf("take down a draft: %v, want conflict", err)
	}
	if _, err := db.TakeDownGig(ctx, "not-a-uuid", admin, "r"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("take down a malformed id: %v", err)
	}
	if _, err := db.SetGigStatus(ctx, g.ID, seller, market.GigPublished); err != nil {
		t.Fatal(err)
	}
	down, err := db.TakeDownGig(ctx, g.ID, admin, "copies a trademark")
	if err != nil || down.Status != market.GigPaused || down.TakedownReason == nil || *down.TakedownReason != "copies a trademark" || down.TakenDownAt == nil {
		t.Fatalf("taken down: %+v, %v", down, err)
	}
	_, err = db.SetGigStatus(ctx, g.ID, seller, market.GigPublished)
	if market.ErrorCode(err) != market.CodeConflict || !strings.Contains(err.Error(), "copies a trademark") {
		t.Fatalf("seller publishes a taken-down gig: %v, want a conflict with the reason", err)
	}
	listed, err := db.SellerGigs(ctx, seller, market.SellerGigFilter{Limit: 10})
	if err != nil || len(listed) != 1 || listed[0].TakedownReason == nil {
		t.Fatalf("the seller's list does not show the takedown: %+v, %v", listed, err)
	}
	// Whatever writes the row, a taken-down gig cannot be published.
	if _, err := raw.ExecContext(ctx, `UPDATE gigs SET status = 'published' WHERE id = $1`, g.ID); err == nil {
		t.Fatal("the database let a taken-down gig be published")
	}
	restored, err := db.RestoreGig(ctx, g.ID)
	if err != nil || restored.Status != market.GigPaused || restored.TakedownReason != nil || restored.TakenDownAt != nil {
		t.Fatalf("restored: %+v, %v", restored, err)
	}
	if _, err := db.RestoreGig(ctx, g.ID); market.ErrorCode(err) != market.CodeConflict {
		t.Fatalf("restore twice: %v, want conflict", err)
	}
	if _, err := db.SetGigStatus(ctx, g.ID, seller, market.GigPublished); err != nil {
		t.Fatalf("publish after restore: %v", err)
	}
}
