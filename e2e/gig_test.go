package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// gigView is a gig as the API shows it.
type gigView struct {
	ID          string
	Slug        string
	Title       string
	Description string
	Status      string
	PublishedAt *time.Time `json:"published_at"`
	Seller      struct{ ID, Username string }
	Category    struct{ Slug string }
	Packages    []struct {
		Tier       string
		PriceMinor int64 `json:"price_minor"`
		Currency   string
	}
	Media []gigMediaView
	Cover *gigMediaView
}

type gigMediaView struct {
	ID           string
	Kind         string
	ContentType  string `json:"content_type"`
	Size         int64
	Filename     string
	DownloadPath string `json:"download_path"`
}

type gigPage struct {
	Gigs       []gigView
	NextCursor *string `json:"next_cursor"`
}

// gigNode starts one node on a fresh database loaded with the demo seed (three
// categories, four published gigs of two sellers).
func gigNode(t *testing.T) *Node {
	t.Helper()
	n, _ := seededGigNode(t)
	return n
}

// seededGigNode starts a ready node over a fresh database holding the demo seed and
// returns it with its environment (for CLI commands such as admin grant).
func seededGigNode(t *testing.T) (*Node, []string) {
	t.Helper()
	env := migratedEnv(t, realtimeEnv(nil))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if code, out := Run(ctx, bin, env, "seed"); code != 0 {
		t.Fatalf("seed: exit %d\n%s", code, out)
	}
	n := StartNode(t, bin, env)
	n.WaitReady(t)
	return n, env
}

// moderator registers and signs in a user on n and returns their client and a
// function that makes them an admin (gigstream admin grant).
func moderator(t *testing.T, n *Node, env []string) (*client, func()) {
	t.Helper()
	email := uniqueEmail(t, "moderator")
	c := &client{t: t, base: n.URL}
	c.register(email, "moderator_"+n.URL[len(n.URL)-5:], "long enough password")
	c.login(email, "long enough password")
	return c, func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if code, out := Run(ctx, bin, env, "admin", "grant", email); code != 0 {
			t.Fatalf("admin grant: exit %d\n%s", code, out)
		}
	}
}

func pkg(tier string, price int64, currency string) map[string]any {
	return map[string]any{"tier": tier, "title": "The " + tier + " package", "description": "What you get",
		"price_minor": price, "currency": currency, "delivery_days": 3, "revisions": 1}
}

func gigBody(title, category string, packages ...map[string]any) map[string]any {
	return map[string]any{"title": title, "description": "<p>A <b>careful</b> piece of work.</p>", "category": category, "packages": packages}
}

// createGig creates a draft as c and returns it.
func createGig(t *testing.T, c *client, body map[string]any) gigView {
	t.Helper()
	var g gigView
	expect(t, c.do("POST", "/gigs", body), http.StatusCreated, "create gig").json(t, &g)
	if g.Status != "draft" || g.ID == "" {
		t.Fatalf("created gig = %+v", g)
	}
	return g
}

