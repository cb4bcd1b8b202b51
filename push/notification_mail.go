package push

import "fmt"

// NotificationMail is the content of an order notification e-mail. GigTitle and Body
// may hold anything a user wrote: html/template escapes them in the HTML part.
type NotificationMail struct {
	Kind     string // order_paid, order_delivered, order_completed, order_cancelled, order_refunded, review_received, withdrawal_paid
	Subject  string
	GigTitle string
	Body     string
	Link     string // absolute http(s) URL of the order (or page) concerned
}

// notificationTemplates are the kinds that have a template pair.
var notificationTemplates = map[string]bool{
	"order_paid": true, "order_delivered": true, "order_completed": true, "order_cancelled": true,
	"order_refunded": true, "review_received": true, "withdrawal_paid": true, "saved_search_match": true,
}

// HasNotificationTemplate reports whether kind can be mailed.
func HasNotificationTemplate(kind string) bool { return notificationTemplates[kind] }

// NotificationEmail builds the e-mail of an order notification. It returns an error
// wrapping ErrInvalidEmail for a kind without template, a bad recipient or a link that
// is not an absolute http(s) URL.
func NotificationEmail(to, displayName string, m NotificationMail) (Email, error) {
	if !notificationTemplates[m.Kind] {
		return Email{}, fmt.Errorf("%w: no template for notification kind %q", ErrInvalidEmail, m.Kind)
	}
	if err := checkLink(m.Link); err != nil {
		return Email{}, err
	}
	return render(m.Kind, to, m.Subject, templateData{DisplayName: displayName, Link: m.Link, GigTitle: m.GigTitle, Body: m.Body})
}
