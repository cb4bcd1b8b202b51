package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
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
	done, ev, err := db.ResolveAbuseReport(ctx, g.ID, seller, market.ReportActioned, "secret: the seller's other account is user_z")
	if err != nil || done.Status != market.ReportActioned || done.ResolvedAt == nil {
		t.Fatalf("resolve: %+v, %v", done, err)
	}
	// The reporter is told, in the same transaction, without the note or the admin.
	var told market.ReportOutcome
	if err := json.Unmarshal(ev.Data, &told); err != nil || ev.Channel != market.UserChannel(buyer) || ev.Type != "report.resolved" ||
		told.ID != g.ID || told.Status != market.ReportActioned || told.Excerpt != gig.Title || told.ResolvedAt == nil {
		t.Fatalf("report.resolved %s %s %s (%v)", ev.Channel, ev.Type, ev.Data, err)
	}
	if strings.Contains(string(ev.Data), "secret") || strings.Contains(string(ev.Data), seller) {
		t.Fatalf("report.resolved leaks the note or the admin: %s", ev.Data)
	}
	stored, err := db.History(ctx, ev.Channel, ev.Seq-1, 1)
	if err != nil || len(stored) != 1 || stored[0].Type != "report.resolved" {
		t.Fatalf("report.resolved not stored: %+v, %v", stored, err)
	}
	if _, _, err := db.ResolveAbuseReport(ctx, g.ID, seller, market.ReportDismissed, ""); market.ErrorCode(err) != market.CodeConflict {
		t.Fatalf("resolve twice: %v", err)
	}
	if _, _, err := db.ResolveAbuseReport(ctx, newUUID(t), seller, market.ReportDismissed, ""); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("resolve a missing report: %v", err)
	}
	// Once resolved, the same target may be reported again.
	if _, created, err := report(buyer, market.ReportGig, gig.ID); err != nil || !created {
		t.Fatalf("report again after resolution: created %v, %v", created, err)
	}
	// The account export holds the reports the user filed, with their outcome, and
	// neither the note nor reports others filed about them.
	rows, err := db.ExportPage(ctx, market.ExportAbuseReports, buyer, "", 10)
	if err != nil || len(rows) != 3 {
		t.Fatalf("the buyer's exported reports: %d, %v; want their 3", len(rows), err)
	}
	statuses := map[string]int{}
	for _, r := range rows {
		var x struct{ Status, Excerpt string }
		if err := json.Unmarshal(r.Data, &x); err != nil {
			t.Fatal(err)
		}
		statuses[x.Status]++
		if strings.Contains(string(r.Data), "secret") || strings.Contains(string(r.Data), seller) {
			t.Fatalf("an exported report leaks the note or the admin: %s", r.Data)
		}
	}
	if statuses[market.ReportOpen] != 2 || statuses[market.ReportActioned] != 1 {
		t.Fatalf("exported statuses %v, want 2 open and 1 actioned", statuses)
	}
	if rows, err := db.ExportPage(ctx, market.ExportAbuseReports, seller, "", 10); err != nil || len(rows) != 0 {
		t.Fatalf("the reported seller's export holds %d reports (%v), want none", len(rows), err)
	}
}
