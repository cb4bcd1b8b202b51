package market

import (
	"fmt"
	"time"
)

// WithdrawalRules limit withdrawals. Each zero field turns its rule off; cmd/ sets the
// documented defaults from the environment (WITHDRAWAL_*). Amounts are minor units of
// the withdrawal's currency.
type WithdrawalRules struct {
	MinMinor        int64         // a withdrawal of less is refused (withdrawal_minimum)
	DailyLimitMinor int64         // at most this much per currency in any 24 hours (daily_limit)
	NewSellerHold   time.Duration // no withdrawal until the account is this old (new_seller_hold)
	DestinationLock time.Duration // no withdrawal this long after the payout method changed (destination_lock)
	// ApprovalAboveMinor: a larger withdrawal waits for an admin (status review).
	ApprovalAboveMinor int64
}

// WithdrawalFacts is what the rules look at, read under the seller's lock.
type WithdrawalFacts struct {
	Now          time.Time
	AccountSince time.Time    // the seller's account was created
	Method       PayoutMethod // where the money would go
	FreeMinor    int64        // available less what pending and review withdrawals reserve
	Last24hMinor int64        // withdrawn or under way in the currency over the last 24 hours
}

// WithdrawalPlan is what the rules let a withdrawal do: start in Status (pending, or
// review when an admin must approve it) towards Provider's Destination.
type WithdrawalPlan struct {
	Status, Provider, Destination string
}

// PlanWithdrawal applies the rules to a request of amount in currency, in this order:
// a payout method that can receive money (payout_method), the minimum, the new-seller
// hold, the destination lock, the available balance, the daily limit, then the
// approval threshold. A refusal is an Error naming its rule (and amount_minor or
// payout_method): invalid for the minimum, conflict for the others.
func (r WithdrawalRules) PlanWithdrawal(f WithdrawalFacts, amount int64, currency string) (WithdrawalPlan, error) {
	provider, dest, ok := f.Method.Destination()
	switch {
	case f.Method.Method == "":
		return WithdrawalPlan{}, RuleError(CodeConflict, "payout_method", "payout_method",
			"choose where your money goes first (PUT /me/payout-method)")
	case !ok:
		return WithdrawalPlan{}, RuleError(CodeConflict, "payout_method", "payout_method",
			"your payout account cannot receive payouts yet; finish Stripe's onboarding (POST /me/payout-method/onboarding)")
	case amount < r.MinMinor:
		return WithdrawalPlan{}, RuleError(CodeInvalid, "withdrawal_minimum", "amount_minor",
			"the smallest withdrawal is "+FormatMoney(r.MinMinor, currency))
	case r.NewSellerHold > 0 && f.Now.Before(f.AccountSince.Add(r.NewSellerHold)):
		return WithdrawalPlan{}, RuleError(CodeConflict, "new_seller_hold", "",
			"new accounts may withdraw from "+f.AccountSince.Add(r.NewSellerHold).UTC().Format(time.RFC3339))
	case r.DestinationLock > 0 && f.Method.ChangedAt != nil && f.Now.Before(f.Method.ChangedAt.Add(r.DestinationLock)):
		return WithdrawalPlan{}, RuleError(CodeConflict, "destination_lock", "payout_method",
			"your payout method changed recently; withdrawals open at "+f.Method.ChangedAt.Add(r.DestinationLock).UTC().Format(time.RFC3339))
	case amount > f.FreeMinor:
		return WithdrawalPlan{}, RuleError(CodeConflict, "available_balance", "amount_minor",
			fmt.Sprintf("exceeds your available balance of %d %s", max(f.FreeMinor, 0), currency))
	case r.DailyLimitMinor > 0 && f.Last24hMinor+amount > r.DailyLimitMinor:
		return WithdrawalPlan{}, RuleError(CodeConflict, "daily_limit", "amount_minor",
			fmt.Sprintf("exceeds the limit of %s per 24 hours (%s left)", FormatMoney(r.DailyLimitMinor, currency),
				FormatMoney(max(r.DailyLimitMinor-f.Last24hMinor, 0), currency)))
	}
	status := WithdrawalPending
	if r.ApprovalAboveMinor > 0 && amount > r.ApprovalAboveMinor {
		status = WithdrawalReview
	}
	return WithdrawalPlan{Status: status, Provider: provider, Destination: dest}, nil
}
