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

// BlockedIn reports whether userID and another member of the conversation blocked
// each other, either way.
func (db *DB) BlockedIn(ctx context.Context, conversationID, userID string) (bool, error) {
	var blocked bool
	err := db.x.GetContext(ctx, &blocked, `
		SELECT EXISTS (SELECT 1 FROM conversation_members m JOIN blocks b
			ON (b.blocker_id = $2 AND b.blocked_id = m.user_id) OR (b.blocker_id = m.user_id AND b.blocked_id = $2)
			WHERE m.conversation_id = $1 AND m.user_id <> $2)`, conversationID, userID)
	if err != nil {
		return false, fmt.Errorf("blocks in conversation: %w", err)
	}
	return blocked, nil
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
