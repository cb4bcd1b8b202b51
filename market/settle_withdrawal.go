package market

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Withdrawal is a seller's payout from their available balance to their payout
// method. Status is pending while the provider is asked, or review while an admin
// must approve it (the amount is reserved in both), in_transit once the provider has
// the money (it left the available balance), then paid, failed (a refusal moved
// nothing; a failed payout came back to the available balance, with the reason) or
// rejected by an admin (nothing moved).
type Withdrawal struct {
	ID          string     `json:"id" db:"id"`
	AmountMinor int64      `json:"amount_minor" db:"amount_minor"`
	Currency    string     `json:"currency" db:"currency"`
	Status      string     `json:"status" db:"status"`
	Provider    *string    `json:"provider" db:"provider"`       // stripe or paypal; null for old platform payouts
	Destination *string    `json:"destination" db:"destination"` // the connected account or PayPal e-mail
	ProviderRef *string    `json:"provider_ref" db:"provider_ref"`
	Failure     *string    `json:"failure" db:"failure"`
	CreatedAt   time.Time  `json:"created_at" db:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at" db:"updated_at"`
	ReviewedAt  *time.Time `json:"reviewed_at,omitempty" db:"reviewed_at"`
	UserID      string     `json:"-" db:"user_id"`
	RequestHash string     `json:"-" db:"request_hash"`
	TransferRef *string    `json:"-" db:"transfer_ref"`
	ReviewedBy  *string    `json:"-" db:"reviewed_by"`
}

// NewWithdrawal is a seller's request to withdraw AmountMinor of Currency, under their
// Idempotency-Key.
type NewWithdrawal struct {
	UserID         string
	AmountMinor    int64
	Currency       string
	IdempotencyKey string
	RequestHash    string // set by Withdraw
}

// Balance is a user's money in one currency, in minor units: Pending earnings still
// clearing, Available to withdraw (less what is being withdrawn), Withdrawing (payouts
// under way) and Withdrawn (paid out so far).
type Balance struct {
	Currency    string `json:"currency" db:"currency"`
	Pending     int64  `json:"pending_minor" db:"pending_minor"`
	Available   int64  `json:"available_minor" db:"available_minor"`
	Withdrawing int64  `json:"withdrawing_minor" db:"withdrawing_minor"`
	Withdrawn   int64  `json:"withdrawn_minor" db:"withdrawn_minor"`
}

// The statuses of a withdrawal.
const (
	WithdrawalPending   = "pending"
	WithdrawalReview    = "review"
	WithdrawalInTransit = "in_transit"
	WithdrawalPaid      = "paid"
	WithdrawalFailed    = "failed"
	WithdrawalRejected  = "rejected"
)

// Balances returns the caller's balances, one per currency they ever had money in.
func (s *Settlement) Balances(ctx context.Context, userID string) ([]Balance, error) {
	return s.store.Balances(ctx, userID)
}

// Withdrawals lists the caller's withdrawals, newest first.
func (s *Settlement) Withdrawals(ctx context.Context, userID string, after *PageKey, limit int) ([]Withdrawal, error) {
	return s.store.Withdrawals(ctx, userID, after, limit)
}

