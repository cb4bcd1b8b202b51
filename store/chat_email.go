package store

import (
	"context"
	"fmt"

	"github.com/gigstream/hub/market"
)

// ChatDigest implements market.ChatStore: the member's address and state, the other
// members' names, and up to limit messages from others that are neither read (on any
// device: the read pointer is the member's) nor e-mailed yet, oldest first, with how
// many more there are. A conversation userID is not a member of is not found.
func (db *DB) ChatDigest(ctx context.Context, userID, conversationID string, limit int) (market.ChatDigest, error) {
	d := market.ChatDigest{ConversationID: conversationID}
	if !isUUID(userID) || !isUUID(conversationID) {
		return d, fmt.Errorf("conversation: %w", ErrNotFound)
	}
	var head struct {
		Email         string `db:"email"`
		DisplayName   string `db:"display_name"`
		EmailVerified bool   `db:"email_verified"`
		Gone          bool   `db:"gone"`
		After         uint64 `db:"after"`
	}
	err := db.x.GetContext(ctx, &head, `SELECT u.email, u.display_name, u.email_verified_at IS NOT NULL AS email_verified,
			u.deleted_at IS NOT NULL OR u.disabled_at IS NOT NULL AS gone,
			GREATEST(m.last_read_seq, m.last_emailed_seq) AS after
		FROM conversation_members m JOIN users u ON u.id = m.user_id
		WHERE m.conversation_id = $1 AND m.user_id = $2`, conversationID, userID)
	if err != nil {
		return d, fmt.Errorf("chat digest of %s: %w", conversationID, noRowIsNotFound(err))
	}
	d.Email, d.DisplayName, d.EmailVerified, d.Gone = head.Email, head.DisplayName, head.EmailVerified, head.Gone
	var others []struct {
		ID   string `db:"id"`
		Name string `db:"display_name"`
	}
	err = db.x.SelectContext(ctx, &others, `SELECT u.id::text AS id, u.display_name FROM conversation_members m JOIN users u ON u.id = m.user_id
		WHERE m.conversation_id = $1 AND m.user_id <> $2 ORDER BY u.display_name`, conversationID, userID)
	if err != nil {
		return d, fmt.Errorf("chat digest members: %w", err)
	}
	d.Names = map[string]string{}
	for _, o := range others {
		d.From = append(d.From, o.Name)
		d.Names[o.ID] = o.Name
	}
	d.Messages = []market.Message{}
	err = db.x.SelectContext(ctx, &d.Messages, `SELECT `+messageColumns+` FROM messages
		WHERE conversation_id = $1 AND seq > $2 AND sender_id <> $3 AND deleted_at IS NULL
		ORDER BY seq LIMIT $4`, conversationID, head.After, userID, limit+1)
	if err != nil {
		return d, fmt.Errorf("chat digest messages: %w", err)
	}
	if len(d.Messages) > limit {
		d.Messages = d.Messages[:limit]
		err = db.x.GetContext(ctx, &d.More, `SELECT count(*) FROM messages
			WHERE conversation_id = $1 AND seq > $2 AND sender_id <> $3 AND deleted_at IS NULL`,
			conversationID, d.Messages[limit-1].Seq, userID)
		if err != nil {
			return d, fmt.Errorf("chat digest count: %w", err)
		}
	}
	if n := len(d.Messages); n > 0 {
		d.LastSeq = d.Messages[n-1].Seq
	}
	return d, nil
}

// MarkDigested implements market.ChatStore.
func (db *DB) MarkDigested(ctx context.Context, userID, conversationID string, seq uint64) error {
	_, err := db.x.ExecContext(ctx, `UPDATE conversation_members SET last_emailed_seq = GREATEST(last_emailed_seq, $3)
		WHERE conversation_id = $1 AND user_id = $2`, conversationID, userID, seq)
	return wrapErr("mark chat digest", err)
}

// HidePreviews implements market.ChatStore: whether the user's pushes hide message text.
func (db *DB) HidePreviews(ctx context.Context, userID string) (bool, error) {
	var hide bool
	err := db.x.GetContext(ctx, &hide, `SELECT hide_push_previews FROM users WHERE id = $1`, userID)
	if err != nil {
		return false, fmt.Errorf("hide previews of %s: %w", userID, noRowIsNotFound(err))
	}
	return hide, nil
}
