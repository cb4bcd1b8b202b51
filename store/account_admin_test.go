package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/gigstream/hub/market"
)

func TestSearchUsersMatchesPrefixesAndNamesLiterallyAndPages(t *testing.T) {
	ctx := context.Background()
	db := migratedDB(t)
	for _, u := range []market.NewUser{
		{Email: "Ann.Lee@x.test", Username: "ann_lee", DisplayName: "Ann Lee"},
		{Email: "bob@x.test", Username: "annbob", DisplayName: "Bob Annson"},
		{Email: "carl@x.test", Username: "carl", DisplayName: "Carl"},
		{Email: "dan@x.test", Username: "annxlee", DisplayName: "Dan"},
	} {
		if _, err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	names := func(q string, after *market.PageKey, limit int) ([]string, []market.AdminUser) {
		t.Helper()
		list, err := db.SearchUsers(ctx, q, after, limit)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, u := range list {
			out = append(out, u.Username)
		}
		return out, list
	}
	for q, want := range map[string]string{
		"ANN":     "ann_lee annbob annxlee", // e-mail or username prefix, any case; "Bob Annson" by name too
		"ann_":    "ann_lee",                // _ is no wildcard
		"%":       "",                       // nor is %
		"annson":  "annbob",                 // inside a display name
		"carl@x.": "carl",
		"":        "ann_lee annbob carl annxlee",
	} {
		got, _ := names(q, nil, 10)
		if joined := strings.Join(got, " "); joined != want {
			t.Errorf("q %q: %q, want %q", q, joined, want)
		}
	}
	first, page := names("ann", nil, 2)
	rest, _ := names("ann", &market.PageKey{At: page[1].CreatedAt, ID: page[1].ID}, 2)
	if strings.Join(first, " ") != "ann_lee annbob" || strings.Join(rest, " ") != "annxlee" {
		t.Fatalf("pages %v then %v", first, rest)
	}
}
