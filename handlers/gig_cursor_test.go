package handlers

import (
	"errors"
	"testing"
	"time"

	"github.com/gigstream/hub/market"
)

func TestGigCursorRoundTripsAndRefusesAnotherSort(t *testing.T) {
	id := "3f1c2a9e-8b7d-4e6f-9a1b-2c3d4e5f6a7b"
	cursors := []market.GigCursor{
		{Sort: market.SortNewest, PublishedAt: time.Date(2026, 1, 2, 3, 4, 5, 678901000, time.UTC), ID: id},
		{Sort: market.SortRelevance, Rank: 0.1, ID: id},
		{Sort: market.SortPriceAsc, SortValue: 500, ID: id},
		{Sort: market.SortRating, SortValue: 4_090_909, ID: id},
	}
	for _, c := range cursors {
		got, err := queryGigCursor(encodeGigCursor(c), c.Sort)
		if err != nil || got == nil || *got != c {
			t.Errorf("%s round trip: %+v, %v", c.Sort, got, err)
		}
		other := market.SortPriceDesc
		if _, err := queryGigCursor(encodeGigCursor(c), other); !namesCursor(err) {
			t.Errorf("%s cursor with sort=%s: %v, want a 400 naming cursor", c.Sort, other, err)
		}
	}
	bad := []string{"x", "eyJ9", encodeCursor(time.Now(), id), encodeGigCursor(market.GigCursor{Sort: market.SortNewest, ID: id}),
		encodeGigCursor(market.GigCursor{Sort: "cheapest", SortValue: 1, ID: id}), encodeGigCursor(market.GigCursor{Sort: market.SortRating, SortValue: 1, ID: "1"})}
	for _, s := range bad {
		if _, err := queryGigCursor(s, market.SortNewest); !namesCursor(err) {
			t.Errorf("cursor %q: %v, want a 400 naming cursor", s, err)
		}
	}
	if c, err := queryGigCursor("", market.SortNewest); c != nil || err != nil {
		t.Errorf("no cursor: %v, %v", c, err)
	}
}

func namesCursor(err error) bool {
	var p *Problem
	return errors.As(err, &p) && p.Status == 400 && len(p.Errors) == 1 && p.Errors[0].Field == "cursor"
}
