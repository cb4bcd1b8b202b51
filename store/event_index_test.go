package store

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/gigstream/hub/market"
)

// TestEventIndexesServeTheirQueries: on a migrated database holding a week of chat
// (message.created and unread events on many conversations, a few order events) and an
// outbox backlog (a node died before publishing), each statement that reads events or
// event_outbox is planned through the index meant for it, never by scanning the whole
// table, and every index on the two tables serves at least one of them: an index no
// query uses only costs each send its upkeep (events_tx_idx did). Plans, not timings.
func TestEventIndexesServeTheirQueries(t *testing.T) {
	ctx := context.Background()
	db := openMigrated(t, Config{})

	// 60,000 events on 600 channels, one every 10 s over the last week, written in time
	// order as the send path appends them (so created_at follows the physical order);
	// the outbox keys of all but the last 5,000 then deleted (published).
	for _, q := range []string{`
		INSERT INTO events (channel, seq, type, data, created_at)
		SELECT CASE WHEN i % 100 = 0 THEN 'order:' ELSE 'conversation:' END || (i % 600),
			i / 600 + 1,
			CASE WHEN i % 100 = 0 THEN 'order.paid' WHEN i % 2 = 0 THEN 'message.created' ELSE 'unread.updated' END,
			jsonb_build_object('sender_id', 'u' || (i % 600), 'text', 'message number ' || i),
			now() - interval '600000 seconds' + i * interval '10 seconds'
		FROM generate_series(0, 59999) AS i`,
		`DELETE FROM event_outbox WHERE created_at < now() - interval '50000 seconds'`,
		`VACUUM ANALYZE events`,
		`VACUUM ANALYZE event_outbox`,
	} {
		if _, err := db.x.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}

	cases := []struct {
		name, query, index string
		args               []any
	}{
		{"History", historyQuery, "events_pkey", []any{"conversation:7", 40, 100}},
		{"History with head", historyWithHeadQuery, "events_pkey", []any{"conversation:7", 40, 100}},
		{"HistoryMany", historyManyQuery, "events_pkey",
			[]any{pq.Array([]string{"conversation:7", "conversation:8"}), pq.Array([]int64{40, 50}), 100}},
		{"RouteEvents", routableEventsQuery, "events_routable_idx", []any{"0", "", 0, 500}},
		{"ScheduleChatReach", chatArrivalsQuery, "events_chat_reach_idx", []any{"0", "", 0, 500}},
		{"Unpublished", unpublishedQuery, "event_outbox_age_idx", []any{5.0, 500}},
		{"MarkPublished", markPublishedQuery, "event_outbox_pkey",
			[]any{pq.Array([]string{"conversation:1", "conversation:2"}), pq.Array([]int64{99, 99})}},
		// The hourly retention prune: the oldest hour's events, 360 of them.
		{"PruneEvents", pruneEventsQuery, "events_created_brin", []any{596400.0}},
	}
	used := map[string]bool{}
	for _, c := range cases {
		var lines []string
		if err := db.x.SelectContext(ctx, &lines, "EXPLAIN (COSTS OFF) "+c.query, c.args...); err != nil {
			t.Fatalf("%s: explain: %v", c.name, err)
		}
		plan := strings.Join(lines, "\n")
		if !strings.Contains(plan, c.index) {
			t.Errorf("%s is not planned through %s:\n%s", c.name, c.index, plan)
		}
		t.Logf("%s:\n%s", c.name, plan)
		for _, l := range lines {
			for _, table := range []string{"events", "event_outbox"} {
				if strings.Contains(l+" ", "Seq Scan on "+table+" ") {
					t.Errorf("%s scans all of %s:\n%s", c.name, table, plan)
				}
			}
		}
		for _, l := range lines { // "Index Scan using ix on t", "Bitmap Index Scan on ix"
			if _, after, ok := strings.Cut(l, "Scan using "); ok {
				used[strings.Fields(after)[0]] = true
			} else if _, after, ok := strings.Cut(l, "Bitmap Index Scan on "); ok {
				used[strings.Fields(after)[0]] = true
			}
		}
	}
	var indexes []string
	if err := db.x.SelectContext(ctx, &indexes, `
		SELECT indexname FROM pg_indexes WHERE tablename IN ('events', 'event_outbox') ORDER BY indexname`); err != nil {
		t.Fatal(err)
	}
	for _, ix := range indexes {
		if !used[ix] {
			t.Errorf("index %s serves none of the queries on events and event_outbox; each send pays its upkeep", ix)
		}
	}
}

