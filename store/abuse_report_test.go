package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/store"
)

func TestAbuseReportsCopyWhatTheReporterSawAndQueueOncePerTarget(t *testing.T) {
	ctx := context.Background()
	db, buyer, seller := gigFixture(t)
	outsider, err := db.CreateUser(ctx, market.NewUser{Email: "c@x.test", Username: "user_c", DisplayName: "C", IsBuyer: true})
	if err != nil {
		t.Fatal(err)
	}
	gig := newGig(t, db, seller, "Logo design, done fast!", "design", basicAt(100))
	conv, _, err := db.OpenDirectConversation(ctx, buyer, seller, nil)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := db.SendMessage(ctx, market.NewMessage{ConversationID: conv.ID, SenderID: seller, ClientID: newUUID(t), Text: "pay me outside the site"})
	if err != nil {
		t.Fatal(err)
	}
	report := func(reporter, kind, id string) (market.AbuseReport, bool, error) {
		return db.CreateAbuseReport(ctx, market.NewAbuseReport{ReporterID: reporter, TargetKind: kind, TargetID: id, Reason: "scam"})
	}
	// What the reporter cannot see is not found: a draft, a message of a conversation
	// they are not in.
	if _, _, err := report(buyer, market.ReportGig, gig.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("report of a draft: %v", err)
	}
	if _, _, err := report(outsider.ID, market.ReportMessage, msg.Message.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("report of someone else's message: %v", err)
	}
	if _, _, err := report(seller, market.ReportMessage, msg.Message.ID); market.ErrorCode(err) != market.CodeInvalid {
		t.Fatalf("report of one's own message: %v", err)
	}
	if _, err := db.SetGigStatus(ctx, gig.ID, seller, market.GigPublished); err != nil {
		t.Fatal(err)
	}
	// Two racing reports of one target by one user are one report.
	var wg sync.WaitGroup
	ids, created := make([]string, 2), make([]bool, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep, c, err := report(buyer, market.ReportMessage, msg.Message.ID)
			if err != nil {
				t.Error(err)
			}
			ids[i], created[i] = rep.ID, c
		}()
	}
	wg.Wait()
	if ids[0] != ids[1] || created[0] == created[1] {
		t.Fatalf("racing reports: ids %v created %v, want one report created once", ids, created)
	}
	g, _, err := report(buyer, market.ReportGig, gig.ID)
	if err != nil || g.Excerpt != gig.Title || g.TargetOwnerID != seller {
		t.Fatalf("gig report %+v, %v", g, err)
	}
	if _, _, err := report(outsider.ID, market.ReportUser, seller); err != nil {
		t.Fatal(err)
	}
	open, err := db.AbuseReports(ctx, market.ReportOpen, nil, 2)
	if err != nil || len(open) != 2 || open[0].ID != ids[0] || open[0].Excerpt != "pay me outside the site" {
		t.Fatalf("first page of the queue %+v, %v", open, err)
	}
	rest, err := db.AbuseReports(ctx, market.ReportOpen, &market.PageKey{At: open[1].CreatedAt, ID: open[1].ID}, 2)
	if err != nil || len(rest) != 1 || rest[0].TargetKind != market.ReportUser || rest[0].Excerpt != "user_b" {
		t.Fatalf("second page of the queue %+v, %v", rest, err)
	}
	done, err := db.ResolveAbuseReport(ctx, g.ID, seller, market.ReportActioned, "gig taken down")
	if err != nil || done.Status != market.ReportActioned || done.ResolvedAt == nil {
		t.Fatalf("resolve: %+v, %v", done, err)
	}
	if _, err := db.ResolveAbuseReport(ctx, g.ID, seller, market.ReportDismissed, ""); market.ErrorCode(err) != market.CodeConflict {
		t.Fatalf("resolve twice: %v", err)
	}
	if _, err := db.ResolveAbuseReport(ctx, newUUID(t), seller, market.ReportDismissed, ""); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("resolve a missing report: %v", err)
	}
	// Once resolved, the same target may be reported again.
	if _, created, err := report(buyer, market.ReportGig, gig.ID); err != nil || !created {
		t.Fatalf("report again after resolution: created %v, %v", created, err)
	}
}
