package push

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
)

// Email is one outgoing message with a plain-text and an HTML alternative.
// Either body may be empty, but not both.
type Email struct {
	To      string // one RFC 5322 address, e.g. "Ada <ada@example.com>"
	Subject string // any UTF-8; encoded per RFC 2047 when not ASCII
	Text    string
	HTML    string

	unsubscribe string // set by SendSubscribed: the one-click unsubscribe URL
}

// ErrInvalidEmail is the sentinel behind every rejection of an Email (or of
// template input) before anything is sent: a malformed address, an empty body,
// a link that is not an absolute http(s) URL. Test with errors.Is.
var ErrInvalidEmail = errors.New("push: invalid email")

// HeaderInjectionError reports a CR or LF in a value that would become a
// header line, which could otherwise smuggle extra headers or recipients.
// It unwraps to ErrInvalidEmail.
type HeaderInjectionError struct {
	Field string // "To", "Subject" or "From"
}

func (e *HeaderInjectionError) Error() string {
	return fmt.Sprintf("push: line break in email %s header", e.Field)
}

// Unwrap lets errors.Is(err, ErrInvalidEmail) match.
func (e *HeaderInjectionError) Unwrap() error { return ErrInvalidEmail }

// validate checks e and returns its parsed recipient. Errors wrap
// ErrInvalidEmail; line breaks give a *HeaderInjectionError.
func (e Email) validate() (*mail.Address, error) {
	if hasLineBreak(e.To) {
		return nil, &HeaderInjectionError{Field: "To"}
	}
	if hasLineBreak(e.Subject) {
		return nil, &HeaderInjectionError{Field: "Subject"}
	}
	to, err := mail.ParseAddress(e.To)
	if err != nil {
		return nil, fmt.Errorf("%w: recipient %q: %w", ErrInvalidEmail, e.To, err)
	}
	if e.Text == "" && e.HTML == "" {
		return nil, fmt.Errorf("%w: empty body", ErrInvalidEmail)
	}
	return to, nil
}

func hasLineBreak(s string) bool {
	return strings.ContainsAny(s, "\r\n")
}
