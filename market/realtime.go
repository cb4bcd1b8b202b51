package market

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"
)

// Realtime holds the rules of the live channels: who may subscribe, durable events
// stored then published after commit, and the outbox relay that republishes what a
// crashed node left unpublished.
type Realtime struct {
	events  EventStore
	pub     Publisher
	members ChannelMembers
	cfg     RealtimeConfig
	log     *slog.Logger
	marks   chan Event // published durable events waiting to be marked, in batches
	// marked and vacuumed belong to RunOutbox's goroutine: keys deleted from the outbox
	// since its last vacuum, and when that vacuum ran.
	marked   int
	vacuumed time.Time
	now      func() time.Time
}

// NewRealtime returns the real-time rules over their collaborators.
func NewRealtime(events EventStore, pub Publisher, members ChannelMembers, cfg RealtimeConfig, log *slog.Logger) *Realtime {
	if cfg.Retention <= 0 {
		cfg.Retention = 7 * 24 * time.Hour
	}
	if cfg.RelayAfter <= 0 {
		cfg.RelayAfter = 5 * time.Second
	}
	if cfg.RelayPeriod <= 0 {
		cfg.RelayPeriod = 2 * time.Second
	}
	if log == nil {
		log = slog.Default()
	}
	return &Realtime{events: events, pub: pub, members: members, cfg: cfg, log: log, marks: make(chan Event, markQueue), now: time.Now}
}

// RealtimeConfig tunes the durable event stream. The zero value means the defaults.
type RealtimeConfig struct {
	Retention   time.Duration // how far back a reconnecting client can recover; default 7 days
	RelayAfter  time.Duration // an event unpublished this long is republished by the relay; default 5 s
	RelayPeriod time.Duration // how often the relay looks; default 2 s
}

// EventStore keeps durable events; store/ implements it.
type EventStore interface {
	AppendEvent(ctx context.Context, channel, eventType string, data json.RawMessage) (Event, error)
	History(ctx context.Context, channel string, since uint64, limit int) ([]Event, error)
	HistoryMany(ctx context.Context, reads []HistoryRead, limit int) ([]HistoryPage, error)
	MarkPublished(ctx context.Context, events []Event) error
	VacuumOutbox(ctx context.Context) error
	Unpublished(ctx context.Context, olderThan time.Duration, limit int) ([]Event, error)
	PruneEvents(ctx context.Context, keep time.Duration) (int64, error)
}

// ChannelMembers answers who may follow a conversation or an order channel. Nil
// fields refuse those channels (the features that own them are not wired).
type ChannelMembers struct {
	Conversation func(ctx context.Context, conversationID, userID string) (bool, error)
	Order        func(ctx context.Context, orderID, userID string) (bool, error)
}

// markQueue bounds the published events waiting to be marked; past it a mark is
// dropped, which only means the relay publishes that event once more (clients drop
// duplicates by seq).
const markQueue = 10000

// OutboxVacuumEvery is how many outbox keys a node marks published (deletes) before it
// vacuums the outbox (EventStore.VacuumOutbox): its rows live for a tenth of a second,
// and autovacuum's naps let a busy minute's dead keys pile up. OutboxVacuumPeriod is
// the least time between two of a node's vacuums: under load a vacuum every 1,000 keys
// came several times a second (6 a second at 3,000 chat messages/s, two keys each), each
// one a pass over the table and both its indexes, while one a second leaves at most a
// second of dead keys (a few thousand) to step over.
const (
	OutboxVacuumEvery  = 1000
	OutboxVacuumPeriod = time.Second
)

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// ParseChannel splits a channel name into its kind (user, conversation, order) and
// object id. It returns an invalid Error naming "channel" for any other name.
func ParseChannel(channel string) (kind, id string, err error) {
	kind, id, ok := strings.Cut(channel, ":")
	if !ok || !uuidPattern.MatchString(id) || kind != "user" && kind != "conversation" && kind != "order" {
		return "", "", FieldError(CodeInvalid, "channel", "must be user:{id}, conversation:{id} or order:{id} with a lower-case UUID")
	}
	return kind, id, nil
}

// UserChannel is the private channel of one user.
func UserChannel(userID string) string { return "user:" + userID }

// AuthorizeChannel decides whether userID may subscribe to channel: their own user
// channel, a conversation they take part in, an order they buy or sell. Anything
// else is a not-found Error, so a refusal reveals nothing about the channel.
func (r *Realtime) AuthorizeChannel(ctx context.Context, userID, channel string) error {
	kind, id, err := ParseChannel(channel)
	if err != nil {
		return ErrNotFound
	}
	var ok bool
	switch {
	case kind == "user":
		ok = id == userID
	case kind == "conversation" && r.members.Conversation != nil:
		ok, err = r.members.Conversation(ctx, id, userID)
	case kind == "order" && r.members.Order != nil:
		ok, err = r.members.Order(ctx, id, userID)
	}
	if err != nil {
		return fmt.Errorf("authorize %s: %w", channel, err)
	}
	if !ok {
		return ErrNotFound
	}
	return nil
}

// History returns the durable events of channel after since, for recovery.
func (r *Realtime) History(ctx context.Context, channel string, since uint64, limit int) ([]Event, error) {
	return r.events.History(ctx, channel, since, limit)
}

// HistoryMany is History for many channels at once: pages[i] answers reads[i].
func (r *Realtime) HistoryMany(ctx context.Context, reads []HistoryRead, limit int) ([]HistoryPage, error) {
	return r.events.HistoryMany(ctx, reads, limit)
}

