package market

import (
	"context"
	"log/slog"
	"time"
)

// insightMonths is how far back a seller's monthly review trend goes.
const insightMonths = 12

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

// Insights returns the review dashboard of a seller: overall, per category and per
// month over the last year (months without reviews included, oldest first).
func (r *Reviews) Insights(ctx context.Context, sellerID string) (ReviewInsights, error) {
	now := r.now().UTC()
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -(insightMonths - 1), 0)
	counts, err := r.store.SellerInsights(ctx, sellerID, first)
	if err != nil {
		return ReviewInsights{}, err
	}
	out := ReviewInsights{Overall: Summarize(counts.Overall), Unanswered: counts.Unanswered, SinceMonths: insightMonths,
		ByCategory: make([]CategoryRating, 0, len(counts.ByCategory)), ByMonth: make([]MonthRating, 0, insightMonths)}
	for _, c := range counts.ByCategory {
		out.ByCategory = append(out.ByCategory, CategoryRating{Category: c.Category, Summary: Summarize(c.Counts)})
	}
	for m := first; !m.After(now); m = m.AddDate(0, 1, 0) {
		key := m.Format("2006-01")
		out.ByMonth = append(out.ByMonth, MonthRating{Month: key, Summary: Summarize(counts.ByMonth[key])})
	}
	return out, nil
}
