package market

import (
	"context"
	"errors"
	"fmt"
)

// The Stripe Connect events payouts apply.
const (
	StripeAccountUpdated = "account.updated"
	StripePayoutPaid     = "payout.paid"
	StripePayoutFailed   = "payout.failed"
)

// The outcomes of a payout event besides those of payments (applied, duplicate,
// ignored, mismatch).
const (
	OutcomeUnknownWithdrawal = "unknown_withdrawal" // no withdrawal of ours has this payout
	OutcomeUnknownAccount    = "unknown_account"    // no seller has this connected account
	OutcomePayoutPending     = "payout_pending"     // the provider has not decided the payout yet: recorded, nothing moved
)

// ApplyConnectWebhook verifies a Stripe Connect webhook and applies it at most once:
// account.updated stores the connected account's payout eligibility (details
// submitted, payouts enabled, what is still due) and announces payout_method.updated
// on the seller's channel; payout.paid finishes the withdrawal the payout belongs to
// (transit → external:stripe); payout.failed first reverses the withdrawal's transfer
// (the money is back on the connected account, under the withdrawal's key so a
// repeated event reverses once), then returns it to the seller's available balance
// with Stripe's reason, announced as withdrawal.updated and balance.updated. A payout
// of no withdrawal of ours, or whose account, amount or currency differ, changes
// nothing. Other types are stored (once) as unhandled, for admins, and acknowledged. It returns an error
// wrapping ErrBadWebhookSignature for a bad signature, and provider or storage errors
// (Stripe retries the webhook).
func (p *Payouts) ApplyConnectWebhook(ctx context.Context, payload []byte, signature string) (string, error) {
	ev, err := p.events.VerifyConnect(payload, signature)
	if err != nil {
		return "", err
	}
	switch {
	case ev.Type == StripeAccountUpdated && ev.Account != nil:
		return p.applyAccount(ctx, ev.ID, *ev.Account)
	case (ev.Type == StripePayoutPaid || ev.Type == StripePayoutFailed) && ev.Payout != nil:
		out := *ev.Payout
		out.EventID, out.EventType, out.Provider = ev.ID, ev.Type, PayoutStripe
		out.Paid = ev.Type == StripePayoutPaid
		return p.ApplyPayoutOutcome(ctx, out)
	}
	fresh, err := p.store.RecordUnhandledEvent(ctx, "stripe", ev.ID, ev.Type, ev.ObjectRef)
	if err != nil {
		return "", err
	}
	if !fresh {
		return OutcomeDuplicate, nil
	}
	p.log.InfoContext(ctx, "connect event not handled; stored for admins", "event_id", ev.ID, "type", ev.Type, "object", ev.ObjectRef)
	return OutcomeUnhandled, nil
}

// applyAccount stores an account.updated.
func (p *Payouts) applyAccount(ctx context.Context, eventID string, st StripeAccountState) (string, error) {
	userID, events, err := p.store.UpdateStripeAccount(ctx, eventID, st)
	if err != nil {
		return "", fmt.Errorf("account.updated %s: %w", eventID, err)
	}
	p.publish(ctx, events)
	outcome := OutcomeApplied
	switch {
	case userID == "":
		outcome = OutcomeUnknownAccount
	case len(events) == 0:
		outcome = OutcomeDuplicate
	}
	p.log.InfoContext(ctx, "connect account event", "event_id", eventID, "account", st.AccountID, "user_id", userID,
		"payouts_enabled", st.PayoutsEnabled, "outcome", outcome)
	return outcome, nil
}

