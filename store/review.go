package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/gigstream/hub/market"
)

// reviewSelect reads reviews with their buyer as the public sees them.
var reviewSelect = `
	SELECT r.id, r.order_id, r.gig_id, r.seller_id, r.rating, r.comment, r.response, r.responded_at, r.created_at,
		` + aliased("u.", "buyer.", "id, username, display_name") + `
	FROM reviews r
	JOIN users u ON u.id = r.buyer_id`

// reviewEvent is the data of an order.reviewed or order.review_answered event.
type reviewEvent struct {
	OrderID string        `json:"order_id"`
	Review  market.Review `json:"review"`
}

// CreateReview stores a buyer's review of an order under the order's row lock, with its
// order.reviewed event, once check accepts the locked order. An order in.BuyerID is no
// party to wraps ErrNotFound; a second review is a conflict Error.
func (db *DB) CreateReview(ctx context.Context, in market.NewReview, check func(market.Order) error) (market.Review, market.Event, error) {
	var rev market.Review
	var ev market.Event
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		ord, err := lockOrder(ctx, tx, in.OrderID, in.BuyerID)
		if err != nil {
			return err
		}
		if err := check(ord); err != nil {
			return err
		}
		var id string
		err = tx.GetContext(ctx, &id, `
			INSERT INTO reviews (order_id, gig_id, seller_id, buyer_id, rating, comment)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			ord.ID, ord.GigID, ord.SellerID, ord.BuyerID, in.Rating, in.Comment)
		var pqErr *pq.Error
		if errors.As(err, &pqErr) && pqErr.Code == "23505" {
			return market.FieldError(market.CodeConflict, "order", "the order has a review already")
		}
		if err != nil {
			return fmt.Errorf("insert review: %w", err)
		}
		if rev, err = reviewWhere(ctx, tx, "r.id = $1", id); err != nil {
			return err
		}
		ev, err = appendEvent(ctx, tx, market.OrderChannel(ord.ID), "order.reviewed", reviewEvent{OrderID: ord.ID, Review: rev})
		return err
	})
	return rev, ev, err
}

// RespondToReview stores the seller's answer to the review of orderID under the order's
// row lock, with its order.review_answered event, once check accepts the locked order
// and review. An order sellerID is no party to, or one without a review, wraps
// ErrNotFound.
func (db *DB) RespondToReview(ctx context.Context, orderID, sellerID, response string, check func(market.Order, market.Review) error) (market.Review, market.Event, error) {
	var rev market.Review
	var ev market.Event
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		ord, err := lockOrder(ctx, tx, orderID, sellerID)
		if err != nil {
			return err
		}
		if rev, err = reviewWhere(ctx, tx, "r.order_id = $1", ord.ID); err != nil {
			return err
		}
		if err := check(ord, rev); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE reviews SET response = $2, responded_at = now() WHERE id = $1`,
			rev.ID, response); err != nil {
			return fmt.Errorf("answer review: %w", err)
		}
		if rev, err = reviewWhere(ctx, tx, "r.id = $1", rev.ID); err != nil {
			return err
		}
		ev, err = appendEvent(ctx, tx, market.OrderChannel(ord.ID), "order.review_answered", reviewEvent{OrderID: ord.ID, Review: rev})
		return err
	})
	return rev, ev, err
}

// ReviewOfOrder returns the review of an order userID buys or sells; an order of
// others, or one without a review, wraps ErrNotFound.
func (db *DB) ReviewOfOrder(ctx context.Context, orderID, userID string) (market.Review, error) {
	if !isUUID(orderID) {
		return market.Review{}, fmt.Errorf("review of order %q: %w", orderID, ErrNotFound)
	}
	return reviewWhere(ctx, db.x, "r.order_id = $1 AND (r.buyer_id::text = $2 OR r.seller_id::text = $2)", orderID, userID)
}

func reviewWhere(ctx context.Context, q querier, where string, args ...any) (market.Review, error) {
	var rev market.Review
	err := q.GetContext(ctx, &rev, reviewSelect+" WHERE "+where, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return rev, fmt.Errorf("review: %w", ErrNotFound)
	}
	if err != nil {
		return rev, fmt.Errorf("review: %w", err)
	}
	return rev, nil
}

