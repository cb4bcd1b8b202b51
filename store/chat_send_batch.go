package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/gigstream/hub/market"
)

// Group commit of text-only sends. Sends that arrive while batches are running wait in
// one queue; a batch takes up to sendBatchMax of them, at most one per conversation and
// none of a conversation that a running batch writes to, and stores them with
// sendManyQuery: one statement, one round trip, one commit for the lot, instead of one
// each. No send waits for a timer: a send that finds no batch running starts one at
// once (alone, it is sendOne's statement); sends that arrive while one runs wait for
// the next, which that batch's goroutine takes as soon as it is done, so batches grow
// only while Postgres is busy. Another batch runs beside it only while a full batch
// (sendBatchMax sends) waits: a send alone costs Postgres 0.8-1.3 ms of CPU, one of a
// batch of 32 0.25-0.33 ms (docs/operations.md, "Durable chat"), so where the CPU is
// the limit, a batch for every send that found a free slot spent the CPU that more
// sends needed. Each send gets its own result or error. When the batch statement
// fails (a client id committed by another node meanwhile, a lock timeout, a bad id),
// nothing of it was written, and each of its sends is run again alone with sendOne, so
// a failing send never loses or half-writes another.
const (
	sendBatchMax     = 32 // sends per batch statement
	sendBatchWorkers = 4  // batch statements at once (pool connections), the second and later only while a full batch waits

	// sendBatchTimeout bounds one batch statement, so a stalled Postgres cannot hold
	// a batch goroutine (and its senders' slot) for ever; row locks inside it wait at
	// most the connection's lock_timeout.
	sendBatchTimeout = 10 * time.Second
)

// sendBatcher is the queue of sends waiting for a batch.
type sendBatcher struct {
	mu      sync.Mutex
	queue   []*pendingSend
	running int             // goroutines running batches
	busy    map[string]bool // conversations with a send in a running batch
}

// pendingSend is one send waiting in the queue; done gets its result once.
type pendingSend struct {
	ctx  context.Context
	in   market.NewMessage
	done chan sendResult
}

type sendResult struct {
	out market.SentMessage
	err error
}

// sendQueued stores a text-only message through the batcher. It returns what sendOne
// would; when ctx ends first it returns ctx's error, and the message may or may not
// have been stored (a retry with the same client id is answered with it).
func (db *DB) sendQueued(ctx context.Context, in market.NewMessage) (market.SentMessage, error) {
	p := &pendingSend{ctx: ctx, in: in, done: make(chan sendResult, 1)}
	if db.sends.enqueue(p) {
		go db.runSendBatches()
	}
	select {
	case r := <-p.done:
		return r.out, r.err
	case <-ctx.Done():
		return market.SentMessage{}, fmt.Errorf("send message: %w", ctx.Err())
	}
}

// enqueue queues p and reports whether the caller is to start a goroutine running
// batches (counted as running): when none runs, or when a full batch waits and fewer
// than sendBatchWorkers run.
func (b *sendBatcher) enqueue(p *pendingSend) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.queue = append(b.queue, p)
	start := b.running == 0 || b.running < sendBatchWorkers && len(b.queue) >= sendBatchMax
	if start {
		b.running++
	}
	return start
}

// runSendBatches runs batches from the queue until it is empty.
func (db *DB) runSendBatches() {
	var done []*pendingSend
	for {
		batch := db.sends.take(done)
		if len(batch) == 0 {
			return
		}
		db.sendBatch(batch)
		done = batch
	}
}

