package push_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gigstream/hub/push"
)

// TestNotificationEmailsOfEveryKindInBothLanguages: every kind renders in English and
// German, with a subject naming the gig, the facts in both parts, and what users wrote
// escaped in the HTML part.
func TestNotificationEmailsOfEveryKindInBothLanguages(t *testing.T) {
	const title = `<b>Logo</b> & "more"`
	if len(push.NotificationKinds) != 17 {
		t.Fatalf("%d kinds with templates, want the 14 order, dispute, review and payment kinds, saved-search matches and the 2 takedown kinds", len(push.NotificationKinds))
	}
	for _, kind := range push.NotificationKinds {
		subjects := map[string]string{}
		for _, lang := range []string{"en", "de"} {
			t.Run(kind+"/"+lang, func(t *testing.T) {
				e, err := push.NotificationEmail("Maya <maya@x.test>", "Maya", push.NotificationMail{
					Kind: kind, Language: lang, GigTitle: title, Amount: "AMOUNT-42", Currency: "EUR", Note: "Note: <i>quick</i>",
					Rating: 4, Date: "DATE-7", Link: "https://gigstream.test/orders/1",
				})
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(e.HTML, "<b>Logo") || strings.Contains(e.HTML, "<i>quick") {
					t.Errorf("HTML does not escape the gig title or the note:\n%s", e.HTML)
				}
				if !strings.Contains(e.Text, "https://gigstream.test/orders/1") || !strings.Contains(e.Text, "DATE-7") {
					t.Errorf("text part lacks the link or the date:\n%s", e.Text)
				}
				if kind != "withdrawal_paid" && !strings.Contains(e.Subject, title) {
					t.Errorf("subject %q does not name the gig", e.Subject)
				}
				for _, fact := range factsOf(kind) {
					if !strings.Contains(e.Text, fact) || !strings.Contains(e.HTML, fact) {
						t.Errorf("%s missing from the text or HTML part:\n%s", fact, e.Text)
					}
				}
				greeting := map[string]string{"en": "Hi Maya,", "de": "Hallo Maya,"}[lang]
				if !strings.HasPrefix(e.Text, greeting) {
					t.Errorf("text does not open with %q:\n%s", greeting, e.Text)
				}
				subjects[lang] = e.Subject
			})
		}
		if subjects["en"] == subjects["de"] {
			t.Errorf("%s: the German subject is the English one: %q", kind, subjects["en"])
		}
	}
}

// factsOf lists what the mail of kind must show of the facts given above.
func factsOf(kind string) []string {
	switch kind {
	case "order_paid", "payment_failed", "order_completed", "order_refunded", "dispute_resolved":
		return []string{"AMOUNT-42"}
	case "revision_requested", "order_disputed", "gig_taken_down":
		return []string{"quick"}
	case "review_received":
		return []string{"4/5", "quick"}
	case "withdrawal_paid":
		return []string{"EUR"}
	}
	return nil
}

func TestNotificationEmailRefusesUnknownKindsAndBadLinks(t *testing.T) {
	for name, m := range map[string]push.NotificationMail{
		"kind": {Kind: "order_placed", Link: "https://gigstream.test/orders/1"},
		"link": {Kind: "order_paid", Link: "javascript:alert(1)"},
	} {
		if _, err := push.NotificationEmail("a@x.test", "A", m); !errors.Is(err, push.ErrInvalidEmail) {
			t.Errorf("%s: err = %v, want ErrInvalidEmail", name, err)
		}
	}
}
