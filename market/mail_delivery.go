package market

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// MailDelivery holds the rules that keep our mail wanted and deliverable: one-click
// unsubscribe links for every mail a user can switch off, and the suppression list of
// addresses that bounced for good or complained, which notification mail skips.
type MailDelivery struct {
	store  MailStore
	tokens UnsubscribeTokens
	log    *slog.Logger
	now    func() time.Time
}

// MailStore is the storage MailDelivery needs; store/ implements it.
type MailStore interface {
	SetNotificationPrefs(ctx context.Context, userID string, u NotificationPrefsUpdate) (NotificationPrefs, error)
	// SuppressMail adds (or counts again) each recipient of a report.
	SuppressMail(ctx context.Context, reason SuppressionReason, recipients []ReportedRecipient) error
	// MailSuppression returns the suppression of an address, or an error wrapping
	// ErrNotFound when it is deliverable.
	MailSuppression(ctx context.Context, email string) (MailSuppression, error)
}

// MailSuppression is an address notification mail no longer goes to. It clears when
// the user verifies the address again or changes it.
type MailSuppression struct {
	Reason SuppressionReason `json:"reason" db:"reason"`
	Status string            `json:"status" db:"status"` // 5.1.1, or the feedback type
	Since  time.Time         `json:"since" db:"created_at"`
}

// NewMailDelivery returns the mail delivery rules over s, with tokens for the
// unsubscribe links (a zero UnsubscribeTokens makes none).
func NewMailDelivery(s MailStore, tokens UnsubscribeTokens, log *slog.Logger) *MailDelivery {
	if log == nil {
		log = slog.Default()
	}
	return &MailDelivery{store: s, tokens: tokens, log: log, now: time.Now}
}

// RecordReport suppresses every address a bounce or complaint report gives up on and
// returns how many it named. Errors are the store's.
func (m *MailDelivery) RecordReport(ctx context.Context, r MailReport) (int, error) {
	if len(r.Recipients) == 0 {
		return 0, nil
	}
	if err := m.store.SuppressMail(ctx, r.Reason, r.Recipients); err != nil {
		return 0, fmt.Errorf("suppress %d reported addresses: %w", len(r.Recipients), err)
	}
	for _, rc := range r.Recipients {
		m.log.InfoContext(ctx, "mail address suppressed", "reason", string(r.Reason), "status", rc.Status)
	}
	return len(r.Recipients), nil
}

// Suppression returns the suppression of email, or nil when mail may go to it. Errors
// are the store's.
func (m *MailDelivery) Suppression(ctx context.Context, email string) (*MailSuppression, error) {
	s, err := m.store.MailSuppression(ctx, NormalizeEmail(email))
	if ErrorCode(err) == CodeNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// Suppressed reports whether notification mail to address is held back: it bounced
// for good or its owner complained. The SMTP mailer asks before each such mail.
func (m *MailDelivery) Suppressed(ctx context.Context, address string) (bool, error) {
	s, err := m.Suppression(ctx, address)
	return s != nil, err
}
