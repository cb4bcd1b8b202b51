package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
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
// It is the hottest write of the chat. A text-only message is one prepared statement
// outside any transaction (sendOneQuery: one round trip, the conversation's seq lock
// held only while Postgres runs it); a message with attachments is a transaction
// (sendInTx), whose attachments are checked and locked under the seq lock. The unread
// counts are kept as counters (see migrations/00019), never counted from the messages.
func (db *DB) SendMessage(ctx context.Context, in market.NewMessage) (market.SentMessage, error) {
	if !isUUID(in.ConversationID) {
		return market.SentMessage{}, fmt.Errorf("conversation: %w", ErrNotFound)
	}
	var out market.SentMessage
	var err error
	if len(in.Attachments) == 0 {
		out, err = db.sendQueued(ctx, in)
	} else {
		out, err = db.sendInTx(ctx, in)
	}
	switch {
	case errors.Is(err, errRetry):
		if out.Message.ID == "" {
			if out.Message, err = priorSend(ctx, db.x, in); err != nil {
				return market.SentMessage{}, err
			}
		}
		return market.SentMessage{Message: out.Message}, nil
	case isUniqueViolation(err, "messages_sender_id_client_id_key"):
		// The same client id was sent concurrently and committed while this send waited
		// for the seq lock: its checks read the snapshot from before. Answer as a retry.
		prior, perr := priorSend(ctx, db.x, in)
		if perr != nil {
			return market.SentMessage{}, perr
		}
		return market.SentMessage{Message: prior}, nil
	}
	return out, err
}

// sendInTx is the send of a message with attachments: a transaction whose first
// statement (sendLockQuery) takes the seq lock and reads the checks, then the
// attachments are checked and locked, then sendWriteQuery writes. It returns errRetry
// (with the prior message) for a used client id, and SendMessage's errors.
func (db *DB) sendInTx(ctx context.Context, in market.NewMessage) (market.SentMessage, error) {
	st, err := db.prepare(ctx, sendLockQuery, sendWriteQuery)
	if err != nil {
		return market.SentMessage{}, err
	}
	var out market.SentMessage
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		seq, checks, err := sendLock(ctx, tx, st[0], in) // serializes senders
		if err != nil {
			return err
		}
		if checks.dup {
			out.Message, err = priorSend(ctx, tx, in)
			if err == nil {
				err = errRetry
			}
			return err
		}
		if err := checkAttachments(ctx, tx, in); err != nil {
			return err
		}
		out, err = insertMessage(ctx, tx, st[1], in, seq, checks.others)
		return err
	})
	return out, err
}

// errRetry rolls back a send whose client id was already stored.
var errRetry = errors.New("store: message already sent")

// isUniqueViolation reports whether err is Postgres' unique violation of constraint.
func isUniqueViolation(err error, constraint string) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code == "23505" && pqErr.Constraint == constraint
}

// sendChecks is what a send learns with its seq lock.
type sendChecks struct {
	others int  // members other than the sender
	dup    bool // the sender's client id was used already
}

// sendLockQuery takes the conversation channel's next seq, which holds its counter row
// locked until the transaction ends, and reads in the same statement the members,
// whether either side of the sender blocked the other, and whether the client id was
// used. The reads see the snapshot the statement began with: when it waited for the
// lock, a send committed meanwhile is not in them. That is harmless: what must be exact
// (the counters, the recipients) is read and written by sendWriteQuery, which runs
// under the lock; a block made meanwhile counts from the next send on; a duplicate
// client id is caught by the unique constraint (see SendMessage).
const sendLockQuery = `
	WITH s AS (
		INSERT INTO channel_seqs (channel, seq) VALUES ($1, 1)
		ON CONFLICT (channel) DO UPDATE SET seq = channel_seqs.seq + 1
		RETURNING seq)
	SELECT s.seq, m.user_id,
		EXISTS (SELECT 1 FROM blocks b WHERE (b.blocker_id = $3 AND b.blocked_id = m.user_id)
			OR (b.blocker_id = m.user_id AND b.blocked_id = $3)) AS blocked,
		EXISTS (SELECT 1 FROM messages x WHERE x.sender_id = $3 AND x.client_id = $4) AS dup
	FROM s CROSS JOIN conversation_members m
	WHERE m.conversation_id = $2`

