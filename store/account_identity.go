package store

import (
	"context"
	"fmt"

	"github.com/gigstream/hub/market"
)

// IdentityUser returns the user linked to an external identity, or an error wrapping
// ErrNotFound.
func (db *DB) IdentityUser(ctx context.Context, provider, subject string) (market.User, error) {
	return db.getUser(ctx, `
		SELECT `+prefixed("u.", userColumns)+` FROM users u
		JOIN user_identities i ON i.user_id = u.id
		WHERE i.provider = $1 AND i.subject = $2`, provider, subject)
}

// LinkIdentity links an external identity to userID; linking it again is a no-op.
func (db *DB) LinkIdentity(ctx context.Context, userID string, id market.Identity) error {
	_, err := db.x.ExecContext(ctx, `
		INSERT INTO user_identities (provider, subject, user_id, email) VALUES ($1, $2, $3, $4)
		ON CONFLICT (provider, subject) DO NOTHING`, id.Provider, id.Subject, userID, id.Email)
	if err != nil {
		return fmt.Errorf("link identity: %w", err)
	}
	return nil
}
