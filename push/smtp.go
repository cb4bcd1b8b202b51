package push

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// SMTPConfig configures an SMTPMailer. The zero value is usable and means the
// defaults documented on each field.
type SMTPConfig struct {
	// Addr is the submission server's host:port. Default "localhost:25".
	Addr string
	// From is the sender address, e.g. "GigStream <no-reply@gigstream.io>".
	// Default "GigStream <no-reply@localhost>".
	From string
	// Username and Password enable AUTH PLAIN when Username is set. net/smtp
	// refuses to send them over an unencrypted connection except to localhost.
	Username string
	Password string
	// StartTLS requires STARTTLS: when true, a server that does not offer it is
	// an error. When false, STARTTLS is still used whenever the server offers it.
	StartTLS bool
	// TLSConfig is used for STARTTLS. Nil means ServerName from Addr and the
	// system roots.
	TLSConfig *tls.Config
	// Timeout bounds one whole Send (dial to QUIT) on top of the caller's
	// context deadline. Default 30s.
	Timeout time.Duration
	// Logger receives one line per failed send. Nil means slog.Default().
	Logger *slog.Logger
	// Metrics, when set, gets gigstream_push_emails_total{result}. Nil means none.
	Metrics prometheus.Registerer
	// DKIM, when set, signs every message. Nil sends them unsigned.
	DKIM *DKIMConfig
	// Suppressions, when set, is asked by SendSubscribed before each send. Nil
	// suppresses nothing.
	Suppressions SuppressionList
}

// SMTPMailer sends Emails through one SMTP submission server, one connection
// per message. It is safe for concurrent use.
//
// It is built on the standard library's net/smtp rather than a
// third-party client. net/smtp is frozen but complete for what we need
// (EHLO, STARTTLS, AUTH PLAIN, one recipient, DATA with dot-stuffing), it adds
// no dependency to the module, and the two things it lacks are small and done
// here: a MIME body (mime.go, mime/multipart + quoted-printable) and context
// support (the connection's deadline follows ctx, see Send).
type SMTPMailer struct {
	cfg     SMTPConfig
	host    string
	from    *mail.Address
	fromErr error
	log     *slog.Logger
	metrics *emailMetrics
}

// NewSMTPMailer returns a mailer for cfg with its defaults filled in. A
// malformed cfg.From is reported by every Send (as ErrInvalidEmail), so that
// wiring code keeps one error path; cmd/ should validate From at start-up.
func NewSMTPMailer(cfg SMTPConfig) *SMTPMailer {
	if cfg.Addr == "" {
		cfg.Addr = "localhost:25"
	}
	if cfg.From == "" {
		cfg.From = "GigStream <no-reply@localhost>"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	m := &SMTPMailer{cfg: cfg, log: cfg.Logger, metrics: newEmailMetrics(cfg.Metrics)}
	if m.log == nil {
		m.log = slog.Default()
	}
	m.host, _, _ = net.SplitHostPort(cfg.Addr)
	m.from, m.fromErr = parseFrom(cfg.From)
	return m
}

func parseFrom(s string) (*mail.Address, error) {
	if hasLineBreak(s) {
		return nil, &HeaderInjectionError{Field: "From"}
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, fmt.Errorf("%w: sender %q: %w", ErrInvalidEmail, s, err)
	}
	return a, nil
}

// Send delivers e to the server. It returns an error wrapping ErrInvalidEmail
// (a *HeaderInjectionError for CR/LF in To or Subject) before any network
// traffic when e is malformed; otherwise an error naming the SMTP step that
// failed, wrapping the server's *textproto.Error where there is one, or
// ctx.Err() when the context ended first.
func (m *SMTPMailer) Send(ctx context.Context, e Email) error {
	err := m.send(ctx, e)
	if err != nil {
		m.metrics.failed.Inc()
		m.log.LogAttrs(ctx, slog.LevelWarn, "push: email not sent",
			slog.String("subject", e.Subject), slog.Any("error", err))
		return err
	}
	m.metrics.sent.Inc()
	return nil
}

// SendSubscribed delivers a mail the user may switch off (a notification, a
// digest): it carries List-Unsubscribe and List-Unsubscribe-Post headers (RFC 2369,
// RFC 8058) naming unsubscribe, an absolute https (or http) URL that switches the
// mail's category off on POST ("" leaves the headers out, when no signing key
// is configured). Security mails go through Send: they carry no such
// header and are never suppressed. It returns ErrSuppressed, counted as
// result="suppressed" and logged, without sending when the recipient is on the
// suppression list; an error wrapping ErrInvalidEmail for a bad unsubscribe URL;
// the suppression list's error, wrapped; otherwise Send's errors.
func (m *SMTPMailer) SendSubscribed(ctx context.Context, e Email, unsubscribe string) error {
	if unsubscribe != "" && (checkLink(unsubscribe) != nil || strings.ContainsAny(unsubscribe, "\r\n<>, ")) {
		return fmt.Errorf("%w: unsubscribe URL %q", ErrInvalidEmail, unsubscribe)
	}
	e.unsubscribe = unsubscribe
	if m.cfg.Suppressions == nil {
		return m.Send(ctx, e)
	}
	to, err := e.validate()
	if err != nil {
		return err
	}
	suppressed, err := m.cfg.Suppressions.Suppressed(ctx, to.Address)
	if err != nil {
		return fmt.Errorf("push: suppression list: %w", err)
	}
	if suppressed {
		m.metrics.suppressed.Inc()
		m.log.LogAttrs(ctx, slog.LevelInfo, "push: email not sent to a suppressed address",
			slog.String("subject", e.Subject), slog.String("to", to.Address))
		return ErrSuppressed
	}
	return m.Send(ctx, e)
}

func (m *SMTPMailer) send(ctx context.Context, e Email) error {
	if m.fromErr != nil {
		return m.fromErr
	}
	to, err := e.validate()
	if err != nil {
		return err
	}
	msg, err := buildMessage(m.from, to, e, time.Now())
	if err != nil {
		return fmt.Errorf("push: build email: %w", err)
	}
	if m.cfg.DKIM != nil {
		if msg, err = m.cfg.DKIM.sign(msg); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	err = m.deliver(ctx, to.Address, msg)
	if ctxErr := ctx.Err(); err != nil && ctxErr != nil {
		return fmt.Errorf("push: smtp: %w", errors.Join(ctxErr, err))
	}
	return err
}