var eventTypePattern = regexp.MustCompile(`^[a-z][a-z0-9_.]{0,63}$`)

// PublishInput is an event another back end sends through the server publish API.
type PublishInput struct {
	Channel, Type string
	Data          json.RawMessage
	Durable       bool
}

// Publish sends an event from a trusted back end: durable ones are stored first, with
// their seq, and published after commit. It returns an invalid Error naming the field
// for a bad channel, type or payload.
func (r *Realtime) Publish(ctx context.Context, in PublishInput) (Event, error) {
	if _, _, err := ParseChannel(in.Channel); err != nil {
		return Event{}, err
	}
	if !eventTypePattern.MatchString(in.Type) {
		return Event{}, FieldError(CodeInvalid, "type", "must be 1 to 64 of a-z, 0-9, _ and ., starting with a letter")
	}
	if len(in.Data) == 0 || !json.Valid(in.Data) {
		return Event{}, FieldError(CodeInvalid, "data", "must be a JSON value")
	}
	ev := Event{Channel: in.Channel, Type: in.Type, Data: in.Data}
	if in.Durable {
		var err error
		if ev, err = r.events.AppendEvent(ctx, in.Channel, in.Type, in.Data); err != nil {
			return Event{}, err
		}
	}
	r.PublishCommitted(ctx, ev)
	return ev, nil
}

// PublishCommitted hands committed events to the hub and queues the ones that went
// out to be marked published (in batches, off the request path). A failure is only
// logged: the events are safe in Postgres, the relay republishes them, and clients
// find gaps by seq. With an AsyncPublisher it does not wait for the hub's backend:
// an event is marked once the backend has taken it. A nil Realtime publishes nothing
// (use cases built without a hub, in tests and one-off commands); the relay still
// finds the events.
func (r *Realtime) PublishCommitted(ctx context.Context, events ...Event) {
	if r == nil {
		return
	}
	async, _ := r.pub.(AsyncPublisher)
	for _, ev := range events {
		if async == nil {
			r.published(ctx, ev, r.pub.Publish(ctx, ev))
			continue
		}
		logCtx := context.WithoutCancel(ctx)
		if err := async.PublishAsync(logCtx, ev, func(err error) { r.published(logCtx, ev, err) }); err != nil {
			r.published(ctx, ev, err)
		}
	}
}

// published records the outcome of publishing ev: a durable event that went out is
// queued to be marked.
func (r *Realtime) published(ctx context.Context, ev Event, err error) {
	if err != nil {
		r.log.WarnContext(ctx, "event not published; the relay will retry", "channel", ev.Channel, "seq", ev.Seq, "err", err)
		return
	}
	if ev.Seq == 0 {
		return
	}
	select {
	case r.marks <- Event{Channel: ev.Channel, Seq: ev.Seq}:
	default: // full: the relay will publish it again, harmlessly
	}
}

// markBatch marks what the queue holds now, up to 1,000 events, in one statement, and
// vacuums the outbox once OutboxVacuumEvery keys were marked since the last vacuum and
// OutboxVacuumPeriod has passed since it.
func (r *Realtime) markBatch(ctx context.Context) {
	var batch []Event
	for len(batch) < 1000 {
		select {
		case ev := <-r.marks:
			batch = append(batch, ev)
			continue
		default:
		}
		break
	}
	if len(batch) == 0 {
		return
	}
	if err := r.events.MarkPublished(ctx, batch); err != nil {
		if !errors.Is(err, context.Canceled) {
			r.log.WarnContext(ctx, "published events not marked; the relay will publish them again", "count", len(batch), "err", err)
		}
		return
	}
	r.marked += len(batch)
	now := r.now()
	if r.marked < OutboxVacuumEvery || now.Sub(r.vacuumed) < OutboxVacuumPeriod {
		return
	}
	r.marked, r.vacuumed = 0, now
	if err := r.events.VacuumOutbox(ctx); err != nil && !errors.Is(err, context.Canceled) {
		r.log.WarnContext(ctx, "event outbox not vacuumed", "err", err)
	}
}

// RunOutbox marks published events in batches, republishes durable events that
// stayed unpublished (their node died after commit) and prunes events past the
// retention window, until ctx ends.
func (r *Realtime) RunOutbox(ctx context.Context) {
	tick := time.NewTicker(r.cfg.RelayPeriod)
	defer tick.Stop()
	marks := time.NewTicker(100 * time.Millisecond)
	defer marks.Stop()
	lastPrune := time.Time{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-marks.C:
			r.markBatch(ctx)
			continue
		case <-tick.C:
		}
		r.markBatch(ctx)
		r.relayOnce(ctx)
		if time.Since(lastPrune) > time.Hour {
			lastPrune = time.Now()
			if n, err := r.events.PruneEvents(ctx, r.cfg.Retention); err != nil && !errors.Is(err, context.Canceled) {
				r.log.WarnContext(ctx, "events not pruned", "err", err)
			} else if n > 0 {
				r.log.InfoContext(ctx, "events pruned", "count", n)
			}
		}
	}
}

func (r *Realtime) relayOnce(ctx context.Context) {
	events, err := r.events.Unpublished(ctx, r.cfg.RelayAfter, 500)
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			r.log.WarnContext(ctx, "outbox relay", "err", err)
		}
		return
	}
	if len(events) > 0 {
		r.log.InfoContext(ctx, "outbox relay republishing", "count", len(events))
		r.PublishCommitted(ctx, events...)
	}
}
