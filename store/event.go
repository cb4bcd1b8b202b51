package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/gigstream/hub/market"
)

// appendEvent writes a durable event inside tx with the channel's next seq. The row
// lock on the channel's counter serializes writers of one channel until they commit,
// so seqs are dense and become visible in order. It is one statement
// (appendEventQuery), so the counter row is held for one round trip less: the
// settlements of one seller all wait for the seller's user channel.
func appendEvent(ctx context.Context, tx txQuerier, channel, eventType string, data any) (market.Event, error) {
	ev, err := newEvent(ctx, channel, eventType, data)
	if err != nil {
		return ev, err
	}
	if err := tx.GetContext(ctx, &ev.Seq, appendEventQuery, channel, eventType, ev.Data, ev.Trace); err != nil {
		return market.Event{}, fmt.Errorf("store event %s on %s: %w", eventType, channel, err)
	}
	return ev, nil
}

// appendEventsByChannel stores events of eventType on several channels in one
// statement (appendEventsByChannelQuery), data[channel] in order on each, and returns
// them stored, by channel name, each channel's in order. Each channel's counter row is
// taken in name order, as one statement per channel in that order would take them.
func appendEventsByChannel(ctx context.Context, tx txQuerier, eventType string, data map[string][]any) ([]market.Event, error) {
	channels := slices.Sorted(maps.Keys(data))
	var events []market.Event
	var names, raws []string
	for _, ch := range channels {
		for _, d := range data[ch] {
			ev, err := newEvent(ctx, ch, eventType, d)
			if err != nil {
				return nil, err
			}
			events, names, raws = append(events, ev), append(names, ch), append(raws, string(ev.Data))
		}
	}
	if len(events) == 0 {
		return nil, nil
	}
	var lasts []struct {
		Channel string `db:"channel"`
		Seq     uint64 `db:"seq"`
	}
	if err := tx.SelectContext(ctx, &lasts, appendEventsByChannelQuery, pq.Array(names), pq.Array(raws), eventType, events[0].Trace); err != nil {
		return nil, fmt.Errorf("store %d events %s on %d channels: %w", len(events), eventType, len(channels), err)
	}
	if len(lasts) != len(channels) {
		return nil, fmt.Errorf("store %d events %s: %d of %d channels took seqs", len(events), eventType, len(lasts), len(channels))
	}
	i := 0
	for _, last := range lasts {
		n := len(data[last.Channel])
		for k := range n {
			events[i+k].Seq = last.Seq - uint64(n-1-k)
		}
		i += n
	}
	return events, nil
}

// appendEventsByChannelQuery takes the next seqs of each channel of $1 (a channel per
// event, each channel's events in a row) in channel name order, stores the events ($2
// data in order, $3 type, $4 trace) under them, and returns each channel's last seq,
// by name.
const appendEventsByChannelQuery = `
	WITH counts AS (
		SELECT channel, count(*) AS k FROM unnest($1::text[]) AS d(channel) GROUP BY channel),
	s AS (
		INSERT INTO channel_seqs (channel, seq) SELECT channel, k FROM counts ORDER BY channel
		ON CONFLICT (channel) DO UPDATE SET seq = channel_seqs.seq + EXCLUDED.seq
		RETURNING channel, seq),
	e AS (
		INSERT INTO events (channel, seq, type, data, trace)
		SELECT d.channel, s.seq - counts.k + row_number() OVER (PARTITION BY d.channel ORDER BY d.n), $3::text, d.data::jsonb, $4::text
		FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS d(channel, data, n)
		JOIN s USING (channel) JOIN counts USING (channel))
	SELECT channel, seq FROM s ORDER BY channel`

// newEvent is the event of type on channel with data encoded and the caller's trace,
// without its seq.
func newEvent(ctx context.Context, channel, eventType string, data any) (market.Event, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return market.Event{}, fmt.Errorf("encode event %s: %w", eventType, err)
	}
	return market.Event{Channel: channel, Type: eventType, Data: raw, Trace: traceParent(ctx)}, nil
}

