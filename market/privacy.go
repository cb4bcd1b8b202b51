package market

import (
	"context"
	"time"
)

// UserExport is everything GigStream holds about a user, for GDPR access requests.
// Later features add their sections (messages, orders, uploads).
type UserExport struct {
	ExportedAt time.Time     `json:"exported_at"`
	User       User          `json:"user"`
	Sessions   []Session     `json:"sessions"`
	Identities []Identity    `json:"identities"`
	Gigs       []ExportedGig `json:"gigs"`
}

// ExportedGig is a gig as it appears in a user's export.
type ExportedGig struct {
	ID          string    `json:"id" db:"id"`
	Slug        string    `json:"slug" db:"slug"`
	Title       string    `json:"title" db:"title"`
	Description string    `json:"description" db:"description"`
	Status      string    `json:"status" db:"status"`
	CreatedAt   time.Time `json:"created_at" db:"created_at"`
}

// Export returns all of the user's data.
func (a *Accounts) Export(ctx context.Context, userID string) (UserExport, error) {
	e, err := a.store.ExportUser(ctx, userID)
	if err != nil {
		return UserExport{}, err
	}
	if e.Sessions, err = a.Sessions(ctx, userID); err != nil {
		return UserExport{}, err
	}
	e.ExportedAt = a.now().UTC()
	return e, nil
}

// DeleteAccount erases the user's personal data after re-authentication: the
// account is anonymized rather than removed, because money records (the ledger) must
// keep pointing at it. Every session ends. It returns a forbidden Error when the
// password is wrong (see reauthenticate).
func (a *Accounts) DeleteAccount(ctx context.Context, u User, s Session, password string) error {
	if err := a.reauthenticate(ctx, u, s, "password", password); err != nil {
		return err
	}
	ended, err := a.store.DeleteSessions(ctx, u.ID, "")
	if err != nil {
		return err
	}
	if err := a.store.AnonymizeUser(ctx, u.ID); err != nil {
		return err
	}
	a.sessionsEnded(ctx, u.ID, ended...)
	return nil
}

// GrantAdmin gives (or takes back) the admin role; only the command line calls it.
func (a *Accounts) GrantAdmin(ctx context.Context, email string, admin bool) (User, error) {
	return a.store.SetAdmin(ctx, NormalizeEmail(email), admin)
}

// SetDisabled disables (or re-enables) an account. Disabling ends every session at once.
func (a *Accounts) SetDisabled(ctx context.Context, email string, disabled bool) (User, error) {
	u, err := a.store.SetDisabled(ctx, NormalizeEmail(email), disabled)
	if err != nil {
		return User{}, err
	}
	if disabled {
		if _, err := a.LogoutEverywhere(ctx, u.ID); err != nil {
			return User{}, err
		}
	}
	return u, nil
}
