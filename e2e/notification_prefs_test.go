package e2e

import (
	"slices"
	"testing"
	"time"
)

// apiPrefs is GET /me/notification-preferences.
type apiPrefs struct {
	Channels     map[string]map[string]bool `json:"channels"`
	HidePreviews bool                       `json:"hide_previews"`
	QuietHours   *struct {
		Start, End string
		TimeZone   string `json:"time_zone"`
	} `json:"quiet_hours"`
	Language   string `json:"language"`
	OrderEmail bool   `json:"order_email"`
	OrderPush  bool   `json:"order_push"`
}

func TestNotificationPreferencesRoundTripLegacyAndRefusals(t *testing.T) {
	o := startOrderNode(t, notificationEnv(nil), true)
	seller := &client{t: t, base: o.n.URL, bearer: o.seller}
	var p apiPrefs
	expect(t, seller.do("GET", "/me/notification-preferences", nil), 200, "defaults").json(t, &p)
	if len(p.Channels) != 8 || !p.Channels["saved_searches"]["email"] || !p.OrderEmail || p.QuietHours != nil || p.Language != "en" {
		t.Fatalf("defaults %+v", p)
	}
	expect(t, seller.do("PUT", "/me/notification-preferences", map[string]any{
		"channels":    map[string]any{"reviews": map[string]bool{"email": false}, "messages": map[string]bool{"push": false}},
		"quiet_hours": map[string]string{"start": "22:30", "end": "06:15", "time_zone": "Europe/Berlin"},
		"language":    "de",
	}), 200, "set").json(t, &p)
	if p.Channels["reviews"]["email"] || p.Channels["messages"]["push"] || !p.Channels["reviews"]["push"] || p.OrderEmail || !p.OrderPush ||
		p.QuietHours == nil || p.QuietHours.Start != "22:30" || p.QuietHours.TimeZone != "Europe/Berlin" || p.Language != "de" {
		t.Fatalf("after PUT %+v", p)
	}
	// The legacy form: order_email true turns every order category's e-mail back on.
	expect(t, seller.do("PUT", "/me/notification-preferences", map[string]any{"order_email": true, "quiet_hours": nil}), 200, "legacy key")
	var legacy map[string]bool
	expect(t, seller.do("GET", "/me/notifications", nil), 200, "legacy GET").json(t, &legacy)
	if !legacy["order_email"] || !legacy["order_push"] {
		t.Fatalf("legacy view %v", legacy)
	}
	expect(t, seller.do("GET", "/me/notification-preferences", nil), 200, "read back").json(t, &p)
	if !p.Channels["reviews"]["email"] || p.QuietHours != nil || p.Channels["messages"]["push"] {
		t.Fatalf("after legacy PUT %+v", p)
	}
	cases := []struct {
		body   any
		status int
		field  string
	}{
		{map[string]any{"channels": map[string]any{"security": map[string]bool{"email": false}}}, 422, "channels.security.email"},
		{map[string]any{"channels": map[string]any{"messages": map[string]bool{"in_app": false}}}, 422, "channels.messages.in_app"},
		{map[string]any{"channels": map[string]any{"gossip": map[string]bool{"push": false}}}, 422, "channels"},
		{map[string]any{"quiet_hours": map[string]string{"start": "22:00", "end": "07:00", "time_zone": "Mars/Olympus"}}, 422, "quiet_hours.time_zone"},
		{map[string]any{"quiet_hours": map[string]string{"start": "25:00", "end": "07:00", "time_zone": "UTC"}}, 422, "quiet_hours.start"},
		{map[string]any{"quiet_hours": "tonight"}, 400, "quiet_hours"},
		{map[string]any{"language": "xx"}, 422, "language"},
		{map[string]any{"language": "en", "channels": map[string]any{"security": map[string]bool{"push": false}}}, 422, "channels.security.push"},
	}
	for _, c := range cases {
		r := seller.do("PUT", "/me/notification-preferences", c.body)
		if r.status != c.status || !slices.Contains(r.problemFields(t), c.field) {
			t.Errorf("%v: %d %s, want %d naming %s", c.body, r.status, r.body, c.status, c.field)
		}
	}
	expect(t, seller.do("GET", "/me/notification-preferences", nil), 200, "after refusals").json(t, &p)
	if p.Language != "de" {
		t.Fatalf("a refused PUT changed the language to %q", p.Language)
	}
	expect(t, seller.do("PUT", "/conversations/11111111-1111-4111-8111-111111111111/mute", nil), 404, "mute a stranger's conversation")
}

// TestNotificationSwitchedOffPushIsNotSentButInAppIs: the buyer turns pushes of
// deliveries off; a delivery reaches their notification list and no phone.
func TestNotificationSwitchedOffPushIsNotSentButInAppIs(t *testing.T) {
	fcm, env := fcmEnv(t)
	o := startOrderNode(t, notificationEnv(env), true)
	buyer := &client{t: t, base: o.n.URL, bearer: o.buyer}
	expect(t, buyer.do("POST", "/me/devices", map[string]string{"platform": "android", "token": "buyer-phone"}), 204, "device")
	expect(t, buyer.do("PUT", "/me/notification-preferences", map[string]any{
		"channels": map[string]any{"deliveries": map[string]bool{"push": false}}}), 200, "deliveries push off")
	id := o.deliveredOrder(t)
	waitNotification(t, buyer, "order_delivered", id)
	time.Sleep(2 * time.Second) // the push would follow the in-app notice within milliseconds
	for _, m := range fcm.Messages() {
		if m.Data["kind"] == "order_delivered" {
			t.Fatalf("a delivery was pushed with deliveries' push off: %+v", m)
		}
	}
}

// TestNotificationQuietHoursHoldThePush: quiet hours around now hold the buyer's push
// as one held_push job per order, and nothing reaches FCM meanwhile.
func TestNotificationQuietHoursHoldThePush(t *testing.T) {
	fcm, env := fcmEnv(t)
	o := startOrderNode(t, notificationEnv(env), true)
	buyer := &client{t: t, base: o.n.URL, bearer: o.buyer}
	expect(t, buyer.do("POST", "/me/devices", map[string]string{"platform": "android", "token": "buyer-phone"}), 204, "device")
	now := time.Now().In(time.FixedZone("", 0))
	start, end := now.Add(-time.Hour).Format("15:04"), now.Add(2*time.Hour).Format("15:04")
	expect(t, buyer.do("PUT", "/me/notification-preferences", map[string]any{
		"quiet_hours": map[string]string{"start": start, "end": end, "time_zone": "UTC"}}), 200, "quiet hours")
	id := o.deliveredOrder(t)
	waitNotification(t, buyer, "order_delivered", id)
	deadline := time.Now().Add(20 * time.Second)
	held := int64(0)
	for held == 0 && time.Now().Before(deadline) {
		held = o.sqlInt64(t, `SELECT count(*) FROM river_job WHERE kind = 'held_push' AND state = 'scheduled'
			AND args->>'collapse_key' = $1 AND scheduled_at > now() + interval '90 minutes'`, "order:"+id)
		time.Sleep(100 * time.Millisecond)
	}
	if held != 1 {
		t.Fatalf("%d held pushes for the order, want 1", held)
	}
	for _, m := range fcm.Messages() {
		if m.Data["kind"] == "order_delivered" {
			t.Fatalf("a push went out in quiet hours: %+v", m)
		}
	}
}