// take ends the calling goroutine's batch done (its sends answered) and removes the
// next batch from the queue: in arrival order, up to sendBatchMax sends, one per
// conversation and none of a conversation that another running batch writes to. A
// later send into a conversation thus waits until the batch of the one before it has
// committed, so its seq follows that one's; were the two batches to run at once, the
// later batch could take the conversation's seq lock first (and, holding its other
// locks, would keep every send of its own batch waiting for the earlier one). Sends
// whose context ended are answered and dropped. With nothing to take it gives up its
// goroutine's slot; the goroutine of a busy conversation's batch takes that
// conversation's next send once it is done.
func (b *sendBatcher) take(done []*pendingSend) []*pendingSend {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.busy == nil {
		b.busy = map[string]bool{}
	}
	for _, p := range done {
		delete(b.busy, p.in.ConversationID)
	}
	var batch []*pendingSend
	rest := b.queue[:0]
	for _, p := range b.queue {
		switch {
		case p.ctx.Err() != nil:
			p.done <- sendResult{err: fmt.Errorf("send message: %w", p.ctx.Err())}
		case len(batch) < sendBatchMax && !b.busy[p.in.ConversationID]:
			b.busy[p.in.ConversationID] = true
			batch = append(batch, p)
		default:
			rest = append(rest, p)
		}
	}
	clear(b.queue[len(rest):])
	b.queue = rest
	if len(batch) == 0 {
		b.running--
	}
	return batch
}

// sendBatch stores batch and answers each of its sends.
func (db *DB) sendBatch(batch []*pendingSend) {
	if len(batch) > 1 {
		outs, err := db.sendMany(batch)
		if err == nil {
			for i, p := range batch {
				p.done <- outs[i]
			}
			return
		}
	}
	// Alone, or the batch failed and wrote nothing: each send on its own.
	for _, p := range batch {
		out, err := db.sendOne(p.ctx, p.in)
		p.done <- sendResult{out, err}
	}
}

// sendMany stores the sends of batch (distinct conversations) with sendManyQuery and
// returns each one's result in order. An error means the statement wrote nothing.
func (db *DB) sendMany(batch []*pendingSend) ([]sendResult, error) {
	// The statement writes for all of its senders, so no one sender's context bounds
	// it: the pool's acquire deadline (stmtSelect) and sendBatchTimeout do. A batch
	// cut off by the timeout wrote nothing, and its sends are retried alone under
	// their own contexts.
	ctx, cancel := context.WithTimeout(context.Background(), sendBatchTimeout)
	defer cancel()
	st, err := db.prepare(ctx, sendManyQuery)
	if err != nil {
		return nil, err
	}
	n := len(batch)
	msgs := make([]market.Message, n)
	channels, traces := make([]string, n), make([]string, n)
	inputs := make([]sendManyInput, n)
	for i, p := range batch {
		m, err := newMessage(p.in, 0)
		if err != nil {
			return nil, err
		}
		unsequenced, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		msgs[i] = m
		channels[i] = market.ConversationChannel(p.in.ConversationID)
		traces[i] = traceParent(p.ctx)
		inputs[i] = sendManyInput{ID: m.ID, Conv: m.ConversationID, Sender: m.SenderID, Client: m.ClientID, Text: m.Text,
			Created: m.CreatedAt, Channel: channels[i], Data: unsequenced, Trace: traces[i]}
	}
	arg, err := json.Marshal(inputs)
	if err != nil {
		return nil, err
	}
	var rows []sendManyRow
	if err := db.x.stmtSelect(ctx, st[0], &rows, arg); err != nil {
		return nil, fmt.Errorf("send messages: %w", err)
	}
	byIndex := make([][]sendOneRow, n)
	for _, r := range rows {
		if r.I < 1 || r.I > n {
			return nil, fmt.Errorf("send messages: row for send %d of %d", r.I, n)
		}
		byIndex[r.I-1] = append(byIndex[r.I-1], r.sendOneRow)
	}
	outs := make([]sendResult, n)
	for i := range batch {
		out, err := sentMessage(msgs[i], channels[i], traces[i], byIndex[i])
		outs[i] = sendResult{out, err}
	}
	return outs, nil
}

