package market

import (
	"context"
	"time"
)

// SellerGigFilter selects a seller's own gigs, newest created first.
type SellerGigFilter struct {
	Status GigStatus // "" is every status
	After  *SellerGigCursor
	Limit  int
}

// SellerGigCursor is the position of a gig in its seller's own list.
type SellerGigCursor struct {
	CreatedAt time.Time
	ID        string
}

// Mine returns a page of sellerID's own gigs in every status (or only f.Status),
// newest created first, each with its packages and cover, and the cursor of the next
// page (nil on the last). It returns an invalid Error naming status or limit.
func (g *Gigs) Mine(ctx context.Context, sellerID string, f SellerGigFilter) ([]Gig, *SellerGigCursor, error) {
	switch f.Status {
	case "", GigDraft, GigPublished, GigPaused:
	default:
		return nil, nil, FieldError(CodeInvalid, "status", "must be draft, published or paused")
	}
	switch {
	case f.Limit == 0:
		f.Limit = DefaultGigPage
	case f.Limit < 1 || f.Limit > MaxGigPage:
		return nil, nil, FieldError(CodeInvalid, "limit", "must be 1 to 100")
	}
	limit := f.Limit
	f.Limit++ // one more tells whether another page follows
	list, err := g.store.SellerGigs(ctx, sellerID, f)
	if err != nil {
		return nil, nil, err
	}
	var next *SellerGigCursor
	if len(list) > limit {
		list = list[:limit]
		next = &SellerGigCursor{CreatedAt: list[limit-1].CreatedAt, ID: list[limit-1].ID}
	}
	return list, next, g.attachMedia(ctx, list, true)
}
