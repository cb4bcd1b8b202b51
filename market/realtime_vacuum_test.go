package market

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"
)

// countingEvents is an EventStore that only counts marks and outbox vacuums.
type countingEvents struct {
	marked, vacuums int
}

func (c *countingEvents) AppendEvent(context.Context, string, string, json.RawMessage) (Event, error) {
	return Event{}, nil
}
func (c *countingEvents) History(context.Context, string, uint64, int) ([]Event, error) {
	return nil, nil
}
func (c *countingEvents) HistoryMany(context.Context, []HistoryRead, int) ([]HistoryPage, error) {
	return nil, nil
}
func (c *countingEvents) MarkPublished(_ context.Context, events []Event) error {
	c.marked += len(events)
	return nil
}
func (c *countingEvents) VacuumOutbox(context.Context) error { c.vacuums++; return nil }
func (c *countingEvents) Unpublished(context.Context, time.Duration, int) ([]Event, error) {
	return nil, nil
}
func (c *countingEvents) PruneEvents(context.Context, time.Duration) (int64, error) { return 0, nil }

// TestOutboxVacuumAtMostOncePerPeriod: the outbox publisher vacuums after
// OutboxVacuumEvery marked keys, but never twice within OutboxVacuumPeriod, however
// many keys it marks meanwhile; the keys marked in between count towards the next one.
func TestOutboxVacuumAtMostOncePerPeriod(t *testing.T) {
	store := &countingEvents{}
	r := NewRealtime(store, nil, ChannelMembers{}, RealtimeConfig{}, slog.New(slog.DiscardHandler))
	clock := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	r.now = func() time.Time { return clock }
	mark := func(n int) {
		t.Helper()
		for i := range n {
			r.marks <- Event{Channel: "user:a", Seq: uint64(i + 1)}
		}
		for len(r.marks) > 0 {
			r.markBatch(context.Background())
		}
	}
	steps := []struct {
		advance time.Duration
		keys    int
		vacuums int
	}{
		{0, OutboxVacuumEvery - 1, 0}, // not enough keys
		{0, 1, 1},                     // enough: the first vacuum
		{OutboxVacuumPeriod / 2, 3 * OutboxVacuumEvery, 1}, // keys enough, too soon
		{OutboxVacuumPeriod / 2, 1, 2},                     // a period after the first
		{2 * OutboxVacuumPeriod, OutboxVacuumEvery / 2, 2}, // time enough, too few keys
		{0, OutboxVacuumEvery / 2, 3},                      // both
	}
	for i, s := range steps {
		clock = clock.Add(s.advance)
		mark(s.keys)
		if store.vacuums != s.vacuums {
			t.Fatalf("step %d: %d vacuums after %d keys marked, want %d", i, store.vacuums, store.marked, s.vacuums)
		}
	}
}
