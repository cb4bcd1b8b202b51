package market

import (
	"context"
	"log/slog"
)

// The page sizes of the catalogue.
const (
	DefaultGigPage = 20
	MaxGigPage     = 100
	maxGigQuery    = 100 // characters of a search
)

// Gigs holds the catalogue use cases: sellers create, change, publish, pause and
// delete their gigs; anyone browses the published ones with their media.
type Gigs struct {
	store   GigStore
	uploads *Uploads // presigns video posters and renditions, removes a deleted draft's objects; may be nil
	log     *slog.Logger
}

// NewGigs returns the catalogue use cases over their store and the upload use cases.
func NewGigs(s GigStore, uploads *Uploads, log *slog.Logger) *Gigs {
	if log == nil {
		log = slog.Default()
	}
	return &Gigs{store: s, uploads: uploads, log: log}
}

// Categories lists every category, parents before their children.
func (g *Gigs) Categories(ctx context.Context) ([]Category, error) {
	return g.store.Categories(ctx)
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

// Show returns a gig by id or slug, with its packages and all its media: a published
// gig to anyone (viewerID "" is anonymous), a draft or paused one to its seller only.
// Anyone else gets a not-found Error, so ids and slugs reveal nothing.
func (g *Gigs) Show(ctx context.Context, idOrSlug, viewerID string) (Gig, error) {
	gig, err := g.Visible(ctx, idOrSlug, viewerID)
	if err != nil {
		return Gig{}, err
	}
	return g.withMedia(ctx, gig)
}

// Visible returns a gig by id or slug, with its packages but without media, when
// viewerID may see it (see Show); anyone else gets a not-found Error.
func (g *Gigs) Visible(ctx context.Context, idOrSlug, viewerID string) (Gig, error) {
	gig, err := g.store.Gig(ctx, idOrSlug)
	if err != nil {
		return Gig{}, err
	}
	public := gig.Status == GigPublished && gig.SellerActive
	if !public && (viewerID == "" || viewerID != gig.Seller.ID) {
		return Gig{}, ErrNotFound
	}
	return gig, nil
}

// Create stores a draft gig of seller with a unique slug made from its title. It
// returns a forbidden Error when seller is not a seller, and an invalid Error naming
// the field at fault (an unknown category is the category field).
func (g *Gigs) Create(ctx context.Context, seller User, in NewGig) (Gig, error) {
	if !seller.IsSeller {
		return Gig{}, Errorf(CodeForbidden, "only sellers can create gigs; turn on is_seller in your profile")
	}
	in.SellerID = seller.ID
	in, err := CheckNewGig(in)
	if err != nil {
		return Gig{}, err
	}
	gig, err := g.store.CreateGig(ctx, in)
	if err != nil {
		return Gig{}, err
	}
	return g.withMedia(ctx, gig)
}

// Update changes sellerID's own gig. Someone else's gig is not found; an invalid
// change is an invalid Error naming the field.
func (g *Gigs) Update(ctx context.Context, gigID, sellerID string, ch GigChange) (Gig, error) {
	ch, err := CheckGigChange(ch)
	if err != nil {
		return Gig{}, err
	}
	gig, err := g.store.UpdateGig(ctx, gigID, sellerID, ch)
	if err != nil {
		return Gig{}, err
	}
	return g.withMedia(ctx, gig)
}

// Publish shows sellerID's own gig to everyone; a conflict Error says why it cannot be
// published (see GigTransition), and someone else's gig is not found.
func (g *Gigs) Publish(ctx context.Context, gigID, sellerID string) (Gig, error) {
	return g.setStatus(ctx, gigID, sellerID, GigPublished)
}

// Pause hides sellerID's own published gig from everyone else until it is published
// again; a draft cannot be paused (conflict), and someone else's gig is not found.
func (g *Gigs) Pause(ctx context.Context, gigID, sellerID string) (Gig, error) {
	return g.setStatus(ctx, gigID, sellerID, GigPaused)
}

func (g *Gigs) setStatus(ctx context.Context, gigID, sellerID string, to GigStatus) (Gig, error) {
	gig, err := g.store.SetGigStatus(ctx, gigID, sellerID, to)
	if err != nil {
		return Gig{}, err
	}
	return g.withMedia(ctx, gig)
}

// Delete removes sellerID's own draft with its packages and media rows, then its media
// objects (a failure there is logged: the rows are gone, so nobody can reach them). A
// gig that was ever published is a conflict Error (pause it instead); someone else's
// gig is not found.
func (g *Gigs) Delete(ctx context.Context, gigID, sellerID string) error {
	keys, err := g.store.DeleteDraftGig(ctx, gigID, sellerID)
	if err != nil {
		return err
	}
	g.removeObjects(ctx, gigID, keys)
	return nil
}
