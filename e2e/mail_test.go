package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// mailTo waits for the newest mail to addr whose subject contains subject, in the
// devstack's Mailpit, and returns its plain-text body.
func mailTo(t *testing.T, addr, subject string) string {
	t.Helper()
	base := os.Getenv("MAILPIT_URL")
	if base == "" {
		t.Fatal("MAILPIT_URL is not set: run tests with `make test`")
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if id := findMail(t, base, addr, subject); id != "" {
			return mailText(t, base, id)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("no mail to %s about %q within 30s", addr, subject)
	return ""
}

func findMail(t *testing.T, base, addr, subject string) string {
	var res struct {
		Messages []struct {
			ID      string
			Subject string
		}
	}
	getJSON(t, base+"/api/v1/search?query="+url.QueryEscape("to:"+addr), &res)
	for _, m := range res.Messages {
		if strings.Contains(strings.ToLower(m.Subject), strings.ToLower(subject)) {
			return m.ID
		}
	}
	return ""
}

func mailText(t *testing.T, base, id string) string {
	var msg struct{ Text string }
	getJSON(t, base+"/api/v1/message/"+id, &msg)
	return msg.Text
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d", u, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("decode %s: %v", u, err)
	}
}

// linkToken pulls the token out of the first link in a mail body.
func linkToken(t *testing.T, body string) string {
	t.Helper()
	m := tokenInLink.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no token link in mail:\n%s", body)
	}
	tok, err := url.QueryUnescape(m[1])
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// uniqueEmail is an address no other test uses.
func uniqueEmail(t *testing.T, who string) string {
	return fmt.Sprintf("%s-%d@e2e.gigstream.test", who, time.Now().UnixNano())
}