func TestGigMediaIsPublicOnlyWhilePublished(t *testing.T) {
	n := gigNode(t)
	_, sellerTok := appUser(t, n, "seller")
	_, rivalTok := appUser(t, n, "rival")
	seller := &client{t: t, base: n.URL, bearer: sellerTok}
	rival := &client{t: t, base: n.URL, bearer: rivalTok}

	g := createGig(t, seller, gigBody("Hand-drawn logo for your brand", "graphics-design", pkg("basic", 2500, "USD")))
	if g.Slug != "hand-drawn-logo-for-your-brand" || g.PublishedAt != nil || len(g.Packages) != 1 {
		t.Fatalf("draft = %+v", g)
	}
	img := pngBytes(t)
	var up uploaded
	expect(t, uploadForm(t, n, sellerTok, map[string]string{"kind": "gig_image", "gig_id": g.ID}, "logo.png", img), 201, "seller uploads gig image").json(t, &up)
	expect(t, uploadForm(t, n, rivalTok, map[string]string{"kind": "gig_image", "gig_id": g.ID}, "x.png", img), 404, "rival uploads to the gig")

	hidden := func(when string) {
		t.Helper()
		for who, tok := range map[string]string{"anonymous": "", "another user": rivalTok} {
			for _, path := range []string{"/gigs/" + g.ID, "/gigs/" + g.Slug, "/uploads/" + up.ID, "/uploads/" + up.ID + "/download"} {
				expect(t, as(t, n, tok, "GET", path), 404, who+" GET "+path+" "+when)
			}
		}
		var own gigView
		expect(t, seller.do("GET", "/gigs/"+g.ID, nil), 200, "seller sees own gig "+when).json(t, &own)
		if len(own.Media) != 1 || own.Media[0].ID != up.ID {
			t.Fatalf("seller's view %s lists media %+v", when, own.Media)
		}
		if downloadSHA(t, n, sellerTok, up.ID) != sha(img) {
			t.Fatalf("seller's download %s does not match", when)
		}
	}
	hidden("while draft")

	for _, op := range []struct{ method, path string }{
		{"PATCH", "/gigs/" + g.ID}, {"POST", "/gigs/" + g.ID + "/publish"}, {"POST", "/gigs/" + g.ID + "/pause"}, {"DELETE", "/gigs/" + g.ID},
	} {
		var body any
		if op.method == "PATCH" {
			body = map[string]any{"title": "A title the rival wants"}
		}
		expect(t, rival.do(op.method, op.path, body), 404, "rival "+op.method+" "+op.path)
	}

	var pub gigView
	expect(t, seller.do("POST", "/gigs/"+g.ID+"/publish", nil), 200, "publish").json(t, &pub)
	if pub.Status != "published" || pub.PublishedAt == nil {
		t.Fatalf("published gig = %+v", pub)
	}
	var seen gigView
	expect(t, as(t, n, "", "GET", "/gigs/"+g.Slug), 200, "anonymous sees the published gig").json(t, &seen)
	want := gigMediaView{ID: up.ID, Kind: "gig_image", ContentType: "image/png", Size: int64(len(img)), Filename: "logo.png", DownloadPath: "/uploads/" + up.ID + "/download"}
	if len(seen.Media) != 1 || seen.Media[0] != want || seen.Cover == nil || *seen.Cover != want {
		t.Fatalf("public media = %+v, cover %+v; want %+v", seen.Media, seen.Cover, want)
	}
	if downloadSHA(t, n, "", up.ID) != sha(img) {
		t.Fatal("anonymous download does not match the uploaded bytes")
	}
	expect(t, as(t, n, rivalTok, "GET", seen.Media[0].DownloadPath), 302, "another user downloads")
	expect(t, uploadForm(t, n, rivalTok, map[string]string{"kind": "gig_image", "gig_id": g.ID}, "x.png", img), 404, "rival uploads to the published gig")

	expect(t, seller.do("POST", "/gigs/"+g.ID+"/pause", nil), 200, "pause")
	hidden("while paused")
	expect(t, seller.do("DELETE", "/gigs/"+g.ID, nil), 409, "delete a gig that was published")
}

