package store

import (
	"context"
	"fmt"

	"github.com/gigstream/hub/market"
)

// ExportUser gathers the head of the user's GDPR export (see market.UserExport); the
// streamed sections come from ExportPage. An unknown user wraps ErrNotFound.
func (db *DB) ExportUser(ctx context.Context, userID string) (market.UserExport, error) {
	var e market.UserExport
	var err error
	if e.User, err = db.UserByID(ctx, userID); err != nil {
		return e, err
	}
	e.Identities = []market.Identity{}
	if err := db.x.SelectContext(ctx, &e.Identities, `SELECT provider, subject, email FROM user_identities WHERE user_id = $1`, userID); err != nil {
		return e, fmt.Errorf("export identities: %w", err)
	}
	e.Gigs = []market.ExportedGig{}
	if err := db.x.SelectContext(ctx, &e.Gigs, `SELECT id, slug, title, description, status, created_at FROM gigs WHERE seller_id = $1 ORDER BY created_at`, userID); err != nil {
		return e, fmt.Errorf("export gigs: %w", err)
	}
	e.NotificationPreferences, err = db.NotificationPrefs(ctx, userID)
	return e, err
}
