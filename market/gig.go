package market

import (
	"context"
	"log/slog"
	"regexp"
	"time"
)

// Gigs holds the catalogue use cases: sellers create, change, publish, pause and
// delete their gigs; anyone browses the published ones with their media.
type Gigs struct {
	store   GigStore
	search  GigSearch   // may be nil: the store lists, without totals, facets or suggestions
	online  OnlineUsers // may be nil: the online filter is then unavailable
	uploads *Uploads    // presigns video posters and renditions; may be nil
	// realtime publishes the committed events of takedowns; nil leaves them to the relay
	realtime *Realtime
	cached   *readThrough
	log      *slog.Logger
}

// GigsDeps are the collaborators of the catalogue besides its store; nil fields are
// the documented defaults of Gigs.
type GigsDeps struct {
	Search  GigSearch
	Online  OnlineUsers
	Uploads *Uploads
	// Cache keeps public gig pages and the category list for every node; nil reads
	// the store every time.
	Cache ReadCache
	// Realtime publishes the events that tell sellers of takedowns at once; nil
	// leaves them to the outbox relay.
	Realtime *Realtime
}

// NewGigs returns the catalogue use cases over their store, the search engine, presence
// and the upload use cases.
func NewGigs(s GigStore, deps GigsDeps, log *slog.Logger) *Gigs {
	if log == nil {
		log = slog.Default()
	}
	return &Gigs{
		store: s, search: deps.Search, online: deps.Online, uploads: deps.Uploads, realtime: deps.Realtime, log: log,
		cached: &readThrough{cache: deps.Cache, log: log},
	}
}

// GigStatus is where a gig stands in its seller's hands: only published gigs are
// shown to others.
type GigStatus string

// The statuses of a gig. A draft was never published; a published gig may be paused
// and published again, but never goes back to draft.
const (
	GigDraft     GigStatus = "draft"
	GigPublished GigStatus = "published"
	GigPaused    GigStatus = "paused"
)

// Category is a node of the catalogue's category tree.
type Category struct {
	ID       string  `json:"id" db:"id"`
	Slug     string  `json:"slug" db:"slug"`
	Name     string  `json:"name" db:"name"`
	ParentID *string `json:"parent_id" db:"parent_id"`
	// ArchivedAt is when an admin retired the category (see Gigs.ArchiveCategory); it
	// is shown to admins only, public reads leave archived categories out.
	ArchivedAt *time.Time `json:"archived_at,omitempty" db:"archived_at"`
}

// GigSeller is a gig's seller as buyers see them.
type GigSeller struct {
	ID          string `json:"id" db:"id"`
	Username    string `json:"username" db:"username"`
	DisplayName string `json:"display_name" db:"display_name"`
}

// GigPackage is one priced tier of a gig. Money is integer minor units of an ISO 4217
// currency; Title and Description are plain text.
type GigPackage struct {
	Tier         string `json:"tier" db:"tier"`
	Title        string `json:"title" db:"title"`
	Description  string `json:"description" db:"description"`
	PriceMinor   int64  `json:"price_minor" db:"price_minor"`
	Currency     string `json:"currency" db:"currency"`
	DeliveryDays int    `json:"delivery_days" db:"delivery_days"`
	Revisions    int    `json:"revisions" db:"revisions"`
}

// GigMedia is a clean image or video of a gig. Its bytes are fetched through
// DownloadPath (a redirect to a short-lived presigned URL); a video also carries its
// processing state and, once ready, presigned poster and rendition URLs.
type GigMedia struct {
	ID           string     `json:"id" db:"id"`
	GigID        string     `json:"-" db:"gig_id"`
	Kind         UploadKind `json:"kind" db:"kind"`
	ContentType  string     `json:"content_type" db:"content_type"`
	Size         int64      `json:"size" db:"size"`
	Filename     string     `json:"filename" db:"filename"`
	DownloadPath string     `json:"download_path" db:"-"`
	CreatedAt    time.Time  `json:"created_at" db:"created_at"`
	Video
	VideoLinks
	// ImageStatus and Picture: a gig image's variants, once ready (see image.go).
	ImageStatus *ImageStatus `json:"image_status,omitempty" db:"image_status"`
	Picture     *Picture     `json:"image,omitempty" db:"picture"`
}