// appendEventQuery takes channel $1's next seq (nextSeqQuery) and stores the event
// ($2 type, $3 data, $4 trace) under it; it returns the seq.
const appendEventQuery = `
	WITH s AS (` + nextSeqQuery + `)
	INSERT INTO events (channel, seq, type, data, trace) SELECT $1, s.seq, $2::text, $3::jsonb, $4::text FROM s
	RETURNING seq`

const nextSeqQuery = `
	INSERT INTO channel_seqs (channel, seq) VALUES ($1, 1)
	ON CONFLICT (channel) DO UPDATE SET seq = channel_seqs.seq + 1
	RETURNING seq`

// nextSeq takes the channel's next seq, holding its counter row locked until tx ends.
func nextSeq(ctx context.Context, tx *sqlx.Tx, channel string) (uint64, error) {
	var seq uint64
	if err := tx.GetContext(ctx, &seq, nextSeqQuery, channel); err != nil {
		return 0, fmt.Errorf("next seq of %s: %w", channel, err)
	}
	return seq, nil
}

// nextSeqWith is nextSeq through nextSeqQuery prepared (see DB.prepare).
func nextSeqWith(ctx context.Context, tx *sqlx.Tx, st *sqlx.Stmt, channel string) (uint64, error) {
	var seq uint64
	if err := tx.StmtxContext(ctx, st).GetContext(ctx, &seq, channel); err != nil {
		return 0, fmt.Errorf("next seq of %s: %w", channel, err)
	}
	return seq, nil
}

// lockChannel holds the channel's counter row until tx ends, without taking a seq.
func lockChannel(ctx context.Context, tx *sqlx.Tx, channel string) error {
	if _, err := tx.ExecContext(ctx, `SELECT seq FROM channel_seqs WHERE channel = $1 FOR UPDATE`, channel); err != nil {
		return fmt.Errorf("lock %s: %w", channel, err)
	}
	return nil
}

// insertEvent stores the event with a seq taken by nextSeq in the same tx.
func insertEvent(ctx context.Context, tx *sqlx.Tx, channel string, seq uint64, eventType string, data any) (market.Event, error) {
	ev, err := newEvent(ctx, channel, eventType, data)
	if err != nil {
		return ev, err
	}
	ev.Seq = seq
	_, err = tx.ExecContext(ctx, `INSERT INTO events (channel, seq, type, data, trace) VALUES ($1, $2, $3, $4, $5)`,
		channel, seq, eventType, ev.Data, ev.Trace)
	if err != nil {
		return market.Event{}, fmt.Errorf("store event: %w", err)
	}
	return ev, nil
}

// AppendEvent stores one durable event in its own transaction; the publish API uses it
// for events that change nothing else.
func (db *DB) AppendEvent(ctx context.Context, channel, eventType string, data json.RawMessage) (market.Event, error) {
	var ev market.Event
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		ev, err = appendEvent(ctx, tx, channel, eventType, data)
		return err
	})
	return ev, err
}

// History returns up to limit events of channel after since, oldest first. It returns
// an error wrapping market.ErrHistoryGone when some of those events were already
// deleted by retention, so the caller cannot be given a gap-free history.
//
// The common case is one query. When its first event does not follow since, the
// events and the channel's head are read again in one statement, so both come from
// one snapshot: read apart, a first event committed between them looked like a head
// past since with nothing to show for it, and a fresh channel's subscriber was told its
// history was gone.
func (db *DB) History(ctx context.Context, channel string, since uint64, limit int) ([]market.Event, error) {
	events := []market.Event{}
	err := db.x.SelectContext(ctx, &events, historyQuery, channel, since, limit)
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", channel, err)
	}
	if len(events) > 0 && events[0].Seq == since+1 {
		return events, nil
	}
	head, events, err := db.historyWithHead(ctx, channel, since, limit)
	if err != nil {
		return nil, err
	}
	if (len(events) == 0 || events[0].Seq != since+1) && head > since {
		return nil, fmt.Errorf("history of %s after %d: %w", channel, since, market.ErrHistoryGone)
	}
	return events, nil
}

// historyQuery reads up to $3 events of channel $1 after seq $2, oldest first.
const historyQuery = `
	SELECT channel, seq, type, data FROM events
	WHERE channel = $1 AND seq > $2 ORDER BY seq LIMIT $3`

