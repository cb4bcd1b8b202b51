package market

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"
)

// The bounds of saved searches.
const (
	// MaxSavedSearches is how many saved searches one user keeps at most.
	MaxSavedSearches = 25
	// savedSearchBatch is how many saved searches one round of matching reads and
	// matches against a new gig.
	savedSearchBatch   = 500
	maxSavedSearchName = 100
)

// SavedSearches are catalogue searches users keep (the filters of GET /gigs) and are
// told about: when a gig is published for the first time, a background job matches it
// against every saved search, in batches, and notifies each owner of a match once
// (category saved_searches: in-app, push and e-mail as their preferences allow).
type SavedSearches struct {
	store         SavedSearchStore
	gigs          *Gigs
	matcher       SavedSearchMatcher
	notifications *Notifications
	log           *slog.Logger
}

// SavedSearchStore is the storage of saved searches; store/ implements it.
type SavedSearchStore interface {
	// CreateSavedSearch stores a saved search of s.UserID unless they already keep
	// max, which is a conflict Error.
	CreateSavedSearch(ctx context.Context, s SavedSearch, max int) (SavedSearch, error)
	// SavedSearches lists userID's saved searches, newest first.
	SavedSearches(ctx context.Context, userID string) ([]SavedSearch, error)
	// DeleteSavedSearch deletes userID's saved search id; another's, or none, wraps ErrNotFound.
	DeleteSavedSearch(ctx context.Context, userID, id string) error
	// SavedSearchBatch lists up to limit saved searches by id after afterID (""
	// from the start), leaving out those of exceptUserID.
	SavedSearchBatch(ctx context.Context, afterID, exceptUserID string, limit int) ([]SavedSearch, error)
}

// SavedSearchMatcher tells which saved searches a gig matches, with the same rules as
// a search (store.GigSearch implements it over the search index).
type SavedSearchMatcher interface {
	// MatchSavedSearches returns, for each filter, whether gigID matches it.
	MatchSavedSearches(ctx context.Context, gigID string, filters []GigFilter) ([]bool, error)
}

// SavedSearch is a search a user keeps.
type SavedSearch struct {
	ID        string      `json:"id" db:"id"`
	UserID    string      `json:"-" db:"user_id"`
	Name      string      `json:"name" db:"name"`
	Filter    SavedFilter `json:"filters" db:"filter"`
	CreatedAt time.Time   `json:"created_at" db:"created_at"`
}

// SavedFilter is the part of a GigFilter a saved search keeps, under the names of
// GET /gigs' parameters; sorting, paging, facets and the online filter are not kept.
type SavedFilter struct {
	Query        string  `json:"q,omitempty"`
	Category     string  `json:"category,omitempty"`
	Seller       string  `json:"seller,omitempty"`
	Currency     string  `json:"currency,omitempty"`
	MinPrice     int64   `json:"min_price,omitempty"`
	MaxPrice     int64   `json:"max_price,omitempty"`
	DeliveryDays int     `json:"delivery_days,omitempty"`
	MinRating    float64 `json:"min_rating,omitempty"` // stars, such as 4.5
}

// GigFilter is the catalogue filter the saved search stands for.
func (s SavedFilter) GigFilter() GigFilter {
	return GigFilter{
		Query: s.Query, CategorySlug: s.Category, Seller: s.Seller, Currency: s.Currency,
		MinPrice: s.MinPrice, MaxPrice: s.MaxPrice, MaxDeliveryDays: s.DeliveryDays,
		MinRating: int(s.MinRating*100 + 0.5),
	}
}

// SavedFilterOf keeps the saved part of a catalogue filter.
func SavedFilterOf(f GigFilter) SavedFilter {
	return SavedFilter{
		Query: f.Query, Category: f.CategorySlug, Seller: f.Seller, Currency: f.Currency,
		MinPrice: f.MinPrice, MaxPrice: f.MaxPrice, DeliveryDays: f.MaxDeliveryDays,
		MinRating: float64(f.MinRating) / 100,
	}
}

// NewSavedSearches returns the saved-search use cases: their store, the catalogue
// (which checks a filter as GET /gigs does), the matcher and the notifications.
func NewSavedSearches(s SavedSearchStore, gigs *Gigs, matcher SavedSearchMatcher, n *Notifications, log *slog.Logger) *SavedSearches {
	if log == nil {
		log = slog.Default()
	}
	return &SavedSearches{store: s, gigs: gigs, matcher: matcher, notifications: n, log: log}
}