// Gig is a service a seller offers, with its packages (basic, standard, premium in
// that order), its media (oldest first) and Cover, the media lists show: its first
// image, else its first video. Description is sanitized rich text.
type Gig struct {
	ID          string    `json:"id" db:"id"`
	Slug        string    `json:"slug" db:"slug"`
	Title       string    `json:"title" db:"title"`
	Description string    `json:"description" db:"description"`
	Tags        GigTags   `json:"tags" db:"tags"`
	Status      GigStatus `json:"status" db:"status"`
	Category    Category  `json:"category" db:"category"`
	Seller      GigSeller `json:"seller" db:"seller"`
	// SellerActive is false once the seller is disabled or deleted: their gigs are
	// then shown to nobody else.
	SellerActive bool         `json:"-" db:"seller_active"`
	PublishedAt  *time.Time   `json:"published_at" db:"published_at"`
	CreatedAt    time.Time    `json:"created_at" db:"created_at"`
	UpdatedAt    time.Time    `json:"updated_at" db:"updated_at"`
	Packages     []GigPackage `json:"packages" db:"-"`
	Media        []GigMedia   `json:"media,omitempty" db:"-"`
	Cover        *GigMedia    `json:"cover" db:"-"`
	Rating       GigRating    `json:"rating" db:"rating"`
	// TakedownReason and TakenDownAt say why and when an admin took the gig down
	// (see Gigs.TakeDown); only its seller ever sees a taken-down gig.
	TakedownReason *string    `json:"takedown_reason,omitempty" db:"takedown_reason"`
	TakenDownAt    *time.Time `json:"taken_down_at,omitempty" db:"taken_down_at"`
	// FavoriteCount is how many users keep the gig (see Favorites), on a gig's own
	// page only; lists leave it out.
	FavoriteCount *int `json:"favorite_count,omitempty" db:"-"`
	// Rank and SortValue are where a listed gig stands in its listing's order (see
	// GigCursor); other reads leave them zero.
	Rank      float32 `json:"-" db:"rank"`
	SortValue int64   `json:"-" db:"sort_value"`
}

// NewGig is a draft a seller creates, already checked and sanitized (see CheckNewGig).
type NewGig struct {
	SellerID, Title, Description, CategorySlug string
	Tags                                       []string
	Packages                                   []GigPackage
}

// GigChange changes some fields of a gig; nil leaves one as it is, and non-nil
// Packages replace all of them.
type GigChange struct {
	Title, Description, CategorySlug *string
	Tags                             *[]string
	Packages                         []GigPackage
}

// GigTags are a gig's keywords (see CheckTags). The store reads them as a JSON array.
type GigTags []string

// Scan reads a JSON array of strings (the store selects to_json(tags)).
func (t *GigTags) Scan(src any) error {
	list := []string{} // NULL is no tags
	if _, err := scanJSON(src, "gig tags", &list); err != nil {
		return err
	}
	*t = list
	return nil
}

// GigStore is the storage of categories and gigs; store/ implements it. Gigs that do
// not exist, or that the caller may not change, wrap ErrNotFound.
type GigStore interface {
	CategoryStore
	GigTakedownStore
	CreateGig(ctx context.Context, in NewGig) (Gig, error)
	Gig(ctx context.Context, idOrSlug string) (Gig, error)
	// PublishedGigs returns an invalid Error naming q when the query has no word to
	// search for (only stop words or punctuation).
	PublishedGigs(ctx context.Context, f GigFilter) ([]Gig, error)
	SellerGigs(ctx context.Context, sellerID string, f SellerGigFilter) ([]Gig, error)
	GigMedia(ctx context.Context, gigIDs []string) ([]GigMedia, error)
	UpdateGig(ctx context.Context, gigID, sellerID string, ch GigChange) (Gig, error)
	// SetGigStatus moves a gig to a status under a row lock, after GigTransition allowed it.
	SetGigStatus(ctx context.Context, gigID, sellerID string, to GigStatus) (Gig, error)
	// DeleteDraftGig deletes a draft, after CheckGigDeletable allowed it, with its
	// media rows, and queues the removal of their objects with the deletion (a job
	// that is retried until S3 has them gone).
	DeleteDraftGig(ctx context.Context, gigID, sellerID string) error
	// FavoriteCount counts the users who keep the gig (see Favorites).
	FavoriteCount(ctx context.Context, gigID string) (int, error)
}

