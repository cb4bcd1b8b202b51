package store

import (
	"context"
	"fmt"
	"time"

	"github.com/gigstream/hub/market"
)

// SellerEarnings returns the seller's share of the orders settled since since, per UTC
// month and currency, newest month first.
func (db *DB) SellerEarnings(ctx context.Context, sellerID string, since time.Time) ([]market.MonthEarnings, error) {
	list := []market.MonthEarnings{}
	err := db.x.SelectContext(ctx, &list, `
		SELECT to_char(settled_at AT TIME ZONE 'UTC', 'YYYY-MM') AS month, currency,
			sum(seller_minor)::int8 AS net_minor, count(*) AS orders
		FROM orders
		WHERE seller_id = $1 AND settled_at >= $2 AND seller_minor > 0
		GROUP BY 1, 2 ORDER BY 1 DESC, 2`, sellerID, since)
	if err != nil {
		return nil, fmt.Errorf("seller earnings: %w", err)
	}
	return list, nil
}

// SellerOrdersByStatus counts the seller's orders by status.
func (db *DB) SellerOrdersByStatus(ctx context.Context, sellerID string) (map[string]int, error) {
	var rows []struct {
		Status string `db:"status"`
		N      int    `db:"n"`
	}
	if err := db.x.SelectContext(ctx, &rows, `SELECT status, count(*) AS n FROM orders WHERE seller_id = $1 GROUP BY status`, sellerID); err != nil {
		return nil, fmt.Errorf("seller orders by status: %w", err)
	}
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, nil
}

// SellerConversion returns the views (from gig_views, by UTC day) and the paid orders
// placed since since of all the seller's gigs, and the limit most viewed gigs with theirs.
func (db *DB) SellerConversion(ctx context.Context, sellerID string, since time.Time, limit int) (int64, int, []market.GigConversion, error) {
	var total struct {
		Views  int64 `db:"views"`
		Orders int   `db:"orders"`
	}
	day := since.UTC().Format(time.DateOnly)
	err := db.x.GetContext(ctx, &total, `
		SELECT (SELECT COALESCE(sum(v.views), 0)::int8 FROM gig_views v JOIN gigs g ON g.id = v.gig_id
				WHERE g.seller_id = $1 AND v.day >= $2::date) AS views,
			(SELECT count(*) FROM orders WHERE seller_id = $1 AND paid_at IS NOT NULL AND created_at >= $3) AS orders`,
		sellerID, day, since)
	if err != nil {
		return 0, 0, nil, fmt.Errorf("seller conversion: %w", err)
	}
	gigs := []market.GigConversion{}
	err = db.x.SelectContext(ctx, &gigs, `
		SELECT g.id AS gig_id, g.title,
			COALESCE((SELECT sum(v.views) FROM gig_views v WHERE v.gig_id = g.id AND v.day >= $2::date), 0)::int8 AS views,
			(SELECT count(*) FROM orders o WHERE o.gig_id = g.id AND o.paid_at IS NOT NULL AND o.created_at >= $3) AS orders
		FROM gigs g WHERE g.seller_id = $1
		ORDER BY views DESC, orders DESC, g.id LIMIT $4`, sellerID, day, since, limit)
	if err != nil {
		return 0, 0, nil, fmt.Errorf("seller conversion by gig: %w", err)
	}
	return total.Views, total.Orders, gigs, nil
}
