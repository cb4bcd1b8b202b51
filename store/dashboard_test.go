package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gigstream/hub/market"
)

// TestSellerDashboardAddsUpViewsEarningsAndOrders: views counted in memory reach the
// database in batches (the seller's own and an unknown gig's are not counted), and the
// dashboard adds them up with the settled earnings and the orders.
func TestSellerDashboardAddsUpViewsEarningsAndOrders(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	views := market.NewGigViews(f.db, time.Hour, nil)
	gig := market.Gig{ID: f.gig, Status: market.GigPublished, Seller: market.GigSeller{ID: f.seller}}
	for range 3 {
		views.Count(gig, "")
	}
	views.Count(gig, f.seller)
	views.Count(market.Gig{ID: f.gig, Status: market.GigPaused}, "")
	views.Count(market.Gig{ID: newUUID(t), Status: market.GigPublished}, "")
	must(t, views.Flush(ctx))
	views.Count(gig, f.buyer)
	views.Count(gig, f.buyer)
	must(t, views.Flush(ctx))
	must(t, views.Flush(ctx)) // nothing pending: no write, no error

	o := f.paidOrder(t)
	_, err := f.raw.Exec(`UPDATE orders SET status = 'completed', fee_minor = 100, seller_minor = price_minor - 100,
		settled_at = now() WHERE id = $1`, o.ID)
	must(t, err)
	f.paidOrder(t)

	d, err := market.NewDashboard(f.db).Seller(ctx, market.User{ID: f.seller, IsSeller: true}, time.Now())
	must(t, err)
	month := time.Now().UTC().Format("2006-01")
	if len(d.Earnings) != 1 || d.Earnings[0] != (market.MonthEarnings{Month: month, Currency: f.currency, NetMinor: f.price - 100, Orders: 1}) {
		t.Fatalf("earnings %+v", d.Earnings)
	}
	if len(d.OrdersByStatus) != 2 || d.OrdersByStatus["completed"] != 1 || d.OrdersByStatus["paid"] != 1 {
		t.Fatalf("orders by status %v", d.OrdersByStatus)
	}
	c := d.Conversion
	if c.Views != 5 || c.Orders != 2 || c.Rate == nil || *c.Rate != 0.4 || len(c.Gigs) != 1 || c.Gigs[0].Views != 5 || c.Gigs[0].Orders != 2 {
		t.Fatalf("conversion %+v", c)
	}
	_, err = market.NewDashboard(f.db).Seller(ctx, market.User{ID: f.buyer, IsBuyer: true}, time.Now())
	if !errors.Is(err, &market.Error{Code: market.CodeForbidden}) {
		t.Fatalf("a buyer's dashboard: %v, want forbidden", err)
	}
}

// TestSellerStatsJudgeDeliveriesAndAnswers: the on-time rate judges each paid order by
// its first delivery (an overdue one without delivery is late), the rating is the
// mean across gigs, and a buyer's unanswered conversation lowers the response rate.
func TestSellerStatsJudgeDeliveriesAndAnswers(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	empty, err := f.db.SellerStats(ctx, f.seller)
	must(t, err)
	if empty.RatingMean != nil || empty.OnTimeRate != nil || empty.ResponseSeconds != nil || empty.CompletedOrders != 0 {
		t.Fatalf("stats of a seller with no record %+v, want nulls", empty)
	}
	onTime, late, overdue := f.paidOrder(t), f.paidOrder(t), f.paidOrder(t)
	for _, q := range []struct {
		sql string
		id  string
	}{
		{`INSERT INTO deliveries (order_id, version, created_at) VALUES ($1, 1, now()), ($1, 2, now() + interval '30 days')`, onTime.ID},
		{`INSERT INTO deliveries (order_id, version, created_at) VALUES ($1, 1, now() + interval '30 days')`, late.ID},
		{`UPDATE orders SET due_at = now() - interval '1 hour' WHERE id = $1`, overdue.ID},
		{`UPDATE orders SET status = 'completed' WHERE id = $1`, onTime.ID},
	} {
		_, err := f.raw.Exec(q.sql, q.id)
		must(t, err)
	}
	_, _, err = f.db.CreateReview(ctx, market.NewReview{OrderID: onTime.ID, BuyerID: f.buyer, Rating: 3}, allow)
	must(t, err)
	s, err := f.db.SellerStats(ctx, f.seller)
	must(t, err)
	if s.CompletedOrders != 1 || s.RatingCount != 1 || s.RatingMean == nil || *s.RatingMean != 3 {
		t.Fatalf("orders and rating %+v", s)
	}
	if s.OnTimeRate == nil || *s.OnTimeRate != 0.333 {
		t.Fatalf("on-time rate %v, want 0.333 (one of three judged orders)", s.OnTimeRate)
	}
}
