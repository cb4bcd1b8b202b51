package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gigstream/hub/push/fcmtest"
)

func newClientID() string { return uuid.NewString() }

// chatPair makes two users on n, their bearer clients, and their conversation.
func chatPair(t *testing.T, n *Node) (a, b *client, aID, bID, conv string) {
	t.Helper()
	aID, aTok := appUser(t, n, "buyer")
	bID, bTok := appUser(t, n, "seller")
	a, b = &client{t: t, base: n.URL, bearer: aTok}, &client{t: t, base: n.URL, bearer: bTok}
	var c struct{ ID string }
	expect(t, a.do("POST", "/conversations", map[string]string{"participant_id": bID}), 201, "open conversation").json(t, &c)
	again := expect(t, b.do("POST", "/conversations", map[string]string{"participant_id": aID}), 200, "open it from the other side")
	var c2 struct{ ID string }
	again.json(t, &c2)
	if c2.ID != c.ID {
		t.Fatalf("the pair got two conversations: %s, %s", c.ID, c2.ID)
	}
	return a, b, aID, bID, c.ID
}

func send(t *testing.T, c *client, conv, text string) (seq uint64, status int) {
	t.Helper()
	return sendWithID(t, c, conv, newClientID(), text)
}

func sendWithID(t *testing.T, c *client, conv, clientID, text string) (uint64, int) {
	t.Helper()
	r := c.do("POST", "/conversations/"+conv+"/messages", map[string]string{"client_id": clientID, "text": text})
	if r.status != 201 && r.status != 200 {
		t.Fatalf("send: %d %s", r.status, r.body)
	}
	var m struct{ Seq uint64 }
	r.json(t, &m)
	return m.Seq, r.status
}

func TestChatAcrossNodesInOrderOnceWithTypingAndReceipts(t *testing.T) {
	nodes := startCluster(t, 2, realtimeEnv(nil))
	a, b, aID, bID, conv := chatPair(t, nodes[0])
	channel := "conversation:" + conv
	sa, sb := mustDial(t, nodes[0], a.bearer), mustDial(t, nodes[1], b.bearer)
	sa.subscribe(channel, nil)
	sb.subscribe(channel, nil)
	sb.subscribe("user:"+bID, nil)
	bOther := mustDial(t, nodes[0], b.bearer) // the seller's second device
	bOther.subscribe("user:"+bID, nil)

	html := `<b>hi</b><script>alert("x")</script> & "quotes"`
	for i := 1; i <= 20; i++ {
		text := fmt.Sprintf("message %d", i)
		if i == 7 {
			text = html
		}
		send(t, a, conv, text)
	}
	for who, s := range map[string]*socket{"buyer": sa, "seller": sb} {
		got := s.events(channel, 20, 20*time.Second)
		for i, ev := range got {
			if ev.Type != "message.created" {
				t.Fatalf("%s: event %d is %s", who, i, ev.Type)
			}
		}
		assertSeqs(t, who, got, got[0].Seq, got[0].Seq+19)
		if !strings.Contains(string(got[6].Data), `\u003cb\u003ehi\u003c/b\u003e\u003cscript\u003e`) && !strings.Contains(string(got[6].Data), `<b>hi</b><script>`) {
			t.Fatalf("%s: HTML text not delivered as sent: %s", who, got[6].Data)
		}
	}
	var hist struct {
		Messages []struct {
			Text string
			Seq  uint64
		}
	}
	expect(t, b.do("GET", "/conversations/"+conv+"/messages?limit=20", nil), 200, "history").json(t, &hist)
	if len(hist.Messages) != 20 || hist.Messages[13].Text != html {
		t.Fatalf("history: %d messages; the HTML one reads %q", len(hist.Messages), hist.Messages[13].Text)
	}

	// Typing shows on the other node, and is not stored.
	typing := func(s *socket) {
		s.send(map[string]any{"op": "publish", "channel": channel, "type": "typing", "data": map[string]any{}})
	}
	typing(sa)
	ev := sb.events(channel, 1, 10*time.Second)[0]
	if ev.Type != "typing" || ev.Seq != 0 || !strings.Contains(string(ev.Data), aID) {
		t.Fatalf("typing event %+v", ev)
	}
	typing(sa) // within 2 s: throttled
	send(t, a, conv, "after typing")
	next := sb.events(channel, 1, 10*time.Second)[0]
	if next.Type != "message.created" {
		t.Fatalf("a second typing within 2 s reached the other side: %+v", next)
	}

	// Unread counts on both of the seller's devices, then a read receipt clears them.
	var list struct {
		TotalUnread   int `json:"total_unread"`
		Conversations []struct {
			UnreadCount int `json:"unread_count"`
		}
	}
	expect(t, b.do("GET", "/conversations", nil), 200, "list").json(t, &list)
	if list.TotalUnread != 21 || list.Conversations[0].UnreadCount != 21 {
		t.Fatalf("seller's unread = %+v, want 21", list)
	}
	readSeq := next.Seq
	sb.send(map[string]any{"op": "ack", "channel": channel, "seq": readSeq})
	receipt := sa.eventOfType(channel, "read", 10*time.Second)
	if !strings.Contains(string(receipt.Data), bID) {
		t.Fatalf("buyer got %+v, want the read receipt", receipt)
	}
	waitUnread := func(s *socket, who string) {
		for {
			ev := s.events("user:"+bID, 1, 10*time.Second)[0]
			var u struct{ Total *int }
			if err := json.Unmarshal(ev.Data, &u); err != nil || u.Total == nil {
				t.Fatalf("%s: unread event %s", who, ev.Data)
			}
			if *u.Total == 0 {
				return
			}
		}
	}
	waitUnread(sb, "seller on node B")
	waitUnread(bOther, "seller's other device")
	expect(t, b.do("GET", "/conversations", nil), 200, "list").json(t, &list)
	if list.TotalUnread != 0 {
		t.Fatalf("unread after reading = %d", list.TotalUnread)
	}

	// Receipts persist across reconnect: the buyer sees the seller's read seq.
	var c struct {
		OtherReadSeq uint64 `json:"other_read_seq"`
	}
	expect(t, a.do("GET", "/conversations/"+conv, nil), 200, "conversation").json(t, &c)
	if c.OtherReadSeq != readSeq {
		t.Fatalf("other_read_seq = %d, want %d", c.OtherReadSeq, readSeq)
	}
}

