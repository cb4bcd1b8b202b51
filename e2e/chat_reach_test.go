package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// TestPushOutlivesTheNodeThatTookTheSend: the send is accepted (201, committed), the
// node is killed (SIGKILL) inside the push delay, and a node started afterwards sends
// the push, once, from the stored message. Before pushes came from the stored events,
// the push lived in a timer of the killed process and was never sent. The push job
// may have been queued before the kill, due later: then it waits for river's
// leadership to pass to the new node, hence 45 s (see TestOrderPushOutlivesTheNodeThatRoutedIt).
func TestPushOutlivesTheNodeThatTookTheSend(t *testing.T) {
	fcm, env := fcmEnv(t)
	env["PUSH_DELAY"] = "4s"
	nodes := startCluster(t, 1, realtimeEnv(env))
	n := nodes[0]
	a, b, _, _, conv := chatPair(t, n)
	expect(t, b.do("POST", "/me/devices", map[string]string{"platform": "android", "token": "away-phone"}), 204, "device")
	send(t, a, conv, "sent just before the crash")
	if err := n.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-n.done
	if got := fcm.Attempts(); got != 0 {
		t.Fatalf("%d FCM requests before the push delay ended", got)
	}
	restarted := StartNode(t, bin, n.cmd.Env)
	restarted.WaitReady(t)
	msgs := waitPushesWithin(t, fcm, 1, 45*time.Second)
	m := msgs[0]
	if m.Token != "away-phone" || m.Notification == nil || !strings.Contains(m.Notification.Body, "sent just before the crash") {
		t.Fatalf("push = %+v / %+v", m, m.Notification)
	}
	if m.Android == nil || m.Android.CollapseKey != "conversation:"+conv {
		t.Fatalf("push without the conversation's collapse key: %s", m.Raw)
	}
}

// TestPushRetriesFCMsRetryableErrors: FCM answers UNAVAILABLE, then 429 (both with a
// Retry-After), then accepts: the push job waits and tries again, and the push arrives.
func TestPushRetriesFCMsRetryableErrors(t *testing.T) {
	fcm, env := fcmEnv(t)
	env["PUSH_MAX_RETRY_AFTER"] = "500ms"
	n := startCluster(t, 1, realtimeEnv(env))[0]
	a, b, _, _, conv := chatPair(t, n)
	expect(t, b.do("POST", "/me/devices", map[string]string{"platform": "ios", "token": "flaky-ipad"}), 204, "device")
	fcm.FailNext(1, http.StatusServiceUnavailable)
	fcm.FailNext(1, http.StatusTooManyRequests)
	send(t, a, conv, "through a flaky FCM")
	msgs := waitPushes(t, fcm, 1)
	if got := fcm.Attempts(); got < 3 {
		t.Fatalf("FCM saw %d attempts, want the two failures and the success", got)
	}
	if !strings.Contains(msgs[0].Notification.Body, "through a flaky FCM") {
		t.Fatalf("push = %+v", msgs[0].Notification)
	}
}

// verifiedAppUser registers a user with a verified address and returns its id, token
// and address.
func verifiedAppUser(t *testing.T, n *Node, who string) (id, token, email string) {
	t.Helper()
	c := &client{t: t, base: n.URL}
	email = uniqueEmail(t, who)
	id = c.register(email, fmt.Sprintf("%s_%d", who, time.Now().UnixNano()%1e9), "long enough password")
	tok := linkToken(t, mailTo(t, email, "Confirm your GigStream"))
	expect(t, c.do("POST", "/auth/verify-email", map[string]string{"token": tok}), 204, "verify")
	r := expect(t, c.do("POST", "/auth/tokens", map[string]string{"email": email, "password": "long enough password"}), 201, "token")
	var out struct{ Token string }
	r.json(t, &out)
	return id, out.Token, email
}

// TestUnreadChatIsMailedAsOneDigestPerBurst: an away member gets one mail for a burst
// of three messages, quoting them all with a reply link; a conversation they read (on
// their phone, say) before the delay is never mailed; a later burst is a second digest
// holding only the new message.
func TestUnreadChatIsMailedAsOneDigestPerBurst(t *testing.T) {
	base := os.Getenv("MAILPIT_URL")
	n := startCluster(t, 1, realtimeEnv(map[string]string{"CHAT_EMAIL_DELAY": "3s"}))[0]
	bID, bTok, bMail := verifiedAppUser(t, n, "away")
	b := &client{t: t, base: n.URL, bearer: bTok}
	open := func(who string) (*client, string) {
		_, tok := appUser(t, n, who)
		c := &client{t: t, base: n.URL, bearer: tok}
		var conv struct{ ID string }
		expect(t, c.do("POST", "/conversations", map[string]string{"participant_id": bID}), 201, "open conversation").json(t, &conv)
		return c, conv.ID
	}
	a, conv := open("chatty")
	r, readConv := open("readme")
	send(t, r, readConv, "read on the phone")
	seq, _ := send(t, r, readConv, "also read on the phone")
	expect(t, b.do("POST", "/conversations/"+readConv+"/read", map[string]any{"seq": seq}), 200, "read on another device")
	for i := 1; i <= 3; i++ {
		send(t, a, conv, fmt.Sprintf("burst message %d", i))
	}
	text := mailTo(t, bMail, "unread messages from")
	for i := 1; i <= 3; i++ {
		if !strings.Contains(text, fmt.Sprintf("burst message %d", i)) {
			t.Fatalf("digest lacks message %d:\n%s", i, text)
		}
	}
	if !strings.Contains(text, "/conversations/"+conv+"?seq=") {
		t.Fatalf("digest has no reply link to the conversation:\n%s", text)
	}
	// The read conversation's job was due before the burst's (its messages came first):
	// by now it has run, and it must have mailed nothing.
	if mails := mailsTo(t, base, bMail, "from"); len(mails) != 1 || strings.Contains(mailText(t, base, mails[0]), "read on the phone") {
		t.Fatalf("%d chat mails to %s, want the one digest (read messages are never mailed)", len(mails), bMail)
	}
	send(t, a, conv, "a later burst")
	deadline := time.Now().Add(30 * time.Second)
	for len(mailsTo(t, base, bMail, "from")) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("no digest for the second burst within 30 s")
		}
		time.Sleep(200 * time.Millisecond)
	}
	mails := mailsTo(t, base, bMail, "from")
	second := mailText(t, base, mails[0]) // newest first
	if !strings.Contains(second, "a later burst") || strings.Contains(second, "burst message 1") {
		t.Fatalf("second digest should hold only the new message:\n%s", second)
	}
	time.Sleep(4 * time.Second) // a third mail for either burst would be due by now
	if got := len(mailsTo(t, base, bMail, "from")); got != 2 {
		t.Fatalf("%d digests for two bursts", got)
	}
}

// mailsTo lists the ids of the mails to addr whose subject contains subject, newest first.
func mailsTo(t *testing.T, base, addr, subject string) []string {
	t.Helper()
	var res struct {
		Messages []struct {
			ID      string
			Subject string
		}
	}
	getJSON(t, base+"/api/v1/search?query="+url.QueryEscape("to:"+addr), &res)
	var out []string
	for _, m := range res.Messages {
		if strings.Contains(strings.ToLower(m.Subject), strings.ToLower(subject)) && !strings.Contains(m.Subject, "Confirm") {
			out = append(out, m.ID)
		}
	}
	return out
}
