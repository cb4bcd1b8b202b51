package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/store"
)

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// routePlaced tells the buyer of every placed order, so store tests do not depend on
// the real routing table.
func routePlaced(ev market.RoutableEvent) []market.Notification {
	if ev.Type != "order.placed" || ev.Order == nil {
		return nil
	}
	id := ev.Order.ID
	return []market.Notification{{UserID: ev.Order.BuyerID, Kind: "test", Title: "placed", Body: "b", Link: "/orders/" + id, OrderID: &id}}
}

// routeAll runs RouteEvents until a call that held the cursor found nothing more, and
// returns how many notifications it stored.
// routeAll routes until want notifications were stored, then checks that a further
// pass finds nothing. Events stay invisible to the router while any older
// transaction of the Postgres cluster is open (other packages' tests share it), so it
// retries for a while instead of taking an empty pass for the end.
func routeAll(t *testing.T, f orderFixture, cursor string, want int) {
	t.Helper()
	total := 0
	deadline := time.Now().Add(30 * time.Second)
	for total < want && time.Now().Before(deadline) {
		routed, _, _, err := f.db.RouteEvents(context.Background(), cursor, 3, routePlaced)
		must(t, err)
		total += len(routed)
		if len(routed) == 0 {
			time.Sleep(20 * time.Millisecond)
		}
	}
	routed, _, _, err := f.db.RouteEvents(context.Background(), cursor, 3, routePlaced)
	must(t, err)
	if total += len(routed); total != want {
		t.Fatalf("routed %d notifications, want %d", total, want)
	}
}

func TestTwoRoutersRacingNotifyEachEventOnce(t *testing.T) {
	f := newOrderFixture(t)
	const orders = 30
	var wg sync.WaitGroup
	counts := make([]int, 2)
	stop := make(chan struct{})
	for i := range counts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				routed, _, _, err := f.db.RouteEvents(context.Background(), "orders", 4, routePlaced)
				if err != nil {
					t.Error(err)
					return
				}
				counts[i] += len(routed)
				select {
				case <-stop:
					if len(routed) == 0 {
						return
					}
				default:
				}
			}
		}()
	}
	for range orders {
		f.place(t, uuid.NewString())
	}
	close(stop)
	wg.Wait()
	routeAll(t, f, "orders", orders-counts[0]-counts[1])
	if counts[0]+counts[1] > orders {
		t.Fatalf("routers stored %d + %d notifications for %d events", counts[0], counts[1], orders)
	}
	var rows, distinct int
	must(t, f.raw.QueryRow(`SELECT count(*), count(DISTINCT (source_channel, source_seq)) FROM notifications WHERE user_id = $1`, f.buyer).Scan(&rows, &distinct))
	if rows != orders || distinct != orders {
		t.Fatalf("%d notifications (%d distinct events), want %d", rows, distinct, orders)
	}
	var events int
	must(t, f.raw.QueryRow(`SELECT count(*) FROM events WHERE channel = $1 AND type = 'notification'`, market.UserChannel(f.buyer)).Scan(&events))
	if events != orders {
		t.Fatalf("%d notification events, want %d", events, orders)
	}
}

func TestAnEventThatCommitsLateIsStillRouted(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	early := f.place(t, uuid.NewString()).Order
	// A transaction that began writing before the next order, and commits after it.
	slow, err := f.raw.BeginTx(ctx, nil)
	must(t, err)
	defer func() { _ = slow.Rollback() }()
	_, err = slow.Exec(`INSERT INTO events (channel, seq, type, data) VALUES ($1, 2, 'order.placed', '{}')`, market.OrderChannel(early.ID))
	must(t, err)
	f.place(t, uuid.NewString())
	// Before the slow transaction commits only the first order is routable; after, its
	// event and the order after it; then nothing more.
	routeAll(t, f, "orders", 1)
	must(t, slow.Commit())
	routeAll(t, f, "orders", 2)
	routeAll(t, f, "orders", 0)
}

func TestNotificationsPageMarkReadAndPrefs(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	for range 3 {
		f.place(t, uuid.NewString())
	}
	routeAll(t, f, "orders", 3)
	page, err := f.db.Notifications(ctx, f.buyer, nil, 2)
	must(t, err)
	if len(page.Notifications) != 2 || page.UnreadCount != 3 {
		t.Fatalf("first page: %d items, %d unread", len(page.Notifications), page.UnreadCount)
	}
	last := page.Notifications[1]
	rest, err := f.db.Notifications(ctx, f.buyer, &market.PageKey{At: last.CreatedAt, ID: last.ID}, 2)
	must(t, err)
	if len(rest.Notifications) != 1 || rest.Notifications[0].ID == last.ID || rest.Notifications[0].ID == page.Notifications[0].ID {
		t.Fatalf("second page: %+v", rest.Notifications)
	}
	if _, _, err := f.db.MarkNotificationsRead(ctx, f.seller, []string{last.ID}, false); !isNotFound(err) {
		t.Fatalf("a stranger marked a notification: %v", err)
	}
	unread, ev, err := f.db.MarkNotificationsRead(ctx, f.buyer, []string{last.ID}, false)
	must(t, err)
	if unread != 2 || ev.Type != "notifications.read" {
		t.Fatalf("after one: %d unread, event %s", unread, ev.Type)
	}
	if unread, _, err = f.db.MarkNotificationsRead(ctx, f.buyer, nil, true); err != nil || unread != 0 {
		t.Fatalf("after all: %d unread, %v", unread, err)
	}
	var off market.NotificationPrefsUpdate
	off.SetLegacyOrderSwitch(market.ChannelEmail, false)
	p, err := f.db.SetNotificationPrefs(ctx, f.buyer, off)
	must(t, err)
	if p.LegacyOrderSwitch(market.ChannelEmail) || !p.LegacyOrderSwitch(market.ChannelPush) || p.HidePreviews {
		t.Fatalf("prefs %+v", p)
	}
}

