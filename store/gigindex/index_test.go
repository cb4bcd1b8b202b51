package gigindex

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestParseReadsWebSearchSyntax(t *testing.T) {
	cases := map[string]Query{
		"Logo design":              {Groups: [][]string{{"logo"}, {"design"}}},
		"logo or landing page":     {Groups: [][]string{{"logo", "landing"}, {"page"}}},
		"logo -website":            {Groups: [][]string{{"logo"}}, Not: []string{"website"}},
		`"logo design" for shops`:  {Groups: [][]string{{"logo"}, {"design"}, {"shops"}}, Phrase: true},
		`"unclosed logo`:           {Groups: [][]string{{"unclosed"}, {"logo"}}, Phrase: true},
		`"logo"`:                   {Groups: [][]string{{"logo"}}},
		"the and or":               {},
		"logo:* & (a | !b) <-> \\": {Groups: [][]string{{"logo"}, {"b"}}},
		"<em>café</em> &amp; 3d":   {Groups: [][]string{{"café"}, {"3d"}}},
	}
	for in, want := range cases {
		got := Parse(in)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("Parse(%q) = %+v, want %+v", in, got, want)
		}
	}
}

func TestEditDistanceCountsASwapAsOneEdit(t *testing.T) {
	for _, c := range []struct {
		a, b string
		k    int
		ok   bool
	}{
		{"desgin", "design", 1, true}, {"logo", "logs", 1, true}, {"logo", "lgoo", 1, true},
		{"logo", "lgooo", 1, false}, {"ilustration", "illustration", 1, true},
		{"illustrtaino", "illustration", 2, true}, {"illustrtaino", "illustration", 1, false},
		{"abc", "abcdef", 2, false}, {"", "ab", 2, true},
	} {
		if got := editDistanceWithin(c.a, c.b, c.k); got != c.ok {
			t.Errorf("%q ~ %q within %d: %v", c.a, c.b, c.k, got)
		}
	}
	if MaxEdits(3) != 0 || MaxEdits(4) != 1 || MaxEdits(7) != 1 || MaxEdits(8) != 2 {
		t.Error("MaxEdits does not follow 0 below 4 letters, 1 up to 7, 2 from 8")
	}
}

func TestIndexReplacesAndRemovesGigs(t *testing.T) {
	ix := New()
	doc := func(id, title string) Doc {
		return Doc{ID: id, Title: title, CategoryID: "c", Currency: "USD", PriceMinor: 100, SellerID: "s", PublishedAt: time.Unix(1, 0), RatingMean: -1}
	}
	ix.Put(doc("a", "Logo design"))
	ix.Put(doc("b", "Website design"))
	ix.Put(doc("a", "Poster printing")) // replaces a
	ids := func(q string) []string {
		var out []string
		for _, h := range ix.Search(Request{Query: Parse(q), Sort: ByRelevance, Limit: 10}).Hits {
			out = append(out, h.ID)
		}
		slices.Sort(out)
		return out
	}
	if got := ids("design"); !slices.Equal(got, []string{"b"}) {
		t.Errorf("design finds %q after a changed its title", got)
	}
	if got := ids("poster"); !slices.Equal(got, []string{"a"}) {
		t.Errorf("poster finds %q", got)
	}
	ix.Remove("b")
	if got := ids("design"); len(got) != 0 || ix.Len() != 1 || ix.Garbage() < 0.6 {
		t.Errorf("after removing b: %q, %d listed, garbage %.2f", got, ix.Len(), ix.Garbage())
	}
}

func TestSearchPagesWithoutGapsOrRepeats(t *testing.T) {
	ix := New()
	for i := range 95 {
		ix.Put(Doc{ID: fmt.Sprintf("%03d", i), Title: strings.Repeat("logo ", 1+i%4) + "design", CategoryID: "c",
			Currency: "USD", PriceMinor: int64(100 + i%7), SellerID: "s", PublishedAt: time.Unix(int64(i%5), 0), RatingMean: -1})
	}
	for _, s := range []Sort{ByRelevance, ByNewest, ByPriceAsc, ByPriceDesc, ByRating} {
		var seen []string
		var after *Cursor
		for {
			res := ix.Search(Request{Query: Parse("logo"), Sort: s, After: after, Limit: 10})
			for _, h := range res.Hits {
				seen = append(seen, h.ID)
			}
			if len(res.Hits) < 10 {
				break
			}
			last := res.Hits[len(res.Hits)-1]
			after = &Cursor{Rank: last.Rank, Value: last.Value, ID: last.ID}
		}
		sorted := slices.Clone(seen)
		slices.Sort(sorted)
		if len(seen) != 95 || len(slices.Compact(sorted)) != 95 {
			t.Errorf("%s: %d hits over the pages, %d distinct", s, len(seen), len(slices.Compact(sorted)))
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{`"logo design" -web or app`, `"`, `-`, `- -"`, "or or", "\xff\xfe", "日本 語"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := Parse(s)
		for _, g := range q.Groups {
			for _, w := range g {
				if w == "" || IsStopWord(w) || w != strings.ToLower(w) || !utf8.ValidString(w) && utf8.ValidString(s) {
					t.Fatalf("Parse(%q) keeps word %q", s, w)
				}
			}
		}
		ix := New()
		ix.Put(Doc{ID: "x", Title: s, Description: s, CategoryID: "c", SellerID: "s"})
		_ = ix.Search(Request{Query: q, Sort: ByRelevance, Limit: 5, Facets: true})
		_ = ix.Suggest(s, 5)
	})
}
