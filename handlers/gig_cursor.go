package handlers

import (
	"math"

	"github.com/gigstream/hub/market"
)

// encodeGigCursor makes the opaque next_cursor of a catalogue page: its sort, the
// last gig's sort key and id.
func encodeGigCursor(c market.GigCursor) string { return encodeKeyCursor(c) }

// queryGigCursor reads the catalogue's cursor parameter for a listing in sort: nil
// when absent, a 400 naming cursor when it is not a next_cursor of this API or was
// made for another sort order.
func queryGigCursor(s string, sort market.GigSort) (*market.GigCursor, error) {
	var c market.GigCursor
	ok, err := queryKeyCursor(s, &c, func(c market.GigCursor) bool { return isCanonicalUUID(c.ID) && validGigCursorKey(c) })
	if err != nil || !ok {
		return nil, err
	}
	if c.Sort != sort {
		return nil, badRequest("cursor", "was made for sort="+string(c.Sort)+", not sort="+string(sort))
	}
	return &c, nil
}

// validGigCursorKey tells whether a cursor holds a key its sort could have made.
func validGigCursorKey(c market.GigCursor) bool {
	switch c.Sort {
	case market.SortNewest:
		return !c.PublishedAt.IsZero()
	case market.SortRelevance:
		return c.Rank >= 0 && !math.IsInf(float64(c.Rank), 0)
	case market.SortPriceAsc, market.SortPriceDesc:
		return c.SortValue > 0
	case market.SortRating:
		return c.SortValue > 0
	}
	return false
}
