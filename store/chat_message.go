package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

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
// It is the hottest write of the chat, so it makes few round trips: lock, check,
// one statement for the message and its event, one per recipient.
func (db *DB) SendMessage(ctx context.Context, in market.NewMessage) (market.SentMessage, error) {
	if !isUUID(in.ConversationID) {
		return market.SentMessage{}, fmt.Errorf("conversation: %w", ErrNotFound)
	}
	var out market.SentMessage
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		seq, err := nextSeq(ctx, tx, market.ConversationChannel(in.ConversationID)) // serializes senders
		if err != nil {
			return err
		}
		others, dup, err := sendChecks(ctx, tx, in)
		if err != nil {
			return err
		}
		if dup {
			out.Message, err = priorSend(ctx, tx, in)
			if err == nil {
				err = errRetry
			}
			return err
		}
		if err := checkAttachments(ctx, tx, in); err != nil {
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

// sendChecks reads, in one query, the other members, whether the sender is a member,
// whether either side blocked the other, and whether this client id was used already.
func sendChecks(ctx context.Context, tx *sqlx.Tx, in market.NewMessage) ([]market.Recipient, bool, error) {
	var rows []struct {
		UserID       string `db:"user_id"`
		HidePreviews bool   `db:"hide_push_previews"`
		Blocked      bool   `db:"blocked"`
		Dup          bool   `db:"dup"`
	}
	err := tx.SelectContext(ctx, &rows, `
		SELECT m.user_id, u.hide_push_previews,
			EXISTS (SELECT 1 FROM blocks b WHERE (b.blocker_id = $2 AND b.blocked_id = m.user_id)
				OR (b.blocker_id = m.user_id AND b.blocked_id = $2)) AS blocked,
			EXISTS (SELECT 1 FROM messages x WHERE x.sender_id = $2 AND x.client_id = $3) AS dup
		FROM conversation_members m JOIN users u ON u.id = m.user_id
		WHERE m.conversation_id = $1`, in.ConversationID, in.SenderID, in.ClientID)
	if err != nil {
		return nil, false, fmt.Errorf("send checks: %w", err)
	}
	var others []market.Recipient
	member, blocked, dup := false, false, false
	for _, r := range rows {
		dup = dup || r.Dup
		if r.UserID == in.SenderID {
			member = true
			continue
		}
		blocked = blocked || r.Blocked
		others = append(others, market.Recipient{UserID: r.UserID, HidePreviews: r.HidePreviews})
	}
	switch {
	case !member:
		return nil, false, fmt.Errorf("conversation: %w", ErrNotFound)
	case dup:
		return others, true, nil
	case blocked:
		return nil, false, market.Errorf(market.CodeForbidden, "you cannot message this user")
	}
	return others, false, nil
}

// checkAttachments refuses attachments that are not clean uploads of kind attachment the
// sender made for this conversation, with an invalid Error naming attachments; the rows are
// locked (FOR SHARE) so none is removed before the message commits.
func checkAttachments(ctx context.Context, tx *sqlx.Tx, in market.NewMessage) error {
	if len(in.Attachments) == 0 {
		return nil
	}
	var ok int
	err := tx.GetContext(ctx, &ok, `
		SELECT count(*) FROM (SELECT 1 FROM uploads
			WHERE id = ANY($1::uuid[]) AND owner_id = $2 AND kind = 'attachment'
				AND conversation_id = $3 AND status = 'clean'
			FOR SHARE) AS usable`, pq.Array(in.Attachments), in.SenderID, in.ConversationID)
	if err != nil {
		return fmt.Errorf("check attachments: %w", err)
	}
	if ok != len(in.Attachments) {
		return market.FieldError(market.CodeInvalid, "attachments",
			"must be clean attachments you uploaded to this conversation")
	}
	return nil
}

// priorSend returns the message a retried send already stored; a client id used for
// another conversation is a conflict.
func priorSend(ctx context.Context, tx *sqlx.Tx, in market.NewMessage) (market.Message, error) {
	prior, err := messageByClientID(ctx, tx, in.SenderID, in.ClientID)
	if err != nil {
		return prior, err
	}
	if prior.ConversationID != in.ConversationID {
		return prior, market.FieldError(market.CodeConflict, "client_id", "was already used for another message")
	}
	return prior, nil
}

// insertMessage writes the message, its event and the sender's read pointer in one
// statement, then one unread event per recipient.
func insertMessage(ctx context.Context, tx *sqlx.Tx, in market.NewMessage, seq uint64, others []market.Recipient) (market.SentMessage, error) {
	m, err := newMessage(in, seq)
	if err != nil {
		return market.SentMessage{}, err
	}
	data, err := json.Marshal(m)
	if err != nil {
		return market.SentMessage{}, err
	}
	channel := market.ConversationChannel(in.ConversationID)
	_, err = tx.ExecContext(ctx, `
		WITH msg AS (
			INSERT INTO messages (id, conversation_id, seq, sender_id, client_id, text, attachments, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)),
		ev AS (
			INSERT INTO events (channel, seq, type, data) VALUES ($9, $3, 'message.created', $10)),
		conv AS (
			UPDATE conversations SET last_activity_at = $8 WHERE id = $2)
		UPDATE conversation_members SET last_read_seq = $3 WHERE conversation_id = $2 AND user_id = $4`,
		m.ID, m.ConversationID, seq, m.SenderID, m.ClientID, m.Text, []byte(m.Attachments), m.CreatedAt, channel, data)
	if err != nil {
		return market.SentMessage{}, fmt.Errorf("store message: %w", err)
	}
	out := market.SentMessage{Message: m, Created: true, Events: []market.Event{{Channel: channel, Seq: seq, Type: "message.created", Data: data}}}
	for _, r := range others {
		ev, count, err := unreadEventFor(ctx, tx, r.UserID, in.ConversationID)
		if err != nil {
			return out, err
		}
		r.Unread = count
		out.Events = append(out.Events, ev)
		out.Recipients = append(out.Recipients, r)
	}
	return out, nil
}

// newMessage builds the stored form of a new message, with its id and time chosen
// here, so that its event can be written in the same statement.
func newMessage(in market.NewMessage, seq uint64) (market.Message, error) {
	attachments, err := json.Marshal(orEmpty(in.Attachments))
	if err != nil {
		return market.Message{}, err
	}
	return market.Message{
		ID: uuid.NewString(), ConversationID: in.ConversationID, Seq: seq, SenderID: in.SenderID, ClientID: in.ClientID,
		Text: in.Text, Attachments: attachments, CreatedAt: time.Now().UTC().Truncate(time.Microsecond),
	}, nil
}

// unreadEventFor counts userID's unread messages (in this conversation and in all)
// and stores them as a durable unread event on their user channel, in one statement.
func unreadEventFor(ctx context.Context, tx *sqlx.Tx, userID, conversationID string) (market.Event, int, error) {
	var row struct {
		market.Event
		Count int `db:"count"`
	}
	err := tx.GetContext(ctx, &row, `
		WITH c AS (
			SELECT count(*) FILTER (WHERE m.conversation_id = $2) AS count, count(*) AS total
			FROM conversation_members m JOIN messages x ON x.conversation_id = m.conversation_id
			WHERE m.user_id = $1 AND x.seq > m.last_read_seq AND x.sender_id <> $1 AND x.deleted_at IS NULL),
		s AS (
			INSERT INTO channel_seqs (channel, seq) VALUES ($3, 1)
			ON CONFLICT (channel) DO UPDATE SET seq = channel_seqs.seq + 1 RETURNING seq),
		ev AS (
			INSERT INTO events (channel, seq, type, data)
			SELECT $3, s.seq, 'unread', jsonb_build_object('total', c.total, 'conversation_id', $2::text, 'count', c.count)
			FROM s, c RETURNING channel, seq, type, data)
		SELECT ev.channel, ev.seq, ev.type, ev.data, c.count FROM ev, c`,
		userID, conversationID, market.UserChannel(userID))
	if err != nil {
		return market.Event{}, 0, fmt.Errorf("unread event: %w", err)
	}
	return row.Event, row.Count, nil
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
	unread, _, err := unreadEventFor(ctx, tx, userID, conversationID)
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