// historyWithHead reads the channel's newest seq (0 when it has none) and up to limit
// events after since in one statement.
func (db *DB) historyWithHead(ctx context.Context, channel string, since uint64, limit int) (uint64, []market.Event, error) {
	var rows []struct {
		Head uint64         `db:"head"`
		Seq  sql.NullInt64  `db:"seq"`
		Type sql.NullString `db:"type"`
		Data []byte         `db:"data"`
	}
	err := db.x.SelectContext(ctx, &rows, historyWithHeadQuery, channel, since, limit)
	if err != nil {
		return 0, nil, fmt.Errorf("history and head of %s: %w", channel, err)
	}
	if len(rows) == 0 { // the outer row always exists; guard anyway
		return 0, nil, fmt.Errorf("history and head of %s: no row", channel)
	}
	events := make([]market.Event, 0, len(rows))
	for _, r := range rows {
		if r.Seq.Valid {
			events = append(events, market.Event{Channel: channel, Seq: uint64(r.Seq.Int64), Type: r.Type.String, Data: r.Data})
		}
	}
	return rows[0].Head, events, nil
}

// historyWithHeadQuery reads channel $1's head and up to $3 of its events after $2.
const historyWithHeadQuery = `
	SELECT h.head, e.seq, e.type, e.data
	FROM (SELECT COALESCE((SELECT seq FROM channel_seqs WHERE channel = $1), 0) AS head) h
	LEFT JOIN LATERAL (
		SELECT seq, type, data FROM events WHERE channel = $1 AND seq > $2 ORDER BY seq LIMIT $3
	) e ON true
	ORDER BY e.seq`

// HistoryMany is History for many channels in one statement, for recoveries that
// wait at the same moment (a reconnect storm): pages[i] answers reads[i] with
// History's contract, ErrHistoryGone (wrapped) in its Err when some of those events
// were deleted by retention. Every channel's events and head are read in one
// snapshot, so a first event committing meanwhile is never taken for a gone one. It
// returns an error only when the statement fails.
func (db *DB) HistoryMany(ctx context.Context, reads []market.HistoryRead, limit int) ([]market.HistoryPage, error) {
	channels, sinces := make([]string, len(reads)), make([]int64, len(reads))
	for i, r := range reads {
		channels[i], sinces[i] = r.Channel, int64(r.Since)
	}
	var rows []historyManyRow
	err := db.x.SelectContext(ctx, &rows, historyManyQuery, pq.Array(channels), pq.Array(sinces), limit)
	if err != nil {
		return nil, fmt.Errorf("history of %d channels: %w", len(reads), err)
	}
	return historyPages(reads, rows), nil
}

// historyManyQuery reads, for each channel $1[i] and seq $2[i], the channel's head and
// up to $3 of its events after that seq.
const historyManyQuery = `
	SELECT r.i, h.head, e.seq, e.type, e.data
	FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS r(channel, since, i)
	CROSS JOIN LATERAL (
		SELECT COALESCE((SELECT seq FROM channel_seqs WHERE channel = r.channel), 0) AS head
	) h
	LEFT JOIN LATERAL (
		SELECT seq, type, data FROM events WHERE channel = r.channel AND seq > r.since ORDER BY seq LIMIT $3
	) e ON true
	ORDER BY r.i, e.seq`

// historyManyRow is one row of HistoryMany: read I's channel head and one of its
// events (none when Seq is null).
type historyManyRow struct {
	I    int            `db:"i"`
	Head uint64         `db:"head"`
	Seq  sql.NullInt64  `db:"seq"`
	Type sql.NullString `db:"type"`
	Data []byte         `db:"data"`
}

