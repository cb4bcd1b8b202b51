package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/lib/pq"

	"github.com/gigstream/hub/market"
)

// Block records that blocker does not want messages from blocked; blocking twice is a
// no-op. An unknown user is not found.
func (db *DB) Block(ctx context.Context, blockerID, blockedID string) error {
	if !isUUID(blockedID) {
		return fmt.Errorf("user: %w", ErrNotFound)
	}
	_, err := db.x.ExecContext(ctx, `INSERT INTO blocks (blocker_id, blocked_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, blockerID, blockedID)
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "23503" {
		return fmt.Errorf("user: %w", ErrNotFound)
	}
	if errors.As(err, &pqErr) && pqErr.Code == "23514" {
		return market.FieldError(market.CodeInvalid, "user_id", "you cannot block yourself")
	}
	if err != nil {
		return fmt.Errorf("block: %w", err)
	}
	return nil
}

// Unblock lifts a block; lifting one that does not exist is a no-op.
func (db *DB) Unblock(ctx context.Context, blockerID, blockedID string) error {
	if !isUUID(blockedID) {
		return fmt.Errorf("user: %w", ErrNotFound)
	}
	if _, err := db.x.ExecContext(ctx, `DELETE FROM blocks WHERE blocker_id = $1 AND blocked_id = $2`, blockerID, blockedID); err != nil {
		return fmt.Errorf("unblock: %w", err)
	}
	return nil
}
