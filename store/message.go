package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/gigstream/hub/market"
)

const messageColumns = `id, conversation_id, seq, sender_id, client_id,
	CASE WHEN deleted_at IS NULL THEN text ELSE '' END AS text, attachments, created_at, edited_at,
	deleted_at IS NOT NULL AS deleted`

// Messages returns up to limit messages of the conversation older than seq before
// (0: the newest), newest first. Paging by seq keeps pages stable while new messages
// arrive. A conversation userID is not a member of is not found.
func (db *DB) Messages(ctx context.Context, conversationID, userID string, before uint64, limit int) ([]market.Message, error) {
	if ok, err := db.IsMember(ctx, conversationID, userID); err != nil || !ok {
		return nil, notMember(err)
	}
	if before == 0 {
		before = 1 << 62
	}
	out := []market.Message{}
	err := db.x.SelectContext(ctx, &out, `SELECT `+messageColumns+` FROM messages
		WHERE conversation_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3`, conversationID, before, limit)
	if err != nil {
		return nil, fmt.Errorf("messages: %w", err)
	}
	return out, nil
}

func notMember(err error) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("conversation: %w", ErrNotFound)
}

// SendMessage stores a message and its message.created event in one transaction,
// plus an unread event for every other member. A second send with the same client id
// returns the first message and writes nothing. It returns a not-found Error when the
// sender is not a member, and a forbidden Error when either side blocked the other.
func (db *DB) SendMessage(ctx context.Context, in market.NewMessage) (market.SentMessage, error) {
	if !isUUID(in.ConversationID) {
		return market.SentMessage{}, fmt.Errorf("conversation: %w", ErrNotFound)
	}
	var out market.SentMessage
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		others, err := otherMembers(ctx, tx, in.ConversationID, in.SenderID)
		if err != nil {
			return err
		}
		channel := market.ConversationChannel(in.ConversationID)
		seq, err := nextSeq(ctx, tx, channel) // serializes senders of this conversation
		if err != nil {
			return err
		}
		if prior, err := messageByClientID(ctx, tx, in.SenderID, in.ClientID); err == nil {
			if prior.ConversationID != in.ConversationID {
				return market.FieldError(market.CodeConflict, "client_id", "was already used for another message")
			}
			out.Message = prior
			return errRetry
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		if err := checkNotBlocked(ctx, tx, in.SenderID, others); err != nil {
			return err
		}
		out, err = insertMessage(ctx, tx, in, seq, others)
		return err
	})
	if errors.Is(err, errRetry) {
		return market.SentMessage{Message: out.Message}, nil
	}
	return out, err
}

// errRetry rolls back a send whose client id was already stored.
var errRetry = errors.New("store: message already sent")

