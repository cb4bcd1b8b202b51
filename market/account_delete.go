package market

import (
	"context"
)

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
	DebtMinor          int64 `db:"debt_minor"`          // what the seller owes after chargebacks (|seller debt|), all currencies
	OpenChargebacks    int   `db:"open_chargebacks"`    // chargebacks on their orders the provider has not decided
}

// Refusal returns nil when nothing blocks deletion, and otherwise a conflict Error
// whose field names the first blocker: `orders`, `chargebacks`, `withdrawals`, `debt`
// or `balance`.
func (b DeletionBlockers) Refusal() error {
	switch {
	case b.OpenOrders > 0:
		return FieldError(CodeConflict, "orders", "Finish or cancel your open orders before deleting your account.")
	case b.OpenChargebacks > 0:
		return FieldError(CodeConflict, "chargebacks", "A chargeback on one of your orders is still open; wait for the payment provider's decision before deleting your account.")
	case b.PendingWithdrawals > 0:
		return FieldError(CodeConflict, "withdrawals", "Wait for your pending withdrawals before deleting your account.")
	case b.DebtMinor != 0:
		return FieldError(CodeConflict, "debt", "You owe the platform after a chargeback; later earnings repay it. Your account can be deleted once it is repaid.")
	case b.BalanceMinor != 0:
		return FieldError(CodeConflict, "balance", "Withdraw your balance (pending earnings must clear first) before deleting your account.")
	}
	return nil
}