func TestRetriedSendMakesOneMessage(t *testing.T) {
	n := startCluster(t, 1, realtimeEnv(nil))[0]
	a, b, _, _, conv := chatPair(t, n)
	id := newClientID()
	seq1, s1 := sendWithID(t, a, conv, id, "only once")
	seq2, s2 := sendWithID(t, a, conv, id, "only once")
	if s1 != 201 || s2 != 200 || seq1 != seq2 {
		t.Fatalf("retry: %d/%d seq %d/%d", s1, s2, seq1, seq2)
	}
	var hist struct{ Messages []struct{ Text string } }
	expect(t, b.do("GET", "/conversations/"+conv+"/messages", nil), 200, "history").json(t, &hist)
	if len(hist.Messages) != 1 {
		t.Fatalf("%d messages after a retried send", len(hist.Messages))
	}
}

// A message sent over REST spends one message of the sender's budget: the front door
// spends it beside the sender's per-user budget in one Redis call, and Chat.Send does
// not spend it again. Past the budget the send is answered 429 with a Retry-After, and
// nothing is stored.
func TestMessageBudgetIsSpentOncePerSend(t *testing.T) {
	n := startCluster(t, 1, realtimeEnv(map[string]string{"RATE_LIMIT_MESSAGES_PER_MINUTE": "3"}))[0]
	a, b, _, _, conv := chatPair(t, n)
	for i := range 3 {
		if _, status := send(t, a, conv, fmt.Sprintf("within the budget %d", i)); status != 201 {
			t.Fatalf("send %d: %d, want 201", i, status)
		}
	}
	r := a.do("POST", "/conversations/"+conv+"/messages", map[string]string{"client_id": newClientID(), "text": "past it"})
	if r.status != 429 || r.header.Get("Retry-After") == "" {
		t.Fatalf("fourth send with a budget of 3: %d (Retry-After %q) %s, want 429 with Retry-After", r.status, r.header.Get("Retry-After"), r.body)
	}
	var hist struct{ Messages []struct{ Text string } }
	expect(t, b.do("GET", "/conversations/"+conv+"/messages", nil), 200, "history").json(t, &hist)
	if len(hist.Messages) != 3 {
		t.Fatalf("%d messages stored, want 3", len(hist.Messages))
	}
}

func TestOutsidersCannotReadOrSubscribe(t *testing.T) {
	n := startCluster(t, 1, realtimeEnv(nil))[0]
	a, _, _, bID, conv := chatPair(t, n)
	send(t, a, conv, "private")
	_, tok := appUser(t, n, "outsider")
	o := &client{t: t, base: n.URL, bearer: tok}
	for _, r := range []struct{ method, path string }{
		{"GET", "/conversations/" + conv},
		{"GET", "/conversations/" + conv + "/messages"},
		{"POST", "/conversations/" + conv + "/read"},
	} {
		var body any
		if r.method == "POST" {
			body = map[string]any{"seq": 1}
		}
		expect(t, o.do(r.method, r.path, body), 404, "outsider "+r.method+" "+r.path)
	}
	expect(t, o.do("POST", "/conversations/"+conv+"/messages", map[string]string{"client_id": newClientID(), "text": "hi"}), 404, "outsider send")
	s := mustDial(t, n, tok)
	if f := s.subscribe("conversation:"+conv, nil); f.Op != "error" || f.Code != "forbidden" {
		t.Fatalf("outsider subscribe: %+v", f)
	}
	if f := s.subscribe("user:"+bID, nil); f.Op != "error" {
		t.Fatalf("outsider subscribed to a member's user channel: %+v", f)
	}
}

