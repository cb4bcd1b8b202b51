package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/push"
	"github.com/gigstream/hub/store"
)

// mailConfig is what keeps our mail deliverable: one-click unsubscribe, DKIM, and the
// bounce hook.
type mailConfig struct {
	UnsubscribeSecret secret        // MAIL_UNSUBSCRIBE_SECRET: signs unsubscribe links; empty: no links (refused in production)
	UnsubscribeTTL    time.Duration // MAIL_UNSUBSCRIBE_TTL: how long an unsubscribe link works
	BounceToken       secret        // MAIL_BOUNCE_TOKEN: bearer token of POST /webhooks/mail-bounce; empty: hook off
	DKIM              *push.DKIMConfig
}

// loadMailConfig reads the mail delivery settings. A configured DKIM key that cannot be
// read or used stops start-up with the reason.
func loadMailConfig(e *envReader, c *config) {
	c.Mail = mailConfig{
		UnsubscribeSecret: secret(e.str("MAIL_UNSUBSCRIBE_SECRET", "")),
		UnsubscribeTTL:    e.duration("MAIL_UNSUBSCRIBE_TTL", 90*24*time.Hour, time.Hour, 5*365*24*time.Hour),
		BounceToken:       secret(e.str("MAIL_BOUNCE_TOKEN", "")),
	}
	if k := c.Mail.UnsubscribeSecret; k != "" && len(k) < 32 {
		e.fail("MAIL_UNSUBSCRIBE_SECRET", "at least 32 characters (value not shown)", "")
	}
	if c.Production && c.Mail.UnsubscribeSecret == "" {
		e.fail("MAIL_UNSUBSCRIBE_SECRET", "a secret of at least 32 characters in production: every notification mail needs its unsubscribe link", "")
	}
	if k := c.Mail.BounceToken; k != "" && len(k) < 32 {
		e.fail("MAIL_BOUNCE_TOKEN", "at least 32 characters (value not shown)", "")
	}
	c.Mail.DKIM = loadDKIM(e, c.SMTP.From)
}

// loadDKIM reads MAIL_DKIM_KEY_FILE, MAIL_DKIM_SELECTOR and MAIL_DKIM_DOMAIN (default:
// the domain of SMTP_FROM). No key file means unsigned mail.
func loadDKIM(e *envReader, from string) *push.DKIMConfig {
	path := e.str("MAIL_DKIM_KEY_FILE", "")
	selector := e.str("MAIL_DKIM_SELECTOR", "")
	domain := e.str("MAIL_DKIM_DOMAIN", fromDomain(from))
	if path == "" {
		return nil
	}
	if selector == "" {
		e.fail("MAIL_DKIM_SELECTOR", "the DKIM selector (the DNS record is SELECTOR._domainkey.DOMAIN) when MAIL_DKIM_KEY_FILE is set", "")
	}
	if domain == "" || strings.ContainsAny(domain, " ;@") {
		e.fail("MAIL_DKIM_DOMAIN", "the signing domain when MAIL_DKIM_KEY_FILE is set", domain)
	}
	pemBytes, err := os.ReadFile(path)
	if err != nil {
		e.fail("MAIL_DKIM_KEY_FILE", "a readable PEM private key ("+err.Error()+")", path)
		return nil
	}
	signer, err := push.ParseDKIMKey(pemBytes)
	if err != nil {
		e.fail("MAIL_DKIM_KEY_FILE", "an RSA (PKCS #1 or #8) or Ed25519 (PKCS #8) PEM private key ("+err.Error()+")", path)
		return nil
	}
	return &push.DKIMConfig{Domain: domain, Selector: selector, Signer: signer}
}

// fromDomain is the domain of the sender address, "" when it has none.
func fromDomain(from string) string {
	a, err := mail.ParseAddress(from)
	if err != nil {
		return ""
	}
	_, domain, _ := strings.Cut(a.Address, "@")
	return domain
}

// newMailDelivery builds the unsubscribe and suppression rules; without a secret it
// makes no unsubscribe links, and says so.
func newMailDelivery(cfg config, db *store.DB, log *slog.Logger) *market.MailDelivery {
	if cfg.Mail.UnsubscribeSecret == "" {
		log.Warn("MAIL_UNSUBSCRIBE_SECRET is not set: notification mail carries no List-Unsubscribe header")
	}
	tokens := market.NewUnsubscribeTokens([]byte(cfg.Mail.UnsubscribeSecret), cfg.Mail.UnsubscribeTTL)
	return market.NewMailDelivery(db, tokens, log.With("component", "mail"))
}

// subscribedMail sends the mail a user can switch off (notifications, chat digests):
// each carries the one-click unsubscribe link of its category, and none goes to a
// suppressed address.
type subscribedMail struct {
	smtp      *push.SMTPMailer
	delivery  *market.MailDelivery
	publicURL string
}

// newSubscribedMail builds the sender of notification mail; its suppressed mails are
// counted in reg.
func newSubscribedMail(cfg config, delivery *market.MailDelivery, reg prometheus.Registerer, log *slog.Logger) subscribedMail {
	smtp := push.NewSMTPMailer(smtpConfigOf(cfg, log, reg, delivery))
	return subscribedMail{smtp: smtp, delivery: delivery, publicURL: cfg.PublicURL}
}

// send mails e to userID's address with the unsubscribe link of category. A suppressed
// address is not an error: the mail is dropped (logged and counted by the mailer), so
// the job is not retried.
func (m subscribedMail) send(ctx context.Context, e push.Email, userID string, category market.NotificationCategory) error {
	err := m.smtp.SendSubscribed(ctx, e, m.delivery.UnsubscribeLink(m.publicURL, userID, category))
	if errors.Is(err, push.ErrSuppressed) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("send %s mail: %w", category, err)
	}
	return nil
}

// smtpConfigOf is the SMTP settings every mailer shares: the server, DKIM, and,
// for notification mail, the suppression list.
func smtpConfigOf(cfg config, log *slog.Logger, reg prometheus.Registerer, suppressions push.SuppressionList) push.SMTPConfig {
	return push.SMTPConfig{
		Addr: cfg.SMTP.Addr, From: cfg.SMTP.From, Username: cfg.SMTP.Username,
		Password: string(cfg.SMTP.Password), StartTLS: cfg.SMTP.StartTLS, Logger: log,
		Metrics: reg, DKIM: cfg.Mail.DKIM, Suppressions: suppressions,
	}
}
