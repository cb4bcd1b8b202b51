package e2e

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// takedownView is what a seller sees of their gig after an admin took it down.
type takedownView struct {
	Status         string
	TakedownReason *string    `json:"takedown_reason"`
	TakenDownAt    *time.Time `json:"taken_down_at"`
}

func TestAdminTakedownHidesAGigAndItsSellerSeesWhy(t *testing.T) {
	n, env := seededGigNode(t)
	admin, grantAdmin := moderator(t, n, env)
	_, sellerTok := appUser(t, n, "seller")
	seller := &client{t: t, base: n.URL, bearer: sellerTok}

	g := createGig(t, seller, gigBody("Hand-drawn logo for your brand", "graphics-design", pkg("basic", 2500, "USD")))
	var up uploaded
	expect(t, uploadForm(t, n, sellerTok, map[string]string{"kind": "gig_image", "gig_id": g.ID}, "logo.png", pngBytes(t)), 201, "gig image").json(t, &up)
	expect(t, admin.do("POST", "/admin/gigs/"+g.ID+"/takedown", map[string]string{"reason": "x"}), 404, "takedown by a non-admin")
	grantAdmin()
	expect(t, admin.do("POST", "/admin/gigs/"+g.ID+"/takedown", map[string]string{"reason": "nothing to hide"}), 409, "takedown of a draft")
	expect(t, seller.do("POST", "/gigs/"+g.ID+"/publish", nil), 200, "publish")
	expect(t, as(t, n, "", "GET", "/gigs/"+g.Slug), 200, "published gig, public")
	expect(t, as(t, n, "", "GET", "/gigs?q=logo"), 200, "search") // warms the read cache and the index

	r := expect(t, admin.do("POST", "/admin/gigs/"+g.ID+"/takedown", map[string]string{"reason": "  "}), 422, "blank reason")
	if f := r.problemFields(t); !slices.Contains(f, "reason") {
		t.Fatalf("422 names %v, want reason", f)
	}
	reason := "The logo copies a registered trademark (report 1234)."
	expect(t, admin.do("POST", "/admin/gigs/"+g.ID+"/takedown", map[string]string{"reason": reason}), 200, "takedown")
	for _, path := range []string{"/gigs/" + g.ID, "/gigs/" + g.Slug, "/uploads/" + up.ID + "/download"} {
		expect(t, as(t, n, "", "GET", path), 404, "anonymous GET "+path+" after the takedown")
	}
	if body := string(expect(t, as(t, n, "", "GET", "/gigs?seller="+g.Seller.Username), 200, "seller's listing").body); strings.Contains(body, g.ID) {
		t.Fatalf("a taken-down gig is still listed: %s", body)
	}
	var own takedownView
	expect(t, seller.do("GET", "/gigs/"+g.ID, nil), 200, "seller's own view").json(t, &own)
	if own.Status != "paused" || own.TakedownReason == nil || *own.TakedownReason != reason || own.TakenDownAt == nil {
		t.Fatalf("seller sees %+v, want paused with the reason", own)
	}
	if body := string(expect(t, seller.do("GET", "/me/gigs", nil), 200, "seller's gigs").body); !strings.Contains(body, reason) {
		t.Fatalf("GET /me/gigs does not show the reason: %s", body)
	}
	if body := string(expect(t, seller.do("POST", "/gigs/"+g.ID+"/publish", nil), 409, "publish a taken-down gig").body); !strings.Contains(body, "trademark") {
		t.Fatalf("the 409 does not say why: %s", body)
	}

	expect(t, admin.do("POST", "/admin/gigs/"+g.ID+"/restore", nil), 200, "restore")
	expect(t, admin.do("POST", "/admin/gigs/"+g.ID+"/restore", nil), 409, "restore twice")
	expect(t, as(t, n, "", "GET", "/gigs/"+g.ID), 404, "a restored gig stays paused")
	own = takedownView{}
	expect(t, seller.do("GET", "/gigs/"+g.ID, nil), 200, "seller's view after restore").json(t, &own)
	if own.TakedownReason != nil || own.TakenDownAt != nil {
		t.Fatalf("restored gig still shows %+v", own)
	}
	expect(t, seller.do("POST", "/gigs/"+g.ID+"/publish", nil), 200, "publish after restore")
	expect(t, as(t, n, "", "GET", "/gigs/"+g.ID), 200, "public again")
}

