package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"

	"github.com/gigstream/hub/market"
)

// NotificationEmailJob is the queued job (river) that e-mails one notification; river
// retries it with backoff, so an SMTP outage delays the mail but never loses it.
type NotificationEmailJob struct {
	NotificationID string `json:"notification_id"`
}

// Kind names the job in river's tables.
func (NotificationEmailJob) Kind() string { return "notification_email" }

// InsertOpts puts the job in the mail queue and bounds its retries: with river's backoff
// (attempt⁴ seconds) ten attempts span about three hours.
func (NotificationEmailJob) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueMail, MaxAttempts: 10}
}

// routableRow is an event row with its position.
type routableRow struct {
	eventPosition
	Type string `db:"type"`
	Data []byte `db:"data"`
}

// routeBatch is the work of one RouteEvents transaction.
type routeBatch struct {
	tx     *sqlx.Tx
	route  func(market.RoutableEvent) []market.Notification
	orders map[string]*market.Order
	prefs  map[string]market.NotificationPrefs
	jobs   *river.Client[*sql.Tx]
	routed []market.Routed
	events []market.Event
}

// RouteEvents routes the events after the named cursor (see market.NotificationStore).
// The cursor row is taken with SKIP LOCKED: when another node is routing, ok is false
// and nothing happens. Only events below the oldest running transaction are read, so
// one that commits later than a newer one is still routed, once. A notification
// already stored for the same recipient, event and kind is not stored again.
func (db *DB) RouteEvents(ctx context.Context, cursor string, limit int, route func(market.RoutableEvent) []market.Notification) ([]market.Routed, []market.Event, bool, error) {
	var b *routeBatch
	ok := false
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		pos, locked, err := lockEventCursor(ctx, tx, cursor)
		if err != nil || !locked {
			return err
		}
		ok = true
		rows := []routableRow{}
		// ORDER BY events.tx_id: a bare tx_id would be the text alias of the select list.
		err = tx.SelectContext(ctx, &rows, routableEventsQuery, pos.TxID, pos.Channel, pos.Seq, limit)
		if err != nil || len(rows) == 0 {
			return wrapErr("events to route", err)
		}
		jobs, err := river.NewClient(riverdatabasesql.New(nil), &river.Config{})
		if err != nil {
			return fmt.Errorf("job client: %w", err)
		}
		b = &routeBatch{tx: tx, route: route, orders: map[string]*market.Order{}, prefs: map[string]market.NotificationPrefs{}, jobs: jobs}
		for _, r := range rows {
			if err := b.routeOne(ctx, r); err != nil {
				return err
			}
		}
		return advanceEventCursor(ctx, tx, cursor, rows[len(rows)-1].eventPosition)
	})
	if err != nil || b == nil {
		return nil, nil, ok, err
	}
	return b.routed, b.events, ok, nil
}

// routableEventsQuery reads up to $4 order, balance, gig and report events after the cursor
// position ($1 tx_id, $2 channel, $3 seq) in transaction order, below the oldest
// running transaction (through events_routable_idx).
const routableEventsQuery = `SELECT tx_id::text AS tx_id, channel, seq, type, data FROM events
	WHERE (tx_id, channel, seq) > ($1::xid8, $2, $3) AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
	  AND (type LIKE 'order.%' OR type = 'balance.updated' OR type LIKE 'gig.%' OR type = 'report.resolved')
	ORDER BY events.tx_id, channel, seq LIMIT $4`