// Show returns a gig by id or slug, with its packages and all its media: a published
// gig to anyone (viewerID "" is anonymous), a draft or paused one to its seller only.
// Anyone else gets a not-found Error, so ids and slugs reveal nothing. Public pages
// come from the read cache when it has them (see ReadCache).
func (g *Gigs) Show(ctx context.Context, idOrSlug, viewerID string) (Gig, error) {
	load := func(ctx context.Context) (gigPage, bool, error) { return g.page(ctx, idOrSlug) }
	var page gigPage
	var err error
	if key, ok := gigCacheKey(idOrSlug); ok {
		page, err = cachedRead(ctx, g.cached, key, ReadCacheGigTTL, load)
	} else {
		page, _, err = load(ctx)
	}
	if err != nil {
		return Gig{}, err
	}
	gig := page.Gig
	gig.SellerActive = page.SellerActive
	if gig.public() {
		return gig, nil
	}
	if viewerID == "" || viewerID != gig.Seller.ID {
		return Gig{}, ErrNotFound
	}
	return g.withPageExtras(ctx, gig)
}

// gigPage is a gig's page as the read cache keeps it: the gig as the API shows it,
// and beside it whether its seller is active, which the API leaves out.
type gigPage struct {
	Gig          Gig  `json:"gig"`
	SellerActive bool `json:"seller_active"`
}

// page reads what a gig's page shows; only a public gig gets its favorite count and
// media here, and only a public one may be cached (Show finishes the others).
func (g *Gigs) page(ctx context.Context, idOrSlug string) (gigPage, bool, error) {
	gig, err := g.store.Gig(ctx, idOrSlug)
	if err != nil || !gig.public() {
		return gigPage{Gig: gig, SellerActive: gig.SellerActive}, false, err
	}
	gig, err = g.withPageExtras(ctx, gig)
	return gigPage{Gig: gig, SellerActive: gig.SellerActive}, err == nil, err
}

// withPageExtras adds what only a gig's own page shows: its favorite count and media.
func (g *Gigs) withPageExtras(ctx context.Context, gig Gig) (Gig, error) {
	n, err := g.store.FavoriteCount(ctx, gig.ID)
	if err != nil {
		return Gig{}, err
	}
	gig.FavoriteCount = &n
	return g.withMedia(ctx, gig)
}

// public reports whether anyone may see gig: published, by a seller still active.
func (gig Gig) public() bool { return gig.Status == GigPublished && gig.SellerActive }

// gigCacheKey is the read cache's key of a gig's page by id or slug, as the database
// announces it (lower-case); another spelling of an id is read without the cache.
func gigCacheKey(idOrSlug string) (string, bool) {
	if !gigCacheable.MatchString(idOrSlug) {
		return "", false
	}
	return "gig:" + idOrSlug, true
}

var gigCacheable = regexp.MustCompile(`^[a-z0-9-]{3,100}$`)

// gigKeys are the read cache's keys a change of gig makes stale: its page by id and
// by slug, and its seller's profile.
func gigKeys(gig Gig) []string {
	return []string{"gig:" + gig.ID, "gig:" + gig.Slug, "profile:" + gig.Seller.Username}
}

// Visible returns a gig by id or slug, with its packages but without media, when
// viewerID may see it (see Show); anyone else gets a not-found Error.
func (g *Gigs) Visible(ctx context.Context, idOrSlug, viewerID string) (Gig, error) {
	gig, err := g.store.Gig(ctx, idOrSlug)
	if err != nil {
		return Gig{}, err
	}
	if !gig.public() && (viewerID == "" || viewerID != gig.Seller.ID) {
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
	g.cached.invalidate(ctx, gigKeys(gig)...)
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
	g.cached.invalidate(ctx, gigKeys(gig)...)
	return g.withMedia(ctx, gig)
}

// Delete removes sellerID's own draft with its packages and media rows; its media
// objects are deleted by a job queued with the deletion, which retries a failed S3
// delete (see store.ObjectDeleteJob). A gig that was ever published is a conflict
// Error (pause it instead); someone else's gig is not found.
func (g *Gigs) Delete(ctx context.Context, gigID, sellerID string) error {
	return g.store.DeleteDraftGig(ctx, gigID, sellerID)
}
