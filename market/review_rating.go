package market

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"
)

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

// UnmarshalJSON reads a rating as MarshalJSON wrote it (the read cache keeps gigs as
// the API shows them): Total becomes a sum whose mean is the average shown, which
// MarshalJSON then writes again unchanged. It returns JSON errors.
func (g *GigRating) UnmarshalJSON(b []byte) error {
	var shown struct {
		Count   int     `json:"count"`
		Average float64 `json:"average"`
	}
	if err := json.Unmarshal(b, &shown); err != nil {
		return fmt.Errorf("gig rating: %w", err)
	}
	g.Count, g.Total = shown.Count, int(math.Round(shown.Average*float64(shown.Count)))
	for _, step := range []int{-1, 1} {
		if mean(g.Total, g.Count) != shown.Average && mean(g.Total+step, g.Count) == shown.Average {
			g.Total += step
		}
	}
	return nil
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

// insightMonths is how far back a seller's monthly review trend goes.
const insightMonths = 12

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
