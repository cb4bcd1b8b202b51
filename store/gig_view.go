package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/lib/pq"
)

// AddGigViews adds counts (by gig id) to the views of day in one statement. Ids go in
// sorted order, so nodes flushing at once lock the same rows in the same order; ids
// of gigs deleted since are skipped.
func (db *DB) AddGigViews(ctx context.Context, day time.Time, counts map[string]int64) error {
	ids := make([]string, 0, len(counts))
	for id := range counts {
		if isUUID(id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	views := make([]int64, len(ids))
	for i, id := range ids {
		views[i] = counts[id]
	}
	_, err := db.x.ExecContext(ctx, `
		INSERT INTO gig_views (gig_id, day, views)
		SELECT t.gig_id, $1::date, t.views
		FROM unnest($2::uuid[], $3::bigint[]) WITH ORDINALITY AS t(gig_id, views, n)
		WHERE EXISTS (SELECT 1 FROM gigs g WHERE g.id = t.gig_id)
		ORDER BY t.n
		ON CONFLICT (gig_id, day) DO UPDATE SET views = gig_views.views + EXCLUDED.views`,
		day.Format(time.DateOnly), pq.Array(ids), pq.Array(views))
	if err != nil {
		return fmt.Errorf("add gig views: %w", err)
	}
	return nil
}