func insertMessage(ctx context.Context, tx *sqlx.Tx, in market.NewMessage, seq uint64, others []market.Recipient) (market.SentMessage, error) {
	attachments, err := json.Marshal(orEmpty(in.Attachments))
	if err != nil {
		return market.SentMessage{}, err
	}
	var m market.Message
	err = tx.GetContext(ctx, &m, `
		INSERT INTO messages (conversation_id, seq, sender_id, client_id, text, attachments)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+messageColumns,
		in.ConversationID, seq, in.SenderID, in.ClientID, in.Text, attachments)
	if err != nil {
		return market.SentMessage{}, fmt.Errorf("store message: %w", err)
	}
	ev, err := insertEvent(ctx, tx, market.ConversationChannel(in.ConversationID), seq, "message.created", m)
	if err != nil {
		return market.SentMessage{}, err
	}
	_, err = tx.ExecContext(ctx, `
		WITH c AS (UPDATE conversations SET last_activity_at = now() WHERE id = $1)
		UPDATE conversation_members SET last_read_seq = $3 WHERE conversation_id = $1 AND user_id = $2`,
		in.ConversationID, in.SenderID, seq)
	if err != nil {
		return market.SentMessage{}, fmt.Errorf("touch conversation: %w", err)
	}
	out := market.SentMessage{Message: m, Created: true, Events: []market.Event{ev}}
	for _, r := range others {
		if r.Unread, err = unreadIn(ctx, tx, in.ConversationID, r.UserID); err != nil {
			return out, err
		}
		unread, err := unreadEvent(ctx, tx, r.UserID, in.ConversationID, r.Unread)
		if err != nil {
			return out, err
		}
		out.Events = append(out.Events, unread)
		out.Recipients = append(out.Recipients, r)
	}
	return out, nil
}

// unreadEvent tells userID's devices their unread counts, as a durable event on their
// user channel.
func unreadEvent(ctx context.Context, tx *sqlx.Tx, userID, conversationID string, count int) (market.Event, error) {
	var total int
	err := tx.GetContext(ctx, &total, `
		SELECT count(*) FROM conversation_members m JOIN messages x ON x.conversation_id = m.conversation_id
		WHERE m.user_id = $1 AND x.seq > m.last_read_seq AND x.sender_id <> $1 AND x.deleted_at IS NULL`, userID)
	if err != nil {
		return market.Event{}, fmt.Errorf("total unread: %w", err)
	}
	return appendEvent(ctx, tx, market.UserChannel(userID), "unread",
		map[string]any{"total": total, "conversation_id": conversationID, "count": count})
}

// otherMembers returns the members other than userID, or not found when userID is
// not a member.
func otherMembers(ctx context.Context, tx *sqlx.Tx, conversationID, userID string) ([]market.Recipient, error) {
	var rows []struct {
		UserID       string `db:"user_id"`
		HidePreviews bool   `db:"hide_push_previews"`
	}
	err := tx.SelectContext(ctx, &rows, `
		SELECT m.user_id, u.hide_push_previews FROM conversation_members m JOIN users u ON u.id = m.user_id
		WHERE m.conversation_id = $1`, conversationID)
	if err != nil {
		return nil, fmt.Errorf("members: %w", err)
	}
	var others []market.Recipient
	member := false
	for _, r := range rows {
		if r.UserID == userID {
			member = true
			continue
		}
		others = append(others, market.Recipient{UserID: r.UserID, HidePreviews: r.HidePreviews})
	}
	if !member {
		return nil, fmt.Errorf("conversation: %w", ErrNotFound)
	}
	return others, nil
}

func messageByClientID(ctx context.Context, tx *sqlx.Tx, senderID, clientID string) (market.Message, error) {
	var m market.Message
	err := tx.GetContext(ctx, &m, `SELECT `+messageColumns+` FROM messages WHERE sender_id = $1 AND client_id = $2`, senderID, clientID)
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("message: %w", ErrNotFound)
	}
	if err != nil {
		return m, fmt.Errorf("message by client id: %w", err)
	}
	return m, nil
}

// checkNotBlocked refuses a send when the sender and a recipient blocked each other
// either way.
func checkNotBlocked(ctx context.Context, tx *sqlx.Tx, senderID string, others []market.Recipient) error {
	for _, r := range others {
		var blocked bool
		err := tx.GetContext(ctx, &blocked, `SELECT EXISTS (SELECT 1 FROM blocks
			WHERE (blocker_id = $1 AND blocked_id = $2) OR (blocker_id = $2 AND blocked_id = $1))`, senderID, r.UserID)
		if err != nil {
			return fmt.Errorf("blocks: %w", err)
		}
		if blocked {
			return market.Errorf(market.CodeForbidden, "you cannot message this user")
		}
	}
	return nil
}

// EditMessage changes the text of the sender's own message sent after since, and
// stores a message.edited event. Someone else's message, or one older than the edit
// window, is a forbidden Error; an unknown one is not found.
func (db *DB) EditMessage(ctx context.Context, conversationID, messageID, userID, text string, since time.Time) (market.Message, market.Event, error) {
	return db.changeMessage(ctx, conversationID, messageID, userID, since, "message.edited",
		`UPDATE messages SET text = $2, edited_at = now() WHERE id = $1 RETURNING `+messageColumns, text)
}

// DeleteMessage removes the text of the sender's own message, keeping its place, and
// stores a message.deleted event. Errors are those of EditMessage.
func (db *DB) DeleteMessage(ctx context.Context, conversationID, messageID, userID string, since time.Time) (market.Message, market.Event, error) {
	return db.changeMessage(ctx, conversationID, messageID, userID, since, "message.deleted",
		`UPDATE messages SET deleted_at = now() WHERE id = $1 RETURNING `+messageColumns)
}

func (db *DB) changeMessage(ctx context.Context, conversationID, messageID, userID string, since time.Time, eventType, update string, args ...any) (market.Message, market.Event, error) {
	if !isUUID(conversationID) || !isUUID(messageID) {
		return market.Message{}, market.Event{}, fmt.Errorf("message: %w", ErrNotFound)
	}
	var m market.Message
	var ev market.Event
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		seq, err := nextSeq(ctx, tx, market.ConversationChannel(conversationID))
		if err != nil {
			return err
		}
		if err := checkOwnRecent(ctx, tx, conversationID, messageID, userID, since); err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &m, update, append([]any{messageID}, args...)...); err != nil {
			return fmt.Errorf("change message: %w", err)
		}
		data := any(m)
		if eventType == "message.deleted" {
			data = map[string]any{"id": m.ID, "seq": m.Seq}
		}
		ev, err = insertEvent(ctx, tx, market.ConversationChannel(conversationID), seq, eventType, data)
		return err
	})
	return m, ev, err
}

func checkOwnRecent(ctx context.Context, tx *sqlx.Tx, conversationID, messageID, userID string, since time.Time) error {
	var row struct {
		SenderID  string    `db:"sender_id"`
		CreatedAt time.Time `db:"created_at"`
		Deleted   bool      `db:"deleted"`
	}
	err := tx.GetContext(ctx, &row, `SELECT m.sender_id, m.created_at, m.deleted_at IS NOT NULL AS deleted FROM messages m
		JOIN conversation_members cm ON cm.conversation_id = m.conversation_id AND cm.user_id = $3
		WHERE m.id = $1 AND m.conversation_id = $2`, messageID, conversationID, userID)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("message: %w", ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("message: %w", err)
	}
	switch {
	case row.SenderID != userID:
		return market.Errorf(market.CodeForbidden, "only the sender may change a message")
	case row.Deleted:
		return market.Errorf(market.CodeConflict, "the message is deleted")
	case row.CreatedAt.Before(since):
		return market.Errorf(market.CodeForbidden, "the message is too old to change")
	}
	return nil
}

// MarkRead moves userID's read pointer forward to seq (never back, never past the
// newest message) and stores a read event for the other members and an unread event
// for the reader's other devices. A pointer that would not move changes nothing.
func (db *DB) MarkRead(ctx context.Context, conversationID, userID string, seq uint64) (market.ReadState, []market.Event, error) {
	if !isUUID(conversationID) {
		return market.ReadState{}, nil, fmt.Errorf("conversation: %w", ErrNotFound)
	}
	var st market.ReadState
	var events []market.Event
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		// The channel first, as senders take it, so the two never deadlock.
		if err := lockChannel(ctx, tx, market.ConversationChannel(conversationID)); err != nil {
			return err
		}
		var cur struct {
			LastRead uint64 `db:"last_read_seq"`
			Newest   uint64 `db:"newest"`
		}
		err := tx.GetContext(ctx, &cur, `SELECT m.last_read_seq,
			COALESCE((SELECT max(seq) FROM messages WHERE conversation_id = m.conversation_id), 0) AS newest
			FROM conversation_members m WHERE m.conversation_id = $1 AND m.user_id = $2 FOR UPDATE`, conversationID, userID)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("conversation: %w", ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("read pointer: %w", err)
		}
		seq = min(seq, cur.Newest)
		st.LastReadSeq = max(seq, cur.LastRead)
		if seq > cur.LastRead {
			if events, err = advanceRead(ctx, tx, conversationID, userID, seq); err != nil {
				return err
			}
		}
		if st.UnreadCount, err = unreadIn(ctx, tx, conversationID, userID); err != nil {
			return err
		}
		st.TotalUnread, err = db.totalUnread(ctx, tx, userID)
		return err
	})
	return st, events, err
}

func advanceRead(ctx context.Context, tx *sqlx.Tx, conversationID, userID string, seq uint64) ([]market.Event, error) {
	if _, err := tx.ExecContext(ctx, `UPDATE conversation_members SET last_read_seq = $3 WHERE conversation_id = $1 AND user_id = $2`,
		conversationID, userID, seq); err != nil {
		return nil, fmt.Errorf("advance read pointer: %w", err)
	}
	read, err := appendEvent(ctx, tx, market.ConversationChannel(conversationID), "read", map[string]any{"user_id": userID, "seq": seq})
	if err != nil {
		return nil, err
	}
	count, err := unreadIn(ctx, tx, conversationID, userID)
	if err != nil {
		return nil, err
	}
	unread, err := unreadEvent(ctx, tx, userID, conversationID, count)
	if err != nil {
		return nil, err
	}
	return []market.Event{read, unread}, nil
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
