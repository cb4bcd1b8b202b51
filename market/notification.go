package market

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"
)

// Notifications routes durable order events to the people concerned (in-app, push,
// e-mail) and serves their notification lists.
type Notifications struct {
	store    NotificationStore
	realtime *Realtime
	presence Presence
	pusher   Pusher
	cfg      NotificationsConfig
	log      *slog.Logger
}

// NewNotifications builds the notification use cases; presence and pusher may be nil
// (no push).
func NewNotifications(s NotificationStore, rt *Realtime, presence Presence, pusher Pusher, cfg NotificationsConfig, log *slog.Logger) *Notifications {
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 200
	}
	return &Notifications{store: s, realtime: rt, presence: presence, pusher: pusher, cfg: cfg, log: log}
}

// NotificationsConfig tunes the router. The zero value means the defaults.
type NotificationsConfig struct {
	PollInterval time.Duration // how often each node looks for new events; default 1 s
	Batch        int           // events routed per transaction at most; default 200
	// PushDelay is how long after routing a notification's push job runs (see
	// PushBurst); the notifications of one order routed meanwhile share the job. Zero
	// (or no pusher or presence) queues no pushes.
	PushDelay time.Duration
}

// Notification is something a user should learn of even when not looking: one row per
// recipient, made by the router from a durable event.
type Notification struct {
	ID        string     `json:"id" db:"id"`
	UserID    string     `json:"-" db:"user_id"`
	Kind      string     `json:"kind" db:"kind"`
	Title     string     `json:"title" db:"title"`
	Body      string     `json:"body" db:"body"`
	Link      string     `json:"link" db:"link"`
	OrderID   *string    `json:"order_id" db:"order_id"`
	CreatedAt time.Time  `json:"created_at" db:"created_at"`
	ReadAt    *time.Time `json:"read_at" db:"read_at"`
	// Facts are what the e-mail writes in the recipient's language (not in the API).
	Facts NotificationFacts `json:"-" db:"facts"`
	// PushAfter, set by the router when push is on, makes the store queue the push job
	// of the notification's order (or of the user's notifications about no order) this
	// long after the routing commits; zero queues none.
	PushAfter time.Duration `json:"-" db:"-"`
}

// Notification kinds; each has a title and body made by the routing table, and an
// e-mail template of the same name in push/templates (English) and
// push/templates/de (German).
const (
	KindOrderPaid          = "order_paid"
	KindPaymentFailed      = "payment_failed"
	KindOrderDelivered     = "order_delivered"
	KindRevisionRequested  = "revision_requested"
	KindOrderCompleted     = "order_completed"
	KindOrderCancelled     = "order_cancelled"
	KindOrderRefunded      = "order_refunded"
	KindReviewReceived     = "review_received"
	KindReviewAnswered     = "review_answered"
	KindWithdrawalPaid     = "withdrawal_paid"
	notificationsPageLimit = 100
)

// NotificationPage is one page of a user's notifications, newest first.
type NotificationPage struct {
	Notifications []Notification
	UnreadCount   int
}

// NotificationStore is the storage the notifications need.
type NotificationStore interface {
	// RouteEvents locks the named cursor (returning ok false, and doing nothing, when
	// another node holds it), reads up to limit events after it, stores what route
	// makes of each with its notification events and e-mail jobs, advances the cursor
	// and commits; it returns the stored notifications and the events to publish.
	RouteEvents(ctx context.Context, cursor string, limit int, route func(RoutableEvent) []Notification) (routed []Routed, events []Event, ok bool, err error)
	Notifications(ctx context.Context, userID string, before *PageKey, limit int) (NotificationPage, error)
	// MarkNotificationsRead marks ids (or every one when all) of userID read and stores
	// notifications.read; an id that is not userID's wraps ErrNotFound.
	MarkNotificationsRead(ctx context.Context, userID string, ids []string, all bool) (unread int, ev Event, err error)
	NotificationPrefs(ctx context.Context, userID string) (NotificationPrefs, error)
	SetNotificationPrefs(ctx context.Context, userID string, u NotificationPrefsUpdate) (NotificationPrefs, error)
	NotificationEmail(ctx context.Context, id string) (NotificationEmail, error)
	// LatestUnreadNotification returns userID's newest unread notification about
	// orderID ("" for none) with their prefs; none wraps ErrNotFound.
	LatestUnreadNotification(ctx context.Context, userID, orderID string) (Routed, error)
	// StoreNotifications stores notifications that come from source rather than from
	// a routed event, as RouteEvents stores what it routes (prefs, in-app event,
	// e-mail job), in one transaction; one already stored for the same recipient,
	// source and kind is not stored again.
	StoreNotifications(ctx context.Context, source Event, list []Notification) (routed []Routed, events []Event, err error)
	PushHolder
}

// PageKey is where a keyset page starts: the sort time and id of the last item seen.
type PageKey struct {
	At time.Time
	ID string
}

// notificationCursor names the router's stored position in the events.
const notificationCursor = "orders"

