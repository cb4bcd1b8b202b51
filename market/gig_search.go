package market

import (
	"context"
	"time"
)

// The page sizes of the catalogue.
const (
	DefaultGigPage = 20
	MaxGigPage     = 100
	maxGigQuery    = 100 // characters of a search
)

// GigFilter selects published gigs for the catalogue. Zero fields do not filter;
// prices compare the cheapest package's minor units.
type GigFilter struct {
	CategorySlug string // the category or one of its children
	Seller       string // a username or a user id
	Query        string // a web-search style query of the title and description (see GigSort)
	Currency     string
	MinPrice     int64
	MaxPrice     int64
	Sort         GigSort    // "" is relevance with a Query, newest without
	After        *GigCursor // the last gig of the previous page
	Limit        int
}

// GigCursor is the position of a gig in a listing's order: its sort, the key that
// order compares (PublishedAt for newest, Rank for relevance, SortValue for the
// cheapest price or the rating score) and the id that breaks ties.
type GigCursor struct {
	Sort        GigSort   `json:"s"`
	PublishedAt time.Time `json:"p,omitzero"`
	Rank        float32   `json:"r,omitempty"`
	SortValue   int64     `json:"v,omitempty"`
	ID          string    `json:"id"`
}

// List returns a page of published gigs matching f in its order (see GigSort), each
// with its packages and cover, and the cursor of the next page (nil on the last). It
// returns an invalid Error naming a filter that breaks a rule, cursor when f.After
// belongs to another order, and q when the query has no word to search for.
func (g *Gigs) List(ctx context.Context, f GigFilter) ([]Gig, *GigCursor, error) {
	if err := checkGigFilter(&f); err != nil {
		return nil, nil, err
	}
	limit := f.Limit
	f.Limit++ // one more tells whether another page follows
	list, err := g.store.PublishedGigs(ctx, f)
	if err != nil {
		return nil, nil, err
	}
	var next *GigCursor
	if len(list) > limit {
		list = list[:limit]
		last := list[limit-1]
		next = cursorAt(f.Sort, last)
	}
	return list, next, g.attachMedia(ctx, list, true)
}

func checkGigFilter(f *GigFilter) error {
	var err error
	if f.Query, err = checkGigQuery(f.Query); err != nil {
		return err
	}
	switch {
	case f.Limit == 0:
		f.Limit = DefaultGigPage
	case f.Limit < 1 || f.Limit > MaxGigPage:
		return FieldError(CodeInvalid, "limit", "must be 1 to 100")
	}
	switch {
	case f.Currency != "" && !IsCurrency(f.Currency):
		return FieldError(CodeInvalid, "currency", "must be an ISO 4217 currency code in upper case")
	case f.MinPrice < 0:
		return FieldError(CodeInvalid, "min_price", "must not be negative")
	case f.MaxPrice < 0 || f.MaxPrice > 0 && f.MaxPrice < f.MinPrice:
		return FieldError(CodeInvalid, "max_price", "must not be negative or below min_price")
	}
	return checkGigSort(f)
}
