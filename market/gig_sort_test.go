package market

import (
	"errors"
	"strings"
	"testing"
)

func TestGigFilterSettlesItsSortAndNamesTheFieldAtFault(t *testing.T) {
	defaults := map[string]GigSort{"": SortNewest, "  ": SortNewest, "logo": SortRelevance}
	for q, want := range defaults {
		f := GigFilter{Query: q}
		if err := checkGigFilter(&f); err != nil || f.Sort != want {
			t.Errorf("q %q sorts by %q (%v), want %q", q, f.Sort, err, want)
		}
	}
	refused := map[string]GigFilter{
		"sort":     {Sort: SortRelevance, Query: "   "},
		"currency": {Sort: SortPriceDesc},
		"cursor":   {Sort: SortRating, After: &GigCursor{Sort: SortNewest}},
		"q":        {Query: "logo\x00"},
	}
	refused["sort "] = GigFilter{Sort: "popular"}
	refused["q "] = GigFilter{Query: strings.Repeat("é", 101)}
	refused["q  "] = GigFilter{Query: "logo\xff"}
	for field, f := range refused {
		var e *Error
		if err := checkGigFilter(&f); !errors.As(err, &e) || e.Code != CodeInvalid || e.Field != strings.TrimSpace(field) {
			t.Errorf("%+v: %v, want an invalid %s", f, err, field)
		}
	}
	ok := GigFilter{Query: strings.Repeat("é", 100), Sort: SortPriceAsc, Currency: "EUR", After: &GigCursor{Sort: SortPriceAsc}}
	if err := checkGigFilter(&ok); err != nil {
		t.Errorf("%+v: %v", ok, err)
	}
}
