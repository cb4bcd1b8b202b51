package market

import (
	"context"
	"time"
)

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
}

// Gig is a service a seller offers, with its packages (basic, standard, premium in
// that order), its media (oldest first) and Cover, the media lists show: its first
// image, else its first video. Description is sanitized rich text.
type Gig struct {
	ID          string    `json:"id" db:"id"`
	Slug        string    `json:"slug" db:"slug"`
	Title       string    `json:"title" db:"title"`
	Description string    `json:"description" db:"description"`
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
	// Rank and SortValue are where a listed gig stands in its listing's order (see
	// GigCursor); other reads leave them zero.
	Rank      float32 `json:"-" db:"rank"`
	SortValue int64   `json:"-" db:"sort_value"`
}

// NewGig is a draft a seller creates, already checked and sanitized (see CheckNewGig).
type NewGig struct {
	SellerID, Title, Description, CategorySlug string
	Packages                                   []GigPackage
}

// GigChange changes some fields of a gig; nil leaves one as it is, and non-nil
// Packages replace all of them.
type GigChange struct {
	Title, Description, CategorySlug *string
	Packages                         []GigPackage
}

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

// GigStore is the storage of categories and gigs; store/ implements it. Gigs that do
// not exist, or that the caller may not change, wrap ErrNotFound.
type GigStore interface {
	Categories(ctx context.Context) ([]Category, error)
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
	// DeleteDraftGig deletes a draft, after CheckGigDeletable allowed it, and returns
	// the object keys of its media for the caller to remove once committed.
	DeleteDraftGig(ctx context.Context, gigID, sellerID string) (objectKeys []string, err error)
}