// TestAdminTakedownTellsTheSellerLiveInAppAndByEmail: a takedown reaches the seller as
// gig.taken_down on their user channel, a gig_taken_down notification with the reason
// (live and listed) and an e-mail quoting it; lifting it does the same with
// gig.restored, gig_restored and a second e-mail. Neither names the admin.
func TestAdminTakedownTellsTheSellerLiveInAppAndByEmail(t *testing.T) {
	n, env := seededGigNode(t)
	admin, grantAdmin := moderator(t, n, env)
	grantAdmin()
	sellerID, sellerTok := demoToken(t, n, "maya@demo.gigstream.test")
	seller := &client{t: t, base: n.URL, bearer: sellerTok}
	var g struct{ ID, Title string }
	expect(t, as(t, n, "", "GET", "/gigs/minimalist-logo-design"), 200, "seeded gig").json(t, &g)
	s := mustDial(t, n, sellerTok)
	channel := "user:" + sellerID
	s.subscribe(channel, nil)

	reason := fmt.Sprintf("Copies a registered trademark (report %d).", time.Now().UnixNano())
	expect(t, admin.do("POST", "/admin/gigs/"+g.ID+"/takedown", map[string]string{"reason": reason}), 200, "takedown")
	var down struct {
		GigID  string `json:"gig_id"`
		Title  string
		Reason *string
	}
	if err := json.Unmarshal(s.eventOfType(channel, "gig.taken_down", 20*time.Second).Data, &down); err != nil {
		t.Fatal(err)
	}
	if down.GigID != g.ID || down.Title != g.Title || down.Reason == nil || *down.Reason != reason {
		t.Fatalf("gig.taken_down %+v", down)
	}
	live := liveNotification(t, s, channel, "gig_taken_down")
	if live.Link != "/gigs/"+g.ID || !strings.Contains(live.Body, reason) || live.OrderID != nil {
		t.Fatalf("live notification %+v", live)
	}
	if !slices.ContainsFunc(notificationsOf(t, seller, "/notifications").Notifications, func(x apiNotification) bool { return x.ID == live.ID }) {
		t.Fatal("the takedown notification is not listed")
	}
	html, _ := waitMailAbout(t, "maya@demo.gigstream.test", reason)
	if !strings.Contains(html, "/gigs/"+g.ID) || strings.Contains(html, "moderator") {
		t.Fatalf("the takedown e-mail lacks the gig's link or names the admin:\n%s", html)
	}

	since := time.Now().Add(-time.Second)
	expect(t, admin.do("POST", "/admin/gigs/"+g.ID+"/restore", nil), 200, "restore")
	s.eventOfType(channel, "gig.restored", 20*time.Second)
	if back := liveNotification(t, s, channel, "gig_restored"); back.Link != "/gigs/"+g.ID {
		t.Fatalf("restore notification %+v", back)
	}
	waitMailSince(t, "maya@demo.gigstream.test", "Takedown lifted", since)
}

// liveNotification waits for a notification event of kind on channel.
func liveNotification(t *testing.T, s *socket, channel, kind string) apiNotification {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var n apiNotification
		if err := json.Unmarshal(s.eventOfType(channel, "notification", time.Until(deadline)).Data, &n); err != nil {
			t.Fatal(err)
		}
		if n.Kind == kind {
			return n
		}
	}
	t.Fatalf("no %s notification on %s within 20 s", kind, channel)
	return apiNotification{}
}