// GigReviews returns a page of a gig's reviews, newest first, starting after the
// cursor, and the star counts of all its reviews.
func (db *DB) GigReviews(ctx context.Context, gigID string, after *market.ReviewCursor, limit int) ([]market.Review, [5]int, error) {
	var counts [5]int
	list := []market.Review{}
	query, args := reviewSelect+` WHERE r.gig_id = $1`, []any{gigID}
	if after != nil {
		query += ` AND (r.created_at, r.id) < ($2, $3)`
		args = append(args, after.CreatedAt, after.ID)
	}
	args = append(args, limit)
	query += fmt.Sprintf(` ORDER BY r.created_at DESC, r.id DESC LIMIT $%d`, len(args))
	if err := db.x.SelectContext(ctx, &list, query, args...); err != nil {
		return nil, counts, fmt.Errorf("gig reviews: %w", err)
	}
	err := starCounts(ctx, db.x, &counts, `SELECT rating, count(*) FROM reviews WHERE gig_id = $1 GROUP BY rating`, gigID)
	return list, counts, err
}

// SellerInsights adds up the reviews sellerID received: in all, per category of the
// reviewed gig, per month (UTC) since since, and those without a response.
func (db *DB) SellerInsights(ctx context.Context, sellerID string, since time.Time) (market.ReviewCounts, error) {
	out := market.ReviewCounts{ByMonth: map[string][5]int{}}
	if err := starCounts(ctx, db.x, &out.Overall,
		`SELECT rating, count(*) FROM reviews WHERE seller_id = $1 GROUP BY rating`, sellerID); err != nil {
		return out, err
	}
	if err := db.x.GetContext(ctx, &out.Unanswered,
		`SELECT count(*) FROM reviews WHERE seller_id = $1 AND response IS NULL`, sellerID); err != nil {
		return out, fmt.Errorf("unanswered reviews: %w", err)
	}
	var cats []struct {
		market.Category
		Rating int `db:"rating"`
		N      int `db:"n"`
	}
	err := db.x.SelectContext(ctx, &cats, `
		SELECT c.id, c.slug, c.name, c.parent_id, r.rating, count(*) AS n
		FROM reviews r JOIN gigs g ON g.id = r.gig_id JOIN categories c ON c.id = g.category_id
		WHERE r.seller_id = $1 GROUP BY c.id, r.rating ORDER BY c.name, c.id`, sellerID)
	if err != nil {
		return out, fmt.Errorf("reviews by category: %w", err)
	}
	for _, c := range cats {
		if n := len(out.ByCategory); n == 0 || out.ByCategory[n-1].Category.ID != c.ID {
			out.ByCategory = append(out.ByCategory, market.CategoryCounts{Category: c.Category})
		}
		out.ByCategory[len(out.ByCategory)-1].Counts[c.Rating-1] += c.N
	}
	var months []struct {
		Month  string `db:"month"`
		Rating int    `db:"rating"`
		N      int    `db:"n"`
	}
	err = db.x.SelectContext(ctx, &months, `
		SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM') AS month, rating, count(*) AS n
		FROM reviews WHERE seller_id = $1 AND created_at >= $2 GROUP BY 1, 2`, sellerID, since)
	if err != nil {
		return out, fmt.Errorf("reviews by month: %w", err)
	}
	for _, m := range months {
		c := out.ByMonth[m.Month]
		c[m.Rating-1] += m.N
		out.ByMonth[m.Month] = c
	}
	return out, nil
}

// starCounts fills counts from a query of (rating, count) rows.
func starCounts(ctx context.Context, q querier, counts *[5]int, query string, args ...any) error {
	var rows []struct {
		Rating int `db:"rating"`
		N      int `db:"count"`
	}
	if err := q.SelectContext(ctx, &rows, query, args...); err != nil {
		return fmt.Errorf("star counts: %w", err)
	}
	for _, r := range rows {
		counts[r.Rating-1] += r.N
	}
	return nil
}

var _ market.ReviewStore = (*DB)(nil)
