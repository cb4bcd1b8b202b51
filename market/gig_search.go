package market

import (
	"context"
	"fmt"
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
	// MaxDeliveryDays keeps gigs with a package delivered within that many days.
	MaxDeliveryDays int
	// MinRating keeps gigs whose mean rating is at least this, in hundredths of a
	// star (450 is 4.5); gigs without reviews do not pass.
	MinRating int
	// OnlineOnly keeps gigs whose seller holds a live socket now; List fills
	// OnlineSellers from presence.
	OnlineOnly    bool
	OnlineSellers []string
	// Facets asks for the facet counts of the matches (see GigFacets).
	Facets bool
	Sort   GigSort    // "" is relevance with a Query, newest without
	After  *GigCursor // the last gig of the previous page
	Limit  int
}

// GigPage is a page of the catalogue: its gigs, the cursor of the next page (nil on
// the last), and, when the search engine answered, how many gigs match and the facet
// counts (when asked for).
type GigPage struct {
	Gigs   []Gig
	Next   *GigCursor
	Total  *int
	Facets *GigFacets
	// Memo keeps what is made of this page while the search result it came from stays
	// cached (its encoded answer); nil when the result is not cached. Read-only: a
	// page from a memo is shared with every request that hits it.
	Memo *SearchMemo
}

// GigResults is what a GigSearch found: up to the filter's limit of gigs in its order,
// and Total and Facets when the engine answered (see GigPage).
type GigResults struct {
	Gigs   []Gig
	Total  *int
	Facets *GigFacets
	// Memo is the cache entry's memo when the result is cached (see SearchMemo), nil
	// otherwise.
	Memo *SearchMemo
}

// GigSearch is the catalogue's search engine; store.GigSearch implements it over an
// in-memory index fed from PostgreSQL. A saved search is a GigFilter kept with its
// owner: MatchingGigs tells which new gigs match it, with the same rules as a search.
type GigSearch interface {
	// SearchGigs lists the published gigs matching f in f's order after f.After, at
	// most f.Limit, with packages; an invalid Error names q when the query has no word.
	SearchGigs(ctx context.Context, f GigFilter) (GigResults, error)
	// SuggestGigs completes typed text with tags, title words and category names, the
	// most common first, at most limit.
	SuggestGigs(ctx context.Context, typed string, limit int) ([]GigSuggestion, error)
	// MatchingGigs returns the gigs among gigIDs that f matches (order and paging
	// ignored).
	MatchingGigs(ctx context.Context, f GigFilter, gigIDs []string) ([]string, error)
}

// OnlineUsers lists the users who hold a live socket now (the hub's presence; an
// entry may outlive its socket by the presence TTL), for the online filter.
type OnlineUsers interface {
	OnlineUsers(ctx context.Context) ([]string, error)
}

// GigSuggestion is one completion of what a buyer types.
type GigSuggestion struct {
	Text string `json:"text"`
	Kind string `json:"kind"` // tag, title or category
	// Category is the category's slug, for a category suggestion.
	Category string `json:"category,omitempty"`
	Gigs     int    `json:"gigs"`
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
// with its packages and cover, the cursor of the next page (nil on the last) and,
// from the search engine, the number of matches and the facets. It returns an invalid
// Error naming a filter that breaks a rule, cursor when f.After belongs to another
// order, and q when the query has no word to search for; an unavailable Error when
// OnlineOnly cannot be answered (presence is down).
func (g *Gigs) List(ctx context.Context, f GigFilter) (GigPage, error) {
	if err := checkGigFilter(&f); err != nil {
		return GigPage{}, err
	}
	if err := g.fillOnline(ctx, &f); err != nil {
		return GigPage{}, err
	}
	limit := f.Limit
	f.Limit++ // one more tells whether another page follows
	res, err := g.find(ctx, f)
	if err != nil {
		return GigPage{}, err
	}
	if kept := res.Memo.Page(); kept != nil {
		return *kept, nil
	}
	page := GigPage{Gigs: res.Gigs, Total: res.Total, Facets: res.Facets}
	if len(page.Gigs) > limit {
		page.Gigs = page.Gigs[:limit]
		page.Next = cursorAt(f.Sort, page.Gigs[limit-1])
	}
	if err := g.attachMedia(ctx, page.Gigs, true); err != nil {
		return GigPage{}, err
	}
	return res.Memo.keepPage(page), nil
}

// find asks the search engine, or the store alone when there is none.
func (g *Gigs) find(ctx context.Context, f GigFilter) (GigResults, error) {
	if g.search != nil {
		return g.search.SearchGigs(ctx, f)
	}
	list, err := g.store.PublishedGigs(ctx, f)
	return GigResults{Gigs: list}, err
}

func (g *Gigs) fillOnline(ctx context.Context, f *GigFilter) error {
	if !f.OnlineOnly {
		return nil
	}
	if g.online == nil {
		return Errorf(CodeUnavailable, "who is online is not known here")
	}
	users, err := g.online.OnlineUsers(ctx)
	if err != nil {
		return fmt.Errorf("online sellers: %w", err)
	}
	f.OnlineSellers = users
	return nil
}

// Suggest completes what a buyer types (at most 100 characters) with tags, title
// words and categories, at most limit (1–20); an invalid Error names q or limit.
func (g *Gigs) Suggest(ctx context.Context, typed string, limit int) ([]GigSuggestion, error) {
	typed, err := checkGigQuery(typed)
	switch {
	case err != nil:
		return nil, err
	case typed == "":
		return nil, FieldError(CodeInvalid, "q", "is required")
	case limit < 1 || limit > 20:
		return nil, FieldError(CodeInvalid, "limit", "must be 1 to 20")
	case g.search == nil:
		return []GigSuggestion{}, nil
	}
	return g.search.SuggestGigs(ctx, typed, limit)
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
	case f.MaxDeliveryDays < 0 || f.MaxDeliveryDays > MaxPackageDeliveryDays:
		return FieldError(CodeInvalid, "delivery_days", "must be 1 to 90")
	case f.MinRating < 0 || f.MinRating > 500:
		return FieldError(CodeInvalid, "min_rating", "must be 0 to 5")
	}
	return checkGigSort(f)
}