// Create keeps a search of userID named name. The filter is checked by the catalogue
// as a search with it would be (an invalid Error naming the parameter, q when it has
// no word to search for); it must filter on something (invalid, naming q), and not on
// who is online now (invalid, naming online). A user keeps at most MaxSavedSearches
// (a conflict Error past it).
func (s *SavedSearches) Create(ctx context.Context, userID, name string, f GigFilter) (SavedSearch, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "" || utf8.RuneCountInString(name) > maxSavedSearchName || hasControl(name):
		return SavedSearch{}, FieldError(CodeInvalid, "name", "must be 1 to 100 characters without control characters")
	case f.OnlineOnly:
		return SavedSearch{}, FieldError(CodeInvalid, "online", "cannot be saved: who is online changes by the minute")
	}
	saved := SavedFilterOf(f)
	if saved == (SavedFilter{}) {
		return SavedSearch{}, FieldError(CodeInvalid, "q", "give q or at least one filter to save")
	}
	// The same checks as GET /gigs, down to a query without a word to search for.
	check := saved.GigFilter()
	check.Limit = 1
	if _, err := s.gigs.List(ctx, check); err != nil {
		return SavedSearch{}, err
	}
	return s.store.CreateSavedSearch(ctx, SavedSearch{UserID: userID, Name: name, Filter: saved}, MaxSavedSearches)
}

// List returns userID's saved searches, newest first.
func (s *SavedSearches) List(ctx context.Context, userID string) ([]SavedSearch, error) {
	return s.store.SavedSearches(ctx, userID)
}

// Delete deletes userID's saved search id; another user's (or none) is a not-found Error.
func (s *SavedSearches) Delete(ctx context.Context, userID, id string) error {
	if !notificationIDPattern.MatchString(id) {
		return ErrNotFound
	}
	return s.store.DeleteSavedSearch(ctx, userID, id)
}

// MatchNewGig tells the owners of the saved searches that gigID matches about it:
// it reads the saved searches in batches of savedSearchBatch, matches each batch in
// one call to the matcher, and stores one notification per owner (two searches of
// one user matching the same gig make one). A gig that is no longer published, or
// whose seller is not active, notifies nobody; the seller's own searches are left
// out. A rerun after a failure stores nothing twice.
func (s *SavedSearches) MatchNewGig(ctx context.Context, gigID string) (notified int, err error) {
	gig, err := s.gigs.store.Gig(ctx, gigID)
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if gig.Status != GigPublished || !gig.SellerActive {
		return 0, nil
	}
	after := ""
	for {
		batch, err := s.store.SavedSearchBatch(ctx, after, gig.Seller.ID, savedSearchBatch)
		if err != nil || len(batch) == 0 {
			return notified, err
		}
		after = batch[len(batch)-1].ID
		filters := make([]GigFilter, len(batch))
		for i, ss := range batch {
			filters[i] = ss.Filter.GigFilter()
		}
		matched, err := s.matcher.MatchSavedSearches(ctx, gig.ID, filters)
		if err != nil {
			return notified, fmt.Errorf("match saved searches: %w", err)
		}
		var list []Notification
		seen := map[string]bool{}
		for i, ok := range matched {
			if !ok || seen[batch[i].UserID] {
				continue
			}
			seen[batch[i].UserID] = true
			list = append(list, savedSearchNotification(batch[i], gig))
		}
		n, err := s.notifications.Deliver(ctx, Event{Channel: "gig:" + gig.ID}, list)
		notified += n
		if err != nil {
			return notified, err
		}
	}
}

// savedSearchNotification tells the owner of ss that gig matches it.
func savedSearchNotification(ss SavedSearch, gig Gig) Notification {
	return Notification{
		UserID: ss.UserID, Kind: KindSavedSearchMatch,
		Title: fmt.Sprintf("New gig for your saved search “%s”", ss.Name),
		Body:  gig.Title,
		Link:  "/gigs/" + gig.Slug,
	}
}

// hasControl reports whether s holds a control character.
func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return true
		}
	}
	return false
}

// Scan reads a saved filter from its JSON (the store's jsonb column).
func (s *SavedFilter) Scan(src any) error {
	null, err := scanJSON(src, "saved filter", s)
	if err == nil && null {
		err = fmt.Errorf("saved filter: cannot scan NULL")
	}
	return err
}
