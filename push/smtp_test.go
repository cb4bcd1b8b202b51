package push_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gigstream/hub/push"
	"github.com/prometheus/client_golang/prometheus"
)

func TestSMTPMailerSendsMultipartAlternative(t *testing.T) {
	mp := newMailpit(t)
	mailer := newMailer(t, push.SMTPConfig{})
	to := uniqueAddress(t)
	e := push.Email{
		To:      "Zoë Ünïcode <" + to + ">",
		Subject: "Grüße — your order #42 ✓",
		Text:    "Plain body with a long line " + strings.Repeat("x", 200) + "\n.\nend",
		HTML:    "<p>HTML body <b>bold</b> é</p>",
	}
	if err := mailer.Send(context.Background(), e); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := mp.waitFor(to)
	if got.Subject != e.Subject {
		t.Errorf("Subject = %q, want %q", got.Subject, e.Subject)
	}
	if got.From.Address != "no-reply@gigstream.test" || got.From.Name != "GigStream" {
		t.Errorf("From = %+v", got.From)
	}
	if len(got.To) != 1 || got.To[0].Address != to || got.To[0].Name != "Zoë Ünïcode" {
		t.Errorf("To = %+v, want Zoë Ünïcode <%s>", got.To, to)
	}
	if text := strings.ReplaceAll(got.Text, "\r\n", "\n"); strings.TrimRight(text, "\n") != e.Text {
		t.Errorf("Text part = %q, want %q", text, e.Text)
	}
	if strings.TrimRight(got.HTML, "\r\n") != e.HTML {
		t.Errorf("HTML part = %q, want %q", got.HTML, e.HTML)
	}
	if time.Since(got.Date).Abs() > time.Minute {
		t.Errorf("Date = %v, want about now", got.Date)
	}
	if !strings.HasSuffix(got.MessageID, "@gigstream.test") {
		t.Errorf("MessageID = %q, want one in the sender's domain", got.MessageID)
	}
	h := mp.headers(got.ID)
	if v := h["Mime-Version"]; len(v) != 1 || v[0] != "1.0" {
		t.Errorf("MIME-Version = %v", v)
	}
	if v := h["Content-Type"]; len(v) != 1 || !strings.HasPrefix(v[0], "multipart/alternative;") {
		t.Errorf("Content-Type = %v", v)
	}
	if v := h["Subject"]; len(v) != 1 || !strings.HasPrefix(v[0], "=?utf-8?") {
		t.Errorf("raw Subject = %v, want RFC 2047 encoded", v)
	}
}

func TestSMTPMailerRejectsHeaderInjection(t *testing.T) {
	mp := newMailpit(t)
	mailer := newMailer(t, push.SMTPConfig{})
	victim := uniqueAddress(t)
	cases := map[string]push.Email{
		"To":      {To: "a@push.gigstream.test\r\nBcc: " + victim, Subject: "hi", Text: "x"},
		"Subject": {To: "a@push.gigstream.test", Subject: "hi\nBcc: " + victim, Text: "x"},
	}
	for field, e := range cases {
		err := mailer.Send(context.Background(), e)
		var hie *push.HeaderInjectionError
		if !errors.As(err, &hie) || hie.Field != field {
			t.Errorf("%s with CR/LF: err = %v, want *HeaderInjectionError{Field: %q}", field, err, field)
		}
		if !errors.Is(err, push.ErrInvalidEmail) {
			t.Errorf("%s with CR/LF: err = %v, want errors.Is ErrInvalidEmail", field, err)
		}
	}
	time.Sleep(200 * time.Millisecond)
	if ids := mp.search(victim); len(ids) != 0 {
		t.Fatalf("injected recipient got %d messages", len(ids))
	}
}

func TestSMTPMailerRejectsMalformedEmail(t *testing.T) {
	mailer := push.NewSMTPMailer(push.SMTPConfig{Addr: "127.0.0.1:1"})
	for name, e := range map[string]push.Email{
		"no recipient":  {Subject: "s", Text: "t"},
		"two addresses": {To: "a@x.test, b@x.test", Subject: "s", Text: "t"},
		"no body":       {To: "a@x.test", Subject: "s"},
	} {
		if err := mailer.Send(context.Background(), e); !errors.Is(err, push.ErrInvalidEmail) {
			t.Errorf("%s: err = %v, want ErrInvalidEmail", name, err)
		}
	}
}

func TestSMTPMailerRespectsContextDeadline(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // accept and never greet: a hung server
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	mailer := push.NewSMTPMailer(push.SMTPConfig{Addr: ln.Addr().String()})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err = mailer.Send(ctx, push.Email{To: "a@push.gigstream.test", Subject: "s", Text: "t"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
}

func TestSMTPMailerRequiredStartTLSMissing(t *testing.T) {
	devstackEnv(t, "MAILPIT_URL")
	mailer := newMailer(t, push.SMTPConfig{StartTLS: true})
	err := mailer.Send(context.Background(), push.Email{To: uniqueAddress(t), Subject: "s", Text: "t"})
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("err = %v, want a STARTTLS-required error (the devstack Mailpit offers none)", err)
	}
}

func TestSMTPMailerAuthenticates(t *testing.T) {
	mp := newMailpit(t)
	mailer := newMailer(t, push.SMTPConfig{Username: "gigstream", Password: "secret"})
	to := uniqueAddress(t)
	if err := mailer.Send(context.Background(), push.Email{To: to, Subject: "auth", Text: "t"}); err != nil {
		t.Fatalf("Send with AUTH PLAIN: %v", err)
	}
	mp.waitFor(to)
}

func TestSMTPMailerCountsSentAndFailed(t *testing.T) {
	mp := newMailpit(t)
	reg := prometheus.NewRegistry()
	mailer := newMailer(t, push.SMTPConfig{Metrics: reg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	to := uniqueAddress(t)
	if err := mailer.Send(context.Background(), push.Email{To: to, Subject: "m", Text: "t"}); err != nil {
		t.Fatal(err)
	}
	mp.waitFor(to)
	mailer.Send(context.Background(), push.Email{To: "bad\naddress", Subject: "m", Text: "t"})
	got := map[string]float64{}
	families, _ := reg.Gather()
	for _, f := range families {
		for _, m := range f.GetMetric() {
			got[f.GetName()+"/"+m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
		}
	}
	if got["gigstream_push_emails_total/sent"] != 1 || got["gigstream_push_emails_total/failed"] != 1 {
		t.Errorf("metrics = %v, want sent 1 and failed 1", got)
	}
}