func TestGigCatalogueListsExactlyThePublishedGigs(t *testing.T) {
	n := gigNode(t)
	sellerID, sellerTok := appUser(t, n, "lister")
	seller := &client{t: t, base: n.URL, bearer: sellerTok}
	var me struct{ Username string }
	expect(t, seller.do("GET", "/me", nil), 200, "me").json(t, &me)

	// Gigs 0, 2 and 4 end published; 1 is published then paused; 3 stays a draft.
	var gigs []gigView
	for i := range 5 {
		category, currency := "graphics-design", "USD"
		if i >= 3 {
			category = "programming-tech"
		}
		if i == 4 {
			currency = "EUR"
		}
		body := gigBody(fmt.Sprintf("Catalogue gig number %d for testing", i), category,
			pkg("premium", int64(1000*(i+1))+5000, currency), pkg("basic", int64(1000*(i+1)), currency))
		if i == 2 {
			body["description"] = `<p>Includes a zebracorn</p><script>alert(1)</script>`
		}
		gigs = append(gigs, createGig(t, seller, body))
	}
	if gigs[2].Description != "<p>Includes a zebracorn</p>" {
		t.Fatalf("description not sanitized: %q", gigs[2].Description)
	}
	if p := gigs[0].Packages; len(p) != 2 || p[0].Tier != "basic" || p[1].Tier != "premium" {
		t.Fatalf("packages not in tier order: %+v", p)
	}
	for _, i := range []int{0, 1, 2, 4} {
		expect(t, seller.do("POST", "/gigs/"+gigs[i].ID+"/publish", nil), 200, "publish")
	}
	expect(t, seller.do("POST", "/gigs/"+gigs[1].ID+"/pause", nil), 200, "pause")

	ids := func(query string) []string {
		t.Helper()
		var out []string
		cursor := ""
		for range 20 {
			var page gigPage
			expect(t, as(t, n, "", "GET", "/gigs?"+query+cursor), 200, "list "+query).json(t, &page)
			for _, g := range page.Gigs {
				if g.Status != "published" || len(g.Packages) == 0 {
					t.Fatalf("listed %+v", g)
				}
				out = append(out, g.ID)
			}
			if page.NextCursor == nil {
				return out
			}
			cursor = "&cursor=" + url.QueryEscape(*page.NextCursor)
		}
		t.Fatal("pagination does not end")
		return nil
	}
	newestFirst := []string{gigs[4].ID, gigs[2].ID, gigs[0].ID}
	for _, q := range []string{"limit=2&seller=" + me.Username, "limit=1&seller=" + sellerID, "seller=" + me.Username} {
		if got := ids(q); !slices.Equal(got, newestFirst) {
			t.Errorf("%s: %v, want %v", q, got, newestFirst)
		}
	}
	checks := map[string][]string{
		"category=graphics-design&seller=" + sellerID:                   {gigs[2].ID, gigs[0].ID},
		"currency=USD&min_price=2500&max_price=3500&seller=" + sellerID: {gigs[2].ID},
		"q=ZEBRACORN":                          {gigs[2].ID},
		"q=" + url.QueryEscape("number 4 for"): {gigs[4].ID},
		"q=" + url.QueryEscape("100%"):         nil,
	}
	for q, want := range checks {
		if got := ids(q); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", q, got, want)
		}
	}
	all := ids("limit=3")
	if len(all) != 4+3 || slices.Contains(all, gigs[1].ID) || slices.Contains(all, gigs[3].ID) {
		t.Errorf("whole catalogue: %d gigs %v; want the 4 demo gigs and 3 published ones", len(all), all)
	}

	var cats struct{ Categories []struct{ Slug string } }
	expect(t, as(t, n, "", "GET", "/categories"), 200, "categories").json(t, &cats)
	if len(cats.Categories) != 3 {
		t.Errorf("categories = %+v", cats)
	}
	for q, field := range map[string]string{"cursor=garbage": "cursor", "limit=0": "limit", "limit=101": "limit", "currency=usd": "currency"} {
		r := as(t, n, "", "GET", "/gigs?"+q)
		if r.status != 400 && r.status != 422 || !slices.Equal(r.problemFields(t), []string{field}) {
			t.Errorf("GET /gigs?%s: %d %s; want a problem naming %s", q, r.status, r.body, field)
		}
	}
}

