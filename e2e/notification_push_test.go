package e2e

import (
	"testing"
	"time"

	"github.com/gigstream/hub/push/fcmtest"
)

// TestOrderPushOutlivesTheNodeThatRoutedIt: the delivery is routed (the buyer's
// notification is committed and listed), the node is killed (SIGKILL) inside the push
// delay, and a node started afterwards sends the push, once, from the job the routing
// transaction queued. Before order pushes were jobs, the push was sent by the routing
// node right after its commit and died with it (and went out before the kill here).
//
// The wait is 45 s, not 20: the killed node was river's leader, and only the leader
// moves due scheduled jobs to available. Its lease runs out 15 s after its last
// renewal, a follower tries every 5 s (plus jitter), and the new leader's scheduler
// then runs within 5 s, so the push comes 15–26 s after the restart (README, "Background work").
func TestOrderPushOutlivesTheNodeThatRoutedIt(t *testing.T) {
	fcm, env := fcmEnv(t)
	env["PUSH_DELAY"] = "5s"
	o := startOrderNode(t, notificationEnv(env), true)
	buyer := &client{t: t, base: o.n.URL, bearer: o.buyer}
	expect(t, buyer.do("POST", "/me/devices", map[string]string{"platform": "android", "token": "buyer-phone"}), 204, "device")
	id := o.deliveredOrder(t)
	waitNotification(t, buyer, "order_delivered", id)
	if err := o.n.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-o.n.done
	if got := fcm.Attempts(); got != 0 {
		t.Fatalf("%d FCM requests before the push delay ended", got)
	}
	restarted := StartNode(t, bin, o.n.cmd.Env)
	restarted.WaitReady(t)
	m := waitPushWithin(t, fcm, "order_delivered", 45*time.Second)
	if m.Token != "buyer-phone" || m.Data["order_id"] != id || m.Android == nil || m.Android.CollapseKey != "order:"+id {
		t.Fatalf("push %+v (android %+v)", m, m.Android)
	}
	time.Sleep(2 * time.Second)
	if got := pushesTo(fcm, "buyer-phone"); len(got) != 1 {
		t.Fatalf("%d pushes to the buyer for one delivery, want 1", len(got))
	}
}

// pushesTo lists the pushes FCM accepted for token.
func pushesTo(fcm *fcmtest.Server, token string) []fcmtest.Message {
	var out []fcmtest.Message
	for _, m := range fcm.Messages() {
		if m.Token == token {
			out = append(out, m)
		}
	}
	return out
}

// TestQuietHoursEndSendOneHeldPushPerOrderAndConversation: during the buyer's quiet
// hours their order is delivered twice (a revision in between) and the seller writes
// twice in a conversation; nothing is pushed. When the quiet hours end (the next
// minute, in UTC) one push per order and one per conversation arrive, under their
// collapse keys.
func TestQuietHoursEndSendOneHeldPushPerOrderAndConversation(t *testing.T) {
	fcm, env := fcmEnv(t)
	o := startOrderNode(t, notificationEnv(env), true)
	buyer := &client{t: t, base: o.n.URL, bearer: o.buyer}
	seller := &client{t: t, base: o.n.URL, bearer: o.seller}
	expect(t, buyer.do("POST", "/me/devices", map[string]string{"platform": "android", "token": "buyer-phone"}), 204, "device")
	now := time.Now().UTC()
	end := now.Truncate(time.Minute).Add(time.Minute)
	if end.Sub(now) < 40*time.Second {
		end = end.Add(time.Minute) // time enough to make the news while it is quiet
	}
	expect(t, buyer.do("PUT", "/me/notification-preferences", map[string]any{"quiet_hours": map[string]string{
		"start": now.Add(-time.Hour).Format("15:04"), "end": end.Format("15:04"), "time_zone": "UTC"}}), 200, "quiet hours")

	id := o.deliveredOrder(t)
	waitNotification(t, buyer, "order_delivered", id)
	expect(t, buyer.do("POST", "/orders/"+id+"/revision", map[string]string{"note": "a bit larger, please"}), 200, "revision")
	var up struct{ ID string }
	expect(t, uploadForm(t, o.n, o.seller, map[string]string{"kind": "deliverable", "order_id": id}, "work2.zip", randomBytes(t, 200)), 201, "deliverable").json(t, &up)
	expect(t, seller.do("POST", "/orders/"+id+"/deliveries", map[string]any{"upload_ids": []string{up.ID}}), 201, "deliver again")
	var conv struct{ ID string }
	r := seller.do("POST", "/conversations", map[string]string{"participant_id": o.buyerID})
	if r.status != 200 && r.status != 201 {
		t.Fatalf("open conversation: %d %s", r.status, r.body)
	}
	r.json(t, &conv)
	send(t, seller, conv.ID, "one more thing")
	send(t, seller, conv.ID, "and another")
	held := int64(0)
	for deadline := time.Now().Add(20 * time.Second); held < 2 && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		held = o.sqlInt64(t, `SELECT count(*) FROM river_job WHERE kind = 'held_push' AND state = 'scheduled' AND args->>'user_id' = $1`, o.buyerID)
	}
	if held != 2 {
		t.Fatalf("%d held pushes, want one for the order and one for the conversation", held)
	}
	if got := pushesTo(fcm, "buyer-phone"); len(got) != 0 || time.Now().After(end) {
		t.Fatalf("%d pushes during quiet hours (now %s, end %s)", len(got), time.Now().UTC(), end)
	}
	time.Sleep(time.Until(end) + 10*time.Second)
	got := pushesTo(fcm, "buyer-phone")
	keys := map[string]int{}
	for _, m := range got {
		if m.Android != nil {
			keys[m.Android.CollapseKey]++
		}
	}
	if len(got) != 2 || keys["order:"+id] != 1 || keys["conversation:"+conv.ID] != 1 {
		t.Fatalf("after quiet hours: %d pushes, collapse keys %v; want one for order:%s and one for conversation:%s", len(got), keys, id, conv.ID)
	}
}
