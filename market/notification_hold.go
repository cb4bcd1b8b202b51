package market

import (
	"context"
	"errors"
	"fmt"
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
func (n *Notifications) holdPush(ctx context.Context, r Routed, until time.Time) error {
	if err := n.store.HoldPush(ctx, r.UserID, PushCollapseKey(r.OrderID), until); err != nil {
		return fmt.Errorf("hold notification push: %w", err)
	}
	return nil
}

// PushCollapseKey is the collapse key, and the burst, of a notification's push:
// "order:ID", or "notifications" for those about no order.
func PushCollapseKey(orderID *string) string {
	if orderID == nil {
		return "notifications"
	}
	return "order:" + *orderID
}

// PushHeld sends the push held for userID under collapseKey by their quiet hours; it
// is PushBurst.
func (n *Notifications) PushHeld(ctx context.Context, userID, collapseKey string) error {
	return n.PushBurst(ctx, userID, collapseKey)
}

// PushBurst sends the push of a burst of notifications for userID under collapseKey
// "order:ID" (or "notifications" for those about no order): the newest unread
// notification of it, if any, through the same checks as any push (still offline,
// still allowed; during quiet hours held until they end). The router queues it as a
// job in the transaction that stores the notifications (PushDelay later), so a node
// dying after that commit leaves the job to another; a job that runs twice sends the
// same notice under the same collapse key, which replaces itself. A pusher error is
// returned so that the job is retried.
func (n *Notifications) PushBurst(ctx context.Context, userID, collapseKey string) error {
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
	return n.push(ctx, r)
}
