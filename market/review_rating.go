package market

import (
	"context"
	"encoding/json"
	"time"
)

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

// RatingSummary is what a set of reviews adds up to: how many, the mean rating
// (rounded to two decimals; 0 without reviews) and how many of each star, index 0
// for one star.
type RatingSummary struct {
	Count        int     `json:"count"`
	Average      float64 `json:"average"`
	Distribution [5]int  `json:"distribution"`
}

// GigRating is how a gig's reviews add up, as listings show it: how many, and the
// mean rating rounded half up to two decimals (0 without reviews).
type GigRating struct {
	Count int `json:"count" db:"count"`
	Total int `json:"-" db:"total"` // the sum of all ratings
}

// MarshalJSON adds the mean to the count.
func (g GigRating) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Count   int     `json:"count"`
		Average float64 `json:"average"`
	}{g.Count, mean(g.Total, g.Count)})
}

// mean is total/count rounded half up to two decimals, from integers; 0 for no count.
func mean(total, count int) float64 {
	if count == 0 {
		return 0
	}
	return float64((total*200+count)/(2*count)) / 100
}

// Summarize adds up ratings by star: counts[i] reviews of i+1 stars. The mean is
// computed from integer sums, rounded half up to two decimals.
func Summarize(counts [5]int) RatingSummary {
	s := RatingSummary{Distribution: counts}
	sum := 0
	for i, n := range counts {
		s.Count += n
		sum += (i + 1) * n
	}
	s.Average = mean(sum, s.Count)
	return s
}

// CategoryRating is a seller's rating summary within one category of their gigs.
type CategoryRating struct {
	Category Category      `json:"category"`
	Summary  RatingSummary `json:"summary"`
}

// MonthRating is how a seller's reviews went in one calendar month (UTC).
type MonthRating struct {
	Month   string        `json:"month"` // YYYY-MM
	Summary RatingSummary `json:"summary"`
}

// ReviewInsights is a seller's dashboard of the reviews they received: overall, per
// category, per month over the last year, and how many still wait for an answer.
type ReviewInsights struct {
	Overall     RatingSummary    `json:"overall"`
	ByCategory  []CategoryRating `json:"by_category"`
	ByMonth     []MonthRating    `json:"by_month"`
	Unanswered  int              `json:"unanswered"`
	SinceMonths int              `json:"since_months"`
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

// ReviewCounts is the raw material of ReviewInsights: star counts by category and by
// month (YYYY-MM).
type ReviewCounts struct {
	Overall    [5]int
	ByCategory []CategoryCounts
	ByMonth    map[string][5]int
	Unanswered int
}

// CategoryCounts is the star counts of one category.
type CategoryCounts struct {
	Category Category
	Counts   [5]int
}
