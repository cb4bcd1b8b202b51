package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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
	down, events, err := db.TakeDownGig(ctx, g.ID, admin, "copies a trademark")
	if err != nil || down.Status != market.GigPaused || down.TakedownReason == nil || *down.TakedownReason != "copies a trademark" || down.TakenDownAt == nil {
		t.Fatalf("taken down: %+v, %v", down, err)
	}
	if len(events) != 1 {
		t.Fatalf("a takedown with no reports stored %d events, want the seller's only", len(events))
	}
	wantModerationEvent(t, raw, events[0], seller, "gig.taken_down", `{"gig_id":"`+g.ID+`","slug":"`+g.Slug+`","title":"`+g.Title+`","reason":"copies a trademark"}`)
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

// TestTakedownResolvesTheGigsOpenReports takes down a gig with two open reports, a
// dismissed one and a report of another gig: the open reports of the taken-down gig
// become actioned with a note saying why (each reporter gets report.resolved, stored
// in the takedown's transaction); the others do not change.
func TestTakedownResolvesTheGigsOpenReports(t *testing.T) {
	ctx := context.Background()
	db, url := migratedDBAt(t)
	if _, err := db.Seed(ctx, store.SeedData{Categories: []store.SeedCategory{{Slug: "design", Name: "Design"}}}); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	seller, admin := twoUsers(t, db)
	var reporters [2]string
	for i := range reporters {
		u, err := db.CreateUser(ctx, market.NewUser{Email: fmt.Sprintf("r%d@x.test", i), Username: fmt.Sprintf("reporter_%d", i), DisplayName: "R", IsBuyer: true})
		if err != nil {
			t.Fatal(err)
		}
		reporters[i] = u.ID
	}
	var gigs [2]market.Gig
	for i := range gigs {
		gigs[i] = newGig(t, db, seller, fmt.Sprintf("Logo design number %d", i), "design", basicAt(100))
		if _, err := db.SetGigStatus(ctx, gigs[i].ID, seller, market.GigPublished); err != nil {
			t.Fatal(err)
		}
	}
	report := func(reporter string, gig market.Gig) market.AbuseReport {
		t.Helper()
		rep, _, err := db.CreateAbuseReport(ctx, market.NewAbuseReport{ReporterID: reporter, TargetKind: market.ReportGig, TargetID: gig.ID, Reason: "intellectual_property"})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	dismissed := report(reporters[0], gigs[0])
	if _, _, err := db.ResolveAbuseReport(ctx, dismissed.ID, admin, "dismissed", "looks original"); err != nil {
		t.Fatal(err)
	}
	open := []market.AbuseReport{report(reporters[0], gigs[0]), report(reporters[1], gigs[0])}
	other := report(reporters[0], gigs[1])

	_, events, err := db.TakeDownGig(ctx, gigs[0].ID, admin, "copies a trademark")
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 3 || events[0].Type != "gig.taken_down" {
		t.Fatalf("events %+v, want the seller's gig.taken_down and two report.resolved", events)
	}
	for i, rep := range open {
		ev := events[i+1]
		var stored string
		if err := raw.QueryRow(`SELECT data::text FROM events WHERE channel = $1 AND seq = $2 AND type = 'report.resolved'`, ev.Channel, ev.Seq).Scan(&stored); err != nil {
			t.Fatalf("report.resolved of %s not stored: %v", rep.ID, err)
		}
		if ev.Channel != market.UserChannel(rep.ReporterID) || !strings.Contains(stored, `"status": "actioned"`) || strings.Contains(stored, "trademark") {
			t.Fatalf("event %s %s, want report.resolved on the reporter's channel, actioned, without the admin's note", ev.Channel, stored)
		}
	}
	status := func(id string) (string, string, string) {
		var s, note, by string
		if err := raw.QueryRow(`SELECT status, coalesce(resolution_note, ''), coalesce(resolved_by::text, '') FROM abuse_reports WHERE id = $1`, id).Scan(&s, &note, &by); err != nil {
			t.Fatal(err)
		}
		return s, note, by
	}
	for _, rep := range open {
		if s, note, by := status(rep.ID); s != "actioned" || note != "gig taken down: copies a trademark" || by != admin {
			t.Fatalf("open report of the taken-down gig is %s (%q by %s), want actioned with the takedown's reason by the admin", s, note, by)
		}
	}
	if s, note, _ := status(dismissed.ID); s != "dismissed" || note != "looks original" {
		t.Fatalf("the dismissed report became %s (%q)", s, note)
	}
	if s, _, _ := status(other.ID); s != "open" {
		t.Fatalf("the other gig's report became %s", s)
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
