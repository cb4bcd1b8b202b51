package push_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gigstream/hub/push"
)

// devstackEnv returns the variable or fails the test: these tests exercise a
// real SMTP server and must not silently pass without one.
func devstackEnv(t *testing.T, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		t.Fatalf("%s is unset: start the devstack and run eval \"$(bash scripts/devstack env)\" before go test", name)
	}
	return v
}

// mailpit reads the devstack's Mailpit over its HTTP API. Other packages' tests
// share it, so every test uses its own recipient and deletes only its own mail.
type mailpit struct {
	t    *testing.T
	base string
}

func newMailpit(t *testing.T) *mailpit {
	return &mailpit{t: t, base: devstackEnv(t, "MAILPIT_URL")}
}

func newMailer(t *testing.T, cfg push.SMTPConfig) *push.SMTPMailer {
	cfg.Addr = devstackEnv(t, "SMTP_ADDR")
	if cfg.From == "" {
		cfg.From = "GigStream <no-reply@gigstream.test>"
	}
	return push.NewSMTPMailer(cfg)
}

var nonWord = regexp.MustCompile(`[^a-z0-9]+`)

// uniqueAddress is a recipient no other test (or run) uses.
func uniqueAddress(t *testing.T) string {
	name := nonWord.ReplaceAllString(strings.ToLower(t.Name()), "-")
	return fmt.Sprintf("%s-%d@push.gigstream.test", name, time.Now().UnixNano())
}

type mailpitAddress struct{ Name, Address string }

type mailpitMessage struct {
	ID        string
	MessageID string
	From      mailpitAddress
	To        []mailpitAddress
	Subject   string
	Date      time.Time
	Text      string
	HTML      string
}

// waitFor returns the one message sent to addr, waiting up to 10 s for it,
// and deletes it when the test ends.
func (m *mailpit) waitFor(addr string) mailpitMessage {
	m.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ids := m.search(addr)
		if len(ids) > 1 {
			m.t.Fatalf("mailpit: %d messages to %s, want 1", len(ids), addr)
		}
		if len(ids) == 1 {
			m.t.Cleanup(func() { m.delete(ids[0]) })
			var msg mailpitMessage
			m.getJSON("/api/v1/message/"+ids[0], &msg)
			return msg
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("mailpit: no message to %s within 10s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// search lists the ids of messages whose To contains addr.
func (m *mailpit) search(addr string) []string {
	var res struct{ Messages []struct{ ID string } }
	m.getJSON("/api/v1/search?query="+url.QueryEscape("to:"+addr), &res)
	ids := make([]string, 0, len(res.Messages))
	for _, msg := range res.Messages {
		ids = append(ids, msg.ID)
	}
	return ids
}

// headers returns the raw headers of message id, keyed as Mailpit
// canonicalises them (e.g. "Message-Id").
func (m *mailpit) headers(id string) map[string][]string {
	h := map[string][]string{}
	m.getJSON("/api/v1/message/"+id+"/headers", &h)
	return h
}

func (m *mailpit) getJSON(path string, v any) {
	m.t.Helper()
	resp, err := http.Get(m.base + path)
	if err != nil {
		m.t.Fatalf("mailpit GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		m.t.Fatalf("mailpit GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		m.t.Fatalf("mailpit GET %s: decode: %v", path, err)
	}
}

// delete removes one message by id: never the whole inbox, which other
// tests are using.
func (m *mailpit) delete(id string) {
	body, _ := json.Marshal(map[string][]string{"IDs": {id}})
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodDelete, m.base+"/api/v1/messages", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
}