func TestBlockedSenderGetsAClearError(t *testing.T) {
	n := startCluster(t, 1, realtimeEnv(nil))[0]
	a, b, aID, _, conv := chatPair(t, n)
	expect(t, b.do("PUT", "/blocks/"+aID, nil), 204, "block")
	r := expect(t, a.do("POST", "/conversations/"+conv+"/messages", map[string]string{"client_id": newClientID(), "text": "hello?"}), 403, "blocked send")
	if !strings.Contains(string(r.body), "cannot message") {
		t.Fatalf("blocked send problem: %s", r.body)
	}
	var hist struct{ Messages []any }
	expect(t, b.do("GET", "/conversations/"+conv+"/messages", nil), 200, "history").json(t, &hist)
	if len(hist.Messages) != 0 {
		t.Fatal("a blocked message was stored")
	}
	// Typing does not cross a block either.
	sa, sb := mustDial(t, n, a.bearer), mustDial(t, n, b.bearer)
	sa.subscribe("conversation:"+conv, nil)
	sb.subscribe("conversation:"+conv, nil)
	typed := sa.send(map[string]any{"op": "publish", "channel": "conversation:" + conv, "type": "typing", "data": map[string]any{}})
	// The typing frame must be handled while the block stands: wait for its answer.
	if _, ok := sa.take(func(f frame) bool { return f.ID == typed && (f.Op == "reply" || f.Op == "error") }, 10*time.Second); !ok {
		t.Fatal("no answer to the typing frame")
	}
	expect(t, b.do("DELETE", "/blocks/"+aID, nil), 204, "unblock")
	send(t, a, conv, "hello again")
	if ev := sb.events("conversation:"+conv, 1, 10*time.Second)[0]; ev.Type != "message.created" {
		t.Fatalf("the blocked side saw %s before the next message", ev.Type)
	}
}

func TestEditAndDeleteAreDurableEvents(t *testing.T) {
	n := startCluster(t, 1, realtimeEnv(nil))[0]
	a, b, _, _, conv := chatPair(t, n)
	var m struct{ ID string }
	expect(t, a.do("POST", "/conversations/"+conv+"/messages", map[string]string{"client_id": newClientID(), "text": "typo"}), 201, "send").json(t, &m)
	expect(t, b.do("PATCH", "/conversations/"+conv+"/messages/"+m.ID, map[string]string{"text": "not mine"}), 403, "edit someone else's")
	expect(t, a.do("PATCH", "/conversations/"+conv+"/messages/"+m.ID, map[string]string{"text": "fixed"}), 200, "edit")
	expect(t, a.do("DELETE", "/conversations/"+conv+"/messages/"+m.ID, nil), 204, "delete")
	s := mustDial(t, n, b.bearer)
	zero := uint64(0)
	s.subscribe("conversation:"+conv, &zero)
	got := s.events("conversation:"+conv, 3, 10*time.Second)
	if got[0].Type != "message.created" || got[1].Type != "message.edited" || got[2].Type != "message.deleted" {
		t.Fatalf("recovered events %s, %s, %s", got[0].Type, got[1].Type, got[2].Type)
	}
	var hist struct {
		Messages []struct {
			Text    string
			Deleted bool
		}
	}
	expect(t, b.do("GET", "/conversations/"+conv+"/messages", nil), 200, "history").json(t, &hist)
	if !hist.Messages[0].Deleted || hist.Messages[0].Text != "" {
		t.Fatalf("deleted message still reads %+v", hist.Messages[0])
	}
}

// fcmEnv starts a local FCM v1 endpoint and returns the node settings that point the
// real firebase-admin-go client at it (OAuth with a generated service-account key).
func fcmEnv(t *testing.T) (*fcmtest.Server, map[string]string) {
	t.Helper()
	fcm := fcmtest.New(t)
	creds := filepath.Join(t.TempDir(), "fcm.json")
	if err := os.WriteFile(creds, fcm.ServiceAccountJSON(), 0o600); err != nil {
		t.Fatal(err)
	}
	return fcm, map[string]string{
		"FCM_PROJECT_ID": fcm.ProjectID(), "FCM_CREDENTIALS_FILE": creds, "FCM_ENDPOINT": fcm.Endpoint(),
		"PUSH_DELAY": "1s", "PRESENCE_GRACE": "1s",
	}
}

