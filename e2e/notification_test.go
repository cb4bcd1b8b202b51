package e2e

import (
	"encoding/json"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gigstream/hub/push/fcmtest"
)

// notificationEnv makes the router poll fast enough for tests.
func notificationEnv(extra map[string]string) map[string]string {
	return merge(map[string]string{"NOTIFICATION_POLL_INTERVAL": "100ms"}, extra)
}

// apiNotification is a notification as the API shows it.
type apiNotification struct {
	ID, Kind, Title, Body, Link string
	OrderID                     *string `json:"order_id"`
	ReadAt                      *string `json:"read_at"`
}

type apiNotificationList struct {
	Notifications []apiNotification
	UnreadCount   int     `json:"unread_count"`
	NextCursor    *string `json:"next_cursor"`
}

// notificationsOf lists c's notifications at path.
func notificationsOf(t *testing.T, c *client, path string) apiNotificationList {
	t.Helper()
	var out apiNotificationList
	expect(t, c.do("GET", path, nil), 200, "notifications").json(t, &out)
	return out
}

// waitNotification waits until c has a notification of kind about orderID.
func waitNotification(t *testing.T, c *client, kind, orderID string) apiNotification {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for _, n := range notificationsOf(t, c, "/notifications?limit=100").Notifications {
			if n.Kind == kind && n.OrderID != nil && *n.OrderID == orderID {
				return n
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no %s notification about %s within 20 s", kind, orderID)
	return apiNotification{}
}

// mailAbout returns the HTML and text of the newest mail to addr that mentions
// needle in its HTML part, or ok false.
func mailAbout(t *testing.T, addr, needle string) (html, text string, ok bool) {
	t.Helper()
	base := os.Getenv("MAILPIT_URL")
	if base == "" {
		t.Fatal("MAILPIT_URL is not set: run tests with `make test`")
	}
	var res struct{ Messages []struct{ ID string } }
	getJSON(t, base+"/api/v1/search?limit=50&query="+url.QueryEscape("to:"+addr), &res)
	for _, m := range res.Messages {
		var msg struct{ HTML, Text string }
		getJSON(t, base+"/api/v1/message/"+m.ID, &msg)
		if strings.Contains(msg.HTML, needle) {
			return msg.HTML, msg.Text, true
		}
	}
	return "", "", false
}

func waitMailAbout(t *testing.T, addr, needle string) (html, text string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if html, text, ok := mailAbout(t, addr, needle); ok {
			return html, text
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("no mail to %s about %s within 30 s", addr, needle)
	return "", ""
}

func TestNotificationPaidOrderReachesTheSellerLiveAndByEmail(t *testing.T) {
	o := startOrderNode(t, notificationEnv(nil), true)
	seller := &client{t: t, base: o.n.URL, bearer: o.seller}
	buyer := &client{t: t, base: o.n.URL, bearer: o.buyer}
	const title = `<b>Bold</b> logo & <script>alert(1)</script> design`
	expect(t, seller.do("PATCH", "/gigs/"+o.gigID, map[string]any{"title": title}), 200, "gig title with markup")
	s := mustDial(t, o.n, o.seller)
	s.subscribe("user:"+o.sellerID, nil)

	id := o.paidOrder(t)
	ev := s.eventOfType("user:"+o.sellerID, "notification", 20*time.Second)
	var live apiNotification
	if err := json.Unmarshal(ev.Data, &live); err != nil {
		t.Fatal(err)
	}
	if live.Kind != "order_paid" || live.OrderID == nil || *live.OrderID != id || live.Link != "/orders/"+id || !strings.Contains(live.Body, "45.00 USD") {
		t.Fatalf("live notification %+v", live)
	}
	html, text := waitMailAbout(t, "maya@demo.gigstream.test", id)
	if strings.Contains(html, "<b>Bold</b>") || strings.Contains(html, "<script>") || !strings.Contains(html, "&lt;b&gt;Bold&lt;/b&gt;") {
		t.Fatalf("the gig title is not escaped in the HTML part:\n%s", html)
	}
	if !strings.Contains(text, title) || !strings.Contains(text, "/orders/"+id) {
		t.Fatalf("the text part lacks the title as written or the link:\n%s", text)
	}
	// The buyer paid: no order_paid for them, and the seller's notification is not theirs.
	for _, n := range notificationsOf(t, buyer, "/notifications").Notifications {
		if n.Kind == "order_paid" {
			t.Fatalf("the buyer was told of their own payment: %+v", n)
		}
	}
}

func TestNotificationOfflineBuyerGetsAPrivatePushOnDelivery(t *testing.T) {
	fcm, env := fcmEnv(t)
	o := startOrderNode(t, notificationEnv(env), true)
	buyer := &client{t: t, base: o.n.URL, bearer: o.buyer}
	expect(t, buyer.do("POST", "/me/devices", map[string]string{"platform": "android", "token": "buyer-phone"}), 204, "device")
	var prefs struct {
		HidePreviews bool `json:"hide_previews"`
		OrderPush    bool `json:"order_push"`
	}
	expect(t, buyer.do("PUT", "/me/notifications", map[string]any{"hide_previews": true}), 200, "hide previews").json(t, &prefs)
	if !prefs.HidePreviews || !prefs.OrderPush {
		t.Fatalf("settings %+v", prefs)
	}
	id := o.deliveredOrder(t)
	msg := waitPush(t, fcm, "order_delivered")
	if msg.Token != "buyer-phone" || msg.Data["order_id"] != id || msg.Android == nil || msg.Android.CollapseKey != "order:"+id {
		t.Fatalf("push %+v (android %+v)", msg, msg.Android)
	}
	if msg.Notification == nil || msg.Notification.Body != "Open GigStream to see the details." {
		t.Fatalf("a push with previews hidden shows details: %+v", msg.Notification)
	}
	waitNotification(t, buyer, "order_delivered", id)
}

// waitPush waits up to 20 s for an FCM message whose data kind is kind.
func waitPush(t *testing.T, fcm *fcmtest.Server, kind string) fcmtest.Message {
	t.Helper()
	return waitPushWithin(t, fcm, kind, 20*time.Second)
}

// waitPushWithin waits up to within for an FCM message whose data kind is kind.
func waitPushWithin(t *testing.T, fcm *fcmtest.Server, kind string, within time.Duration) fcmtest.Message {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		for _, m := range fcm.Messages() {
			if m.Data["kind"] == kind {
				return m
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no %s push within %s", kind, within)
	return fcmtest.Message{}
}

func TestNotificationEmailOffSendsNoEmail(t *testing.T) {
	o := startOrderNode(t, notificationEnv(nil), true)
	seller := &client{t: t, base: o.n.URL, bearer: o.seller}
	var prefs map[string]bool
	expect(t, seller.do("PUT", "/me/notifications", map[string]any{"order_email": false}), 200, "e-mail off").json(t, &prefs)
	if prefs["order_email"] || !prefs["order_push"] || prefs["hide_previews"] {
		t.Fatalf("settings after PUT %v", prefs)
	}
	expect(t, seller.do("GET", "/me/notifications", nil), 200, "settings").json(t, &prefs)
	if prefs["order_email"] {
		t.Fatalf("settings read back %v", prefs)
	}
	id := o.paidOrder(t)
	waitNotification(t, seller, "order_paid", id)
	// The router stores a notification and its e-mail job in one transaction: once the
	// notification shows, a job would show too. With e-mail off none is queued.
	if n := o.sqlInt64(t, `SELECT count(*) FROM river_job WHERE kind = 'notification_email'`); n != 0 {
		t.Fatalf("%d e-mail jobs queued for a seller who turned order e-mail off", n)
	}
	if _, _, ok := mailAbout(t, "maya@demo.gigstream.test", id); ok {
		t.Fatal("a seller who turned order e-mail off was mailed")
	}
}

func TestNotificationListMarkReadAndStrangers(t *testing.T) {
	o := startOrderNode(t, notificationEnv(nil), true)
	seller := &client{t: t, base: o.n.URL, bearer: o.seller}
	var ids []string
	for range 3 {
		ids = append(ids, o.paidOrder(t))
	}
	waitNotification(t, seller, "order_paid", ids[2])
	waitNotification(t, seller, "order_paid", ids[0])
	first := notificationsOf(t, seller, "/notifications?limit=2")
	if len(first.Notifications) != 2 || first.UnreadCount != 3 || first.NextCursor == nil {
		t.Fatalf("first page %+v", first)
	}
	second := notificationsOf(t, seller, "/notifications?limit=2&cursor="+url.QueryEscape(*first.NextCursor))
	if len(second.Notifications) != 1 || second.NextCursor != nil || slices.ContainsFunc(first.Notifications, func(n apiNotification) bool { return n.ID == second.Notifications[0].ID }) {
		t.Fatalf("second page %+v", second)
	}
	if *first.Notifications[0].OrderID != ids[2] || *second.Notifications[0].OrderID != ids[0] {
		t.Fatal("notifications are not newest first")
	}

	strangerID, strangerToken := appUser(t, o.n, "stranger")
	stranger := &client{t: t, base: o.n.URL, bearer: strangerToken}
	if got := notificationsOf(t, stranger, "/notifications"); len(got.Notifications) != 0 || got.UnreadCount != 0 {
		t.Fatalf("stranger %s sees %+v", strangerID, got)
	}
	mine := first.Notifications[0].ID
	expect(t, stranger.do("POST", "/notifications/read", map[string]any{"ids": []string{mine}}), 404, "stranger marks")

	s := mustDial(t, o.n, o.seller)
	s.subscribe("user:"+o.sellerID, nil)
	var res struct {
		UnreadCount int `json:"unread_count"`
	}
	expect(t, seller.do("POST", "/notifications/read", map[string]any{"ids": []string{mine}}), 200, "mark one").json(t, &res)
	if res.UnreadCount != 2 {
		t.Fatalf("unread after one: %d", res.UnreadCount)
	}
	ev := s.eventOfType("user:"+o.sellerID, "notifications.read", 10*time.Second)
	if !strings.Contains(string(ev.Data), `"unread_count":2`) {
		t.Fatalf("notifications.read data %s", ev.Data)
	}
	expect(t, seller.do("POST", "/notifications/read", map[string]any{"all": true}), 200, "mark all").json(t, &res)
	if res.UnreadCount != 0 || notificationsOf(t, seller, "/notifications").UnreadCount != 0 {
		t.Fatalf("unread after all: %d", res.UnreadCount)
	}
}

func TestNotificationBadInputIsAProblemNamingTheField(t *testing.T) {
	o := startOrderNode(t, notificationEnv(nil), true)
	seller := &client{t: t, base: o.n.URL, bearer: o.seller}
	// Malformed requests are 400; well-formed ones the rules refuse are 422.
	cases := []struct {
		method, path string
		body         any
		status       int
		field        string
	}{
		{"POST", "/notifications/read", map[string]any{}, 422, "ids"},
		{"POST", "/notifications/read", map[string]any{"ids": []string{"not-an-id"}}, 422, "ids"},
		{"POST", "/notifications/read", map[string]any{"ids": []string{"11111111-1111-4111-8111-111111111111"}, "all": true}, 422, "ids"},
		{"POST", "/notifications/read", map[string]any{"all": "yes"}, 400, "all"},
		{"GET", "/notifications?limit=0", nil, 400, "limit"},
		{"GET", "/notifications?cursor=garbage", nil, 400, "cursor"},
		{"PUT", "/me/notifications", map[string]any{"order_email": "off"}, 400, "order_email"},
		{"PUT", "/me/notifications", map[string]any{"email": true}, 400, "email"},
	}
	for _, c := range cases {
		r := seller.do(c.method, c.path, c.body)
		if r.status != c.status || r.header.Get("Content-Type") != "application/problem+json" || !slices.Contains(r.problemFields(t), c.field) {
			t.Errorf("%s %s %v: %d %s %s, want %d problem naming %s", c.method, c.path, c.body, r.status, r.header.Get("Content-Type"), r.body, c.status, c.field)
		}
	}
}
