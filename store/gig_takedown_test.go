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
	if _, _, err := db.TakeDownGig(ctx, g.ID, admin, "r"); market.ErrorCode(err) != market.CodeConflict {
		t.Fatalf("take down a draft: %v, want conflict", err)
	}
	if _, _, err := db.TakeDownGig(ctx, "not-a-uuid", admin, "r"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("take down a malformed id: %v", err)
	}
	if _, err := db.SetGigStatus(ctx, g.ID, seller, market.GigPublished); err != nil {
		t.Fatal(err)
	}
	down, ev, err := db.TakeDownGig(ctx, g.ID, admin, "copies a trademark")
	if err != nil || down.Status != market.GigPaused || down.TakedownReason == nil || *down.TakedownReason != "copies a trademark" || down.TakenDownAt == nil {
		t.Fatalf("taken down: %+v, %v", down, err)
	}
	wantModerationEvent(t, raw, ev, seller, "gig.taken_down", `{"gig_id":"`+g.ID+`","slug":"`+g.Slug+`","title":"`+g.Title+`","reason":"copies a trademark"}`)
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
	restored, ev, err := db.RestoreGig(ctx, g.ID)
	if err != nil || restored.Status != market.GigPaused || restored.TakedownReason != nil || restored.TakenDownAt != nil {
		t.Fatalf("restored: %+v, %v", restored, err)
	}
	wantModerationEvent(t, raw, ev, seller, "gig.restored", `{"gig_id":"`+g.ID+`","slug":"`+g.Slug+`","title":"`+g.Title+`"}`)
	if _, _, err := db.RestoreGig(ctx, g.ID); market.ErrorCode(err) != market.CodeConflict {
		t.Fatalf("restore twice: %v, want conflict", err)
	}
	if _, err := db.SetGigStatus(ctx, g.ID, seller, market.GigPublished); err != nil {
		t.Fatalf("publish after restore: %v", err)
	}
}

// wantModerationEvent checks that ev is a committed event of type on the seller's
// channel whose data is want (JSON), as stored.
func wantModerationEvent(t *testing.T, raw *sql.DB, ev market.Event, seller, eventType, want string) {
	t.Helper()
	if ev.Channel != market.UserChannel(seller) || ev.Type != eventType || string(ev.Data) != want {
		t.Fatalf("event %s %s %s, want %s on the seller's channel with %s", ev.Channel, ev.Type, ev.Data, eventType, want)
	}
	var stored string
	if err := raw.QueryRow(`SELECT data::text FROM events WHERE channel = $1 AND seq = $2 AND type = $3`, ev.Channel, ev.Seq, eventType).Scan(&stored); err != nil {
		t.Fatalf("%s not stored: %v", eventType, err)
	}
}
