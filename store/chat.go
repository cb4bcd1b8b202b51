package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/gigstream/hub/market"
)

// OpenDirectConversation returns the direct conversation of two users, creating it
// (with gigID as its context) when they have none; created says which. It returns a
// not-found Error when the other user does not exist or is deleted.
func (db *DB) OpenDirectConversation(ctx context.Context, userID, otherID string, gigID *string) (market.Conversation, bool, error) {
	if !isUUID(otherID) || gigID != nil && !isUUID(*gigID) {
		return market.Conversation{}, false, fmt.Errorf("conversation partner: %w", ErrNotFound)
	}
	key := directKey(userID, otherID)
	var id string
	created := false
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var ok bool
		if err := tx.GetContext(ctx, &ok, `SELECT EXISTS (SELECT 1 FROM users WHERE id = $1 AND deleted_at IS NULL AND disabled_at IS NULL)`, otherID); err != nil {
			return fmt.Errorf("find partner: %w", err)
		}
		if !ok {
			return fmt.Errorf("conversation partner: %w", ErrNotFound)
		}
		err := tx.GetContext(ctx, &id, `
			INSERT INTO conversations (kind, direct_key, gig_id) VALUES ('direct', $1, $2)
			ON CONFLICT (direct_key) DO NOTHING RETURNING id`, key, gigID)
		if errors.Is(err, sql.ErrNoRows) {
			return tx.GetContext(ctx, &id, `SELECT id FROM conversations WHERE direct_key = $1`, key)
		}
		if err != nil {
			return gigProblem(err)
		}
		created = true
		_, err = tx.ExecContext(ctx, `INSERT INTO conversation_members (conversation_id, user_id) VALUES ($1, $2), ($1, $3)`, id, userID, otherID)
		return err
	})
	if err != nil {
		return market.Conversation{}, false, err
	}
	c, err := db.Conversation(ctx, id, userID)
	return c, created, err
}

// EnsureOrderConversation returns the thread of an order, creating it with its buyer
// and seller as members: the orders feature calls it when an order is placed.
func (db *DB) EnsureOrderConversation(ctx context.Context, orderID, buyerID, sellerID string) (string, error) {
	var id string
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &id, `
			INSERT INTO conversations (kind, order_id) VALUES ('order', $1)
			ON CONFLICT (order_id) DO NOTHING RETURNING id`, orderID)
		if errors.Is(err, sql.ErrNoRows) {
			return tx.GetContext(ctx, &id, `SELECT id FROM conversations WHERE order_id = $1`, orderID)
		}
		if err != nil {
			return fmt.Errorf("order conversation: %w", err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO conversation_members (conversation_id, user_id) VALUES ($1, $2), ($1, $3)`, id, buyerID, sellerID)
		return err
	})
	return id, err
}

func gigProblem(err error) error {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "23503" {
		return market.FieldError(market.CodeNotFound, "gig_id", "no such gig")
	}
	return fmt.Errorf("create conversation: %w", err)
}

func directKey(a, b string) string {
	if a > b {
		a, b = b, a
	}
	return a + ":" + b
}

// IsMember reports whether userID takes part in the conversation.
func (db *DB) IsMember(ctx context.Context, conversationID, userID string) (bool, error) {
	if !isUUID(conversationID) {
		return false, nil
	}
	var ok bool
	err := db.x.GetContext(ctx, &ok, `SELECT EXISTS (SELECT 1 FROM conversation_members WHERE conversation_id = $1 AND user_id = $2)`, conversationID, userID)
	if err != nil {
		return false, fmt.Errorf("membership: %w", err)
	}
	return ok, nil
}

const conversationSelect = `
	SELECT c.id, c.kind, c.gig_id, c.order_id, c.last_activity_at, m.last_read_seq,
		m.unread_count,
		COALESCE((SELECT max(o.last_read_seq) FROM conversation_members o
			WHERE o.conversation_id = c.id AND o.user_id <> m.user_id), 0) AS other_read_seq
	FROM conversation_members m JOIN conversations c ON c.id = m.conversation_id`

// Conversation returns one conversation as userID sees it; a conversation they are
// not a member of is not found.
func (db *DB) Conversation(ctx context.Context, conversationID, userID string) (market.Conversation, error) {
	if !isUUID(conversationID) {
		return market.Conversation{}, fmt.Errorf("conversation: %w", ErrNotFound)
	}
	list := []market.Conversation{}
	err := db.x.SelectContext(ctx, &list, conversationSelect+` WHERE m.user_id = $1 AND c.id = $2`, userID, conversationID)
	if err != nil {
		return market.Conversation{}, fmt.Errorf("conversation: %w", err)
	}
	if len(list) == 0 {
		return market.Conversation{}, fmt.Errorf("conversation: %w", ErrNotFound)
	}
	if err := db.decorate(ctx, list); err != nil {
		return market.Conversation{}, err
	}
	return list[0], nil
}

// Conversations lists up to limit of userID's conversations by last activity, most
// recent first, after the key (last_activity_at, id) of the last one seen (nil: from
// the top), with each one's last message and unread count, and the total unread over
// all of them.
func (db *DB) Conversations(ctx context.Context, userID string, after *market.PageKey, limit int) ([]market.Conversation, int, error) {
	var at *time.Time
	var id *string
	if after != nil {
		at, id = &after.At, &after.ID
	}
	list := []market.Conversation{}
	err := db.x.SelectContext(ctx, &list, conversationSelect+` WHERE m.user_id = $1
		AND ($3::timestamptz IS NULL OR (c.last_activity_at, c.id) < ($3::timestamptz, $4::uuid))
		ORDER BY c.last_activity_at DESC, c.id DESC LIMIT $2`, userID, limit, at, id)
	if err != nil {
		return nil, 0, fmt.Errorf("conversations: %w", err)
	}
	if err := db.decorate(ctx, list); err != nil {
		return nil, 0, err
	}
	total, err := unreadTotal(ctx, db.x, userID)
	return list, total, err
}

// decorate fills in participants and last messages, two queries for the whole page.
func (db *DB) decorate(ctx context.Context, list []market.Conversation) error {
	if len(list) == 0 {
		return nil
	}
	ids := make([]string, len(list))
	byID := map[string]*market.Conversation{}
	for i := range list {
		ids[i] = list[i].ID
		list[i].Participants = []market.Participant{}
		byID[list[i].ID] = &list[i]
	}
	var people []struct {
		ConversationID string `db:"conversation_id"`
		market.Participant
	}
	err := db.x.SelectContext(ctx, &people, `
		SELECT m.conversation_id, u.id, u.username, u.display_name FROM conversation_members m
		JOIN users u ON u.id = m.user_id WHERE m.conversation_id = ANY($1) ORDER BY u.username`, pq.Array(ids))
	if err != nil {
		return fmt.Errorf("participants: %w", err)
	}
	for _, p := range people {
		byID[p.ConversationID].Participants = append(byID[p.ConversationID].Participants, p.Participant)
	}
	last := []market.Message{}
	err = db.x.SelectContext(ctx, &last, `
		SELECT DISTINCT ON (conversation_id) `+messageColumns+` FROM messages
		WHERE conversation_id = ANY($1) ORDER BY conversation_id, seq DESC`, pq.Array(ids))
	if err != nil {
		return fmt.Errorf("last messages: %w", err)
	}
	for i := range last {
		byID[last[i].ConversationID].LastMessage = &last[i]
	}
	return nil
}

var _ market.ChatStore = (*DB)(nil)
