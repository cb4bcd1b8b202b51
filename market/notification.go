package market

import (
	"context"
	"errors"
	"log/slog"
	"regexp"
	"time"
)

// NotificationsConfig tunes the router. The zero value means the defaults.
type NotificationsConfig struct {
	PollInterval time.Duration // how often each node looks for new events; default 1 s
	Batch        int           // events routed per transaction at most; default 200
}

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
// after commit it publishes their events and pushes offline recipients.
func (n *Notifications) RouteOnce(ctx context.Context) (int, error) {
	routed, events, ok, err := n.store.RouteEvents(ctx, notificationCursor, n.cfg.Batch, RouteNotifications)
	if err != nil || !ok {
		return 0, err
	}
	if n.realtime != nil && len(events) > 0 {
		n.realtime.PublishCommitted(ctx, events...)
	}
	for _, r := range routed {
		n.push(ctx, r)
	}
	return len(routed), nil
}

// push sends an FCM notice to a recipient who is offline and lets order pushes; when
// they hide previews, the body names no amount and quotes no text.
func (n *Notifications) push(ctx context.Context, r Routed) {
	if n.pusher == nil || n.presence == nil || !r.Prefs.OrderPush {
		return
	}
	online, err := n.presence.IsOnline(ctx, r.UserID)
	if err != nil || online {
		return
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
		n.log.WarnContext(ctx, "notification push not sent", "user_id", r.UserID, "err", err)
	}
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

// Prefs returns the user's notification switches.
func (n *Notifications) Prefs(ctx context.Context, userID string) (NotificationPrefs, error) {
	return n.store.NotificationPrefs(ctx, userID)
}

// SetPrefs changes the switches given and returns them all.
func (n *Notifications) SetPrefs(ctx context.Context, userID string, u NotificationPrefsUpdate) (NotificationPrefs, error) {
	return n.store.SetNotificationPrefs(ctx, userID, u)
}
