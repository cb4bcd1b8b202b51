package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gigstream/hub/market"
)

// CreateToken stores a one-time token (its hash only).
func (db *DB) CreateToken(ctx context.Context, t market.OneTimeToken) error {
	_, err := db.x.ExecContext(ctx, `
		INSERT INTO one_time_tokens (token_hash, user_id, purpose, new_email, expires_at)
		VALUES ($1, $2, $3, $4, $5)`, t.Hash, t.UserID, t.Purpose, t.NewEmail, t.ExpiresAt)
	if err != nil {
		return fmt.Errorf("create token: %w", err)
	}
	return nil
}

// PeekToken returns a usable token without using it up, or an error wrapping
// ErrNotFound when it is unknown, used or expired.
func (db *DB) PeekToken(ctx context.Context, hash []byte, purpose string, now time.Time) (market.OneTimeToken, error) {
	return db.getToken(ctx, `
		SELECT token_hash, user_id, purpose, new_email, expires_at FROM one_time_tokens
		WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3`, hash, purpose, now)
}

// ConsumeToken marks a usable token as used and returns it, atomically: of two
// concurrent uses, exactly one succeeds. Otherwise it returns an error wrapping ErrNotFound.
func (db *DB) ConsumeToken(ctx context.Context, hash []byte, purpose string, now time.Time) (market.OneTimeToken, error) {
	return db.getToken(ctx, `
		UPDATE one_time_tokens SET used_at = $3
		WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3
		RETURNING token_hash, user_id, purpose, new_email, expires_at`, hash, purpose, now)
}

func (db *DB) getToken(ctx context.Context, query string, args ...any) (market.OneTimeToken, error) {
	var t market.OneTimeToken
	err := db.x.GetContext(ctx, &t, query, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("token: %w", ErrNotFound)
	}
	if err != nil {
		return t, fmt.Errorf("token: %w", err)
	}
	return t, nil
}
