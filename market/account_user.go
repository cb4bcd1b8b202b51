package market

import (
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// User is a GigStream account. A user may buy, sell, or both; admin is granted only
// from the command line.
type User struct {
	ID              string     `json:"id" db:"id"`
	Email           string     `json:"email" db:"email"`
	Username        string     `json:"username" db:"username"`
	DisplayName     string     `json:"display_name" db:"display_name"`
	Bio             string     `json:"bio" db:"bio"`
	IsBuyer         bool       `json:"is_buyer" db:"is_buyer"`
	IsSeller        bool       `json:"is_seller" db:"is_seller"`
	IsAdmin         bool       `json:"is_admin" db:"is_admin"`
	EmailVerifiedAt *time.Time `json:"email_verified_at" db:"email_verified_at"`
	DisabledAt      *time.Time `json:"-" db:"disabled_at"`
	DeletedAt       *time.Time `json:"-" db:"deleted_at"`
	CreatedAt       time.Time  `json:"created_at" db:"created_at"`
	PasswordHash    *string    `json:"-" db:"password_hash"`
}

// Active reports whether the user may sign in.
func (u User) Active() bool { return u.DisabledAt == nil && u.DeletedAt == nil }

// NewUser is what registration stores.
type NewUser struct {
	Email, Username, DisplayName, PasswordHash string
	IsBuyer, IsSeller, EmailVerified           bool
}

// MinPasswordLength is the shortest password accepted; long passphrases beat
// composition rules (NIST SP 800-63B).
const MinPasswordLength = 10

// maxPasswordLength bounds the work a single hash may cost.
const maxPasswordLength = 256

var usernamePattern = regexp.MustCompile(`^[a-z0-9_]{3,30}$`)

// NormalizeEmail trims and lower-cases an address; accounts are unique by it.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// CheckEmail returns an invalid-field Error unless email is a plain address.
func CheckEmail(field, email string) error {
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || len(email) > 254 || !strings.Contains(email[strings.LastIndex(email, "@"):], ".") {
		return FieldError(CodeInvalid, field, "must be an email address such as name@example.com")
	}
	return nil
}

// CheckUsername returns an invalid-field Error unless name is 3–30 of a-z, 0-9, _.
func CheckUsername(name string) error {
	if !usernamePattern.MatchString(name) {
		return FieldError(CodeInvalid, "username", "must be 3 to 30 characters of a-z, 0-9 and _")
	}
	return nil
}

// CheckDisplayName returns an invalid-field Error unless name is 1–80 printable characters.
func CheckDisplayName(name string) error {
	n := utf8.RuneCountInString(strings.TrimSpace(name))
	if n < 1 || n > 80 || strings.ContainsAny(name, "\x00\r\n\t") {
		return FieldError(CodeInvalid, "display_name", "must be 1 to 80 characters on one line")
	}
	return nil
}

// CheckPassword applies the password policy: at least MinPasswordLength characters, at
// most 256 bytes, and not containing the account's email or username.
func CheckPassword(field, password, email, username string) error {
	if utf8.RuneCountInString(password) < MinPasswordLength {
		return FieldError(CodeInvalid, field, "must be at least 10 characters")
	}
	if len(password) > maxPasswordLength {
		return FieldError(CodeInvalid, field, "must be at most 256 bytes")
	}
	lower := strings.ToLower(password)
	local, _, _ := strings.Cut(NormalizeEmail(email), "@")
	for _, s := range []string{NormalizeEmail(email), local, strings.ToLower(username)} {
		if len(s) >= 3 && strings.Contains(lower, s) {
			return FieldError(CodeInvalid, field, "must not contain your email address or username")
		}
	}
	return nil
}
