package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
)

const (
	mailBounceToken  = "bounce-token-e2e-0123456789abcdef"
	mailUnsubSecret  = "unsubscribe-secret-e2e-0123456789abcdef"
	mailDKIMSelector = "e2e2026"
	mailDKIMDomain   = "gigstream.test"
)

// dkimKey writes a fresh RSA key as PEM to a file and returns the file and the TXT
// record a real deployment would publish at SELECTOR._domainkey.DOMAIN.
func dkimKey(t *testing.T) (path, txt string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(t.TempDir(), "dkim.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return path, "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(pub)
}

// mailDeliveryEnv turns on unsubscribe links, the bounce hook and DKIM.
func mailDeliveryEnv(keyFile string) map[string]string {
	return notificationEnv(map[string]string{
		"MAIL_UNSUBSCRIBE_SECRET": mailUnsubSecret, "MAIL_BOUNCE_TOKEN": mailBounceToken,
		"MAIL_DKIM_KEY_FILE": keyFile, "MAIL_DKIM_SELECTOR": mailDKIMSelector, "MAIL_DKIM_DOMAIN": mailDKIMDomain,
		"JOB_POLL_INTERVAL": "200ms",
	})
}

// mailpitMessage is one message as Mailpit lists it.
type mailpitMessage struct {
	ID      string
	Subject string
	Created time.Time
}

// waitMailSince waits for a mail to addr whose subject contains subject, received after
// since (Mailpit keeps the mail of earlier runs), and returns its Mailpit id.
func waitMailSince(t *testing.T, addr, subject string, since time.Time) string {
	t.Helper()
	base := os.Getenv("MAILPIT_URL")
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var res struct{ Messages []mailpitMessage }
		getJSON(t, base+"/api/v1/search?limit=50&query="+url.QueryEscape("to:"+addr), &res)
		for _, m := range res.Messages {
			if m.Created.After(since) && strings.Contains(m.Subject, subject) {
				return m.ID
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("no mail to %s about %q since %s", addr, subject, since)
	return ""
}

// mailIDAbout returns the Mailpit id of the newest mail to addr whose HTML mentions needle.
func mailIDAbout(t *testing.T, addr, needle string) (string, bool) {
	t.Helper()
	base := os.Getenv("MAILPIT_URL")
	var res struct{ Messages []mailpitMessage }
	getJSON(t, base+"/api/v1/search?limit=50&query="+url.QueryEscape("to:"+addr), &res)
	for _, m := range res.Messages {
		var msg struct{ HTML string }
		getJSON(t, base+"/api/v1/message/"+m.ID, &msg)
		if strings.Contains(msg.HTML, needle) {
			return m.ID, true
		}
	}
	return "", false
}

func waitMailIDAbout(t *testing.T, addr, needle string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if id, ok := mailIDAbout(t, addr, needle); ok {
			return id
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("no mail to %s about %s within 30 s", addr, needle)
	return ""
}

// mailHeaders returns a Mailpit message's headers and its raw bytes.
func mailHeaders(t *testing.T, id string) (map[string][]string, []byte) {
	t.Helper()
	base := os.Getenv("MAILPIT_URL")
	var h map[string][]string
	getJSON(t, base+"/api/v1/message/"+id+"/headers", &h)
	_, raw := get(t, base+"/api/v1/message/"+id+"/raw")
	return h, raw
}

// verifyDKIM checks raw's DKIM signature against txt, served as the DNS record.
func verifyDKIM(t *testing.T, raw []byte, txt string) {
	t.Helper()
	want := mailDKIMSelector + "._domainkey." + mailDKIMDomain
	verifications, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{
		LookupTXT: func(domain string) ([]string, error) {
			if domain != want {
				return nil, fmt.Errorf("unexpected lookup of %s", domain)
			}
			return []string{txt}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(verifications) != 1 || verifications[0].Err != nil || verifications[0].Domain != mailDKIMDomain {
		t.Fatalf("DKIM verifications %+v (err %v)", verifications, verifications[0].Err)
	}
}

// postRaw posts body to path with an optional bearer token and content type.
func postRaw(t *testing.T, n *Node, path, token, contentType, body string) response {
	t.Helper()
	req, _ := http.NewRequest("POST", n.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	return sendAs(t, req, token)
}

type emailPrefs struct {
	Channels map[string]map[string]bool `json:"channels"`
}

// A paid order's mail to the seller is DKIM-signed and carries a one-click unsubscribe
// link; POSTing it (no session) switches order e-mail off, the next paid order is not
// mailed, and a forged or altered token is refused with problem+json.
func TestMailOneClickUnsubscribeAndDKIM(t *testing.T) {
	keyFile, txt := dkimKey(t)
	o := startOrderNode(t, mailDeliveryEnv(keyFile), true)
	seller := &client{t: t, base: o.n.URL, bearer: o.seller}

	id := o.paidOrder(t)
	mailID := waitMailIDAbout(t, "maya@demo.gigstream.test", id)
	h, raw := mailHeaders(t, mailID)
	verifyDKIM(t, raw, txt)
	if got := h["List-Unsubscribe-Post"]; len(got) != 1 || got[0] != "List-Unsubscribe=One-Click" {
		t.Fatalf("List-Unsubscribe-Post %q", got)
	}
	lu := h["List-Unsubscribe"]
	if len(lu) != 1 || !strings.HasPrefix(lu[0], "<http") || !strings.HasSuffix(lu[0], ">") {
		t.Fatalf("List-Unsubscribe %q", lu)
	}
	link, err := url.Parse(strings.Trim(lu[0], "<>"))
	if err != nil || link.Path != "/unsubscribe" || link.Query().Get("token") == "" {
		t.Fatalf("unsubscribe link %q: %v", lu[0], err)
	}
	path := "/unsubscribe?token=" + url.QueryEscape(link.Query().Get("token"))

	// GET (what a scanner prefetches) changes nothing.
	page := as(t, o.n, "", "GET", path)
	if page.status != 200 || !strings.Contains(string(page.body), "orders") {
		t.Fatalf("GET unsubscribe: %d %s", page.status, page.body)
	}
	var prefs emailPrefs
	expect(t, seller.do("GET", "/me/notification-preferences", nil), 200, "prefs").json(t, &prefs)
	if !prefs.Channels["orders"]["email"] {
		t.Fatalf("a GET switched order e-mail off: %+v", prefs)
	}

	// Forged and altered tokens: 4xx problem+json naming the token.
	tok := link.Query().Get("token")
	altered := tok[:len(tok)-2] + map[bool]string{true: "AA", false: "BB"}[!strings.HasSuffix(tok, "AA")]
	for name, bad := range map[string]string{"altered": altered, "forged": "v1.dXNlcnxvcmRlcnN8OTk5OTk5OTk5OQ.AAAA", "missing": ""} {
		r := postRaw(t, o.n, "/unsubscribe?token="+url.QueryEscape(bad), "", "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click")
		if r.status < 400 || r.status >= 500 || !strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json") {
			t.Fatalf("%s token: %d %s %s", name, r.status, r.header.Get("Content-Type"), r.body)
		}
		if f := r.problemFields(t); len(f) != 1 || f[0] != "token" {
			t.Fatalf("%s token: fields %v", name, f)
		}
	}

	// The one-click POST, as a mail client sends it: no cookie, no session.
	r := postRaw(t, o.n, path, "", "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click")
	if r.status != 200 {
		t.Fatalf("POST unsubscribe: %d %s", r.status, r.body)
	}
	expect(t, seller.do("GET", "/me/notification-preferences", nil), 200, "prefs").json(t, &prefs)
	if prefs.Channels["orders"]["email"] || !prefs.Channels["orders"]["in_app"] || !prefs.Channels["payments"]["email"] {
		t.Fatalf("after unsubscribe: %+v", prefs)
	}

	// The next paid order reaches the seller in the app, but not by mail.
	next := o.paidOrder(t)
	waitNotification(t, seller, "order_paid", next)
	time.Sleep(4 * time.Second) // the e-mail job runs within a poll interval (200 ms)
	if _, ok := mailIDAbout(t, "maya@demo.gigstream.test", next); ok {
		t.Fatal("order mail was sent after one-click unsubscribe")
	}
}

// dsn is a Postfix-shaped RFC 3464 report that rcpt bounced for good.
func dsn(rcpt string) string {
	return strings.ReplaceAll(`From: MAILER-DAEMON@mx.example.net (Mail Delivery System)
To: bounces@gigstream.test
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain; charset=us-ascii

Your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; `+rcpt+`
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 User unknown

--B
Content-Type: text/rfc822-headers

To: `+rcpt+`
Subject: Your order was paid

--B--
`, "\n", "\r\n")
}

// A permanent bounce posted to the hook suppresses the address: /me shows it, the next
// notification mail is not sent (and counted in /metrics), and verifying the address
// again clears it.
func TestMailBounceSuppressesTheAddressUntilReverified(t *testing.T) {
	keyFile, _ := dkimKey(t)
	o := startOrderNode(t, mailDeliveryEnv(keyFile), true)
	seller := &client{t: t, base: o.n.URL, bearer: o.seller}

	expect(t, postRaw(t, o.n, "/webhooks/mail-bounce", "wrong-token-0123456789abcdef0123", "message/rfc822", dsn("maya@demo.gigstream.test")), 401, "wrong token")
	bad := postRaw(t, o.n, "/webhooks/mail-bounce", mailBounceToken, "message/rfc822", "Subject: hi\r\n\r\nnot a report\r\n")
	if bad.status != 422 || bad.problemFields(t)[0] != "body" {
		t.Fatalf("a plain mail: %d %s", bad.status, bad.body)
	}
	var out struct {
		Kind       string
		Suppressed int
	}
	expect(t, postRaw(t, o.n, "/webhooks/mail-bounce", mailBounceToken, "message/rfc822", dsn("Maya@Demo.Gigstream.test")), 200, "bounce").json(t, &out)
	if out.Kind != "bounce" || out.Suppressed != 1 {
		t.Fatalf("bounce hook answered %+v", out)
	}
	var me struct {
		Undeliverable *struct{ Reason, Status string } `json:"email_undeliverable"`
	}
	expect(t, seller.do("GET", "/me", nil), 200, "me").json(t, &me)
	if me.Undeliverable == nil || me.Undeliverable.Reason != "bounce" || me.Undeliverable.Status != "5.1.1" {
		t.Fatalf("/me email_undeliverable %+v", me.Undeliverable)
	}

	next := o.paidOrder(t)
	waitNotification(t, seller, "order_paid", next)
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, body := get(t, o.n.URL+"/metrics")
		if v, _ := metricValue(string(body), `gigstream_push_emails_total{result="suppressed"}`); v >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no suppressed mail counted in /metrics")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if _, ok := mailIDAbout(t, "maya@demo.gigstream.test", next); ok {
		t.Fatal("order mail was sent to a bounced address")
	}

	// Verifying the address again (allowed while it is suppressed) clears it.
	since := time.Now().Add(-time.Second)
	expect(t, seller.do("POST", "/auth/verify-email/resend", nil), 202, "resend verification")
	verifyID := waitMailSince(t, "maya@demo.gigstream.test", "Confirm your GigStream email", since)
	token := linkToken(t, mailText(t, os.Getenv("MAILPIT_URL"), verifyID))
	expect(t, seller.do("POST", "/auth/verify-email", map[string]string{"token": token}), 204, "verify")
	expect(t, seller.do("GET", "/me", nil), 200, "me").json(t, &me)
	if me.Undeliverable != nil {
		t.Fatalf("still undeliverable after verifying: %+v", me.Undeliverable)
	}
	expect(t, seller.do("POST", "/auth/verify-email/resend", nil), 409, "resend to a deliverable verified address")
}

// A configured DKIM key that cannot be read or used stops start-up with the reason.
func TestMailRefusesToStartWithABadDKIMKey(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.pem")
	if err := os.WriteFile(bad, []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, file := range map[string]string{"unreadable": filepath.Join(t.TempDir(), "missing.pem"), "invalid": bad} {
		env := migratedEnv(t, mailDeliveryEnv(file))
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		code, out := Run(ctx, bin, env, "serve")
		cancel()
		if code == 0 || !strings.Contains(out, "MAIL_DKIM_KEY_FILE") {
			t.Fatalf("%s key: exit %d\n%s", name, code, out)
		}
	}
}

// A chat digest is mail a user can switch off too: its link unsubscribes from the
// messages category on e-mail, and nothing else.
func TestMailChatDigestCarriesTheMessagesUnsubscribeLink(t *testing.T) {
	keyFile, txt := dkimKey(t)
	n := startCluster(t, 1, realtimeEnv(merge(mailDeliveryEnv(keyFile), map[string]string{"CHAT_EMAIL_DELAY": "2s"})))[0]
	bID, bTok, bMail := verifiedAppUser(t, n, "digestunsub")
	b := &client{t: t, base: n.URL, bearer: bTok}
	_, aTok := appUser(t, n, "digestwriter")
	a := &client{t: t, base: n.URL, bearer: aTok}
	var conv struct{ ID string }
	expect(t, a.do("POST", "/conversations", map[string]string{"participant_id": bID}), 201, "open conversation").json(t, &conv)
	send(t, a, conv.ID, "are you there?")
	id := waitMailSince(t, bMail, "unread message", time.Now().Add(-time.Minute))
	h, raw := mailHeaders(t, id)
	verifyDKIM(t, raw, txt)
	lu := h["List-Unsubscribe"]
	if len(lu) != 1 || len(h["List-Unsubscribe-Post"]) != 1 {
		t.Fatalf("digest headers: List-Unsubscribe %q, -Post %q", lu, h["List-Unsubscribe-Post"])
	}
	link, err := url.Parse(strings.Trim(lu[0], "<>"))
	if err != nil {
		t.Fatal(err)
	}
	r := postRaw(t, n, "/unsubscribe?token="+url.QueryEscape(link.Query().Get("token")), "", "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click")
	if r.status != 200 {
		t.Fatalf("POST unsubscribe: %d %s", r.status, r.body)
	}
	var prefs emailPrefs
	expect(t, b.do("GET", "/me/notification-preferences", nil), 200, "prefs").json(t, &prefs)
	if prefs.Channels["messages"]["email"] || !prefs.Channels["messages"]["push"] || !prefs.Channels["orders"]["email"] {
		t.Fatalf("after the digest's unsubscribe: %+v", prefs)
	}
}
