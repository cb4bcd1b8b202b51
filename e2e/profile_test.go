package e2e

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"
)

type apiProfile struct {
	Username    string   `json:"username"`
	DisplayName string   `json:"display_name"`
	Country     *string  `json:"country"`
	Languages   []string `json:"languages"`
	Skills      []string `json:"skills"`
	AvatarPath  *string  `json:"avatar_path"`
	IsSeller    bool     `json:"is_seller"`
	Presence    struct {
		Online     bool       `json:"online"`
		LastSeenAt *time.Time `json:"last_seen_at"`
	} `json:"presence"`
	Stats *struct {
		CompletedOrders int      `json:"completed_orders"`
		RatingCount     int      `json:"rating_count"`
		RatingMean      *float64 `json:"rating_mean"`
		OnTimeRate      *float64 `json:"on_time_rate"`
		ResponseSeconds *int64   `json:"response_seconds"`
		ResponseRate    *float64 `json:"response_rate"`
	} `json:"seller_stats"`
	Gigs    []struct{ ID string } `json:"gigs"`
	Reviews []apiReview           `json:"latest_reviews"`
}

// TestPublicProfileShowsTheSellersRealRecord: a seller's details, avatar, stats from a
// completed, reviewed order and an answered chat, gigs and reviews, presence, ETag
// revalidation, bad details named, and a disabled seller's profile gone.
func TestPublicProfileShowsTheSellersRealRecord(t *testing.T) {
	o := startOrderNode(t, map[string]string{"GIG_VIEW_FLUSH_INTERVAL": "200ms"}, true)
	seller := &client{t: t, base: o.n.URL, bearer: o.seller}
	buyer := &client{t: t, base: o.n.URL, bearer: o.buyer}
	anon := &client{t: t, base: o.n.URL}
	var me struct {
		Username string `json:"username"`
		Email    string `json:"email"`
	}
	expect(t, seller.do("GET", "/me", nil), 200, "me").json(t, &me)

	for what, c := range map[string]struct {
		body  map[string]any
		field string
	}{
		"country name":  {map[string]any{"country": "Germany"}, "country"},
		"bad language":  {map[string]any{"languages": []string{"English", "<b>"}}, "languages[1]"},
		"eleven langs":  {map[string]any{"languages": []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"}}, "languages"},
		"skills a word": {map[string]any{"skills": "logo"}, "skills"},
	} {
		r := seller.do("PATCH", "/me", c.body)
		if r.status != 400 && r.status != 422 {
			t.Fatalf("%s: status %d, want 400 or 422", what, r.status)
		}
		if f := r.problemFields(t); !slices.Contains(f, c.field) {
			t.Fatalf("%s: problem fields %v, want %s", what, f, c.field)
		}
	}
	var patched apiProfile
	expect(t, seller.do("PATCH", "/me", map[string]any{"country": "de", "languages": []string{"English", " German ", "english"},
		"skills": []string{"Logo design", "C++"}}), 200, "details").json(t, &patched)
	if patched.Country == nil || *patched.Country != "DE" || !slices.Equal(patched.Languages, []string{"English", "German"}) {
		t.Fatalf("PATCH /me answered %+v", patched)
	}
	var avatar uploaded
	expect(t, uploadForm(t, o.n, o.seller, map[string]string{"kind": "avatar"}, "me.png", pngBytes(t)), 201, "avatar").json(t, &avatar)

	// A record: one completed order reviewed 4 stars, one chat answered.
	order := o.completedOrder(t)
	expect(t, buyer.do("POST", "/orders/"+order+"/review", map[string]any{"rating": 4, "comment": "solid"}), 201, "review")
	var conv struct{ ID string }
	r := buyer.do("POST", "/conversations", map[string]string{"participant_id": o.sellerID})
	if r.status != 200 && r.status != 201 {
		t.Fatalf("open conversation: %d %s", r.status, r.body)
	}
	r.json(t, &conv)
	send(t, buyer, conv.ID, "hello, are you free?")
	send(t, seller, conv.ID, "yes!")

	var p apiProfile
	first := expect(t, anon.do("GET", "/users/"+me.Username, nil), 200, "profile")
	first.json(t, &p)
	if p.Username != me.Username || p.Country == nil || *p.Country != "DE" || !slices.Equal(p.Skills, []string{"Logo design", "C++"}) {
		t.Fatalf("profile details %+v", p)
	}
	if p.AvatarPath == nil || *p.AvatarPath != "/uploads/"+avatar.ID+"/download" {
		t.Fatalf("avatar_path %v, want the avatar upload %s", p.AvatarPath, avatar.ID)
	}
	s := p.Stats
	if !p.IsSeller || s == nil || s.CompletedOrders != 1 || s.RatingCount != 1 || s.RatingMean == nil || *s.RatingMean != 4 ||
		s.OnTimeRate == nil || *s.OnTimeRate != 1 || s.ResponseRate == nil || *s.ResponseRate != 1 || s.ResponseSeconds == nil || *s.ResponseSeconds < 0 {
		t.Fatalf("seller stats %+v", s)
	}
	if !slices.ContainsFunc(p.Gigs, func(g struct{ ID string }) bool { return g.ID == o.gigID }) {
		t.Fatalf("profile gigs %v lack the seller's published gig %s", p.Gigs, o.gigID)
	}
	if len(p.Reviews) != 1 || p.Reviews[0].Rating != 4 || p.Reviews[0].Comment != "solid" {
		t.Fatalf("latest reviews %+v", p.Reviews)
	}
	if p.Presence.Online || p.Presence.LastSeenAt == nil {
		t.Fatalf("presence of a seller without a socket %+v, want offline with a last seen", p.Presence)
	}

	// Revalidation: the same representation is a 304; Cache-Control bounds staleness.
	etag := first.header.Get("ETag")
	if etag == "" || first.header.Get("Cache-Control") != "public, max-age=30" {
		t.Fatalf("ETag %q, Cache-Control %q", etag, first.header.Get("Cache-Control"))
	}
	expect(t, anon.do("GET", "/users/"+me.Username, nil, "If-None-Match", etag), 304, "revalidation")

	// Online now, from presence, changes the representation.
	_ = mustDial(t, o.n, o.seller) // closed when the test ends
	deadline := time.Now().Add(15 * time.Second)
	for {
		expect(t, anon.do("GET", "/users/"+me.Username, nil), 200, "profile").json(t, &p)
		if p.Presence.Online {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a seller with a socket never showed online")
		}
		time.Sleep(100 * time.Millisecond)
	}
	expect(t, anon.do("GET", "/users/"+me.Username, nil, "If-None-Match", etag), 200, "changed representation")

	// The dashboard: views by others reach it within the flush interval (the fixture's
	// anonymous read of the gig was the first), the seller's own do not.
	for range 3 {
		expect(t, anon.do("GET", "/gigs/"+o.gigID, nil), 200, "gig page")
	}
	expect(t, seller.do("GET", "/gigs/"+o.gigID, nil), 200, "the seller's own gig page")
	var dash struct {
		Earnings []struct {
			Currency string `json:"currency"`
			NetMinor int64  `json:"net_minor"`
			Orders   int    `json:"orders"`
		} `json:"earnings"`
		OrdersByStatus map[string]int `json:"orders_by_status"`
		Conversion     struct {
			Views  int64    `json:"views"`
			Orders int      `json:"orders"`
			Rate   *float64 `json:"rate"`
		} `json:"conversion"`
	}
	deadline = time.Now().Add(15 * time.Second)
	for dash.Conversion.Views < 4 && time.Now().Before(deadline) {
		expect(t, seller.do("GET", "/me/dashboard", nil), 200, "dashboard").json(t, &dash)
		time.Sleep(100 * time.Millisecond)
	}
	if dash.Conversion.Views != 4 || dash.Conversion.Orders != 1 || dash.Conversion.Rate == nil || *dash.Conversion.Rate != 0.25 {
		t.Fatalf("conversion %+v, want 4 views and 1 order", dash.Conversion)
	}
	if dash.OrdersByStatus["completed"] != 1 || len(dash.Earnings) != 1 || dash.Earnings[0].Currency != o.currency ||
		dash.Earnings[0].NetMinor <= 0 || dash.Earnings[0].NetMinor >= o.price || dash.Earnings[0].Orders != 1 {
		t.Fatalf("dashboard %+v", dash)
	}
	_, buyerToken := appUser(t, o.n, "dashbuyer") // registered as a seller too
	buyerOnly := &client{t: t, base: o.n.URL, bearer: buyerToken}
	expect(t, buyerOnly.do("PATCH", "/me", map[string]any{"is_buyer": true, "is_seller": false}), 200, "stop selling")
	expect(t, buyerOnly.do("GET", "/me/dashboard", nil), 403, "a buyer's dashboard")
	expect(t, anon.do("GET", "/me/dashboard", nil), 401, "an anonymous dashboard")

	expect(t, anon.do("GET", "/users/nobody_here_at_all", nil), 404, "unknown user")
	expect(t, anon.do("GET", "/users/Not%20A%20Name", nil), 404, "malformed username")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if code, out := Run(ctx, bin, o.env, "admin", "disable", me.Email); code != 0 {
		t.Fatalf("admin disable: exit %d\n%s", code, out)
	}
	expect(t, anon.do("GET", "/users/"+me.Username, nil), http.StatusNotFound, "a disabled seller's profile")
}

// TestPublicProfileLinksToTheRestOfTheSellersGigs: a seller with 14 published gigs
// (and a draft): GET /users/{username} counts 14, lists 12 and links to the rest;
// following more_gigs lists the other 2, none twice, and no further page.
func TestPublicProfileLinksToTheRestOfTheSellersGigs(t *testing.T) {
	n, _ := seededGigNode(t)
	_, tok := appUser(t, n, "seller")
	seller := &client{t: t, base: n.URL, bearer: tok}
	anon := &client{t: t, base: n.URL}
	const total = 14
	published := map[string]bool{}
	var username string
	for i := range total {
		g := createGig(t, seller, gigBody(fmt.Sprintf("Logo design number %d for your brand", i), "graphics-design", pkg("basic", 2500, "USD")))
		expect(t, seller.do("POST", "/gigs/"+g.ID+"/publish", nil), 200, "publish")
		published[g.ID], username = true, g.Seller.Username
	}
	createGig(t, seller, gigBody("A draft nobody sees", "graphics-design", pkg("basic", 2500, "USD")))
	var prof struct {
		Stats struct {
			PublishedGigs int `json:"published_gigs"`
		} `json:"seller_stats"`
		Gigs     []struct{ ID string } `json:"gigs"`
		MoreGigs *string               `json:"more_gigs"`
	}
	expect(t, anon.do("GET", "/users/"+username, nil), 200, "profile").json(t, &prof)
	if prof.Stats.PublishedGigs != total || len(prof.Gigs) != 12 || prof.MoreGigs == nil {
		t.Fatalf("profile counts %d, lists %d, more %v; want %d, 12 and a link", prof.Stats.PublishedGigs, len(prof.Gigs), prof.MoreGigs, total)
	}
	seen := map[string]bool{}
	for _, g := range prof.Gigs {
		seen[g.ID] = true
	}
	var rest struct {
		Gigs       []struct{ ID string } `json:"gigs"`
		NextCursor *string               `json:"next_cursor"`
	}
	expect(t, anon.do("GET", *prof.MoreGigs, nil), 200, "more gigs").json(t, &rest)
	for _, g := range rest.Gigs {
		if seen[g.ID] || !published[g.ID] {
			t.Fatalf("%s after the profile's gigs: twice or not published", g.ID)
		}
		seen[g.ID] = true
	}
	if len(seen) != total || rest.NextCursor != nil {
		t.Fatalf("profile and %s list %d gigs (next %v), want the %d published", *prof.MoreGigs, len(seen), rest.NextCursor, total)
	}
}
