package store_test

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"slices"
	"testing"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/store"
)

// searchFixture is a migrated database with two categories and two users, its raw
// connection for arranging ties, and the catalogue use cases over it.
type searchFixture struct {
	db      *store.DB
	raw     *sql.DB
	gigs    *market.Gigs // through the search engine
	sqlGigs *market.Gigs // through SQL alone
	engine  *store.GigSearch
	seller  string
	other   string
}

func newSearchFixture(t *testing.T) searchFixture {
	t.Helper()
	ctx := context.Background()
	db, url := migratedDBAt(t)
	_, err := db.Seed(ctx, store.SeedData{Categories: []store.SeedCategory{{Slug: "design", Name: "Design"}, {Slug: "code", Name: "Code"}}})
	must(t, err)
	raw, err := sql.Open("postgres", url)
	must(t, err)
	t.Cleanup(func() { _ = raw.Close() })
	a, b := twoUsers(t, db)
	search := store.NewGigSearch(db, store.GigSearchConfig{}, slog.New(slog.DiscardHandler))
	must(t, search.Load(ctx))
	return searchFixture{db: db, raw: raw, gigs: market.NewGigs(db, market.GigsDeps{Search: search}, nil),
		sqlGigs: market.NewGigs(db, market.GigsDeps{}, nil), engine: search, seller: b, other: a}
}

// published creates and publishes a gig of the fixture's seller.
func (f searchFixture) published(t *testing.T, title, description string, packages ...market.GigPackage) market.Gig {
	t.Helper()
	if len(packages) == 0 {
		packages = []market.GigPackage{basicAt(1000)}
	}
	g, err := f.db.CreateGig(context.Background(), market.NewGig{SellerID: f.seller, Title: title, Description: description, CategorySlug: "design", Packages: packages})
	must(t, err)
	g, err = f.db.SetGigStatus(context.Background(), g.ID, f.seller, market.GigPublished)
	must(t, err)
	return g
}

// search lists every match of q in the default order (relevance), as titles.
func (f searchFixture) search(t *testing.T, q string) []string {
	t.Helper()
	page, err := f.gigs.List(context.Background(), market.GigFilter{Query: q, Limit: market.MaxGigPage})
	if err != nil {
		t.Fatalf("search %q: %v", q, err)
	}
	titles := []string{}
	for _, g := range page.Gigs {
		titles = append(titles, g.Title)
	}
	return titles
}

func TestSearchRanksTitleAboveDescriptionAndNeverMatchesMarkup(t *testing.T) {
	f := newSearchFixture(t)
	f.published(t, "Website development service", "<p>I can add a <strong>logo</strong> too</p>")
	f.published(t, "Logo design for your startup", "<p>Clean vector work</p>")
	f.published(t, "Logos, logo refresh and logo animation", "<p>Every logo you need, logo files included</p>")
	f.published(t, "Brand strategy consulting", "<p>Tom &amp; Jerry <em>approved</em></p>")

	want := []string{"Logos, logo refresh and logo animation", "Logo design for your startup", "Website development service"}
	if got := f.search(t, "logo"); !slices.Equal(got, want) {
		t.Fatalf("logo ranks %q, want %q", got, want)
	}
	for _, markup := range []string{"strong", "em", "amp", "p"} {
		if got := f.search(t, markup); len(got) != 0 {
			t.Errorf("%q matches markup of %q", markup, got)
		}
	}
	if got := f.search(t, "approved"); !slices.Equal(got, []string{"Brand strategy consulting"}) {
		t.Errorf("text inside markup: %q", got)
	}
}

func TestSearchTakesWebSyntaxAndRefusesQueriesWithoutWords(t *testing.T) {
	f := newSearchFixture(t)
	f.published(t, "Website development service", "<p>I can add a logo too</p>")
	f.published(t, "Logo design for your startup", "<p>Clean vector design work</p>")
	f.published(t, "Design a website landing page", "<p>Fast</p>")

	cases := map[string][]string{
		`"logo design"`:           {"Logo design for your startup"},
		`logo -website`:           {"Logo design for your startup"},
		`logo or landing`:         {"Logo design for your startup", "Website development service", "Design a website landing page"},
		`"design website"`:        {},
		`"unclosed logo`:          {}, // a phrase to the end
		`logo!!! ((`:              {"Logo design for your startup", "Website development service"},
		`designing`:               {"Logo design for your startup", "Design a website landing page"},
		`'; DROP TABLE gigs; --`:  {},
		`logo:* & (a | !b) <-> \`: {}, // operators of to_tsquery are words here: b is not found
	}
	for q, want := range cases {
		got := f.search(t, q)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("q %q found %q, want %q", q, got, want)
		}
	}
	for _, q := range []string{"the", ")(*&^%$#@!", `""`, "- -", "or"} {
		_, err := f.gigs.List(context.Background(), market.GigFilter{Query: q})
		var de *market.Error
		if !errors.As(err, &de) || de.Code != market.CodeInvalid || de.Field != "q" {
			t.Errorf("q %q: %v, want an invalid q", q, err)
		}
	}
}
