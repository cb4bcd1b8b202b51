package store_test

import (
	"context"
	"testing"

	"github.com/gigstream/hub/market"
)

// TestOrdersPageThroughMoreThan200WithTheirCursor: 250 orders, many created in the
// same instant, walked in pages of 200 (the most GET /orders gives) by the key of the
// last one seen: every order once, newest first.
func TestOrdersPageThroughMoreThan200WithTheirCursor(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	_, err := f.raw.Exec(`INSERT INTO orders (buyer_id, seller_id, gig_id, gig_title, package_tier, package_title,
			price_minor, currency, revisions_allowed, delivery_days, created_at)
		SELECT $1, $2, $3, 'A gig', 'basic', 'Basic', 1000, 'USD', 1, 3, now() - (g % 40) * interval '1 second'
		FROM generate_series(1, 250) AS g`, f.buyer, f.seller, f.gig)
	must(t, err)
	seen := map[string]bool{}
	var after *market.PageKey
	var last *market.Order
	pages := 0
	for {
		list, err := f.db.Orders(ctx, f.buyer, "", after, 200)
		must(t, err)
		if len(list) == 0 {
			break
		}
		pages++
		for i := range list {
			o := list[i]
			if seen[o.ID] {
				t.Fatalf("order %s seen twice", o.ID)
			}
			seen[o.ID] = true
			if last != nil && (o.CreatedAt.After(last.CreatedAt) || o.CreatedAt.Equal(last.CreatedAt) && o.ID > last.ID) {
				t.Fatalf("order %s (%v) after %s (%v): not newest first", o.ID, o.CreatedAt, last.ID, last.CreatedAt)
			}
			last = &o
		}
		after = &market.PageKey{At: last.CreatedAt, ID: last.ID}
	}
	if len(seen) != 250 || pages != 2 {
		t.Fatalf("walked %d orders in %d pages, want 250 in 2", len(seen), pages)
	}
}
