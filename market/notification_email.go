package market

import (
	"context"
	"errors"
	"time"
)

// NotificationEmail is what the e-mail of one notification needs.
type NotificationEmail struct {
	Notification
	Email         string            `db:"email"`
	DisplayName   string            `db:"display_name"`
	EmailVerified bool              `db:"email_verified"`
	Gone          bool              `db:"gone"` // the account is deleted or disabled
	GigTitle      string            `db:"gig_title"`
	Prefs         NotificationPrefs `db:"-"`
}

// NotificationMailer sends the e-mail of a notification; link is absolute.
type NotificationMailer interface {
	SendNotification(ctx context.Context, m NotificationEmail, link string) error
}

// EmailsKind reports whether notifications of kind are also sent by e-mail (when the
// user lets them): every order, delivery, dispute, review, payment and saved-search
// kind, and a takedown and its lifting, each with templates in push/templates. Chat
// has its digests; other security notices are not notifications.
func EmailsKind(kind string) bool {
	if kind == KindGigTakenDown || kind == KindGigRestored {
		return true
	}
	switch cat, _ := CategoryOf(kind); cat {
	case CategoryOrders, CategoryDeliveries, CategoryDisputes, CategoryReviews, CategoryPayments, CategorySavedSearches:
		return true
	}
	return false
}

// SendEmail e-mails notification id through mailer, with links under publicURL. It
// sends nothing, and returns nil, when Allowed says no for the e-mail channel, has no
// verified address, or is deleted or disabled, or when the notification is gone. A
// mailer error is returned so the job is retried.
func (n *Notifications) SendEmail(ctx context.Context, mailer NotificationMailer, publicURL, id string) error {
	m, err := n.store.NotificationEmail(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	allowed, _ := Allowed(m.Prefs, m.Kind, ChannelEmail, time.Now())
	if !allowed || !m.EmailVerified || m.Gone || !EmailsKind(m.Kind) {
		n.log.DebugContext(ctx, "notification e-mail skipped", "notification_id", id, "kind", m.Kind)
		return nil
	}
	return mailer.SendNotification(ctx, m, publicURL+m.Link)
}
