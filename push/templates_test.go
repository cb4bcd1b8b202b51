package push_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gigstream/hub/push"
)

func TestTemplatesDeliveredWithEscapedDisplayName(t *testing.T) {
	mp := newMailpit(t)
	mailer := newMailer(t, push.SMTPConfig{})
	const name = `<script>alert("x")</script> Zoë`
	const link = "https://gigstream.test/verify?token=abc&next=%2Fme"
	builders := map[string]func(to string) (push.Email, error){
		"VerifyEmail":   func(to string) (push.Email, error) { return push.VerifyEmail(to, name, link) },
		"ResetPassword": func(to string) (push.Email, error) { return push.ResetPassword(to, name, link) },
		"EmailChanged": func(to string) (push.Email, error) {
			return push.EmailChanged(to, name, "new-address@push.gigstream.test")
		},
		"EmailInUse": func(to string) (push.Email, error) { return push.EmailInUse(to, name) },
	}
	for tmpl, build := range builders {
		t.Run(tmpl, func(t *testing.T) {
			to := uniqueAddress(t)
			e, err := build(to)
			if err != nil {
				t.Fatalf("%s: %v", tmpl, err)
			}
			if err := mailer.Send(context.Background(), e); err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := mp.waitFor(to)
			if got.Subject != e.Subject || !strings.Contains(got.Subject, "GigStream") {
				t.Errorf("Subject = %q", got.Subject)
			}
			if strings.Contains(got.HTML, "<script>") || !strings.Contains(got.HTML, "&lt;script&gt;") {
				t.Errorf("HTML part does not escape the display name:\n%s", got.HTML)
			}
			if !strings.Contains(got.Text, name) {
				t.Errorf("Text part lacks the display name as written:\n%s", got.Text)
			}
			want := link
			switch tmpl {
			case "EmailChanged":
				want = "new-address@push.gigstream.test"
			case "EmailInUse":
				want = "nothing was changed"
			}
			if !strings.Contains(got.Text, want) || !strings.Contains(got.HTML, strings.ReplaceAll(want, "&", "&amp;")) {
				t.Errorf("both parts should carry %q\ntext:\n%s\nhtml:\n%s", want, got.Text, got.HTML)
			}
		})
	}
}

func TestTemplatesRejectBadInput(t *testing.T) {
	for name, build := range map[string]func() (push.Email, error){
		"javascript link": func() (push.Email, error) { return push.VerifyEmail("a@x.test", "A", "javascript:alert(1)") },
		"relative link":   func() (push.Email, error) { return push.ResetPassword("a@x.test", "A", "/reset?t=1") },
		"CRLF recipient": func() (push.Email, error) {
			return push.VerifyEmail("a@x.test\r\nBcc: b@x.test", "A", "https://x.test/v")
		},
		"bad new email": func() (push.Email, error) { return push.EmailChanged("a@x.test", "A", "not an address") },
	} {
		if _, err := build(); !errors.Is(err, push.ErrInvalidEmail) {
			t.Errorf("%s: err = %v, want ErrInvalidEmail", name, err)
		}
	}
}

func TestTemplatesGreetEmptyNameGenerically(t *testing.T) {
	e, err := push.VerifyEmail("a@x.test", "  ", "https://x.test/v")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(e.Text, "Hi there,") {
		t.Errorf("Text starts %q, want a generic greeting", e.Text[:20])
	}
}