func TestGigBadInputIsAProblemNamingTheField(t *testing.T) {
	n := gigNode(t)
	_, sellerTok := appUser(t, n, "maker")
	seller := &client{t: t, base: n.URL, bearer: sellerTok}
	good := func() map[string]any {
		return gigBody("A perfectly fine gig title", "graphics-design", pkg("basic", 1000, "USD"))
	}
	with := func(k string, v any) map[string]any { b := good(); b[k] = v; return b }
	bad := []struct {
		name   string
		body   map[string]any
		status int
		field  string
	}{
		{"unknown field", with("status", "published"), 400, "status"},
		{"lower-case currency", with("packages", []any{pkg("basic", 1000, "usd")}), 422, "packages[0].currency"},
		{"unknown currency", with("packages", []any{pkg("basic", 1000, "XYZ")}), 422, "packages[0].currency"},
		{"mixed currencies", with("packages", []any{pkg("basic", 1000, "USD"), pkg("standard", 2000, "EUR")}), 422, "packages[1].currency"},
		{"too many packages", with("packages", []any{pkg("basic", 1, "USD"), pkg("standard", 2, "USD"), pkg("premium", 3, "USD"), pkg("basic", 4, "USD")}), 422, "packages"},
		{"no packages", with("packages", []any{}), 422, "packages"},
		{"repeated tier", with("packages", []any{pkg("basic", 1, "USD"), pkg("basic", 2, "USD")}), 422, "packages[1].tier"},
		{"price 0", with("packages", []any{pkg("basic", 0, "USD")}), 422, "packages[0].price_minor"},
		{"price too high", with("packages", []any{pkg("basic", 1_000_000_001, "USD")}), 422, "packages[0].price_minor"},
		{"title too short", with("title", "Logo"), 422, "title"},
		{"blank description", with("description", "<script>x</script>"), 422, "description"},
		{"unknown category", with("category", "no-such-category"), 422, "category"},
	}
	for _, tc := range bad {
		r := seller.do("POST", "/gigs", tc.body)
		if r.status != tc.status || r.header.Get("Content-Type") != "application/problem+json" || !slices.Equal(r.problemFields(t), []string{tc.field}) {
			t.Errorf("%s: %d %s; want %d naming %s", tc.name, r.status, r.body, tc.status, tc.field)
		}
	}
	long := strings.Repeat("x", 100)
	r := seller.do("POST", "/gigs", with("packages", []any{map[string]any{"tier": "basic", "title": long, "price_minor": 1, "currency": "USD", "delivery_days": 91, "revisions": 0}}))
	if r.status != 422 || !slices.Equal(r.problemFields(t), []string{"packages[0].title"}) {
		t.Errorf("long package title: %d %s", r.status, r.body)
	}

	onlyStandard := createGig(t, seller, with("packages", []any{pkg("standard", 1000, "USD")}))
	r = seller.do("POST", "/gigs/"+onlyStandard.ID+"/publish", nil)
	if r.status != 409 || !slices.Equal(r.problemFields(t), []string{"packages"}) {
		t.Errorf("publish without a basic package: %d %s", r.status, r.body)
	}
	r = seller.do("PATCH", "/gigs/"+onlyStandard.ID, map[string]any{"packages": []any{pkg("basic", 0, "USD")}})
	if r.status != 422 || !slices.Equal(r.problemFields(t), []string{"packages[0].price_minor"}) {
		t.Errorf("patch with price 0: %d %s", r.status, r.body)
	}
	var patched gigView
	expect(t, seller.do("PATCH", "/gigs/"+onlyStandard.ID, map[string]any{"packages": []any{pkg("basic", 900, "GBP")}}), 200, "replace packages").json(t, &patched)
	if len(patched.Packages) != 1 || patched.Packages[0].Tier != "basic" || patched.Packages[0].Currency != "GBP" || patched.Title != "A perfectly fine gig title" {
		t.Errorf("patched gig = %+v", patched)
	}
	expect(t, seller.do("DELETE", "/gigs/"+onlyStandard.ID, nil), 204, "delete a draft")
	expect(t, seller.do("GET", "/gigs/"+onlyStandard.ID, nil), 404, "deleted draft")

	_, buyerTok := appUser(t, n, "buyer")
	buyer := &client{t: t, base: n.URL, bearer: buyerTok}
	expect(t, buyer.do("PATCH", "/me", map[string]any{"is_seller": false, "is_buyer": true}), 200, "stop selling")
	r = buyer.do("POST", "/gigs", good())
	if r.status != 403 || r.header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("non-seller creates a gig: %d %s", r.status, r.body)
	}
	expect(t, as(t, n, "", "POST", "/gigs"), 401, "anonymous creates a gig")
}

// pageIDs follows next_cursor from GET path?query as tok ("" anonymous) and returns
// the ids of every page's gigs in order.
func pageIDs(t *testing.T, n *Node, tok, path, query string) []string {
	t.Helper()
	var out []string
	cursor := ""
	for range 20 {
		var page gigPage
		expect(t, as(t, n, tok, "GET", path+"?"+query+cursor), 200, "list "+path+"?"+query).json(t, &page)
		for _, g := range page.Gigs {
			out = append(out, g.ID)
		}
		if page.NextCursor == nil {
			return out
		}
		cursor = "&cursor=" + url.QueryEscape(*page.NextCursor)
	}
	t.Fatal("pagination does not end")
	return nil
}