// sendLock runs sendLockQuery (st, prepared) and returns the seq and the checks; it
// returns a not-found Error when the sender is not a member and a forbidden Error when
// either side blocked the other.
func sendLock(ctx context.Context, tx *sqlx.Tx, st *sqlx.Stmt, in market.NewMessage) (uint64, sendChecks, error) {
	var rows []struct {
		Seq     uint64 `db:"seq"`
		UserID  string `db:"user_id"`
		Blocked bool   `db:"blocked"`
		Dup     bool   `db:"dup"`
	}
	err := tx.StmtxContext(ctx, st).SelectContext(ctx, &rows,
		market.ConversationChannel(in.ConversationID), in.ConversationID, in.SenderID, in.ClientID)
	if err != nil {
		return 0, sendChecks{}, fmt.Errorf("send checks: %w", err)
	}
	var out sendChecks
	member, blocked := false, false
	for _, r := range rows {
		out.dup = out.dup || r.Dup
		if r.UserID == in.SenderID {
			member = true
			continue
		}
		out.others++
		blocked = blocked || r.Blocked
	}
	switch {
	case !member:
		return 0, sendChecks{}, fmt.Errorf("conversation: %w", ErrNotFound)
	case out.dup:
		return 0, out, nil
	case blocked:
		return 0, sendChecks{}, market.Errorf(market.CodeForbidden, "you cannot message this user")
	}
	return rows[0].Seq, out, nil
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
func priorSend(ctx context.Context, q querier, in market.NewMessage) (market.Message, error) {
	prior, err := messageByClientID(ctx, q, in.SenderID, in.ClientID)
	if err != nil {
		return prior, err
	}
	if prior.ConversationID != in.ConversationID {
		return prior, market.FieldError(market.CodeConflict, "client_id", "was already used for another message")
	}
	return prior, nil
}

// sendWriteQuery writes, in one statement under the conversation's seq lock, the
// message and its event ($1-$10, $11 the request's traceparent, which the unread
// events keep too), moves the sender's read pointer to it (clearing
// their unread count here, and that count off their total) and counts it unread for
// every other member, takes the next seq of each other member's user channel and adds
// one to their unread total, and stores their unread events with the new counts. It
// returns those events with their recipients.
//
// Locks, in the order every transaction takes them (see unreadChanges): the user
// channels' seqs in user id order, then the totals rows in user id order; d waits for
// all of us (its count) before t takes a totals row. old reads the members' counts as
// they were: the statement's snapshot is current, because every change to them holds
// the seq lock this transaction holds.
var sendWriteQuery = `
	WITH msg AS (
		INSERT INTO messages (id, conversation_id, seq, sender_id, client_id, text, attachments, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)),
	ev AS (
		INSERT INTO events (channel, seq, type, data, trace) VALUES ($9, $3, 'message.created', $10, $11)),
	conv AS (
		UPDATE conversations SET last_activity_at = $8 WHERE id = $2),
	old AS (
		SELECT user_id, unread_count FROM conversation_members WHERE conversation_id = $2),
	mem AS (
		UPDATE conversation_members
		SET last_read_seq = CASE WHEN user_id = $4 THEN $3 ELSE last_read_seq END,
			unread_count = CASE WHEN user_id = $4 THEN 0 ELSE unread_count + 1 END
		WHERE conversation_id = $2
		RETURNING user_id, unread_count),
` + unreadFanOutCTEs("$4", "$11") + `	SELECT ue.channel, ue.seq, ue.type, ue.data, ue.trace, mem.user_id, mem.unread_count, u.hide_push_previews
	FROM ue JOIN mem ON ue.channel = 'user:' || mem.user_id JOIN users u ON u.id = mem.user_id
	ORDER BY mem.user_id`

// insertMessage stores the message and everything it changes (sendWriteQuery, st
// prepared): one round trip whatever the conversation holds. others is how many other
// members the checks saw, which the recipients must match.
func insertMessage(ctx context.Context, tx *sqlx.Tx, st *sqlx.Stmt, in market.NewMessage, seq uint64, others int) (market.SentMessage, error) {
	m, err := newMessage(in, seq)
	if err != nil {
		return market.SentMessage{}, err
	}
	data, err := json.Marshal(m)
	if err != nil {
		return market.SentMessage{}, err
	}
	channel := market.ConversationChannel(in.ConversationID)
	var rows []struct {
		market.Event
		UserID       string `db:"user_id"`
		Unread       int    `db:"unread_count"`
		HidePreviews bool   `db:"hide_push_previews"`
	}
	tp := traceParent(ctx)
	err = tx.StmtxContext(ctx, st).SelectContext(ctx, &rows,
		m.ID, m.ConversationID, seq, m.SenderID, m.ClientID, m.Text, []byte(m.Attachments), m.CreatedAt, channel, data, tp)
	if err != nil {
		return market.SentMessage{}, fmt.Errorf("store message: %w", err)
	}
	if len(rows) != others {
		return market.SentMessage{}, fmt.Errorf("store message: %d unread events stored for %d recipients", len(rows), others)
	}
	out := market.SentMessage{Message: m, Created: true, Events: []market.Event{{Channel: channel, Seq: seq, Type: "message.created", Data: data, Trace: tp}}}
	for _, r := range rows {
		out.Events = append(out.Events, r.Event)
		out.Recipients = append(out.Recipients, market.Recipient{UserID: r.UserID, HidePreviews: r.HidePreviews, Unread: r.Unread})
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

func messageByClientID(ctx context.Context, q querier, senderID, clientID string) (market.Message, error) {
	var m market.Message
	err := q.GetContext(ctx, &m, `SELECT `+messageColumns+` FROM messages WHERE sender_id = $1 AND client_id = $2`, senderID, clientID)
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
	return db.changeMessage(ctx, conversationID, messageID, userID, since, "message.edited", nil,
		`UPDATE messages SET text = $2, edited_at = now() WHERE id = $1 RETURNING `+messageColumns, text)
}

// DeleteMessage removes the text of the sender's own message, keeping its place, and
// stores a message.deleted event; members who had not read it count it unread no
// more. Errors are those of EditMessage.
func (db *DB) DeleteMessage(ctx context.Context, conversationID, messageID, userID string, since time.Time) (market.Message, market.Event, error) {
	st, err := db.prepare(ctx, unreadQuery)
	if err != nil {
		return market.Message{}, market.Event{}, err
	}
	uncount := func(tx *sqlx.Tx, m market.Message) error { return uncountDeleted(ctx, tx, st[0], m) }
	return db.changeMessage(ctx, conversationID, messageID, userID, since, "message.deleted", uncount,
		`UPDATE messages SET deleted_at = now() WHERE id = $1 RETURNING `+messageColumns)
}

// uncountDeleted takes the deleted message m off the unread counters of the members
// who had not read it; st is unreadQuery, prepared.
func uncountDeleted(ctx context.Context, tx *sqlx.Tx, st *sqlx.Stmt, m market.Message) error {
	var users []string
	err := tx.SelectContext(ctx, &users, `
		UPDATE conversation_members SET unread_count = unread_count - 1
		WHERE conversation_id = $1 AND user_id <> $2 AND last_read_seq < $3 RETURNING user_id`,
		m.ConversationID, m.SenderID, m.Seq)
	if err != nil {
		return fmt.Errorf("uncount deleted message: %w", err)
	}
	changes := unreadChanges{conversationID: m.ConversationID}
	for _, u := range users {
		changes.add(u, -1)
	}
	_, err = changes.apply(ctx, tx, st)
	return err
}

// changeMessage edits or deletes a message under the conversation's seq lock; after,
// when not nil, runs in the same transaction once the message changed.
func (db *DB) changeMessage(ctx context.Context, conversationID, messageID, userID string, since time.Time, eventType string,
	after func(*sqlx.Tx, market.Message) error, update string, args ...any) (market.Message, market.Event, error) {
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
		if after != nil {
			if err := after(tx, m); err != nil {
				return err
			}
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
	st, err := db.prepare(ctx, nextSeqQuery, unreadQuery)
	if err != nil {
		return market.ReadState{}, nil, err
	}
	var rs market.ReadState
	var events []market.Event
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		// The channel first, as senders take it, so the two never deadlock.
		if err := lockChannel(ctx, tx, market.ConversationChannel(conversationID)); err != nil {
			return err
		}
		var cur struct {
			LastRead uint64 `db:"last_read_seq"`
			Unread   int    `db:"unread_count"`
			Newest   uint64 `db:"newest"`
		}
		err := tx.GetContext(ctx, &cur, `SELECT m.last_read_seq, m.unread_count,
			COALESCE((SELECT max(seq) FROM messages WHERE conversation_id = m.conversation_id), 0) AS newest
			FROM conversation_members m WHERE m.conversation_id = $1 AND m.user_id = $2 FOR UPDATE`, conversationID, userID)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("conversation: %w", ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("read pointer: %w", err)
		}
		seq = min(seq, cur.Newest)
		rs.LastReadSeq, rs.UnreadCount = max(seq, cur.LastRead), cur.Unread
		if seq <= cur.LastRead {
			rs.TotalUnread, err = unreadTotal(ctx, tx, userID)
			return err
		}
		events, rs, err = advanceRead(ctx, tx, st, conversationID, userID, cur.LastRead, seq)
		return err
	})
	return rs, events, err
}

// advanceRead moves the read pointer from seq from to to, takes the messages read off
// the counters, and stores the read and unread events. st holds nextSeqQuery and
// unreadQuery, prepared.
func advanceRead(ctx context.Context, tx *sqlx.Tx, st []*sqlx.Stmt, conversationID, userID string, from, to uint64) ([]market.Event, market.ReadState, error) {
	rs := market.ReadState{LastReadSeq: to}
	var read struct {
		Unread int `db:"unread_count"`
		Read   int `db:"read"`
	}
	err := tx.GetContext(ctx, &read, `
		WITH d AS (
			SELECT count(*) AS n FROM messages
			WHERE conversation_id = $1 AND seq > $3 AND seq <= $4 AND sender_id <> $2 AND deleted_at IS NULL)
		UPDATE conversation_members SET last_read_seq = $4, unread_count = unread_count - d.n
		FROM d WHERE conversation_id = $1 AND user_id = $2
		RETURNING unread_count, d.n AS read`, conversationID, userID, from, to)
	if err != nil {
		return nil, rs, fmt.Errorf("advance read pointer: %w", err)
	}
	rs.UnreadCount = read.Unread
	readEv, err := appendEvent(ctx, tx, market.ConversationChannel(conversationID), "read", map[string]any{"user_id": userID, "seq": to})
	if err != nil {
		return nil, rs, err
	}
	seq, err := nextSeqWith(ctx, tx, st[0], market.UserChannel(userID))
	if err != nil {
		return nil, rs, err
	}
	changes := unreadChanges{conversationID: conversationID}
	changes.add(userID, -read.Read)
	changes.event(userID, seq, read.Unread)
	unread, err := changes.apply(ctx, tx, st[1])
	if err != nil {
		return nil, rs, err
	}
	var total struct {
		Total int `json:"total"`
	}
	if err := json.Unmarshal(unread[0].Data, &total); err != nil {
		return nil, rs, fmt.Errorf("unread event: %w", err)
	}
	rs.TotalUnread = total.Total
	return []market.Event{readEv, unread[0]}, rs, nil
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// unreadFanOutCTEs are the part both send statements share, after their mem CTE (the
// members' new unread counts) and old (the counts before): us takes the next seq of
// each other member's user channel (in user id order), d turns old into deltas of the
// unread totals once all of us is taken, t applies them (in user id order), and ue
// stores each recipient's unread event. sender and trace are the statement's
// parameters for the sender's user id and the traceparent.
func unreadFanOutCTEs(sender, trace string) string {
	return strings.NewReplacer("{sender}", sender, "{trace}", trace).Replace(`
	us AS (
		INSERT INTO channel_seqs AS cs (channel, seq)
		SELECT 'user:' || user_id, 1 FROM mem WHERE user_id <> {sender} ORDER BY user_id
		ON CONFLICT (channel) DO UPDATE SET seq = cs.seq + 1
		RETURNING channel, seq),
	d AS (
		SELECT old.user_id, CASE WHEN old.user_id = {sender} THEN -old.unread_count ELSE 1 END AS delta
		FROM old
		WHERE (SELECT count(*) FROM us) >= 0 AND (old.user_id <> {sender} OR old.unread_count > 0)),
	t AS (
		INSERT INTO unread_totals AS t (user_id, total)
		SELECT user_id, delta FROM d ORDER BY user_id
		ON CONFLICT (user_id) DO UPDATE SET total = t.total + EXCLUDED.total
		RETURNING user_id, total),
	ue AS (
		INSERT INTO events (channel, seq, type, data, trace)
		SELECT us.channel, us.seq, 'unread',
			jsonb_build_object('total', t.total, 'conversation_id', $2::text, 'count', mem.unread_count), {trace}
		FROM mem JOIN us ON us.channel = 'user:' || mem.user_id JOIN t ON t.user_id = mem.user_id
		RETURNING channel, seq, type, data, trace)
`)
}
