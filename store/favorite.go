package store

import (
	"context"
	"fmt"

	"github.com/gigstream/hub/market"
)

// AddFavorite keeps gigID for userID (market.FavoriteStore); a second add keeps the
// first one's time. It writes only the user's own row: the gig's count is read from
// favorites_gig_idx, so a popular gig has no hot row.
func (db *DB) AddFavorite(ctx context.Context, userID, gigID string) error {
	_, err := db.x.ExecContext(ctx, `INSERT INTO favorites (user_id, gig_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, userID, gigID)
	if err != nil {
		return fmt.Errorf("add favorite: %w", err)
	}
	return nil
}

// RemoveFavorite forgets gigID for userID; a gig not kept is no error.
func (db *DB) RemoveFavorite(ctx context.Context, userID, gigID string) error {
	if _, err := db.x.ExecContext(ctx, `DELETE FROM favorites WHERE user_id = $1 AND gig_id = $2`, userID, gigID); err != nil {
		return fmt.Errorf("remove favorite: %w", err)
	}
	return nil
}

// FavoriteGigs lists up to limit of userID's favorites among the published gigs of
// active sellers, newest first, after the key (favorited at, gig id), with packages
// (market.FavoriteStore). It reads favorites_page_idx in order.
func (db *DB) FavoriteGigs(ctx context.Context, userID string, after *market.PageKey, limit int) ([]market.FavoriteGig, error) {
	where, args := ``, []any{userID, limit}
	if after != nil {
		where, args = ` AND (f.created_at, f.gig_id) < ($3, $4)`, append(args, after.At, after.ID)
	}
	list := []market.FavoriteGig{}
	err := db.x.SelectContext(ctx, &list, gigColumns+`, f.created_at AS favorited_at
		FROM favorites f
		JOIN gigs g ON g.id = f.gig_id
		JOIN categories c ON c.id = g.category_id
		JOIN users u ON u.id = g.seller_id
		WHERE f.user_id = $1 AND g.status = 'published' AND u.deleted_at IS NULL AND u.disabled_at IS NULL`+where+`
		ORDER BY f.created_at DESC, f.gig_id DESC LIMIT $2`, args...)
	if err != nil {
		return nil, fmt.Errorf("favorites: %w", err)
	}
	gigs := make([]market.Gig, len(list))
	for i := range list {
		gigs[i] = list[i].Gig
	}
	if err := attachPackages(ctx, db.x, gigs); err != nil {
		return nil, err
	}
	for i := range list {
		list[i].Gig = gigs[i]
	}
	return list, nil
}

// FavoriteCount counts the users who keep gigID, from favorites_gig_idx (market.GigStore).
func (db *DB) FavoriteCount(ctx context.Context, gigID string) (int, error) {
	var n int
	if err := db.x.GetContext(ctx, &n, `SELECT count(*) FROM favorites WHERE gig_id = $1`, gigID); err != nil {
		return 0, fmt.Errorf("favorite count: %w", err)
	}
	return n, nil
}
