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

// exportSection is one streamed list of a user's export: a keyset-paged query taking
// the user id ($1), the key to start after ($2, text) and a page size ($3), returning
// rows of (key, data json); start is the key below every real one.
type exportSection struct {
	start string
	query string
}

// ExportPage returns up to limit rows of one export section of userID, after the key
// after ("" for the first page). It returns an invalid Error for an unknown section
// and the driver's error, wrapped, when the query fails.
func (db *DB) ExportPage(ctx context.Context, section market.ExportSection, userID, after string, limit int) ([]market.ExportRow, error) {
	s, ok := exportSections[section]
	if !ok {
		return nil, market.Errorf(market.CodeInvalid, "no export section %q", section)
	}
	if after == "" {
		after = s.start
	}
	rows := []market.ExportRow{}
	if err := db.x.SelectContext(ctx, &rows, s.query, userID, after, limit); err != nil {
		return nil, fmt.Errorf("export %s: %w", section, err)
	}
	return rows, nil
}
