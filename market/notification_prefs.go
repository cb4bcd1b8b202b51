package market

import (
	"context"
)

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

// Prefs returns the user's notification switches.
func (n *Notifications) Prefs(ctx context.Context, userID string) (NotificationPrefs, error) {
	return n.store.NotificationPrefs(ctx, userID)
}

// SetPrefs changes the switches given and returns them all.
func (n *Notifications) SetPrefs(ctx context.Context, userID string, u NotificationPrefsUpdate) (NotificationPrefs, error) {
	return n.store.SetNotificationPrefs(ctx, userID, u)
}
