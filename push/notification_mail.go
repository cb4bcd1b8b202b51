package push

import "fmt"

// NotificationMail is the content of a notification e-mail, in the facts its
// templates write in the reader's language. GigTitle and Note may hold anything a user
// wrote: html/template escapes them in the HTML part. Amount and Date come already
// written for the reader (see market's FormatMoneyIn and FormatDateIn).
type NotificationMail struct {
	Kind     string // a notification kind with templates (NotificationKinds)
	Language string // "de" for German; anything else is English
	GigTitle string
	Amount   string // "" when the notification names no amount
	Currency string // the currency of a paid withdrawal
	Note     string // what the other party wrote: a revision note, a dispute reason, a review comment
	Rating   int    // a review's stars
	Date     string // when it happened
	Link     string // absolute http(s) URL of the order (or page) concerned
}

// NotificationKinds are the notification kinds that have templates, in English and
// German, and so can be mailed.
var NotificationKinds = []string{
	"order_paid", "payment_failed", "order_delivered", "revision_requested", "order_completed", "order_cancelled",
	"order_refunded", "review_received", "review_answered", "withdrawal_paid",
	"order_disputed", "dispute_answered", "dispute_withdrawn", "dispute_resolved", "saved_search_match",
	"gig_taken_down", "gig_restored",
}

// HasNotificationTemplate reports whether kind can be mailed.
func HasNotificationTemplate(kind string) bool {
	for _, k := range NotificationKinds {
		if k == kind {
			return true
		}
	}
	return false
}

// NotificationEmail builds the e-mail of a notification in m.Language: the subject
// from the kind's text template, the text and HTML parts from its templates. It returns
// an error wrapping ErrInvalidEmail for a kind without templates, a bad recipient or a
// link that is not an absolute http(s) URL.
func NotificationEmail(to, displayName string, m NotificationMail) (Email, error) {
	if !HasNotificationTemplate(m.Kind) {
		return Email{}, fmt.Errorf("%w: no template for notification kind %q", ErrInvalidEmail, m.Kind)
	}
	if err := checkLink(m.Link); err != nil {
		return Email{}, err
	}
	return renderIn(m.Language, m.Kind, to, "", templateData{DisplayName: displayName, Link: m.Link, GigTitle: m.GigTitle,
		Amount: m.Amount, Currency: m.Currency, Note: m.Note, Rating: m.Rating, Date: m.Date})
}
