package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/gigstream/hub/market"
)

// SellerGigs returns sellerID's own gigs in every status (or only f.Status), newest
// created first after f.After, at most f.Limit, each with its packages.
func (db *DB) SellerGigs(ctx context.Context, sellerID string, f market.SellerGigFilter) ([]market.Gig, error) {
	w := &whereBuilder{}
	w.add(`g.seller_id = $?`, sellerID)
	if f.Status != "" {
		w.add(`g.status = $?`, string(f.Status))
	}
	if f.After != nil {
		w.args = append(w.args, f.After.CreatedAt, f.After.ID)
		w.where = append(w.where, fmt.Sprintf(`(g.created_at, g.id) < ($%d, $%d::uuid)`, len(w.args)-1, len(w.args)))
	}
	w.args = append(w.args, f.Limit)
	query := gigSelect + ` WHERE ` + strings.Join(w.where, " AND ") +
		fmt.Sprintf(` ORDER BY g.created_at DESC, g.id DESC LIMIT $%d`, len(w.args))
	list := []market.Gig{}
	if err := db.x.SelectContext(ctx, &list, query, w.args...); err != nil {
		return nil, fmt.Errorf("gigs of seller %s: %w", sellerID, err)
	}
	return list, attachPackages(ctx, db.x, list)
}