// Run routes new events every PollInterval until ctx ends. Every node runs it; the
// cursor's row lock lets one node at a time route, so each event is routed once.
func (n *Notifications) Run(ctx context.Context) {
	tick := time.NewTicker(n.cfg.PollInterval)
	defer tick.Stop()
	for {
		for {
			count, err := n.RouteOnce(ctx)
			if err != nil && !errors.Is(err, context.Canceled) {
				n.log.WarnContext(ctx, "notification routing", "err", err)
			}
			if err != nil || count < n.cfg.Batch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// RouteOnce routes one batch of events and returns how many notifications it stored;
// after commit it publishes their events. Pushes are not sent here: the routing
// transaction queued their jobs (PushBurst), so a node that dies now loses none.
func (n *Notifications) RouteOnce(ctx context.Context) (int, error) {
	route := RouteNotifications
	if n.pusher != nil && n.presence != nil && n.cfg.PushDelay > 0 {
		route = func(ev RoutableEvent) []Notification {
			out := RouteNotifications(ev)
			for i := range out {
				out[i].PushAfter = n.cfg.PushDelay
			}
			return out
		}
	}
	routed, events, ok, err := n.store.RouteEvents(ctx, notificationCursor, n.cfg.Batch, route)
	if err != nil || !ok {
		return 0, err
	}
	if n.realtime != nil && len(events) > 0 {
		n.realtime.PublishCommitted(ctx, events...)
	}
	return len(routed), nil
}

// Deliver stores notifications that do not come from an order event (a saved search's
// match), then publishes their in-app events; their pushes are queued as jobs in the
// same transaction, as the router does. It returns how many were stored (a repeat
// stores none).
func (n *Notifications) Deliver(ctx context.Context, source Event, list []Notification) (int, error) {
	if len(list) == 0 {
		return 0, nil
	}
	if n.pusher != nil && n.presence != nil && n.cfg.PushDelay > 0 {
		for i := range list {
			list[i].PushAfter = n.cfg.PushDelay
		}
	}
	routed, events, err := n.store.StoreNotifications(ctx, source, list)
	if err != nil {
		return 0, err
	}
	if n.realtime != nil && len(events) > 0 {
		n.realtime.PublishCommitted(ctx, events...)
	}
	return len(routed), nil
}

// push sends an FCM notice to a recipient who is offline and lets pushes of its kind
// (Allowed); when they hide previews, the body names no amount and quotes no text.
// During their quiet hours the push is held (see holdPush) instead. A presence or
// pusher error is returned, so the job that called it is retried; sending again is
// harmless, the notice replaces itself under its collapse key.
func (n *Notifications) push(ctx context.Context, r Routed) error {
	if n.pusher == nil || n.presence == nil {
		return nil
	}
	allowed, until := Allowed(r.Prefs, r.Kind, ChannelPush, time.Now())
	if !allowed {
		return nil
	}
	if !until.IsZero() {
		return n.holdPush(ctx, r, until)
	}
	online, err := n.presence.IsOnline(ctx, r.UserID)
	if err != nil || online {
		return err
	}
	body := r.Body
	if r.Prefs.HidePreviews {
		body = "Open GigStream to see the details."
	}
	notice := PushNotice{UserID: r.UserID, Title: r.Title, Body: body, Data: map[string]string{"kind": r.Kind, "link": r.Link, "notification_id": r.ID}}
	if r.OrderID != nil {
		notice.CollapseKey = "order:" + *r.OrderID
		notice.Data["order_id"] = *r.OrderID
	}
	if err := n.pusher.Push(ctx, notice); err != nil {
		return fmt.Errorf("notification push to %s: %w", r.UserID, err)
	}
	return nil
}

// List returns a page of the user's notifications, newest first, before the key.
// limit must be 1…100.
func (n *Notifications) List(ctx context.Context, userID string, before *PageKey, limit int) (NotificationPage, error) {
	if limit < 1 || limit > notificationsPageLimit {
		return NotificationPage{}, FieldError(CodeInvalid, "limit", "must be from 1 to 100")
	}
	return n.store.Notifications(ctx, userID, before, limit)
}

var notificationIDPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// MarkRead marks the given notifications of userID read (or all of them), publishes
// notifications.read with the new unread count, and returns that count. Errors: invalid
// naming ids (neither ids nor all, both, more than 100, or not UUIDs); not found when
// an id is not the caller's.
func (n *Notifications) MarkRead(ctx context.Context, userID string, ids []string, all bool) (int, error) {
	switch {
	case all && len(ids) > 0:
		return 0, FieldError(CodeInvalid, "ids", "give ids or all, not both")
	case !all && len(ids) == 0:
		return 0, FieldError(CodeInvalid, "ids", "give 1 to 100 ids, or all: true")
	case len(ids) > notificationsPageLimit:
		return 0, FieldError(CodeInvalid, "ids", "at most 100 ids at once")
	}
	for _, id := range ids {
		if !notificationIDPattern.MatchString(id) {
			return 0, FieldError(CodeInvalid, "ids", "must be notification ids (lower-case UUIDs)")
		}
	}
	unread, ev, err := n.store.MarkNotificationsRead(ctx, userID, ids, all)
	if err != nil {
		return 0, err
	}
	if n.realtime != nil && ev.Seq > 0 {
		n.realtime.PublishCommitted(ctx, ev)
	}
	return unread, nil
}
