package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/store"
	"github.com/gigstream/hub/store/storetest"
)

// relevanceCorpus is a fixed catalogue whose best matches for a few queries are known.
var relevanceCorpus = []struct{ title, tags, description string }{
	{"Minimalist logo design for your startup", "logo design,minimalist logo", "<p>Clean vector logos with every file.</p>"},
	{"Logo design and brand identity kit", "logo design,branding", "<p>A logo, colours and fonts for your brand.</p>"},
	{"Website development with WordPress", "wordpress,website", "<p>I can also place your logo in the header.</p>"},
	{"Professional logo animation intro", "logo animation,intro", "<p>Your logo design comes alive.</p>"},
	{"Translate English to Spanish documents", "translation,spanish", "<p>Accurate and fast.</p>"},
	{"Mobile app development in Flutter", "flutter,mobile app", "<p>Cross platform apps.</p>"},
	{"Hand drawn illustration and characters", "illustration", "<p>Children book artwork.</p>"},
}

// publishCorpus publishes the corpus as the fixture's seller, in order.
func publishCorpus(t *testing.T, f searchFixture) []market.Gig {
	t.Helper()
	var out []market.Gig
	for _, c := range relevanceCorpus {
		g, err := f.db.CreateGig(context.Background(), market.NewGig{SellerID: f.seller, Title: c.title, Description: c.description,
			CategorySlug: "design", Tags: strings.Split(c.tags, ","), Packages: []market.GigPackage{basicAt(1000)}})
		must(t, err)
		g, err = f.db.SetGigStatus(context.Background(), g.ID, f.seller, market.GigPublished)
		must(t, err)
		out = append(out, g)
	}
	return out
}

func TestSearchEngineRanksAFixedCorpus(t *testing.T) {
	f := newSearchFixture(t)
	publishCorpus(t, f)
	cases := map[string][]string{
		// title matches of both words first; a tag-only or description-only match last
		"logo design": {"Minimalist logo design for your startup", "Logo design and brand identity kit", "Professional logo animation intro"},
		"wordpress":   {"Website development with WordPress"},
		"spanish":     {"Translate English to Spanish documents"},
	}
	for q, want := range cases {
		if got := f.search(t, q); !slices.Equal(got[:min(len(got), len(want))], want) {
			t.Errorf("%q ranks %q, want first %q", q, got, want)
		}
	}
}

func TestSearchEngineForgivesTyposAndCompletesPrefixes(t *testing.T) {
	f := newSearchFixture(t)
	publishCorpus(t, f)
	titles := func(q string) []string { got := f.search(t, q); slices.Sort(got); return got }
	has := func(q, title string) bool { return slices.Contains(titles(q), title) }
	for q, title := range map[string]string{
		"log":              "Minimalist logo design for your startup", // prefix of the last word
		"logo desgin":      "Minimalist logo design for your startup", // a swap is one edit (6 letters)
		"logo desig":       "Logo design and brand identity kit",      // prefix again
		"ilustration":      "Hand drawn illustration and characters",  // 11 letters: up to two edits
		"illustrtaino":     "Hand drawn illustration and characters",  // two edits
		"wordpres website": "Website development with WordPress",      // 8 letters, one deletion
		"designing":        "Logo design and brand identity kit",      // stemming
	} {
		if !has(q, title) {
			t.Errorf("%q finds %q, not %q", q, titles(q), title)
		}
	}
	// Every word must match, corrected or not: a word with no near neighbour empties it.
	if got := titles("lgoo xyzzy"); len(got) != 0 {
		t.Errorf("lgoo xyzzy finds %q", got)
	}
	if got := titles("flutterr"); !slices.Equal(got, []string{"Mobile app development in Flutter"}) {
		t.Errorf("flutterr finds %q", got)
	}
	// Words of 4–7 letters get one edit, not two; below 4 none.
	if got := titles("lgooo"); len(got) != 0 {
		t.Errorf("lgooo (two edits from logo, 5 letters) finds %q", got)
	}
	if got := titles("fluter app"); !slices.Equal(got, []string{"Mobile app development in Flutter"}) {
		t.Errorf("fluter app finds %q", got)
	}
	if got := titles("intor logo"); !slices.Contains(got, "Professional logo animation intro") {
		t.Errorf("intor logo finds %q", got)
	}
}

