package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

type apiSavedSearch struct {
	ID      string
	Name    string
	Filters map[string]any
}

// TestSavedSearchNotifiesItsOwnerOfANewMatchingGig: bad saved searches are problems
// naming the field as GET /gigs names it; a gig published for the first time reaches
// the owners of the searches it matches once each (in-app and e-mail), not the owners
// of searches it does not match nor the seller; the cap holds; delete is the owner's.
func TestSavedSearchNotifiesItsOwnerOfANewMatchingGig(t *testing.T) {
	o := startOrderNode(t, notificationEnv(nil), true)
	buyer := &client{t: t, base: o.n.URL, bearer: o.buyer}
	seller := &client{t: t, base: o.n.URL, bearer: o.seller}
	_, samTok := demoToken(t, o.n, "sam@demo.gigstream.test")
	sam := &client{t: t, base: o.n.URL, bearer: samTok}

	for what, c := range map[string]struct {
		body   map[string]any
		status int
		field  string
	}{
		"bad min_price":  {map[string]any{"name": "x", "q": "logo", "min_price": "abc"}, 400, "min_price"},
		"bad rating":     {map[string]any{"name": "x", "q": "logo", "min_rating": 7}, 400, "min_rating"},
		"sort not kept":  {map[string]any{"name": "x", "q": "logo", "sort": "newest"}, 400, "sort"},
		"unknown":        {map[string]any{"name": "x", "q": "logo", "colour": "red"}, 400, "colour"},
		"object value":   {map[string]any{"name": "x", "q": map[string]any{"a": 1}}, 400, "q"},
		"no filter":      {map[string]any{"name": "x"}, 422, "q"},
		"no word":        {map[string]any{"name": "x", "q": "the"}, 422, "q"},
		"no name":        {map[string]any{"name": " ", "q": "logo"}, 422, "name"},
		"online":         {map[string]any{"name": "x", "q": "logo", "online": true}, 422, "online"},
		"bad currency":   {map[string]any{"name": "x", "q": "logo", "currency": "usd"}, 422, "currency"},
		"price reversed": {map[string]any{"name": "x", "min_price": 500, "max_price": 100}, 422, "max_price"},
	} {
		expectField(t, buyer.do("POST", "/me/saved-searches", c.body), c.status, c.field, what)
	}

	var logos, logosDesign, other apiSavedSearch
	expect(t, buyer.do("POST", "/me/saved-searches", map[string]any{"name": "Logos", "q": "logo", "max_price": 100000, "currency": "USD"}),
		201, "saved search").json(t, &logos)
	if logos.Filters["q"] != "logo" || logos.Filters["max_price"] != float64(100000) {
		t.Fatalf("saved search %+v", logos)
	}
	expect(t, buyer.do("POST", "/me/saved-searches", map[string]any{"name": "Design", "q": "logo desgin", "category": "graphics-design", "min_rating": "0"}),
		201, "second matching search").json(t, &logosDesign)
	expect(t, sam.do("POST", "/me/saved-searches", map[string]any{"name": "Translation", "q": "translation", "category": "writing-translation"}),
		201, "other's search").json(t, &other)
	// The seller's own search matches but is not told about their own gig.
	expect(t, seller.do("POST", "/me/saved-searches", map[string]any{"name": "Mine", "q": "logo"}), 201, "seller's search")
	expect(t, sam.do("DELETE", "/me/saved-searches/"+logos.ID, nil), 404, "delete another's")

	title := fmt.Sprintf("I will design a playful logo for your bakery %d", time.Now().UnixNano())
	gig := createGig(t, seller, gigBody(title, "graphics-design", pkg("basic", 5000, "USD")))
	expect(t, seller.do("POST", "/gigs/"+gig.ID+"/publish", nil), 200, "publish")

	var got apiNotification
	deadline := time.Now().Add(30 * time.Second)
	for got.ID == "" && time.Now().Before(deadline) {
		for _, n := range notificationsOf(t, buyer, "/notifications?limit=100").Notifications {
			if n.Kind == "saved_search_match" {
				if got.ID != "" {
					t.Fatalf("two notifications for one gig: %+v and %+v", got, n)
				}
				got = n
			}
		}
		if got.ID == "" {
			time.Sleep(200 * time.Millisecond)
		}
	}
	if got.ID == "" {
		t.Fatal("no saved_search_match notification within 30 s")
	}
	if got.Body != title || got.Link != "/gigs/"+gig.Slug || !strings.Contains(got.Title, "saved search") {
		t.Fatalf("notification %+v", got)
	}
	_, text := waitMailAbout(t, "lena@demo.gigstream.test", title)
	if !strings.Contains(text, "/gigs/"+gig.Slug) {
		t.Fatalf("the e-mail lacks the gig's link:\n%s", text)
	}
	// Stored in the same transaction as the buyer's: the others would be there now.
	for who, c := range map[string]*client{"sam": sam, "seller": seller} {
		for _, n := range notificationsOf(t, c, "/notifications?limit=100").Notifications {
			if n.Kind == "saved_search_match" {
				t.Fatalf("%s was told of a gig their search does not match: %+v", who, n)
			}
		}
	}
	// Pausing and publishing again is not a new gig: nothing more.
	expect(t, seller.do("POST", "/gigs/"+gig.ID+"/pause", nil), 200, "pause")
	expect(t, seller.do("POST", "/gigs/"+gig.ID+"/publish", nil), 200, "publish again")
	time.Sleep(2 * time.Second)
	count := 0
	for _, n := range notificationsOf(t, buyer, "/notifications?limit=100").Notifications {
		if n.Kind == "saved_search_match" {
			count++
		}
	}
	if count != 1 {
		t.Fatalf("%d saved_search_match notifications after publishing again, want 1", count)
	}

	// The cap: 25 per user.
	for i := 2; i < 25; i++ {
		expect(t, buyer.do("POST", "/me/saved-searches", map[string]any{"name": fmt.Sprint("s", i), "q": "logo"}), 201, "fill up")
	}
	expect(t, buyer.do("POST", "/me/saved-searches", map[string]any{"name": "one too many", "q": "logo"}), 409, "over the cap")
	var list struct {
		SavedSearches []apiSavedSearch `json:"saved_searches"`
	}
	expect(t, buyer.do("GET", "/me/saved-searches", nil), 200, "list").json(t, &list)
	if len(list.SavedSearches) != 25 || list.SavedSearches[24].ID != logos.ID {
		t.Fatalf("listed %d saved searches, oldest %v, want 25 ending with %s", len(list.SavedSearches), list.SavedSearches[len(list.SavedSearches)-1], logos.ID)
	}
	expect(t, buyer.do("DELETE", "/me/saved-searches/"+logos.ID, nil), 204, "delete")
	expect(t, buyer.do("DELETE", "/me/saved-searches/"+logos.ID, nil), 404, "delete again")
	expect(t, buyer.do("POST", "/me/saved-searches", map[string]any{"name": "room again", "q": "logo"}), 201, "room after delete")
}
