package push_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gigstream/hub/push"
)

func TestNotificationEmailsEscapeWhatUsersWrote(t *testing.T) {
	const title = `<b>Logo</b> & "more"`
	for _, kind := range []string{"order_paid", "order_delivered", "order_completed", "order_cancelled", "order_refunded", "review_received", "withdrawal_paid"} {
		t.Run(kind, func(t *testing.T) {
			e, err := push.NotificationEmail("Maya <maya@x.test>", "Maya", push.NotificationMail{
				Kind: kind, Subject: "New order: " + title, GigTitle: title, Body: "Note: <i>quick</i>", Link: "https://gigstream.test/orders/1",
			})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(e.HTML, "<b>Logo") || !strings.Contains(e.HTML, "&lt;b&gt;Logo&lt;/b&gt;") || strings.Contains(e.HTML, "<i>quick") {
				t.Errorf("HTML does not escape the gig title or body:\n%s", e.HTML)
			}
			if !strings.Contains(e.Text, title) || !strings.Contains(e.Text, "https://gigstream.test/orders/1") {
				t.Errorf("text part lacks the title as written or the link:\n%s", e.Text)
			}
		})
	}
}

func TestNotificationEmailRefusesUnknownKindsAndBadLinks(t *testing.T) {
	for name, m := range map[string]push.NotificationMail{
		"kind": {Kind: "order_placed", Subject: "x", Link: "https://gigstream.test/orders/1"},
		"link": {Kind: "order_paid", Subject: "x", Link: "javascript:alert(1)"},
	} {
		if _, err := push.NotificationEmail("a@x.test", "A", m); !errors.Is(err, push.ErrInvalidEmail) {
			t.Errorf("%s: err = %v, want ErrInvalidEmail", name, err)
		}
	}
}
