package market

import (
	"context"
	"log/slog"
	"time"
)

// Reviews holds the review use cases: a buyer rates a completed order once, its seller
// answers once, anyone reads a published gig's reviews, a seller reads their insights.
type Reviews struct {
	store    ReviewStore
	gigs     *Gigs
	realtime *Realtime
	log      *slog.Logger
	now      func() time.Time
}

// NewReviews returns the review use cases; gigs decides who may see a gig's reviews.
func NewReviews(s ReviewStore, gigs *Gigs, rt *Realtime, log *slog.Logger) *Reviews {
	if log == nil {
		log = slog.Default()
	}
	return &Reviews{store: s, gigs: gigs, realtime: rt, log: log, now: time.Now}
}

// MaxReviewText is the longest review comment or seller response, in characters.
const MaxReviewText = 2000

// The page sizes of review listings.
const (
	DefaultReviewPage = 20
	MaxReviewPage     = 100
)

// Review is a buyer's rating of a completed order, with the seller's answer once given.
// Buyer names the reviewer as the public sees them.
type Review struct {
	ID          string     `json:"id" db:"id"`
	OrderID     string     `json:"order_id" db:"order_id"`
	GigID       string     `json:"gig_id" db:"gig_id"`
	SellerID    string     `json:"seller_id" db:"seller_id"`
	Buyer       GigSeller  `json:"buyer" db:"buyer"`
	Rating      int        `json:"rating" db:"rating"`
	Comment     string     `json:"comment" db:"comment"`
	Response    *string    `json:"response" db:"response"`
	RespondedAt *time.Time `json:"responded_at" db:"responded_at"`
	CreatedAt   time.Time  `json:"created_at" db:"created_at"`
}

// NewReview is a review a buyer writes for an order, already checked (CheckNewReview).
type NewReview struct {
	OrderID, BuyerID string
	Rating           int
	Comment          string
}

// ReviewCursor marks where a page of reviews ended (newest first).
type ReviewCursor struct {
	CreatedAt time.Time
	ID        string
}

// ReviewStore keeps reviews; store/ implements it. Missing rows wrap ErrNotFound.
type ReviewStore interface {
	// CreateReview stores in for its order under the order's row lock, with the
	// order.reviewed event, once check accepts the locked order (in.BuyerID must be a
	// party, else not found). A second review of the order is a conflict Error.
	CreateReview(ctx context.Context, in NewReview, check func(Order) error) (Review, Event, error)
	// RespondToReview stores the seller's answer to the review of orderID, with the
	// order.review_answered event, once check accepts the locked order and review.
	RespondToReview(ctx context.Context, orderID, sellerID, response string, check func(Order, Review) error) (Review, Event, error)
	// ReviewOfOrder returns the review of an order userID is a party to.
	ReviewOfOrder(ctx context.Context, orderID, userID string) (Review, error)
	// GigReviews returns a page of a gig's reviews, newest first, from after (nil: the
	// start), at most limit, and the star counts of all its reviews.
	GigReviews(ctx context.Context, gigID string, after *ReviewCursor, limit int) ([]Review, [5]int, error)
	// SellerInsights returns the star counts of the reviews sellerID received: in all,
	// per category, per month since since; and how many have no response.
	SellerInsights(ctx context.Context, sellerID string, since time.Time) (ReviewCounts, error)
}

// CheckNewReview checks a review's rating (1 to 5) and makes its comment plain text.
// It returns an invalid Error naming rating or comment.
func CheckNewReview(in NewReview) (NewReview, error) {
	if in.Rating < 1 || in.Rating > 5 {
		return in, FieldError(CodeInvalid, "rating", "must be a whole number from 1 to 5")
	}
	comment, err := plainText("comment", in.Comment, MaxReviewText)
	in.Comment = comment
	return in, err
}

// Create stores the buyer's review of a completed order and announces it on the
// order's channel. It returns an invalid Error for a bad rating or comment, not found
// for an order the caller is no party to, a forbidden Error for its seller, a conflict
// Error while the order is not completed or once it has a review.
func (r *Reviews) Create(ctx context.Context, in NewReview) (Review, error) {
	in, err := CheckNewReview(in)
	if err != nil {
		return Review{}, err
	}
	rev, ev, err := r.store.CreateReview(ctx, in, func(o Order) error {
		switch {
		case o.BuyerID != in.BuyerID:
			return Errorf(CodeForbidden, "only the buyer reviews an order")
		case o.Status != OrderCompleted:
			return FieldError(CodeConflict, "order", "can be reviewed once it is completed; it is "+string(o.Status))
		}
		return nil
	})
	if err != nil {
		return Review{}, err
	}
	r.realtime.PublishCommitted(ctx, ev)
	return rev, nil
}

// Respond stores the seller's one answer to the review of an order. It returns an
// invalid Error for an empty or too long response, not found for an order the caller
// is no party to or that has no review, a forbidden Error for its buyer, and a conflict
// Error once the review was answered.
func (r *Reviews) Respond(ctx context.Context, orderID, sellerID, response string) (Review, error) {
	text, err := plainText("response", response, MaxReviewText)
	if err != nil {
		return Review{}, err
	}
	if text == "" {
		return Review{}, FieldError(CodeInvalid, "response", "must not be empty")
	}
	rev, ev, err := r.store.RespondToReview(ctx, orderID, sellerID, text, func(o Order, rv Review) error {
		switch {
		case o.SellerID != sellerID:
			return Errorf(CodeForbidden, "only the seller answers a review")
		case rv.Response != nil:
			return FieldError(CodeConflict, "response", "the review was answered already")
		}
		return nil
	})
	if err != nil {
		return Review{}, err
	}
	r.realtime.PublishCommitted(ctx, ev)
	return rev, nil
}

// OfOrder returns the review of an order the caller is a party to; not found when it
// has none.
func (r *Reviews) OfOrder(ctx context.Context, orderID, userID string) (Review, error) {
	return r.store.ReviewOfOrder(ctx, orderID, userID)
}

// OfGig returns a page of the reviews of a gig viewerID may see (see Gigs.Show), newest
// first, the summary of all of them, and the cursor of the next page (nil on the last).
// It returns an invalid Error naming limit when it is out of range.
func (r *Reviews) OfGig(ctx context.Context, idOrSlug, viewerID string, after *ReviewCursor, limit int) ([]Review, RatingSummary, *ReviewCursor, error) {
	if limit < 1 || limit > MaxReviewPage {
		return nil, RatingSummary{}, nil, FieldError(CodeInvalid, "limit", "must be between 1 and 100")
	}
	gig, err := r.gigs.Visible(ctx, idOrSlug, viewerID)
	if err != nil {
		return nil, RatingSummary{}, nil, err
	}
	list, counts, err := r.store.GigReviews(ctx, gig.ID, after, limit+1)
	if err != nil {
		return nil, RatingSummary{}, nil, err
	}
	var next *ReviewCursor
	if len(list) > limit {
		list = list[:limit]
		last := list[limit-1]
		next = &ReviewCursor{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	return list, Summarize(counts), next, nil
}