// sendManyInput is one send of sendManyQuery's $1.
type sendManyInput struct {
	ID      string          `json:"id"`
	Conv    string          `json:"conv"`
	Sender  string          `json:"sender"`
	Client  string          `json:"client"`
	Text    string          `json:"text"`
	Created time.Time       `json:"created"`
	Channel string          `json:"channel"`
	Data    json.RawMessage `json:"data"`
	Trace   string          `json:"trace"`
}

// sendManyRow is one row of sendManyQuery: sendOneQuery's row for the send numbered i
// (from 1, in the batch's order).
type sendManyRow struct {
	I int `db:"i"`
	sendOneRow
}

// sendManyQuery is sendOneQuery for a batch of sends into distinct conversations, the
// inputs one JSON array of sendManyInput ($1). JSON rather than one array parameter
// per column: with arrays, each call's custom plan knew their length and Postgres kept
// planning the statement anew (613 plans in 801 calls, 2.9 ms each); a JSON record set
// is estimated the same whatever its length, so the statement runs on its generic plan. Each send is checked and written as sendOneQuery
// does, as if the batch's sends ran one after another in their order: a member who
// receives several of them gets that many unread events on their user channel, with
// consecutive seqs, the counts and totals each event would have had in that order.
// Locks are taken in the order every writer keeps: conversation seqs (in channel
// order), member rows, user seqs in user id order, totals in user id order. A used
// client id committed after the snapshot aborts the whole statement (the batch is
// then sent one by one).
//
// The conversations and members are looked up with "= ANY (ARRAY(SELECT conv FROM
// ...))" beside the joins (redundant filters): the generic plan estimates the record
// set at 100 sends and, without them, hash-joined sequential scans of
// conversation_members (three) and conversations to it on every call. With them the
// member lookups are index scans of the batch's conversations. Postgres CPU, bench
// database of c5-chat (1,000 members), alternating runs at load 8-15: one send
// 0.85-1.55 ms a call instead of 1.15-2.40 (lower in all six pairs); batches of 8
// 0.31-0.55 ms a send instead of 0.40-0.56 (lower in three pairs of five, even in two).
var sendManyQuery = `
	WITH b AS (
		SELECT * FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (id uuid, conv uuid, sender uuid, client uuid,
			text text, created timestamptz, channel text, data jsonb, trace text))
			WITH ORDINALITY AS b(id, conv, sender, client, text, created, channel, data, trace, i)),
	chk AS (
		SELECT b.i,
			COALESCE(bool_or(m.user_id = b.sender), false) AS member,
			COALESCE(bool_or(m.user_id <> b.sender AND EXISTS (SELECT 1 FROM blocks x
				WHERE (x.blocker_id = b.sender AND x.blocked_id = m.user_id) OR (x.blocker_id = m.user_id AND x.blocked_id = b.sender))), false) AS blocked,
			EXISTS (SELECT 1 FROM messages x WHERE x.sender_id = b.sender AND x.client_id = b.client) AS dup,
			count(m.user_id) FILTER (WHERE m.user_id <> b.sender) AS others
		FROM b LEFT JOIN conversation_members m ON m.conversation_id = b.conv AND m.conversation_id = ANY (ARRAY(SELECT conv FROM b))
		GROUP BY b.i, b.sender, b.client),
	ok AS (
		SELECT b.* FROM b JOIN chk ON chk.i = b.i WHERE chk.member AND NOT chk.blocked AND NOT chk.dup),
	s AS (
		INSERT INTO channel_seqs (channel, seq)
		SELECT channel, 1 FROM ok ORDER BY channel
		ON CONFLICT (channel) DO UPDATE SET seq = channel_seqs.seq + 1
		RETURNING channel, seq),
	sb AS (
		SELECT ok.*, s.seq FROM ok JOIN s ON s.channel = ok.channel),
	msg AS (
		INSERT INTO messages (id, conversation_id, seq, sender_id, client_id, text, attachments, created_at)
		SELECT id, conv, seq, sender, client, text, '[]', created FROM sb),
	ev AS (
		INSERT INTO events (channel, seq, type, data, trace)
		SELECT channel, seq, 'message.created', jsonb_set(data, '{seq}', to_jsonb(seq)), trace FROM sb),
	conv AS (
		UPDATE conversations c SET last_activity_at = sb.created FROM sb
		WHERE c.id = sb.conv AND c.id = ANY (ARRAY(SELECT conv FROM sb))),
	old AS (
		SELECT m.conversation_id, m.user_id, m.unread_count FROM conversation_members m
		WHERE m.conversation_id = ANY (ARRAY(SELECT conv FROM sb))
		ORDER BY m.conversation_id, m.user_id FOR UPDATE OF m),
	mem AS (
		UPDATE conversation_members m
		SET last_read_seq = CASE WHEN m.user_id = sb.sender THEN sb.seq ELSE m.last_read_seq END,
			unread_count = CASE WHEN m.user_id = sb.sender THEN 0 ELSE m.unread_count + 1 END
		FROM old, sb
		WHERE old.conversation_id = sb.conv AND m.conversation_id = sb.conv AND m.user_id = old.user_id
			AND m.conversation_id = ANY (ARRAY(SELECT conv FROM sb))
		RETURNING sb.i, sb.sender, m.user_id, m.unread_count),
	rc AS (
		SELECT mem.i, mem.user_id, mem.unread_count,
			row_number() OVER (PARTITION BY mem.user_id ORDER BY mem.i) AS k,
			count(*) OVER (PARTITION BY mem.user_id) AS n
		FROM mem WHERE mem.user_id <> mem.sender),
	us AS (
		INSERT INTO channel_seqs AS cs (channel, seq)
		SELECT 'user:' || user_id, count(*) FROM rc GROUP BY user_id ORDER BY user_id
		ON CONFLICT (channel) DO UPDATE SET seq = cs.seq + EXCLUDED.seq
		RETURNING channel, seq),
	d AS (
		SELECT old.user_id, sb.i, CASE WHEN old.user_id = sb.sender THEN -old.unread_count ELSE 1 END AS delta
		FROM old JOIN sb ON sb.conv = old.conversation_id
		WHERE (SELECT count(*) FROM us) >= 0 AND (old.user_id <> sb.sender OR old.unread_count > 0)),
	t AS (
		INSERT INTO unread_totals AS t (user_id, total)
		SELECT user_id, sum(delta) FROM d GROUP BY user_id ORDER BY user_id
		ON CONFLICT (user_id) DO UPDATE SET total = t.total + EXCLUDED.total
		RETURNING user_id, total),
	uev AS (
		SELECT rc.i, rc.user_id, rc.unread_count, us.channel, us.seq - rc.n + rc.k AS seq, sb.trace,
			jsonb_build_object('total', t.total - COALESCE((SELECT sum(d.delta) FROM d WHERE d.user_id = rc.user_id AND d.i > rc.i), 0),
				'conversation_id', sb.conv::text, 'count', rc.unread_count) AS data
		FROM rc JOIN us ON us.channel = 'user:' || rc.user_id JOIN t ON t.user_id = rc.user_id JOIN sb ON sb.i = rc.i),
	ue AS (
		INSERT INTO events (channel, seq, type, data, trace)
		SELECT channel, seq, 'unread', data, trace FROM uev
		RETURNING channel, seq, type, data, trace)
	SELECT chk.i, chk.member, chk.blocked, chk.dup, chk.others, sb.seq AS msg_seq,
		r.channel, r.seq, r.type, r.data, r.trace, r.user_id, r.unread_count, r.hide_push_previews
	FROM chk LEFT JOIN sb ON sb.i = chk.i LEFT JOIN (
		SELECT uev.i, ue.channel, ue.seq, ue.type, ue.data, ue.trace, uev.user_id, uev.unread_count, u.hide_push_previews
		FROM ue JOIN uev ON uev.channel = ue.channel AND uev.seq = ue.seq JOIN users u ON u.id = uev.user_id
	) r ON r.i = chk.i
	ORDER BY chk.i, r.user_id`