// TestSearchEngineFacetsEqualABruteForceCount compares every facet of a generated
// catalogue, with and without filters, against counts made in SQL.
func TestSearchEngineFacetsEqualABruteForceCount(t *testing.T) {
	ctx := context.Background()
	f := newSearchFixture(t)
	cat, err := storetest.GenerateCatalogue(ctx, f.raw, storetest.CatalogueSpec{Gigs: 1500, Sellers: 60, Seed: 7})
	must(t, err)
	must(t, f.engine.Load(ctx))
	filters := []market.GigFilter{
		{Query: "logo design", Facets: true},
		{Query: "logo", Currency: "USD", Facets: true, MaxDeliveryDays: 3},
		{Query: "website", CategorySlug: "programming-tech", MinRating: 450, Facets: true},
		{Facets: true, Currency: "EUR", MinPrice: 2500, MaxPrice: 10000},
		{Query: "video", Facets: true, Seller: cat.Sellers[0]},
	}
	for _, filter := range filters {
		filter.Limit = 5
		page, err := f.gigs.List(ctx, filter)
		must(t, err)
		if page.Total == nil || page.Facets == nil {
			t.Fatalf("%+v: no total or facets", filter)
		}
		want := bruteForceFacets(t, f.raw, filter)
		got := facetMap(*page.Total, page.Facets)
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%+v: %s = %d, brute force %d", filter, k, got[k], v)
			}
		}
		for k, v := range got {
			if _, ok := want[k]; !ok && v != 0 {
				t.Errorf("%+v: %s = %d, brute force none", filter, k, v)
			}
		}
	}
}

func facetMap(total int, fc *market.GigFacets) map[string]int {
	m := map[string]int{"total": total}
	for _, c := range fc.Categories {
		m["category:"+c.Slug] = c.Count
	}
	for _, c := range fc.Currencies {
		m["currency:"+c.Currency] = c.Count
	}
	for _, p := range fc.Prices {
		m[fmt.Sprintf("price:%d", p.MinPrice)] = p.Count
	}
	for _, d := range fc.Delivery {
		m[fmt.Sprintf("delivery:%d", d.Days)] = d.Count
	}
	for _, r := range fc.Rating {
		m[fmt.Sprintf("rating:%v", r.MinRating)] = r.Count
	}
	return m
}

