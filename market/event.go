package market

import (
	"context"
	"encoding/json"
	"errors"
)

// Event is a real-time event on a channel. Durable events have a per-channel Seq (1, 2,
// 3, …) and are stored; ephemeral ones (typing) have Seq 0 and are never stored.
type Event struct {
	Channel string          `json:"channel" db:"channel"`
	Seq     uint64          `json:"seq" db:"seq"`
	Type    string          `json:"type" db:"type"`
	Data    json.RawMessage `json:"data" db:"data"`
	// Trace is the W3C traceparent of the request that caused the event, kept with a
	// durable event's row so its delivery joins that trace; empty when it was not
	// traced. It stays inside the system: clients never see it.
	Trace string `json:"-" db:"trace"`
}

// Publisher hands events to the live fan-out (the hub). Durable events must be
// committed before they are published.
type Publisher interface {
	Publish(ctx context.Context, ev Event) error
}

// AsyncPublisher is a Publisher that can also take an event without making the
// caller wait for the fan-out's backend: done later receives what Publish would
// have returned. PublishAsync itself returns only errors it knows at once (a bad
// channel or event), and then done is not called. ctx carries the caller's values
// (its trace), not a deadline: the publish outlives the call.
type AsyncPublisher interface {
	PublishAsync(ctx context.Context, ev Event, done func(error)) error
}

// ErrHistoryGone is returned, wrapped, when the events after a seq are older than the
// retention window, so a reconnecting client must reload instead of catching up.
var ErrHistoryGone = errors.New("market: history no longer available")

// HistoryRead is one channel's read in a HistoryMany call: its durable events with
// seq > Since.
type HistoryRead struct {
	Channel string
	Since   uint64
}

// HistoryPage answers one HistoryRead as History would: up to the limit of events,
// oldest first, or Err wrapping ErrHistoryGone.
type HistoryPage struct {
	Events []Event
	Err    error
}