func TestOfflineUserGetsOneCollapsedPushPerBurst(t *testing.T) {
	fcm, env := fcmEnv(t)
	n := startCluster(t, 1, realtimeEnv(env))[0]
	a, b, _, _, conv := chatPair(t, n)
	expect(t, b.do("POST", "/me/devices", map[string]string{"platform": "android", "token": "seller-phone", "app_version": "1.0"}), 204, "device")
	expect(t, b.do("POST", "/me/devices", map[string]string{"platform": "android", "token": "seller-phone", "app_version": "1.1"}), 204, "same device again")
	for i := 1; i <= 5; i++ {
		send(t, a, conv, fmt.Sprintf("burst %d", i))
	}
	msgs := waitPushes(t, fcm, 1)
	time.Sleep(2 * time.Second) // a second notice for the same burst would have come by now
	if got := fcm.Messages(); len(got) != 1 {
		t.Fatalf("%d pushes for one burst, want 1", len(got))
	}
	m := msgs[0]
	if m.Token != "seller-phone" || m.Notification == nil || !strings.Contains(m.Notification.Body, "burst 5") || !strings.Contains(m.Notification.Body, "+4 more") {
		t.Fatalf("push = %+v / %+v", m, m.Notification)
	}
	if m.Android == nil || m.Android.CollapseKey == "" {
		t.Fatalf("push has no collapse key: %s", m.Raw)
	}
}

func TestOnlineUserGetsNoPushAndDeadTokensArePruned(t *testing.T) {
	fcm, env := fcmEnv(t)
	n := startCluster(t, 1, realtimeEnv(env))[0]
	a, b, aID, _, conv := chatPair(t, n)
	expect(t, b.do("POST", "/me/devices", map[string]string{"platform": "ios", "token": "seller-ipad"}), 204, "device")
	expect(t, a.do("POST", "/me/devices", map[string]string{"platform": "android", "token": "buyer-dead-phone"}), 204, "device")
	mustDial(t, n, b.bearer) // the seller is online
	send(t, a, conv, "you are online")
	time.Sleep(3 * time.Second)
	if got := fcm.Messages(); len(got) != 0 {
		t.Fatalf("an online user was pushed: %+v", got)
	}
	fcm.Unregister("buyer-dead-phone")
	send(t, b, conv, "to the buyer, offline")
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var list struct{ Devices []struct{ Token string } }
		expect(t, a.do("GET", "/me/devices", nil), 200, "devices").json(t, &list)
		if len(list.Devices) == 0 {
			if fcm.Attempts() == 0 {
				t.Fatal("the token went without FCM being asked")
			}
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("the dead token of %s was never pruned", aID)
}

// waitPushes waits up to 20 s until FCM has accepted at least n pushes.
func waitPushes(t *testing.T, fcm *fcmtest.Server, n int) []fcmtest.Message {
	t.Helper()
	return waitPushesWithin(t, fcm, n, 20*time.Second)
}

// waitPushesWithin waits up to within until FCM has accepted at least n pushes.
func waitPushesWithin(t *testing.T, fcm *fcmtest.Server, n int, within time.Duration) []fcmtest.Message {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if got := fcm.Messages(); len(got) >= n {
			return got
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("fewer than %d pushes within %s", n, within)
	return nil
}

func TestSendOverTheSocketIsIdempotentToo(t *testing.T) {
	n := startCluster(t, 1, realtimeEnv(nil))[0]
	a, b, _, _, conv := chatPair(t, n)
	channel := "conversation:" + conv
	sa, sb := mustDial(t, n, a.bearer), mustDial(t, n, b.bearer)
	sa.subscribe(channel, nil)
	sb.subscribe(channel, nil)
	id := newClientID()
	for range 2 {
		sa.send(map[string]any{"op": "publish", "channel": channel, "type": "message.send", "data": map[string]string{"client_id": id, "text": "over the socket"}})
	}
	ev := sb.eventOfType(channel, "message.created", 10*time.Second)
	if !strings.Contains(string(ev.Data), "over the socket") {
		t.Fatalf("event %s", ev.Data)
	}
	send(t, b, conv, "reply") // orders the stream: nothing else may come before it
	if next := sb.events(channel, 1, 10*time.Second)[0]; !strings.Contains(string(next.Data), "reply") {
		t.Fatalf("a retried socket send made a second message: %s", next.Data)
	}
	bad := sa.send(map[string]any{"op": "publish", "channel": channel, "type": "message.send", "data": map[string]string{"client_id": "nope", "text": "x"}})
	f, ok := sa.take(func(f frame) bool { return f.ID == bad && (f.Op == "error" || f.Op == "reply") }, 10*time.Second)
	if !ok || f.Op != "error" {
		t.Fatalf("an invalid socket send was answered %+v", f)
	}
}
