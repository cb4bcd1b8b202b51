package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/gigstream/hub/market"
)

// sendOneQuery is a text-only send in one autocommit statement: one round trip, and
// the conversation's seq lock held only while Postgres runs it, never across a round
// trip to the node (the transactional send, still used for attachments, holds it over
// three: its write statement, then COMMIT).
//
// chk reads, from the statement's snapshot, whether the sender is a member, whether
// either side blocked the other, whether the client id was used, and how many other
// members there are. Only when every check passes does s take the conversation
// channel's next seq (the lock); everything else is chained from s, so a refused send
// writes nothing and takes no seq. A duplicate client id committed after the snapshot
// fails the unique constraint, which aborts the whole statement (no seq is lost) and
// is answered as a retry (see SendMessage).
//
// Snapshot: the statement's snapshot is taken before s waits for the lock, so unlike
// the transactional send it may miss a send that committed meanwhile. What must be
// exact is therefore read with locks, which see the newest committed row: old takes
// the members' rows FOR UPDATE after s (it joins s), mem's UPDATE counts from the newest
// row, and us and t are upserts. Lock order is the one every writer keeps (see
// unreadChanges): conversation seq, member rows, user seqs in user id order, totals in
// user id order.
//
// $1 id, $2 conversation, $3 sender, $4 client id, $5 text, $6 created_at, $7 the
// conversation channel, $8 the message.created data without its seq (set here), $9
// traceparent.
var sendOneQuery = `
	WITH chk AS (
		SELECT COALESCE(bool_or(m.user_id = $3), false) AS member,
			COALESCE(bool_or(m.user_id <> $3 AND EXISTS (SELECT 1 FROM blocks b
				WHERE (b.blocker_id = $3 AND b.blocked_id = m.user_id) OR (b.blocker_id = m.user_id AND b.blocked_id = $3))), false) AS blocked,
			EXISTS (SELECT 1 FROM messages x WHERE x.sender_id = $3 AND x.client_id = $4) AS dup,
			count(*) FILTER (WHERE m.user_id <> $3) AS others
		FROM conversation_members m WHERE m.conversation_id = $2::uuid),
	s AS (
		INSERT INTO channel_seqs (channel, seq)
		SELECT $7::text, 1 FROM chk WHERE chk.member AND NOT chk.blocked AND NOT chk.dup
		ON CONFLICT (channel) DO UPDATE SET seq = channel_seqs.seq + 1
		RETURNING seq),
	msg AS (
		INSERT INTO messages (id, conversation_id, seq, sender_id, client_id, text, attachments, created_at)
		SELECT $1::uuid, $2::uuid, s.seq, $3::uuid, $4::uuid, $5::text, '[]', $6::timestamptz FROM s),
	ev AS (
		INSERT INTO events (channel, seq, type, data, trace)
		SELECT $7::text, s.seq, 'message.created', jsonb_set($8::jsonb, '{seq}', to_jsonb(s.seq)), $9::text FROM s),
	conv AS (
		UPDATE conversations SET last_activity_at = $6 WHERE id = $2 AND EXISTS (SELECT 1 FROM s)),
	old AS (
		SELECT m.user_id, m.unread_count FROM conversation_members m, s
		WHERE m.conversation_id = $2 FOR UPDATE OF m),
	mem AS (
		UPDATE conversation_members m
		SET last_read_seq = CASE WHEN m.user_id = $3 THEN s.seq ELSE m.last_read_seq END,
			unread_count = CASE WHEN m.user_id = $3 THEN 0 ELSE m.unread_count + 1 END
		FROM old, s
		WHERE m.conversation_id = $2 AND m.user_id = old.user_id
		RETURNING m.user_id, m.unread_count),
` + unreadFanOutCTEs("$3", "$9::text") + `	SELECT chk.member, chk.blocked, chk.dup, chk.others, (SELECT seq FROM s) AS msg_seq,
		r.channel, r.seq, r.type, r.data, r.trace, r.user_id, r.unread_count, r.hide_push_previews
	FROM chk LEFT JOIN (
		SELECT ue.channel, ue.seq, ue.type, ue.data, ue.trace, mem.user_id, mem.unread_count, u.hide_push_previews
		FROM ue JOIN mem ON ue.channel = 'user:' || mem.user_id JOIN users u ON u.id = mem.user_id
	) r ON true
	ORDER BY r.user_id`

