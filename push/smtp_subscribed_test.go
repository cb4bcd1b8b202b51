package push_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/gigstream/hub/push"
)

// suppressionList is a fixed set of suppressed addresses.
type suppressionList map[string]bool

func (s suppressionList) Suppressed(_ context.Context, address string) (bool, error) {
	return s[address], nil
}

// A subscribed mail reaches Mailpit with the RFC 8058 pair of headers and a DKIM
// signature that verifies against the public key; a security mail (Send) carries no
// unsubscribe header; a suppressed address gets nothing.
func TestSendSubscribedHeadersDKIMAndSuppression(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	to, blocked := uniqueAddress(t), "blocked-"+uniqueAddress(t)
	mailer := newMailer(t, push.SMTPConfig{
		DKIM:         &push.DKIMConfig{Domain: "gigstream.test", Selector: "unit", Signer: priv},
		Suppressions: suppressionList{blocked: true},
	})
	mp := newMailpit(t)
	const link = "https://gigstream.test/unsubscribe?token=v1.abc.def"
	e := push.Email{To: to, Subject: "Your order was paid", Text: "paid", HTML: "<p>paid</p>"}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := mailer.SendSubscribed(ctx, e, link); err != nil {
		t.Fatal(err)
	}
	msg := mp.waitFor(to)
	h := mp.headers(msg.ID)
	if got := h["List-Unsubscribe"]; len(got) != 1 || got[0] != "<"+link+">" {
		t.Fatalf("List-Unsubscribe %q", got)
	}
	if got := h["List-Unsubscribe-Post"]; len(got) != 1 || got[0] != "List-Unsubscribe=One-Click" {
		t.Fatalf("List-Unsubscribe-Post %q", got)
	}
	resp, err := http.Get(mp.base + "/api/v1/message/" + msg.ID + "/raw")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	txt := "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)
	vs, err := dkim.VerifyWithOptions(strings.NewReader(string(raw)), &dkim.VerifyOptions{
		LookupTXT: func(string) ([]string, error) { return []string{txt}, nil },
	})
	if err != nil || len(vs) != 1 || vs[0].Err != nil {
		t.Fatalf("DKIM: %v %+v", err, vs)
	}
	if !strings.Contains(strings.Join(vs[0].HeaderKeys, ","), "List-Unsubscribe") {
		t.Fatalf("the unsubscribe header is not signed: %v", vs[0].HeaderKeys)
	}

	security := uniqueAddress(t) + ".sec"
	if err := mailer.Send(ctx, push.Email{To: security, Subject: "Reset", Text: "reset"}); err != nil {
		t.Fatal(err)
	}
	if got := mp.headers(mp.waitFor(security).ID)["List-Unsubscribe"]; len(got) != 0 {
		t.Fatalf("a security mail carries List-Unsubscribe %q", got)
	}

	e.To = blocked
	if err := mailer.SendSubscribed(ctx, e, link); !errors.Is(err, push.ErrSuppressed) {
		t.Fatalf("to a suppressed address: %v, want ErrSuppressed", err)
	}
	if err := mailer.SendSubscribed(ctx, push.Email{To: to, Subject: "x", Text: "x"}, "javascript:alert(1)"); !errors.Is(err, push.ErrInvalidEmail) {
		t.Fatalf("a bad unsubscribe URL: %v", err)
	}
	time.Sleep(500 * time.Millisecond)
	if ids := mp.search(blocked); len(ids) != 0 {
		t.Fatalf("%d mails reached a suppressed address", len(ids))
	}
}

func TestParseDKIMKeyRefusesGarbage(t *testing.T) {
	for name, pemText := range map[string]string{
		"empty":    "",
		"not pem":  "hello",
		"bad body": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
	} {
		if _, err := push.ParseDKIMKey([]byte(pemText)); !errors.Is(err, push.ErrDKIMKey) {
			t.Errorf("%s: %v, want ErrDKIMKey", name, err)
		}
	}
}
