package market

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"
)

// Withdrawal is a seller's payout from their available balance. Status is pending
// while the provider is asked (the amount is reserved), then paid or failed (nothing
// moved).
type Withdrawal struct {
	ID          string    `json:"id" db:"id"`
	AmountMinor int64     `json:"amount_minor" db:"amount_minor"`
	Currency    string    `json:"currency" db:"currency"`
	Status      string    `json:"status" db:"status"`
	ProviderRef *string   `json:"provider_ref" db:"provider_ref"`
	Failure     *string   `json:"failure" db:"failure"`
	CreatedAt   time.Time `json:"created_at" db:"created_at"`
	UpdatedAt   time.Time `json:"updated_at" db:"updated_at"`
	UserID      string    `json:"-" db:"user_id"`
	RequestHash string    `json:"-" db:"request_hash"`
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
	WithdrawalPending = "pending"
	WithdrawalPaid    = "paid"
	WithdrawalFailed  = "failed"
)

// Balances returns the caller's balances, one per currency they ever had money in.
func (s *Settlement) Balances(ctx context.Context, userID string) ([]Balance, error) {
	return s.store.Balances(ctx, userID)
}

// Withdrawals lists the caller's withdrawals, newest first.
func (s *Settlement) Withdrawals(ctx context.Context, userID string, limit int) ([]Withdrawal, error) {
	return s.store.Withdrawals(ctx, userID, limit)
}

// Withdraw pays amount of the caller's available balance out through the provider.
//
// It reserves, then confirms: the store first records a pending withdrawal under a
// per-user lock, once the available balance less every pending withdrawal covers it
// (so concurrent withdrawals can never together overdraw); only then is the provider
// asked for the payout, with the withdrawal's id as its idempotency key; the ledger
// (seller available → external:stripe) is posted only once the provider said yes. If
// the provider fails, the withdrawal is marked failed and the reservation released: no
// money moved. Were the process to die between the two, the withdrawal stays pending
// and reserved, and a retry under the same key finishes it (the provider returns the
// same payout). No lock is held while the provider is called.
//
// A retry with the same key and body returns the same withdrawal (replayed true); the
// same key with another body is an invalid Error naming Idempotency-Key. Other errors:
// invalid naming amount_minor or currency; conflict naming amount_minor when it exceeds
// the available balance; unavailable when the provider fails (the failed withdrawal
// is kept and listed).
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
	w, created, err := s.store.ReserveWithdrawal(ctx, in)
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
	if w.Status == WithdrawalFailed && created {
		return w, false, Errorf(CodeUnavailable, "the payout failed and nothing was withdrawn; try again with a new Idempotency-Key")
	}
	s.log.InfoContext(ctx, "withdrawal", "withdrawal_id", w.ID, "user_id", in.UserID, "status", w.Status,
		"amount_minor", w.AmountMinor, "currency", w.Currency)
	return w, !created, nil
}

// payOut asks the provider for a reserved withdrawal's payout (its id is the
// idempotency key, so a retry never pays twice) and finishes the row under its lock:
// paid posts the ledger, a refusal releases the reservation. It publishes what was
// stored and returns the row, whether this call finished it (paid it, or marked it
// failed after a refusal) and storage errors.
func (s *Settlement) payOut(ctx context.Context, w Withdrawal) (Withdrawal, bool, error) {
	ref, perr := s.gateway.Payout(ctx, PayoutRequest{
		WithdrawalID: w.ID, UserID: w.UserID, AmountMinor: w.AmountMinor, Currency: w.Currency,
		IdempotencyKey: "gigstream-withdrawal-" + w.ID,
	})
	failure := ""
	if perr != nil {
		s.log.WarnContext(ctx, "payout failed; withdrawal released", "withdrawal_id", w.ID, "err", perr)
		failure = "the payment provider refused the payout"
	}
	got, events, err := s.store.FinishWithdrawal(ctx, w.ID, ref, failure)
	if err != nil {
		return Withdrawal{}, false, fmt.Errorf("finish withdrawal %s: %w", w.ID, err)
	}
	s.publish(ctx, events)
	return got, len(events) > 0 || (failure != "" && got.Status == WithdrawalFailed), nil
}
