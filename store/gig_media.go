package store

import (
	"context"
	"fmt"

	"github.com/lib/pq"

	"github.com/gigstream/hub/market"
)

// GigMedia returns the clean images and videos of the given gigs, oldest first. Media
// still uploading or scanning, and rejected ones, are left out.
func (db *DB) GigMedia(ctx context.Context, gigIDs []string) ([]market.GigMedia, error) {
	list := []market.GigMedia{}
	err := db.x.SelectContext(ctx, &list, `
		SELECT id, gig_id, kind, content_type, size, filename, created_at,
			video_status, duration_ms, video_error, poster_key, rendition_key,
			image_status, `+pictureColumn("uploads")+` AS picture
		FROM uploads
		WHERE gig_id = ANY($1) AND status = 'clean' AND kind IN ('gig_image', 'gig_video')
		ORDER BY created_at, id`, pq.Array(gigIDs))
	if err != nil {
		return nil, fmt.Errorf("gig media: %w", err)
	}
	return list, nil
}
