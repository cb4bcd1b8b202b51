package market

import (
	"context"
	"time"
)

// The page sizes of a user's favorites.
const (
	DefaultFavoritePage = 20
	MaxFavoritePage     = 100
)

// Favorites are the gigs users keep to come back to (saved gigs): a user adds and
// removes a gig idempotently and pages their favorites, newest first. Only published
// gigs of active sellers are added and listed; a favorite of a gig that is paused
// later stays, unlisted, until the gig is published again.
type Favorites struct {
	store FavoriteStore
	gigs  *Gigs
}

// FavoriteStore is the storage of favorites; store/ implements it.
type FavoriteStore interface {
	// AddFavorite keeps gigID for userID; a second add keeps the first one's time.
	AddFavorite(ctx context.Context, userID, gigID string) error
	// RemoveFavorite forgets gigID for userID; a gig not kept is no error.
	RemoveFavorite(ctx context.Context, userID, gigID string) error
	// FavoriteGigs lists up to limit of userID's favorites among published gigs of
	// active sellers, newest first, after the key (favorited at, gig id), with packages.
	FavoriteGigs(ctx context.Context, userID string, after *PageKey, limit int) ([]FavoriteGig, error)
}

// FavoriteGig is a gig a user keeps and when they added it.
type FavoriteGig struct {
	Gig         `json:"gig"`
	FavoritedAt time.Time `json:"favorited_at" db:"favorited_at"`
}

// FavoritePage is a page of a user's favorites and the key of the next page (nil on
// the last).
type FavoritePage struct {
	Favorites []FavoriteGig
	Next      *PageKey
}

// NewFavorites returns the favorites use cases over their store and the catalogue.
func NewFavorites(s FavoriteStore, gigs *Gigs) *Favorites {
	return &Favorites{store: s, gigs: gigs}
}

// Add keeps a gig (id or slug) for userID. A gig that is not published, or whose
// seller is disabled or deleted, is a not-found Error, like one that does not exist.
func (f *Favorites) Add(ctx context.Context, userID, idOrSlug string) error {
	gig, err := f.gigs.store.Gig(ctx, idOrSlug)
	if err != nil {
		return err
	}
	if gig.Status != GigPublished || !gig.SellerActive {
		return ErrNotFound
	}
	return f.store.AddFavorite(ctx, userID, gig.ID)
}

// Remove forgets a gig id for userID; removing a gig that is not kept (or no longer
// exists) succeeds. A malformed id is a not-found Error.
func (f *Favorites) Remove(ctx context.Context, userID, gigID string) error {
	if !notificationIDPattern.MatchString(gigID) {
		return ErrNotFound
	}
	return f.store.RemoveFavorite(ctx, userID, gigID)
}

// List returns a page of userID's favorites, newest first, after the key, each with
// its packages and cover. limit must be 1…MaxFavoritePage (an invalid Error naming
// limit otherwise).
func (f *Favorites) List(ctx context.Context, userID string, after *PageKey, limit int) (FavoritePage, error) {
	if limit < 1 || limit > MaxFavoritePage {
		return FavoritePage{}, FieldError(CodeInvalid, "limit", "must be 1 to 100")
	}
	list, err := f.store.FavoriteGigs(ctx, userID, after, limit+1)
	if err != nil {
		return FavoritePage{}, err
	}
	page := FavoritePage{Favorites: list}
	if len(list) > limit {
		page.Favorites = list[:limit]
		last := page.Favorites[limit-1]
		page.Next = &PageKey{At: last.FavoritedAt, ID: last.ID}
	}
	gigs := make([]Gig, len(page.Favorites))
	for i := range page.Favorites {
		gigs[i] = page.Favorites[i].Gig
	}
	if err := f.gigs.attachMedia(ctx, gigs, true); err != nil {
		return FavoritePage{}, err
	}
	for i := range gigs {
		page.Favorites[i].Gig = gigs[i]
	}
	return page, nil
}