func wrapErr(what string, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// routeOne stores the notifications of one event.
func (b *routeBatch) routeOne(ctx context.Context, r routableRow) error {
	ev := market.RoutableEvent{Event: market.Event{Channel: r.Channel, Seq: r.Seq, Type: r.Type, Data: r.Data}}
	if id, isOrder := strings.CutPrefix(r.Channel, "order:"); isOrder {
		ord, err := b.order(ctx, id)
		if err != nil {
			return err
		}
		ev.Order = ord
	}
	for _, n := range b.route(ev) {
		if err := b.store(ctx, ev.Event, n); err != nil {
			return err
		}
	}
	return nil
}

// order loads an order once per batch; a missing order is nil.
func (b *routeBatch) order(ctx context.Context, id string) (*market.Order, error) {
	if o, seen := b.orders[id]; seen {
		return o, nil
	}
	if !isUUID(id) {
		return nil, nil
	}
	var o market.Order
	err := b.tx.GetContext(ctx, &o, `SELECT `+orderColumns+` FROM orders WHERE id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		b.orders[id] = nil
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("order %s to route: %w", id, err)
	}
	b.orders[id] = &o
	return &o, nil
}

// store inserts one notification with, when the user lets it in-app, its event on the
// recipient's channel and, for kinds that are mailed and let by e-mail, its e-mail job.
// A notification the user let on no channel is not stored.
func (b *routeBatch) store(ctx context.Context, source market.Event, n market.Notification) error {
	prefs, err := b.userPrefs(ctx, n.UserID)
	if err != nil {
		return err
	}
	now := time.Now()
	inApp, _ := market.Allowed(prefs, n.Kind, market.ChannelInApp, now)
	push, _ := market.Allowed(prefs, n.Kind, market.ChannelPush, now)
	email, _ := market.Allowed(prefs, n.Kind, market.ChannelEmail, now)
	if !inApp && !push && !email {
		return nil
	}
	// clock_timestamp, not now(): the notifications of one batch keep their events' order.
	facts, err := json.Marshal(n.Facts)
	if err != nil {
		return fmt.Errorf("notification facts: %w", err)
	}
	err = b.tx.GetContext(ctx, &n, `INSERT INTO notifications (user_id, kind, title, body, link, order_id, source_channel, source_seq, in_app, facts, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, clock_timestamp()) ON CONFLICT DO NOTHING
		RETURNING id, user_id, kind, title, body, link, order_id, created_at, read_at, facts`,
		n.UserID, n.Kind, n.Title, n.Body, n.Link, n.OrderID, source.Channel, source.Seq, inApp, facts)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // stored before
	}
	if err != nil {
		return fmt.Errorf("store notification: %w", err)
	}
	if inApp {
		ev, err := appendEvent(ctx, b.tx, market.UserChannel(n.UserID), "notification", n)
		if err != nil {
			return err
		}
		b.events = append(b.events, ev)
	}
	if email && market.EmailsKind(n.Kind) {
		if _, err := b.jobs.InsertTx(ctx, b.tx.Tx, NotificationEmailJob{NotificationID: n.ID}, nil); err != nil {
			return fmt.Errorf("queue notification e-mail: %w", err)
		}
	}
	if push && n.PushAfter > 0 {
		if err := queueNotificationPush(ctx, b.jobs, b.tx, n.UserID, market.PushCollapseKey(n.OrderID), now.Add(n.PushAfter)); err != nil {
			return err
		}
	}
	b.routed = append(b.routed, market.Routed{Notification: n, Prefs: prefs})
	return nil
}

func (b *routeBatch) userPrefs(ctx context.Context, userID string) (market.NotificationPrefs, error) {
	if p, ok := b.prefs[userID]; ok {
		return p, nil
	}
	p, err := loadPrefs(ctx, b.tx, userID)
	if err != nil {
		return p, fmt.Errorf("notification prefs of %s: %w", userID, err)
	}
	b.prefs[userID] = p
	return p, nil
}

// StoreNotifications stores notifications that come from source rather than from a
// routed event (market.NotificationStore), each as RouteEvents stores what it routes:
// only on the channels the recipient allows, with its in-app event and e-mail job, in
// one transaction. The unique key per recipient, source and kind makes a repeat a no-op.
func (db *DB) StoreNotifications(ctx context.Context, source market.Event, list []market.Notification) ([]market.Routed, []market.Event, error) {
	var b *routeBatch
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		jobs, err := river.NewClient(riverdatabasesql.New(nil), &river.Config{})
		if err != nil {
			return fmt.Errorf("job client: %w", err)
		}
		b = &routeBatch{tx: tx, prefs: map[string]market.NotificationPrefs{}, jobs: jobs}
		for _, n := range list {
			if err := b.store(ctx, source, n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return b.routed, b.events, nil
}