func TestGigSearchAndSortOverHTTP(t *testing.T) {
	n := gigNode(t)
	sellerID, sellerTok := appUser(t, n, "searcher")
	seller := &client{t: t, base: n.URL, bearer: sellerTok}
	mine := "&seller=" + sellerID

	logo := gigBody("Vintage badge logo design", "graphics-design", pkg("basic", 3000, "USD"))
	site := gigBody("Minimal website landing page", "programming-tech", pkg("basic", 1500, "USD"))
	site["description"] = "<p>Comes with a badge logo <em>included</em></p>"
	poster := gigBody("Poster illustration for events", "graphics-design", pkg("basic", 2000, "USD"))
	var gigs []gigView
	for _, body := range []map[string]any{logo, site, poster} {
		g := createGig(t, seller, body)
		expect(t, seller.do("POST", "/gigs/"+g.ID+"/publish", nil), 200, "publish")
		gigs = append(gigs, g)
	}
	createGig(t, seller, gigBody("Secret badge draft gig", "graphics-design", pkg("basic", 100, "USD")))

	checks := map[string][]string{
		"q=badge": {gigs[0].ID, gigs[1].ID}, // title above description; no draft
		"q=" + url.QueryEscape(`"badge logo" -website`):         {gigs[0].ID},
		"sort=newest&q=" + url.QueryEscape(`badges or posters`): {gigs[2].ID, gigs[1].ID, gigs[0].ID},
		"q=em":                                           nil, // markup is not text
		"sort=price_asc&currency=USD&limit=1":            {gigs[1].ID, gigs[2].ID, gigs[0].ID},
		"sort=price_desc&currency=USD&limit=2":           {gigs[0].ID, gigs[2].ID, gigs[1].ID},
		"sort=newest&limit=2":                            {gigs[2].ID, gigs[1].ID, gigs[0].ID},
		"q=badge&sort=price_asc&currency=USD":            {gigs[1].ID, gigs[0].ID},
		"q=" + url.QueryEscape(`'; DROP TABLE gigs; --`): nil,
		"q=" + url.QueryEscape(`"unclosed (badge & !`):   nil,
	}
	for q, want := range checks {
		if got := pageIDs(t, n, "", "/gigs", q+mine); !slices.Equal(got, want) {
			t.Errorf("GET /gigs?%s: %v, want %v", q, got, want)
		}
	}
	if rated := pageIDs(t, n, "", "/gigs", "sort=rating&limit=1"+mine); len(rated) != 3 {
		t.Errorf("sort=rating lists %v", rated)
	}

	var first gigPage
	expect(t, as(t, n, "", "GET", "/gigs?limit=1"+mine), 200, "first page").json(t, &first)
	refused := map[string]string{
		"sort=price_asc":               "currency",
		"sort=relevance":               "sort",
		"sort=cheapest":                "sort",
		"q=the":                        "q",
		"q=" + url.QueryEscape("?!-"):  "q",
		"q=" + url.QueryEscape("a\tb"): "q",
		"sort=rating&cursor=" + url.QueryEscape(*first.NextCursor): "cursor",
		"q=badge&cursor=" + url.QueryEscape(*first.NextCursor):     "cursor",
	}
	for q, field := range refused {
		r := as(t, n, "", "GET", "/gigs?"+q)
		want := 422
		if field == "cursor" {
			want = 400
		}
		if r.status != want || !slices.Equal(r.problemFields(t), []string{field}) {
			t.Errorf("GET /gigs?%s: %d %s; want %d naming %s", q, r.status, r.body, want, field)
		}
	}
}

func TestMyGigsShowDraftsOnlyToTheirSeller(t *testing.T) {
	n := gigNode(t)
	_, sellerTok := appUser(t, n, "drafter")
	_, otherTok := appUser(t, n, "nosy")
	seller := &client{t: t, base: n.URL, bearer: sellerTok}
	live := createGig(t, seller, gigBody("A published gig of mine", "graphics-design", pkg("basic", 1000, "USD")))
	expect(t, seller.do("POST", "/gigs/"+live.ID+"/publish", nil), 200, "publish")
	paused := createGig(t, seller, gigBody("A paused gig of mine", "graphics-design", pkg("basic", 1000, "USD")))
	expect(t, seller.do("POST", "/gigs/"+paused.ID+"/publish", nil), 200, "publish")
	expect(t, seller.do("POST", "/gigs/"+paused.ID+"/pause", nil), 200, "pause")
	draft := createGig(t, seller, gigBody("A draft gig of mine", "graphics-design", pkg("basic", 1000, "USD")))

	if got := pageIDs(t, n, sellerTok, "/me/gigs", "limit=1"); !slices.Equal(got, []string{draft.ID, paused.ID, live.ID}) {
		t.Errorf("own gigs %v, want draft, paused, published", got)
	}
	for status, want := range map[string]string{"draft": draft.ID, "paused": paused.ID, "published": live.ID} {
		if got := pageIDs(t, n, sellerTok, "/me/gigs", "status="+status); !slices.Equal(got, []string{want}) {
			t.Errorf("status=%s: %v", status, got)
		}
	}
	if got := pageIDs(t, n, otherTok, "/me/gigs", ""); len(got) != 0 {
		t.Errorf("another user's /me/gigs lists %v", got)
	}
	if got := pageIDs(t, n, "", "/gigs", "q=gig"); slices.Contains(got, draft.ID) || slices.Contains(got, paused.ID) || !slices.Contains(got, live.ID) {
		t.Errorf("the catalogue lists %v", got)
	}
	expect(t, as(t, n, "", "GET", "/me/gigs"), 401, "anonymous /me/gigs")
	for q, field := range map[string]string{"status=deleted": "status", "cursor=nope": "cursor", "limit=0": "limit"} {
		r := as(t, n, sellerTok, "GET", "/me/gigs?"+q)
		if r.status != 400 && r.status != 422 || !slices.Equal(r.problemFields(t), []string{field}) {
			t.Errorf("GET /me/gigs?%s: %d %s; want a problem naming %s", q, r.status, r.body, field)
		}
	}
}
