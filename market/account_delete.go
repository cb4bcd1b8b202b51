package market

import (
	"context"
	"time"
)

// UserExport is the head of a user's GDPR export: the account itself and the small,
// bounded lists about it. The long lists (messages, orders, …) follow it as streamed
// sections; see WriteExport.
type UserExport struct {
	ExportedAt time.Time     `json:"exported_at"`
	User       User          `json:"user"`
	Sessions   []Session     `json:"sessions"`
	Identities []Identity    `json:"identities"`
	Gigs       []ExportedGig `json:"gigs"`
	// NotificationPreferences are the user's notification switches.
	NotificationPreferences NotificationPrefs `json:"notification_preferences"`
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

// Export returns the head of the user's export (see UserExport). It returns an error
// wrapping ErrNotFound when the user does not exist.
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
// account is anonymized rather than removed, because money records (orders, the
// ledger, review ratings) must keep pointing at it. In one transaction the store
// refuses while money is in flight (see DeletionBlockers), pauses the user's published
// gigs, removes device tokens, notifications and sessions, and anonymizes the row;
// the ended sessions' sockets close after commit. It returns a forbidden Error when
// the password is wrong (see reauthenticate) and a conflict Error naming `orders`,
// `balance` or `withdrawals` when deletion would strand money.
func (a *Accounts) DeleteAccount(ctx context.Context, u User, s Session, password string) error {
	if err := a.reauthenticate(ctx, u, s, "password", password); err != nil {
		return err
	}
	ended, err := a.store.AnonymizeUser(ctx, u.ID)
	if err != nil {
		return err
	}
	a.sessionsEnded(ctx, u.ID, ended...)
	return nil
}

// DeletionBlockers counts what keeps an account from being deleted: money that is
// still moving or owed must never end up on an anonymized account nobody can reach.
type DeletionBlockers struct {
	OpenOrders         int   `db:"open_orders"`         // orders as buyer or seller not completed or cancelled
	BalanceMinor       int64 `db:"balance_minor"`       // sum of |seller pending| and |seller available|, all currencies
	PendingWithdrawals int   `db:"pending_withdrawals"` // payouts not yet paid or failed
}

// Refusal returns nil when nothing blocks deletion, and otherwise a conflict Error
// whose field names the first blocker: `orders`, `balance` or `withdrawals`.
func (b DeletionBlockers) Refusal() error {
	switch {
	case b.OpenOrders > 0:
		return FieldError(CodeConflict, "orders", "Finish or cancel your open orders before deleting your account.")
	case b.PendingWithdrawals > 0:
		return FieldError(CodeConflict, "withdrawals", "Wait for your pending withdrawals before deleting your account.")
	case b.BalanceMinor != 0:
		return FieldError(CodeConflict, "balance", "Withdraw your balance (pending earnings must clear first) before deleting your account.")
	}
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
