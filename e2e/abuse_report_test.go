package e2e

import (
	"strings"
	"testing"
	"time"
)

// abuseReportView is a report as the API shows it.
type abuseReportView struct {
	ID, Status, Excerpt string
	TargetKind          string `json:"target_kind"`
}

func TestUsersReportAGigAndAnAdminWorksTheQueue(t *testing.T) {
	n, env := seededGigNode(t)
	admin, grantAdmin := moderator(t, n, env)
	_, sellerTok := appUser(t, n, "seller")
	_, buyerTok := appUser(t, n, "buyer")
	seller := &client{t: t, base: n.URL, bearer: sellerTok}
	buyer := &client{t: t, base: n.URL, bearer: buyerTok}

	g := createGig(t, seller, gigBody("Hand-drawn logo for your brand", "graphics-design", pkg("basic", 2500, "USD")))
	body := map[string]string{"target_kind": "gig", "target_id": g.ID, "reason": "intellectual_property", "details": "copies a trademark"}
	expect(t, buyer.do("POST", "/reports", body), 404, "report of a draft")
	expect(t, seller.do("POST", "/gigs/"+g.ID+"/publish", nil), 200, "publish")
	var first, again abuseReportView
	expect(t, buyer.do("POST", "/reports", body), 201, "report").json(t, &first)
	expect(t, buyer.do("POST", "/reports", body), 200, "report again").json(t, &again)
	if first.ID != again.ID || first.Excerpt != g.Title || first.Status != "open" {
		t.Fatalf("reports %+v and %+v", first, again)
	}
	expect(t, seller.do("POST", "/reports", body), 422, "report of one's own gig")
	expect(t, buyer.do("POST", "/reports", map[string]string{"target_kind": "review", "target_id": g.ID, "reason": "spam"}), 422, "unknown kind")

	expect(t, admin.do("GET", "/admin/reports", nil), 404, "queue as a non-admin")
	expect(t, admin.do("GET", "/admin/users?q=seller", nil), 404, "user search as a non-admin")
	grantAdmin()
	var found struct {
		Users []struct{ ID, Username string }
	}
	expect(t, admin.do("GET", "/admin/users?q="+strings.ToUpper(g.Seller.Username), nil), 200, "user search").json(t, &found)
	if len(found.Users) != 1 || found.Users[0].ID != g.Seller.ID {
		t.Fatalf("user search for %s found %+v", g.Seller.Username, found.Users)
	}
	var queue struct {
		Reports    []abuseReportView
		NextCursor *string `json:"next_cursor"`
	}
	expect(t, admin.do("GET", "/admin/reports", nil), 200, "open queue").json(t, &queue)
	if len(queue.Reports) != 1 || queue.Reports[0].ID != first.ID || queue.NextCursor != nil {
		t.Fatalf("open queue %+v", queue)
	}
	// Taking the gig down resolves its open reports as actioned: nothing is left to
	// resolve by hand.
	expect(t, admin.do("POST", "/admin/gigs/"+g.ID+"/takedown", map[string]string{"reason": "Trademark (report " + first.ID + ")"}), 200, "act")
	expect(t, admin.do("POST", "/admin/reports/"+first.ID+"/resolve", map[string]string{"outcome": "dismissed"}), 409, "resolve after the takedown")
	queue.Reports = nil
	expect(t, admin.do("GET", "/admin/reports", nil), 200, "open queue after the takedown").json(t, &queue)
	if len(queue.Reports) != 0 {
		t.Fatalf("open queue after the takedown %+v", queue)
	}
	queue.Reports = nil
	expect(t, admin.do("GET", "/admin/reports?status=actioned", nil), 200, "actioned").json(t, &queue)
	if len(queue.Reports) != 1 || queue.Reports[0].Status != "actioned" {
		t.Fatalf("actioned queue %+v", queue)
	}
	expect(t, admin.do("GET", "/admin/reports?status=closed", nil), 422, "unknown status")

	// The reporter is told the outcome, without the admin's note, and finds the
	// report in their export.
	told := waitNotificationOfKind(t, buyer, "report_resolved")
	if !strings.Contains(told.Body, "took action") || !strings.Contains(told.Body, g.Title) || strings.Contains(told.Body, "taken down") {
		t.Fatalf("the reporter is told %+v", told)
	}
	var export struct {
		AbuseReports []struct{ ID, Status, Excerpt string } `json:"abuse_reports"`
		Complete     bool
	}
	r := expect(t, buyer.do("GET", "/me/export", nil), 200, "export")
	r.json(t, &export)
	if !export.Complete || len(export.AbuseReports) != 1 || export.AbuseReports[0].ID != first.ID || export.AbuseReports[0].Status != "actioned" ||
		strings.Contains(string(r.body), "resolution_note") {
		t.Fatalf("the reporter's export holds %+v", export)
	}
}

// waitNotificationOfKind waits until c has a notification of kind.
func waitNotificationOfKind(t *testing.T, c *client, kind string) apiNotification {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		for _, n := range notificationsOf(t, c, "/notifications?limit=100").Notifications {
			if n.Kind == kind {
				return n
			}
		}
	}
	t.Fatalf("no %s notification within 20 s", kind)
	return apiNotification{}
}