// bruteForceFacets counts in SQL what the engine should: the query's words matched
// in the generated text (every word, any form the 'english' configuration gives it),
// each facet under every filter but its own.
func bruteForceFacets(t *testing.T, raw *sql.DB, f market.GigFilter) map[string]int {
	t.Helper()
	conds := map[string]string{
		"base":     "g.status = 'published'",
		"category": "true", "currency": "true", "price": "true", "delivery": "true", "rating": "true",
	}
	if f.Query != "" {
		conds["base"] += fmt.Sprintf(" AND g.search @@ plainto_tsquery('english', '%s')", f.Query)
	}
	if f.Seller != "" {
		conds["base"] += fmt.Sprintf(" AND g.seller_id = '%s'", f.Seller)
	}
	if f.CategorySlug != "" {
		conds["category"] = fmt.Sprintf("(c.slug = '%[1]s' OR p.slug = '%[1]s')", f.CategorySlug)
	}
	if f.Currency != "" {
		conds["currency"] = fmt.Sprintf("g.price_currency = '%s'", f.Currency)
	}
	if f.MinPrice > 0 || f.MaxPrice > 0 {
		conds["price"] = fmt.Sprintf("g.price_minor BETWEEN %d AND %d", f.MinPrice, f.MaxPrice)
	}
	if f.MaxDeliveryDays > 0 {
		conds["delivery"] = fmt.Sprintf("g.delivery_days <= %d", f.MaxDeliveryDays)
	}
	if f.MinRating > 0 {
		conds["rating"] = fmt.Sprintf("g.rating_mean >= %d", f.MinRating)
	}
	except := func(own string) string {
		parts := []string{conds["base"]}
		for _, k := range []string{"category", "currency", "price", "delivery", "rating"} {
			if k != own {
				parts = append(parts, conds[k])
			}
		}
		return strings.Join(parts, " AND ")
	}
	from := ` FROM gigs g JOIN categories c ON c.id = g.category_id LEFT JOIN categories p ON p.id = c.parent_id WHERE `
	out := map[string]int{}
	query := func(key, sel, own, group string) {
		rows, err := raw.Query(`SELECT ` + sel + `, count(*)` + from + except(own) + group)
		must(t, err)
		defer func() { _ = rows.Close() }()
		for rows.Next() {
			var k string
			var n int
			must(t, rows.Scan(&k, &n))
			out[key+k] = n
		}
	}
	query("total", "''", "", "")
	query("category:", "c.slug", "category", " GROUP BY c.slug")
	query("category:", "p.slug", "category", " AND p.slug IS NOT NULL GROUP BY p.slug")
	query("currency:", "g.price_currency", "currency", " GROUP BY g.price_currency")
	if f.Currency != "" {
		edges := market.PriceBucketEdges(f.Currency)
		for i, e := range edges {
			hi := int64(1) << 62
			if i+1 < len(edges) {
				hi = edges[i+1]
			}
			query("price:", fmt.Sprintf("'%d'", e), "price", fmt.Sprintf(" AND g.price_minor >= %d AND g.price_minor < %d", e, hi))
		}
	}
	for _, d := range []int{1, 3, 7, 14} {
		query("delivery:", fmt.Sprintf("'%d'", d), "delivery", fmt.Sprintf(" AND g.delivery_days <= %d", d))
	}
	for _, r := range []int{450, 400, 350, 300} {
		query("rating:", fmt.Sprintf("'%v'", float64(r)/100), "rating", fmt.Sprintf(" AND g.rating_mean >= %d", r))
	}
	return out
}

func TestSearchEngineFiltersOnlineSellersAndFollowsChanges(t *testing.T) {
	ctx := context.Background()
	f := newSearchFixture(t)
	gigs := publishCorpus(t, f)
	online := onlineList{}
	engine := market.NewGigs(f.db, market.GigsDeps{Search: f.engine, Online: &online}, nil)
	page, err := engine.List(ctx, market.GigFilter{Query: "logo", OnlineOnly: true})
	must(t, err)
	if len(page.Gigs) != 0 || *page.Total != 0 {
		t.Fatalf("nobody online, yet %d gigs", *page.Total)
	}
	online.users = []string{f.seller}
	page, err = engine.List(ctx, market.GigFilter{Query: "logo", OnlineOnly: true})
	must(t, err)
	if *page.Total != 4 {
		t.Fatalf("seller online: %d logo gigs, want 4", *page.Total)
	}
	// A paused gig leaves the index before the next search; a renamed one is found by
	// its new title at once (strict freshness).
	_, err = f.db.SetGigStatus(ctx, gigs[0].ID, f.seller, market.GigPaused)
	must(t, err)
	title := "Zanzibar themed logo design"
	_, err = f.db.UpdateGig(ctx, gigs[1].ID, f.seller, market.GigChange{Title: &title})
	must(t, err)
	if got := f.search(t, "minimalist logo"); slices.Contains(got, relevanceCorpus[0].title) {
		t.Errorf("paused gig still found: %q", got)
	}
	if got := f.search(t, "zanzibar"); !slices.Equal(got, []string{title}) {
		t.Errorf("zanzibar finds %q", got)
	}
	matching, err := f.engine.MatchingGigs(ctx, market.GigFilter{Query: "logo design"}, []string{gigs[1].ID, gigs[4].ID})
	must(t, err)
	if !slices.Equal(matching, []string{gigs[1].ID}) {
		t.Errorf("saved search matches %q", matching)
	}
	// Saved searches against one new gig, in one batch: words, typos, filters; a
	// query without a word matches nothing.
	filters := []market.GigFilter{{Query: "logo design"}, {Query: "zanzibr"}, {Query: "translation"}, {Query: "the"},
		{Query: "logo", MaxPrice: 1}, {CategorySlug: "no-such-category"}}
	matched, err := f.engine.MatchSavedSearches(ctx, gigs[1].ID, filters)
	must(t, err)
	if want := []bool{true, true, false, false, false, false}; !slices.Equal(matched, want) {
		t.Errorf("saved searches matched %v, want %v", matched, want)
	}
}

