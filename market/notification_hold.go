package market

import (
	"context"
	"errors"
	"strings"
	"time"
)

// PushHolder keeps a push until a user's quiet hours end (store/ queues a job that
// then calls PushHeld); pushes held for one user and collapse key merge into one.
type PushHolder interface {
	HoldPush(ctx context.Context, userID, collapseKey string, until time.Time) error
}

// holdPush keeps the push of r until the end of the recipient's quiet hours; the order's
// collapse key makes every push held for one order during them one.
func (n *Notifications) holdPush(ctx context.Context, r Routed, until time.Time) {
	key := "notifications"
	if r.OrderID != nil {
		key = "order:" + *r.OrderID
	}
	if err := n.store.HoldPush(ctx, r.UserID, key, until); err != nil {
		n.log.WarnContext(ctx, "notification push not held", "user_id", r.UserID, "err", err)
	}
}

// PushHeld sends the push held for userID under collapseKey "order:ID" (or
// "notifications" for those about no order): the newest unread notification of it, if
// any, through the same checks as any push (still offline, still allowed; held again
// if the quiet hours were moved).
func (n *Notifications) PushHeld(ctx context.Context, userID, collapseKey string) error {
	orderID, _ := strings.CutPrefix(collapseKey, "order:")
	if collapseKey == "notifications" {
		orderID = ""
	}
	r, err := n.store.LatestUnreadNotification(ctx, userID, orderID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	n.push(ctx, r)
	return nil
}
