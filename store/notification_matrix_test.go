package store_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/gigstream/hub/market"
)

// matrixKinds are the kinds the notification router makes from order and balance
// events: each has a category a user switches, and an e-mail.
var matrixKinds = []string{
	market.KindOrderPaid, market.KindPaymentFailed, market.KindOrderDelivered, market.KindRevisionRequested,
	market.KindOrderCompleted, market.KindOrderCancelled, market.KindOrderRefunded, market.KindReviewReceived,
	market.KindReviewAnswered, market.KindWithdrawalPaid, market.KindOrderDisputed, market.KindDisputeAnswered,
	market.KindDisputeWithdrawn, market.KindDisputeResolved,
}

// TestRoutingObeysEveryKindAndChannelSwitch is the preference matrix as stored: for
// every kind the router makes and every channel, with only that kind's category
// switched off on that channel, the stored notification is in the list exactly when
// in-app is on, its e-mail job is queued exactly when e-mail is on, and its push job
// (due when the router said) exactly when push is on; with everything on, all three.
func TestRoutingObeysEveryKindAndChannelSwitch(t *testing.T) {
	ctx := context.Background()
	f := newRoutingFixture(t)
	kind := ""
	route := func(ev market.RoutableEvent) []market.Notification {
		if ev.Type != "order.placed" || ev.Order == nil {
			return nil
		}
		id := ev.Order.ID
		return []market.Notification{{UserID: ev.Order.BuyerID, Kind: kind, Title: "t", Body: "b", Link: "/orders/" + id, OrderID: &id,
			Facts: market.NotificationFacts{AmountMinor: 123450, Currency: "EUR"}, PushAfter: time.Hour}}
	}
	set := func(s market.Switch, on bool) {
		_, err := f.db.SetNotificationPrefs(ctx, f.buyer, market.NotificationPrefsUpdate{Switches: map[market.Switch]bool{s: on}})
		must(t, err)
	}
	for i, k := range matrixKinds {
		cat, ok := market.CategoryOf(k)
		if !ok || !market.EmailsKind(k) {
			t.Fatalf("kind %s: category %v, e-mailed %v", k, ok, market.EmailsKind(k))
		}
		for j, off := range append([]market.Channel{""}, market.Channels...) {
			kind = k
			s := market.Switch{Category: cat, Channel: off}
			if off != "" {
				set(s, false)
			}
			routed := f.placeAndRoute(t, fmt.Sprintf("matrix-%d-%d", i, j), route)
			if len(routed) != 1 {
				t.Fatalf("%s with %s off: %d notifications stored, want 1", k, off, len(routed))
			}
			id := routed[0].ID
			if routed[0].Facts.AmountMinor != 123450 {
				t.Errorf("%s: facts not stored: %+v", k, routed[0].Facts)
			}
			inApp := f.count(t, `SELECT count(*) FROM notifications WHERE id = $1 AND in_app`, id) == 1
			email := f.count(t, `SELECT count(*) FROM river_job WHERE kind = 'notification_email' AND args->>'notification_id' = $1`, id) == 1
			push := f.count(t, `SELECT count(*) FROM river_job WHERE kind = 'notification_push' AND args->>'collapse_key' = $1
				AND args->>'user_id' = $2 AND scheduled_at > now() + interval '50 minutes'`, "order:"+*routed[0].OrderID, f.buyer) == 1
			if inApp != (off != market.ChannelInApp) || email != (off != market.ChannelEmail) || push != (off != market.ChannelPush) {
				t.Errorf("%s (%s) with %s off: in-app %v, e-mail queued %v, push queued %v", k, cat, off, inApp, email, push)
			}
			if off != "" {
				set(s, true)
			}
		}
	}
}

// newRoutingFixture is an order fixture whose database also has river's tables, where
// the router queues e-mail and push jobs.
func newRoutingFixture(t *testing.T) orderFixture {
	t.Helper()
	f := newOrderFixture(t)
	_, err := f.db.MigrateJobs(context.Background(), slog.New(slog.DiscardHandler))
	must(t, err)
	return f
}

// placeAndRoute places an order under key and routes the "orders" cursor with route
// until a batch stores notifications or 30 s pass; it returns what that batch stored
// (nothing after 30 s).
func (f orderFixture) placeAndRoute(t *testing.T, key string, route func(market.RoutableEvent) []market.Notification) []market.Routed {
	t.Helper()
	f.place(t, key)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		r, _, _, err := f.db.RouteEvents(context.Background(), "orders", 10, route)
		must(t, err)
		if len(r) > 0 {
			return r
		}
	}
	return nil
}