type onlineList struct{ users []string }

func (o *onlineList) OnlineUsers(context.Context) ([]string, error) { return o.users, nil }

func TestSuggestCompletesTagsTitlesAndCategories(t *testing.T) {
	f := newSearchFixture(t)
	publishCorpus(t, f)
	ctx := context.Background()
	must(t, f.engine.CatchUp(ctx)) // suggestions may lag by a second
	list, err := f.gigs.Suggest(ctx, "log", 8)
	must(t, err)
	texts := []string{}
	for _, s := range list {
		texts = append(texts, s.Kind+":"+s.Text)
	}
	for _, want := range []string{"tag:logo design", "title:logo", "tag:logo animation"} {
		if !slices.Contains(texts, want) {
			t.Errorf("log suggests %q, missing %q", texts, want)
		}
	}
	if len(list) == 0 || list[0].Text != "logo design" && list[0].Text != "logo" {
		t.Errorf("most common first: %q", texts)
	}
	list, err = f.gigs.Suggest(ctx, "des", 8)
	must(t, err)
	if len(list) == 0 || list[0].Kind != "category" || list[0].Category != "design" {
		t.Errorf("des suggests %+v, want the design category first", list)
	}
	if _, err := f.gigs.Suggest(ctx, "", 8); err == nil {
		t.Error("an empty q is accepted")
	}
}

// TestSearchWithoutRUMUsesGIN migrates a database that opts out of RUM, as on a managed
// PostgreSQL without the extension, and searches it through SQL alone and the engine.
func TestSearchWithoutRUMUsesGIN(t *testing.T) {
	ctx := context.Background()
	url := storetest.NewDatabase(t)
	raw, err := sql.Open("postgres", url)
	must(t, err)
	t.Cleanup(func() { _ = raw.Close() })
	var name string
	must(t, raw.QueryRow(`SELECT current_database()`).Scan(&name))
	_, err = raw.Exec(`ALTER DATABASE ` + name + ` SET gigstream.search_rum = 'off'`)
	must(t, err)
	db, err := store.Open(ctx, store.Config{URL: url})
	must(t, err)
	t.Cleanup(func() { _ = db.Close() })
	_, err = newMigrator(t, db).Up(ctx)
	must(t, err)
	var rum, gin bool
	must(t, raw.QueryRow(`SELECT EXISTS (SELECT 1 FROM pg_indexes WHERE indexname = 'gigs_search_rum_idx'),
		EXISTS (SELECT 1 FROM pg_indexes WHERE indexname = 'gigs_search_idx')`).Scan(&rum, &gin))
	if rum || !gin {
		t.Fatalf("rum index %v, gin index %v", rum, gin)
	}
	_, err = db.Seed(ctx, store.SeedData{Categories: []store.SeedCategory{{Slug: "design", Name: "Design"}}})
	must(t, err)
	a, b := twoUsers(t, db)
	search := store.NewGigSearch(db, store.GigSearchConfig{}, slog.New(slog.DiscardHandler))
	must(t, search.Load(ctx))
	f := searchFixture{db: db, raw: raw, gigs: market.NewGigs(db, market.GigsDeps{Search: search}, nil),
		sqlGigs: market.NewGigs(db, market.GigsDeps{}, nil), engine: search, seller: b, other: a}
	publishCorpus(t, f)
	want := []string{"Minimalist logo design for your startup", "Logo design and brand identity kit"}
	for name, gigs := range map[string]*market.Gigs{"sql": f.sqlGigs, "engine": f.gigs} {
		page, err := gigs.List(ctx, market.GigFilter{Query: "logo design", Limit: 2})
		must(t, err)
		got := []string{}
		for _, g := range page.Gigs {
			got = append(got, g.Title)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: logo design finds %q first, want %q", name, got, want)
		}
	}
}