// Withdraw pays amount of the caller's available balance out to their payout method.
//
// It reserves, then confirms: under the seller's lock the store reads the facts the
// rules need (WithdrawalRules.PlanWithdrawal: payout method, minimum, new-seller hold,
// destination lock, available balance less every reserved withdrawal, daily limit)
// and records the withdrawal, pending or, above the approval threshold, review (so
// concurrent withdrawals can never together overdraw). A pending one is then paid
// out (payOut) with no lock held; a review one waits for an admin (Approve).
//
// A retry with the same key and body returns the same withdrawal (replayed true),
// finishing it if it is still pending; the same key with another body is an invalid
// Error naming Idempotency-Key. Other errors: invalid naming amount_minor or
// currency; the rules' Errors (each naming its Rule); unavailable when the provider
// refused (the failed withdrawal is kept and listed) or did not answer (it stays
// pending and is finished later).
func (s *Settlement) Withdraw(ctx context.Context, in NewWithdrawal) (Withdrawal, bool, error) {
	if err := checkIdempotencyKey(in.IdempotencyKey); err != nil {
		return Withdrawal{}, false, err
	}
	if in.AmountMinor < 1 {
		return Withdrawal{}, false, FieldError(CodeInvalid, "amount_minor", "must be a positive number of minor units")
	}
	if !currencyPattern.MatchString(in.Currency) {
		return Withdrawal{}, false, FieldError(CodeInvalid, "currency", "must be an ISO 4217 code in capitals, e.g. USD")
	}
	sum := sha256.Sum256([]byte(strconv.FormatInt(in.AmountMinor, 10) + "\n" + in.Currency))
	in.RequestHash = hex.EncodeToString(sum[:])
	w, created, err := s.store.ReserveWithdrawal(ctx, in, func(f WithdrawalFacts) (WithdrawalPlan, error) {
		f.Method = f.Method.withDerived(s.cfg.Withdrawals.DestinationLock)
		return s.cfg.Withdrawals.PlanWithdrawal(f, in.AmountMinor, in.Currency)
	})
	if err != nil {
		return Withdrawal{}, false, err
	}
	if !created && w.RequestHash != in.RequestHash {
		return Withdrawal{}, false, FieldError(CodeInvalid, "Idempotency-Key", "was already used for a different withdrawal; use a new key")
	}
	if w.Status != WithdrawalPending {
		return w, !created, nil
	}
	w, _, err = s.payOut(ctx, w)
	if err != nil {
		return Withdrawal{}, false, err
	}
	s.log.InfoContext(ctx, "withdrawal", "withdrawal_id", w.ID, "user_id", in.UserID, "status", w.Status,
		"amount_minor", w.AmountMinor, "currency", w.Currency)
	switch {
	case w.Status == WithdrawalFailed && created:
		return w, false, Errorf(CodeUnavailable, "the payout was refused and nothing was withdrawn; try again with a new Idempotency-Key")
	case w.Status == WithdrawalPending:
		return w, false, Errorf(CodeUnavailable, "the payment provider did not answer; the withdrawal stays reserved and is finished later (or retry with the same Idempotency-Key)")
	}
	return w, !created, nil
}

// ConfirmWithdrawal confirms a pending withdrawal with its provider, as the retry
// sweep does (payOut, under the withdrawal's key, so nothing is paid twice): it is
// in_transit when the provider has the payout, failed when it refused, and still
// pending when it did not answer. Other statuses are returned as they are. Errors are
// storage errors. It makes Settlement a WithdrawalConfirmer.
func (s *Settlement) ConfirmWithdrawal(ctx context.Context, w Withdrawal) (Withdrawal, error) {
	if w.Status != WithdrawalPending {
		return w, nil
	}
	got, _, err := s.payOut(ctx, w)
	return got, err
}

// ErrPayoutRefused is wrapped by a MoneyGateway's Payout error when the provider
// refused the payout for sure (nothing moved); any other error leaves it uncertain.
var ErrPayoutRefused = errors.New("market: the provider refused the payout")

// payOut asks the provider to pay a reserved withdrawal to its destination (the
// withdrawal's id keys every provider call, so a retry never pays twice) and records
// the answer under the withdrawal's lock: taken moves it in_transit (available →
// transit); a refusal marks it failed and releases the reservation; no answer (or a
// transfer made but no payout yet) leaves it pending for a retry. It publishes what
// was stored and returns the row, whether this call moved it on, and storage errors.
func (s *Settlement) payOut(ctx context.Context, w Withdrawal) (Withdrawal, bool, error) {
	req := PayoutRequest{WithdrawalID: w.ID, UserID: w.UserID, AmountMinor: w.AmountMinor, Currency: w.Currency,
		IdempotencyKey: "gigstream-withdrawal-" + w.ID}
	if w.Provider != nil && w.Destination != nil {
		req.Provider, req.Destination = *w.Provider, *w.Destination
	}
	res, perr := s.gateway.Payout(ctx, req)
	failure := ""
	switch {
	case perr != nil && errors.Is(perr, ErrPayoutRefused):
		s.log.WarnContext(ctx, "payout refused; withdrawal released", "withdrawal_id", w.ID, "err", perr)
		failure = "the payment provider refused the payout"
	case perr != nil:
		s.log.WarnContext(ctx, "payout not confirmed; the withdrawal stays pending", "withdrawal_id", w.ID, "err", perr)
		return w, false, nil
	}
	got, events, err := s.store.StartWithdrawalTransit(ctx, w.ID, res, failure)
	if err != nil {
		return Withdrawal{}, false, fmt.Errorf("finish withdrawal %s: %w", w.ID, err)
	}
	s.publish(ctx, events)
	return got, len(events) > 0 || (failure != "" && got.Status == WithdrawalFailed), nil
}
