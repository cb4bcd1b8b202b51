package market

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Identity is an account at an external provider (Google sign-in), as its verified ID
// token describes it.
type Identity struct {
	Provider      string `json:"provider" db:"provider"`
	Subject       string `json:"subject" db:"subject"`
	Email         string `json:"email" db:"email"`
	EmailVerified bool   `json:"-" db:"-"`
	Name          string `json:"-" db:"-"`
}

// SignInWithIdentity signs in the user linked to id. Without a link, it links the
// account whose e-mail matches when the provider verified that address and the
// account verified it too, or creates a new account. An account that holds the
// address without ever having verified it is never linked: anyone can type an
// address at registration, so linking would hand its owner an account whose password,
// sessions and settings the earlier holder chose. That account loses the address
// (ReleaseUnverifiedEmail) and the identity gets a new account of its own. It returns
// an unauthorized Error for an address the provider has not verified, or for a
// disabled account.
func (a *Accounts) SignInWithIdentity(ctx context.Context, id Identity, kind, userAgent, ip string) (SignedIn, error) {
	u, err := a.store.IdentityUser(ctx, id.Provider, id.Subject)
	if errors.Is(err, ErrNotFound) {
		u, err = a.linkOrCreate(ctx, id)
	}
	if err != nil {
		return SignedIn{}, err
	}
	if !u.Active() {
		return SignedIn{}, Errorf(CodeUnauthorized, "this account is disabled")
	}
	return a.openSession(ctx, u, kind, userAgent, ip)
}

func (a *Accounts) linkOrCreate(ctx context.Context, id Identity) (User, error) {
	if !id.EmailVerified {
		return User{}, Errorf(CodeUnauthorized, "the provider has not verified this e-mail address")
	}
	id.Email = NormalizeEmail(id.Email)
	u, err := a.store.UserByEmail(ctx, id.Email)
	if err == nil && u.EmailVerifiedAt == nil {
		err = a.releaseEmail(ctx, u, id)
	}
	if errors.Is(err, ErrNotFound) {
		u, err = a.store.CreateUser(ctx, NewUser{
			Email: id.Email, Username: usernameFrom(id.Email), DisplayName: displayNameFrom(id),
			IsBuyer: true, EmailVerified: true,
		})
	}
	if err != nil {
		return User{}, err
	}
	if err := a.store.LinkIdentity(ctx, u.ID, id); err != nil {
		return User{}, fmt.Errorf("link identity: %w", err)
	}
	return u, nil
}

// releaseEmail takes the address from u, which never verified it, and returns an
// error wrapping ErrNotFound so that the caller creates the identity's own account.
func (a *Accounts) releaseEmail(ctx context.Context, u User, id Identity) error {
	if err := a.store.ReleaseUnverifiedEmail(ctx, u.ID); err != nil {
		if errors.Is(err, ErrNotFound) { // verified or deleted meanwhile: refuse rather than guess
			return Errorf(CodeConflict, "this e-mail address changed hands during sign-in; try again")
		}
		return err
	}
	a.log.WarnContext(ctx, "security event", "event", "unverified_email_released",
		"user_id", u.ID, "provider", id.Provider)
	return fmt.Errorf("address released by %s: %w", u.ID, ErrNotFound)
}

var notUsername = regexp.MustCompile(`[^a-z0-9_]+`)

// usernameFrom derives a unique-looking username from an address; a random suffix
// avoids clashes with existing names.
func usernameFrom(email string) string {
	local, _, _ := strings.Cut(email, "@")
	base := strings.Trim(notUsername.ReplaceAllString(local, "_"), "_")
	if len(base) > 20 {
		base = base[:20]
	}
	if len(base) < 3 {
		base = "user"
	}
	secret, _, _ := NewSecret()
	suffix := notUsername.ReplaceAllString(strings.ToLower(secret), "")
	if len(suffix) > 6 {
		suffix = suffix[:6]
	}
	return base + "_" + suffix
}

func displayNameFrom(id Identity) string {
	if err := CheckDisplayName(id.Name); err == nil {
		return strings.TrimSpace(id.Name)
	}
	local, _, _ := strings.Cut(id.Email, "@")
	return truncate(local, 80)
}
