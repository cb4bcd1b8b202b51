package market

import (
	"context"
	"time"
)

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
}

// Notification kinds; each has a title and body made by the routing table, and the
// main ones an e-mail template of the same name in push/templates.
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

// emailKinds are the kinds that are also sent by e-mail (when the user lets them).
var emailKinds = map[string]bool{
	KindOrderPaid: true, KindOrderDelivered: true, KindOrderCompleted: true, KindOrderCancelled: true,
	KindOrderRefunded: true, KindReviewReceived: true, KindWithdrawalPaid: true,
}

// EmailsKind reports whether notifications of kind are also sent by e-mail.
func EmailsKind(kind string) bool { return emailKinds[kind] }

// NotificationPrefs are a user's switches for order notifications (in-app ones are
// always on) and whether pushes may show details.
type NotificationPrefs struct {
	OrderEmail   bool `json:"order_email" db:"notify_order_email"`
	OrderPush    bool `json:"order_push" db:"notify_order_push"`
	HidePreviews bool `json:"hide_previews" db:"hide_push_previews"`
}

// NotificationPrefsUpdate changes the switches that are not nil.
type NotificationPrefsUpdate struct {
	OrderEmail   *bool
	OrderPush    *bool
	HidePreviews *bool
}

// RoutableEvent is a durable event as the router sees it: the event, and for events on
// an order's channel the order as it is now (nil when the order is gone).
type RoutableEvent struct {
	Event
	Order *Order
}

// Routed is a notification just stored, with what its push needs.
type Routed struct {
	Notification
	Prefs NotificationPrefs
}

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
}

// PageKey is where a keyset page starts: the sort time and id of the last item seen.
type PageKey struct {
	At time.Time
	ID string
}

// NotificationEmail is what the e-mail of one notification needs.
type NotificationEmail struct {
	Notification
	Email         string `db:"email"`
	DisplayName   string `db:"display_name"`
	EmailVerified bool   `db:"email_verified"`
	Gone          bool   `db:"gone"` // the account is deleted or disabled
	OrderEmail    bool   `db:"notify_order_email"`
	GigTitle      string `db:"gig_title"`
}

// NotificationMailer sends the e-mail of a notification; link is absolute.
type NotificationMailer interface {
	SendNotification(ctx context.Context, m NotificationEmail, link string) error
}
