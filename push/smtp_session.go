package push

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/smtp"
	"time"
)

// deliver runs one SMTP session: dial, EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA,
// QUIT. net/smtp has no context support, so the connection's deadline is
// moved into the past the moment ctx ends (deadline or cancel), which makes
// any blocked read or write return at once.
func (m *SMTPMailer) deliver(ctx context.Context, to string, msg []byte) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", m.cfg.Addr)
	if err != nil {
		return fmt.Errorf("push: smtp dial %s: %w", m.cfg.Addr, err)
	}
	// Only after ctx is done, so that ctx.Err() already explains the failure.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	c, err := smtp.NewClient(conn, m.host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("push: smtp greeting: %w", err)
	}
	defer c.Close()
	if err := m.secure(c); err != nil {
		return err
	}
	if err := m.transfer(c, to, msg); err != nil {
		return err
	}
	if err := c.Quit(); err != nil {
		return fmt.Errorf("push: smtp QUIT: %w", err)
	}
	return nil
}

// secure upgrades to TLS when offered (or fails when required and not
// offered), then authenticates when a username is configured.
func (m *SMTPMailer) secure(c *smtp.Client) error {
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(m.tlsConfig()); err != nil {
			return fmt.Errorf("push: smtp STARTTLS: %w", err)
		}
	} else if m.cfg.StartTLS {
		return fmt.Errorf("push: smtp: server %s does not offer STARTTLS, which is required", m.cfg.Addr)
	}
	if m.cfg.Username == "" {
		return nil
	}
	auth := smtp.PlainAuth("", m.cfg.Username, m.cfg.Password, m.host)
	if err := c.Auth(auth); err != nil {
		return fmt.Errorf("push: smtp AUTH: %w", err)
	}
	return nil
}

func (m *SMTPMailer) tlsConfig() *tls.Config {
	if m.cfg.TLSConfig != nil {
		return m.cfg.TLSConfig
	}
	return &tls.Config{ServerName: m.host, MinVersion: tls.VersionTLS12}
}

func (m *SMTPMailer) transfer(c *smtp.Client, to string, msg []byte) error {
	if err := c.Mail(m.from.Address); err != nil {
		return fmt.Errorf("push: smtp MAIL FROM: %w", err)
	}
	if err := c.Rcpt(to); err != nil {
		return fmt.Errorf("push: smtp RCPT TO: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("push: smtp DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		w.Close()
		return fmt.Errorf("push: smtp DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("push: smtp DATA: %w", err)
	}
	return nil
}