// sendOneRow is one row of sendOneQuery: the checks, the message's seq (null when
// refused) and one recipient's unread event (nulls when none).
type sendOneRow struct {
	Member       bool    `db:"member"`
	Blocked      bool    `db:"blocked"`
	Dup          bool    `db:"dup"`
	Others       int     `db:"others"`
	MsgSeq       *uint64 `db:"msg_seq"`
	Channel      *string `db:"channel"`
	Seq          *uint64 `db:"seq"`
	Type         *string `db:"type"`
	Data         []byte  `db:"data"`
	Trace        *string `db:"trace"`
	UserID       *string `db:"user_id"`
	Unread       *int    `db:"unread_count"`
	HidePreviews *bool   `db:"hide_push_previews"`
}

// sendOne stores a text-only message with sendOneQuery (one round trip, no
// transaction). It returns the stored message (Created), or for a used client id the
// error errRetry, or the not-found and forbidden Errors of SendMessage.
func (db *DB) sendOne(ctx context.Context, in market.NewMessage) (market.SentMessage, error) {
	st, err := db.prepare(ctx, sendOneQuery)
	if err != nil {
		return market.SentMessage{}, err
	}
	m, err := newMessage(in, 0)
	if err != nil {
		return market.SentMessage{}, err
	}
	unsequenced, err := json.Marshal(m)
	if err != nil {
		return market.SentMessage{}, err
	}
	channel := market.ConversationChannel(in.ConversationID)
	tp := traceParent(ctx)
	var rows []sendOneRow
	err = db.x.stmtSelect(ctx, st[0], &rows,
		m.ID, m.ConversationID, m.SenderID, m.ClientID, m.Text, m.CreatedAt, channel, unsequenced, tp)
	if err != nil {
		return market.SentMessage{}, fmt.Errorf("send message: %w", err)
	}
	return sentMessage(m, channel, tp, rows)
}

// sentMessage is the result of a send whose statement answered rows (sendOneQuery's,
// or one send's of sendManyQuery): m with its seq, or SendMessage's errors.
func sentMessage(m market.Message, channel, tp string, rows []sendOneRow) (market.SentMessage, error) {
	if len(rows) == 0 {
		return market.SentMessage{}, fmt.Errorf("send message: no row")
	}
	chk := rows[0]
	switch {
	case !chk.Member:
		return market.SentMessage{}, fmt.Errorf("conversation: %w", ErrNotFound)
	case chk.Dup:
		return market.SentMessage{}, errRetry
	case chk.Blocked:
		return market.SentMessage{}, market.Errorf(market.CodeForbidden, "you cannot message this user")
	case chk.MsgSeq == nil:
		return market.SentMessage{}, fmt.Errorf("send message: no seq taken")
	}
	m.Seq = *chk.MsgSeq
	data, err := json.Marshal(m)
	if err != nil {
		return market.SentMessage{}, err
	}
	out := market.SentMessage{Message: m, Created: true,
		Events: []market.Event{{Channel: channel, Seq: m.Seq, Type: "message.created", Data: data, Trace: tp}}}
	for _, r := range rows {
		if r.UserID == nil || r.Channel == nil || r.Seq == nil || r.Type == nil || r.Unread == nil || r.HidePreviews == nil {
			continue
		}
		ev := market.Event{Channel: *r.Channel, Seq: *r.Seq, Type: *r.Type, Data: r.Data}
		if r.Trace != nil {
			ev.Trace = *r.Trace
		}
		out.Events = append(out.Events, ev)
		out.Recipients = append(out.Recipients, market.Recipient{UserID: *r.UserID, HidePreviews: *r.HidePreviews, Unread: *r.Unread})
	}
	if len(out.Recipients) != chk.Others {
		// Cannot happen while the statement stands: every other member gets an event.
		return market.SentMessage{}, fmt.Errorf("send message: %d unread events stored for %d recipients", len(out.Recipients), chk.Others)
	}
	return out, nil
}
