package main

import (
	"log/slog"

	"context"
	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/store"

	"github.com/gigstream/hub/push"
)

// accountMail sends the account e-mails (market.AccountMailer) through SMTP with the
// push package's templates.
type accountMail struct{ smtp *push.SMTPMailer }

func (m accountMail) SendVerifyEmail(ctx context.Context, to, displayName, link string) error {
	return m.send(ctx)(push.VerifyEmail(to, displayName, link))
}

func (m accountMail) SendPasswordReset(ctx context.Context, to, displayName, link string) error {
	return m.send(ctx)(push.ResetPassword(to, displayName, link))
}

func (m accountMail) SendEmailChanged(ctx context.Context, to, displayName, newEmail string) error {
	return m.send(ctx)(push.EmailChanged(to, displayName, newEmail))
}

func (m accountMail) SendEmailInUse(ctx context.Context, to, displayName string) error {
	return m.send(ctx)(push.EmailInUse(to, displayName))
}

// send returns a function that sends a rendered e-mail, or passes on its render error.
func (m accountMail) send(ctx context.Context) func(push.Email, error) error {
	return func(e push.Email, err error) error {
		if err != nil {
			return err
		}
		return m.smtp.Send(ctx, e)
	}
}

// newAccounts builds the account use cases on the database and the SMTP mailer;
// sockets closes the live sockets of ended sessions.
func newAccounts(cfg config, db *store.DB, sockets market.SessionSockets, log *slog.Logger) *market.Accounts {
	mailer := newSMTPMailer(cfg, log)
	hasher := market.NewPasswordHasher(market.HasherConfig{
		MemoryKiB: uint32(cfg.Argon2MemoryKB), Lanes: uint8(cfg.Argon2Lanes), SlotWait: cfg.Argon2SlotWait,
	})
	return market.NewAccounts(db, accountMail{smtp: mailer}, hasher, market.AccountsConfig{
		PublicURL: cfg.PublicURL, SessionIdle: cfg.SessionIdle, SessionAbsolute: cfg.SessionMaxAge,
		Sockets: sockets,
	}, log)
}
