package market

import (
	"context"
	"errors"
)

// SendEmail e-mails notification id through mailer, with links under publicURL. It
// sends nothing, and returns nil, when the recipient turned order e-mail off, has no
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
	if !m.OrderEmail || !m.EmailVerified || m.Gone || !EmailsKind(m.Kind) {
		n.log.DebugContext(ctx, "notification e-mail skipped", "notification_id", id, "kind", m.Kind)
		return nil
	}
	return mailer.SendNotification(ctx, m, publicURL+m.Link)
}