// TestRouterReadsTransactionIDsInNumericOrder: the router's position is a transaction
// id, compared as a number. Reading events ordered by its text form put 100 before 99,
// so the cursor jumped past 99 and that event was never routed.
func TestRouterReadsTransactionIDsInNumericOrder(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	_, err := f.raw.Exec(`INSERT INTO notification_cursors (name, tx_id, channel, seq) VALUES ('digits', '98', '', 0)`)
	must(t, err)
	for _, tx := range []string{"100", "99"} {
		_, err := f.raw.Exec(`INSERT INTO events (channel, seq, type, data, tx_id) VALUES ($1, 1, 'order.test', '{}', $2::xid8)`,
			"order:tx-"+tx, tx)
		must(t, err)
	}
	for _, want := range []string{"order:tx-99", "order:tx-100"} {
		var seen []string
		_, _, ok, err := f.db.RouteEvents(ctx, "digits", 1, func(ev market.RoutableEvent) []market.Notification {
			seen = append(seen, ev.Channel)
			return nil
		})
		must(t, err)
		if !ok || len(seen) != 1 || seen[0] != want {
			t.Fatalf("routed %v (cursor held: %v), want %s next", seen, ok, want)
		}
	}
}

// TestNotificationPrefsRoundTripAndInAppSwitch stores every part of the preferences,
// and routes an order event to a buyer who turned orders off in-app: the notification
// is kept for push but neither listed, counted nor announced.
func TestNotificationPrefsRoundTripAndInAppSwitch(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	quiet := &market.QuietHours{Start: 22 * 60, End: 7 * 60, TimeZone: "Europe/Berlin"}
	p, err := f.db.SetNotificationPrefs(ctx, f.buyer, market.NotificationPrefsUpdate{
		Switches:   map[market.Switch]bool{{Category: "test", Channel: market.ChannelInApp}: false, {Category: market.CategoryReviews, Channel: market.ChannelPush}: false},
		QuietHours: &quiet, Language: new("de"), HidePreviews: new(true),
	})
	if err == nil {
		t.Fatal("a switch of an unknown category was stored")
	}
	p, err = f.db.SetNotificationPrefs(ctx, f.buyer, market.NotificationPrefsUpdate{
		Switches: map[market.Switch]bool{{Category: market.CategoryOrders, Channel: market.ChannelInApp}: false,
			{Category: market.CategoryOrders, Channel: market.ChannelEmail}: false, {Category: market.CategoryReviews, Channel: market.ChannelPush}: false},
		QuietHours: &quiet, Language: new("de"), HidePreviews: new(true),
	})
	must(t, err)
	if !p.Off[market.Switch{Category: market.CategoryReviews, Channel: market.ChannelPush}] || p.Language != "de" || !p.HidePreviews ||
		p.QuietHours == nil || *p.QuietHours != *quiet {
		t.Fatalf("stored prefs %+v", p)
	}
	var none *market.QuietHours
	p, err = f.db.SetNotificationPrefs(ctx, f.buyer, market.NotificationPrefsUpdate{QuietHours: &none,
		Switches: map[market.Switch]bool{{Category: market.CategoryReviews, Channel: market.ChannelPush}: true}})
	must(t, err)
	if p.QuietHours != nil || p.Off[market.Switch{Category: market.CategoryReviews, Channel: market.ChannelPush}] || p.Language != "de" {
		t.Fatalf("after clearing: %+v", p)
	}
	f.place(t, uuid.NewString())
	deadline := time.Now().Add(30 * time.Second)
	var routed []market.Routed
	for len(routed) == 0 && time.Now().Before(deadline) {
		var err error
		routed, _, _, err = f.db.RouteEvents(ctx, "orders", 10, func(ev market.RoutableEvent) []market.Notification {
			n := routePlaced(ev)
			for i := range n {
				n[i].Kind = market.KindOrderPaid
			}
			return n
		})
		must(t, err)
		time.Sleep(20 * time.Millisecond)
	}
	if len(routed) != 1 {
		t.Fatalf("routed %d notifications, want 1 (kept for push)", len(routed))
	}
	page, err := f.db.Notifications(ctx, f.buyer, nil, 10)
	must(t, err)
	var events int
	must(t, f.raw.QueryRow(`SELECT count(*) FROM events WHERE channel = $1 AND type = 'notification'`, market.UserChannel(f.buyer)).Scan(&events))
	if len(page.Notifications) != 0 || page.UnreadCount != 0 || events != 0 {
		t.Fatalf("in-app off: %d listed, %d unread, %d events", len(page.Notifications), page.UnreadCount, events)
	}
	if _, err := f.db.MessagePrefs(ctx, f.buyer, uuid.NewString()); err != nil {
		t.Fatal(err)
	}
	if err := f.db.SetConversationMuted(ctx, f.buyer, uuid.NewString(), true); !isNotFound(err) {
		t.Fatalf("muted a conversation of nobody: %v", err)
	}
}