// nopPublisher takes every event and publishes nothing.
type nopPublisher struct{}

func (nopPublisher) Publish(context.Context, market.Event) error { return nil }

// TestOutboxPublisherVacuumsTheOutbox: a node's outbox publisher that has marked more
// than market.OutboxVacuumEvery events published vacuums event_outbox itself, so the
// keys it deleted do not wait for autovacuum's next visit.
func TestOutboxPublisherVacuumsTheOutbox(t *testing.T) {
	ctx := context.Background()
	db := openMigrated(t, Config{})
	// Autovacuum off for the table, so the only vacuum is the publisher's.
	if _, err := db.x.ExecContext(ctx, `ALTER TABLE event_outbox SET (autovacuum_enabled = off)`); err != nil {
		t.Fatal(err)
	}
	var events []market.Event
	for i := range market.OutboxVacuumEvery + 200 {
		ev, err := db.AppendEvent(ctx, "user:"+[]string{"a", "b", "c"}[i%3], "probe", []byte(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, ev)
	}

	rt := market.NewRealtime(db, nopPublisher{}, market.ChannelMembers{}, market.RealtimeConfig{RelayAfter: time.Hour}, slog.New(slog.DiscardHandler))
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); rt.RunOutbox(runCtx) }()
	defer func() { stop(); <-done }()
	rt.PublishCommitted(ctx, events...)

	deadline := time.Now().Add(30 * time.Second)
	for {
		var left, vacuums int
		if err := db.x.GetContext(ctx, &left, `SELECT count(*) FROM event_outbox`); err != nil {
			t.Fatal(err)
		}
		if err := db.x.GetContext(ctx, &vacuums, `
			SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'event_outbox'`); err != nil {
			t.Fatal(err)
		}
		if left == 0 && vacuums > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after marking %d events: %d outbox keys left, event_outbox vacuumed %d times; want 0 left and a vacuum", len(events), left, vacuums)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestOutboxVacuumKeepsItsPages: the outbox publisher's vacuum of event_outbox (and
// autovacuum's) frees the space of deleted keys without truncating the table, since
// truncating takes an ACCESS EXCLUSIVE lock that every send's key insert waits for
// (migration 00073). Without the table's vacuum_truncate = false, the vacuum of a table
// whose keys were all deleted shrinks it to nothing.
func TestOutboxVacuumKeepsItsPages(t *testing.T) {
	ctx := context.Background()
	db := openMigrated(t, Config{})
	for _, q := range []string{
		`ALTER TABLE event_outbox SET (autovacuum_enabled = off)`,
		`INSERT INTO events (channel, seq, type, data) SELECT 'user:probe', i, 'probe', '{}' FROM generate_series(1, 5000) AS i`,
		`DELETE FROM event_outbox`,
	} {
		if _, err := db.x.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	var before, after int64
	size := `SELECT pg_relation_size('event_outbox')`
	if err := db.x.GetContext(ctx, &before, size); err != nil {
		t.Fatal(err)
	}
	if err := db.VacuumOutbox(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.x.GetContext(ctx, &after, size); err != nil {
		t.Fatal(err)
	}
	if before == 0 || after != before {
		t.Fatalf("event_outbox was %d bytes with 5,000 deleted keys, %d after the publisher's vacuum; want the same, nonzero", before, after)
	}
}