// historyPages groups HistoryMany's rows by read and tells a gone history apart.
func historyPages(reads []market.HistoryRead, rows []historyManyRow) []market.HistoryPage {
	pages := make([]market.HistoryPage, len(reads))
	heads := make([]uint64, len(reads))
	for _, r := range rows {
		i := r.I - 1 // ordinality counts from 1
		heads[i] = r.Head
		if r.Seq.Valid {
			ev := market.Event{Channel: reads[i].Channel, Seq: uint64(r.Seq.Int64), Type: r.Type.String, Data: r.Data}
			pages[i].Events = append(pages[i].Events, ev)
		}
	}
	for i, r := range reads {
		evs := pages[i].Events
		if (len(evs) == 0 || evs[0].Seq != r.Since+1) && heads[i] > r.Since {
			pages[i] = market.HistoryPage{Err: fmt.Errorf("history of %s after %d: %w", r.Channel, r.Since, market.ErrHistoryGone)}
		}
	}
	return pages
}

// MarkPublished records, in one statement, that events reached the broker: it deletes
// their keys from the outbox (event_outbox), so the relay leaves them be. The event
// rows themselves are never rewritten.
func (db *DB) MarkPublished(ctx context.Context, events []market.Event) error {
	channels := make([]string, len(events))
	seqs := make([]int64, len(events))
	for i, ev := range events {
		channels[i], seqs[i] = ev.Channel, int64(ev.Seq)
	}
	if _, err := db.x.ExecContext(ctx, markPublishedQuery, pq.Array(channels), pq.Array(seqs)); err != nil {
		return fmt.Errorf("mark published: %w", err)
	}
	return nil
}

// markPublishedQuery deletes the outbox keys ($1 channels, $2 seqs, pairwise).
const markPublishedQuery = `
	DELETE FROM event_outbox o
	USING unnest($1::text[], $2::bigint[]) AS p(channel, seq)
	WHERE o.channel = p.channel AND o.seq = p.seq`

// VacuumOutbox vacuums event_outbox, whose rows live for a tenth of a second: under
// load, autovacuum's minute-long naps let dead keys pile up in the heap and in both
// indexes faster than the relay's scan and the deletions can skip them. The outbox
// publisher calls it every market.OutboxVacuumEvery deletions. SKIP_LOCKED: when
// another node is vacuuming the table, this call does nothing.
func (db *DB) VacuumOutbox(ctx context.Context) error {
	if _, err := db.x.ExecContext(ctx, `VACUUM (SKIP_LOCKED) event_outbox`); err != nil {
		return fmt.Errorf("vacuum event_outbox: %w", err)
	}
	return nil
}

// Unpublished returns up to limit events older than olderThan that no node has
// published (their key is still in the outbox): a node died between commit and publish.
func (db *DB) Unpublished(ctx context.Context, olderThan time.Duration, limit int) ([]market.Event, error) {
	events := []market.Event{}
	if err := db.x.SelectContext(ctx, &events, unpublishedQuery, olderThan.Seconds(), limit); err != nil {
		return nil, fmt.Errorf("unpublished events: %w", err)
	}
	return events, nil
}

// unpublishedQuery reads the $2 oldest events whose outbox key is older than $1
// seconds, oldest first (through event_outbox_age_idx).
const unpublishedQuery = `
	SELECT e.channel, e.seq, e.type, e.data, e.trace
	FROM event_outbox o JOIN events e ON e.channel = o.channel AND e.seq = o.seq
	WHERE o.created_at < now() - make_interval(secs => $1)
	ORDER BY o.created_at, o.channel, o.seq LIMIT $2`

// PruneEvents deletes events older than keep, and the outbox keys of any of them never
// published, and returns how many events went.
func (db *DB) PruneEvents(ctx context.Context, keep time.Duration) (int64, error) {
	var n int64
	if err := db.x.GetContext(ctx, &n, pruneEventsQuery, keep.Seconds()); err != nil {
		return 0, fmt.Errorf("prune events: %w", err)
	}
	return n, nil
}

// pruneEventsQuery deletes the events and outbox keys older than $1 seconds (through
// events_created_brin and event_outbox_age_idx) and counts the events.
const pruneEventsQuery = `
	WITH o AS (DELETE FROM event_outbox WHERE created_at < now() - make_interval(secs => $1)),
		e AS (DELETE FROM events WHERE created_at < now() - make_interval(secs => $1) RETURNING 1)
	SELECT count(*) FROM e`

var _ market.EventStore = (*DB)(nil)