// ApplyPayoutOutcome finishes a withdrawal's payout once, whichever provider reported
// it (a Stripe Connect webhook, a PayPal webhook or poll): a verdict on a withdrawal
// still pending (the provider decided before our confirmation committed) first
// confirms it (confirmEarly), then a failure is undone at the provider where that is
// needed (Stripe: reverse the transfer), then posted.
// An outcome still Pending (PayPal's UNCLAIMED: the receiver has no account yet) is
// recorded once and moves nothing.
// It returns the outcome, or provider and storage errors (the caller retries).
func (p *Payouts) ApplyPayoutOutcome(ctx context.Context, out PayoutOutcome) (string, error) {
	w, err := p.store.Withdrawal(ctx, out.WithdrawalID)
	if errors.Is(err, ErrNotFound) || (err == nil && !payoutMatches(w, out)) {
		outcome := OutcomeUnknownWithdrawal
		if err == nil {
			outcome = OutcomeMismatch
		}
		p.log.WarnContext(ctx, "payout event for no withdrawal of ours", "event_id", out.EventID, "type", out.EventType,
			"withdrawal_id", out.WithdrawalID, "destination", out.Destination, "outcome", outcome)
		if _, err := p.store.RecordProviderEvent(ctx, out.Provider, out.EventID, out.EventType, outcome); err != nil {
			return "", err
		}
		return outcome, nil
	}
	if err != nil {
		return "", err
	}
	if w.Status == WithdrawalPending && p.withdrawals != nil {
		if w, err = p.confirmEarly(ctx, w, out); err != nil {
			return "", err
		}
	}
	if out.Pending {
		return p.recordPending(ctx, w, out)
	}
	if !out.Paid && out.Failure == "" {
		out.Failure = "the payout failed"
	}
	if !out.Paid && w.Status == WithdrawalInTransit && w.Provider != nil && *w.Provider == PayoutStripe {
		if err := p.gateway.ReverseTransfer(ctx, w); err != nil {
			return "", fmt.Errorf("reverse the transfer of withdrawal %s: %w", w.ID, err)
		}
	}
	got, outcome, events, err := p.store.FinishPayout(ctx, out)
	if err != nil {
		return "", fmt.Errorf("finish payout of withdrawal %s: %w", w.ID, err)
	}
	p.publish(ctx, events)
	p.log.InfoContext(ctx, "payout event", "provider", out.Provider, "event_id", out.EventID, "type", out.EventType,
		"withdrawal_id", got.ID, "user_id", got.UserID, "status", got.Status, "outcome", outcome, "failure", out.Failure)
	return outcome, nil
}

// confirmEarly confirms a withdrawal whose payout's verdict arrived while it is still
// pending: the provider made the payout (the event names it) but our confirmation has
// not committed yet, or the process died before it did. The provider is asked again
// under the withdrawal's key (it returns the payout it made), so the withdrawal moves
// in_transit and the verdict applies to it like any other, rather than being lost.
// It errors when the provider did not answer (the provider retries the event).
func (p *Payouts) confirmEarly(ctx context.Context, w Withdrawal, out PayoutOutcome) (Withdrawal, error) {
	got, err := p.withdrawals.ConfirmWithdrawal(ctx, w)
	if err != nil {
		return Withdrawal{}, fmt.Errorf("confirm withdrawal %s before its %s: %w", w.ID, out.EventType, err)
	}
	if got.Status == WithdrawalPending {
		return Withdrawal{}, fmt.Errorf("withdrawal %s: the provider did not confirm its payout yet; %s %s is retried", w.ID, out.EventType, out.EventID)
	}
	p.log.InfoContext(ctx, "withdrawal confirmed by its payout event", "withdrawal_id", w.ID, "event_id", out.EventID, "status", got.Status)
	return got, nil
}

// recordPending stores an event about a payout not decided yet, once; the
// withdrawal stays in transit (the poll and a later event finish it).
func (p *Payouts) recordPending(ctx context.Context, w Withdrawal, out PayoutOutcome) (string, error) {
	fresh, err := p.store.RecordProviderEvent(ctx, out.Provider, out.EventID, out.EventType, OutcomePayoutPending)
	if err != nil {
		return "", fmt.Errorf("record %s %s: %w", out.EventType, out.EventID, err)
	}
	if !fresh {
		return OutcomeDuplicate, nil
	}
	p.log.InfoContext(ctx, "payout not decided yet", "provider", out.Provider, "event_id", out.EventID, "type", out.EventType,
		"withdrawal_id", w.ID, "status", w.Status)
	return OutcomePayoutPending, nil
}

// payoutMatches says whether an outcome is about withdrawal w: the same provider and
// destination, amount and currency.
func payoutMatches(w Withdrawal, out PayoutOutcome) bool {
	return w.Provider != nil && *w.Provider == out.Provider && w.Destination != nil && *w.Destination == out.Destination &&
		w.AmountMinor == out.AmountMinor && w.Currency == out.Currency
}
