package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/gigstream/hub/market"
)

const withdrawalColumns = `id, user_id, request_hash, amount_minor, currency, status, provider, destination, provider_ref,
	transfer_ref, failure, reviewed_by, reviewed_at, created_at, updated_at`

// withdrawalEvent is withdrawal.updated on the seller's channel: where a withdrawal is.
type withdrawalEvent struct {
	ID          string  `json:"id"`
	Status      string  `json:"status"`
	AmountMinor int64   `json:"amount_minor"`
	Currency    string  `json:"currency"`
	Failure     *string `json:"failure"`
}

// withdrawalEvents stores withdrawal.updated and, when money moved, balance.updated
// with reason on the seller's channel.
func withdrawalEvents(ctx context.Context, tx *sqlx.Tx, w market.Withdrawal, reason string) ([]market.Event, error) {
	ev, err := appendEvent(ctx, tx, market.UserChannel(w.UserID), "withdrawal.updated",
		withdrawalEvent{ID: w.ID, Status: w.Status, AmountMinor: w.AmountMinor, Currency: w.Currency, Failure: w.Failure})
	if err != nil || reason == "" {
		return []market.Event{ev}, err
	}
	bal, err := appendEvent(ctx, tx, market.UserChannel(w.UserID), "balance.updated", balanceEvent{Currency: w.Currency, Reason: reason})
	return []market.Event{ev, bal}, err
}

// ReserveWithdrawal records a withdrawal under the user's lock (their users row, FOR
// NO KEY UPDATE, so one user's withdrawals serialize): when the key was used before
// it returns that withdrawal (created false) and changes nothing; otherwise it reads
// the facts (account age, payout method, available balance less every pending and
// review withdrawal, the last 24 hours' withdrawals), asks plan, and inserts the
// withdrawal as planned, or returns plan's error.
func (db *DB) ReserveWithdrawal(ctx context.Context, in market.NewWithdrawal, plan func(market.WithdrawalFacts) (market.WithdrawalPlan, error)) (market.Withdrawal, bool, error) {
	var w market.Withdrawal
	created := false
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		f := market.WithdrawalFacts{}
		if err := tx.QueryRowxContext(ctx, `SELECT created_at, now() FROM users WHERE id = $1 FOR NO KEY UPDATE`, in.UserID).
			Scan(&f.AccountSince, &f.Now); err != nil {
			return fmt.Errorf("lock user: %w", err)
		}
		err := tx.GetContext(ctx, &w, `SELECT `+withdrawalColumns+` FROM withdrawals WHERE user_id = $1 AND idempotency_key = $2`,
			in.UserID, in.IdempotencyKey)
		if err == nil {
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("withdrawal by key: %w", err)
		}
		if f.Method, err = payoutMethod(ctx, tx, in.UserID); err != nil {
			return err
		}
		err = tx.QueryRowxContext(ctx, `SELECT
			COALESCE((SELECT balance_minor FROM ledger_balances WHERE account = $2 AND currency = $3), 0) -
			COALESCE((SELECT sum(amount_minor) FROM withdrawals WHERE user_id = $1 AND currency = $3 AND status IN ('pending', 'review')), 0),
			COALESCE((SELECT sum(amount_minor) FROM withdrawals WHERE user_id = $1 AND currency = $3
				AND status IN ('pending', 'review', 'in_transit', 'paid') AND created_at > now() - interval '24 hours'), 0)`,
			in.UserID, market.SellerAvailableAccount(in.UserID), in.Currency).Scan(&f.FreeMinor, &f.Last24hMinor)
		if err != nil {
			return fmt.Errorf("available balance: %w", err)
		}
		p, err := plan(f)
		if err != nil {
			return err
		}
		created = true
		err = tx.GetContext(ctx, &w, `INSERT INTO withdrawals (user_id, idempotency_key, request_hash, amount_minor, currency, status, provider, destination)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING `+withdrawalColumns,
			in.UserID, in.IdempotencyKey, in.RequestHash, in.AmountMinor, in.Currency, p.Status, p.Provider, p.Destination)
		if err != nil {
			return fmt.Errorf("insert withdrawal: %w", err)
		}
		return nil
	})
	return w, created, err
}

// lockWithdrawal reads a withdrawal FOR UPDATE; not found when there is none.
func lockWithdrawal(ctx context.Context, tx *sqlx.Tx, id string) (market.Withdrawal, error) {
	var w market.Withdrawal
	err := tx.GetContext(ctx, &w, `SELECT `+withdrawalColumns+` FROM withdrawals WHERE id = $1 FOR UPDATE`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return w, fmt.Errorf("withdrawal %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return w, fmt.Errorf("lock withdrawal %s: %w", id, err)
	}
	return w, nil
}

// StartWithdrawalTransit records the provider's answer on a pending withdrawal under
// its row lock: with a failure it is marked failed (its reservation released, nothing
// posted); otherwise the ledger moves the amount from the seller's available balance
// to the withdrawal's transit account, and it is in_transit with the provider's
// references, announced on the seller's channel. A withdrawal that is no longer
// pending is returned as it is.
func (db *DB) StartWithdrawalTransit(ctx context.Context, id string, res market.PayoutResult, failure string) (market.Withdrawal, []market.Event, error) {
	var w market.Withdrawal
	var events []market.Event
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if w, err = lockWithdrawal(ctx, tx, id); err != nil || w.Status != market.WithdrawalPending {
			return err
		}
		if failure != "" {
			if err := tx.GetContext(ctx, &w, `UPDATE withdrawals SET status = 'failed', failure = $2, updated_at = now()
				WHERE id = $1 RETURNING `+withdrawalColumns, id, failure); err != nil {
				return fmt.Errorf("mark withdrawal failed: %w", err)
			}
			events, err = withdrawalEvents(ctx, tx, w, "")
			return err
		}
		if err := postLedger(ctx, tx, market.WithdrawalToTransit(w.ID, w.UserID, w.AmountMinor, w.Currency)); err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &w, `UPDATE withdrawals SET status = 'in_transit', provider_ref = NULLIF($2, ''),
			transfer_ref = NULLIF($3, ''), updated_at = now() WHERE id = $1 RETURNING `+withdrawalColumns, id, res.PayoutRef, res.TransferRef); err != nil {
			return fmt.Errorf("mark withdrawal in transit: %w", err)
		}
		events, err = withdrawalEvents(ctx, tx, w, "withdrawal_started")
		return err
	})
	if err != nil {
		return market.Withdrawal{}, nil, err
	}
	return w, events, nil
}

// ReviewWithdrawal moves a withdrawal in review to pending (approved) or rejected
// (its reservation released, with the reason as its failure) under its row lock,
// recording the admin. It returns not found for an unknown id and a conflict naming
// status when the withdrawal is not in review.
func (db *DB) ReviewWithdrawal(ctx context.Context, id, adminID string, approve bool, reason string) (market.Withdrawal, []market.Event, error) {
	var w market.Withdrawal
	var events []market.Event
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if w, err = lockWithdrawal(ctx, tx, id); err != nil {
			return err
		}
		if w.Status != market.WithdrawalReview {
			return market.FieldError(market.CodeConflict, "status", "the withdrawal is "+w.Status+", not in review")
		}
		status, failure := market.WithdrawalPending, ""
		if !approve {
			status, failure = market.WithdrawalRejected, reason
		}
		if err := tx.GetContext(ctx, &w, `UPDATE withdrawals SET status = $2, failure = NULLIF($3, ''), reviewed_by = $4,
			reviewed_at = now(), updated_at = now() WHERE id = $1 RETURNING `+withdrawalColumns, id, status, failure, adminID); err != nil {
			return fmt.Errorf("review withdrawal: %w", err)
		}
		events, err = withdrawalEvents(ctx, tx, w, "")
		return err
	})
	if err != nil {
		return market.Withdrawal{}, nil, err
	}
	return w, events, nil
}

// WithdrawalsInReview lists up to limit withdrawals waiting for an admin, oldest first.
func (db *DB) WithdrawalsInReview(ctx context.Context, after *market.PageKey, limit int) ([]market.Withdrawal, error) {
	var at *time.Time
	var id *string
	if after != nil {
		at, id = &after.At, &after.ID
	}
	list := []market.Withdrawal{}
	err := db.x.SelectContext(ctx, &list, `SELECT `+withdrawalColumns+` FROM withdrawals WHERE status = 'review'
		AND ($2::timestamptz IS NULL OR (created_at, id) > ($2::timestamptz, $3::uuid))
		ORDER BY created_at, id LIMIT $1`, limit, at, id)
	if err != nil {
		return nil, fmt.Errorf("withdrawals in review: %w", err)
	}
	return list, nil
}

// Withdrawal returns one withdrawal; not found when there is none.
func (db *DB) Withdrawal(ctx context.Context, id string) (market.Withdrawal, error) {
	var w market.Withdrawal
	if !isUUID(id) {
		return w, fmt.Errorf("withdrawal %q: %w", id, ErrNotFound)
	}
	err := db.x.GetContext(ctx, &w, `SELECT `+withdrawalColumns+` FROM withdrawals WHERE id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return w, fmt.Errorf("withdrawal %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return w, fmt.Errorf("withdrawal %s: %w", id, err)
	}
	return w, nil
}

// Withdrawals lists up to limit of the user's withdrawals, newest first, after the
// key (created_at, id) of the last one seen (nil: from the newest).
func (db *DB) Withdrawals(ctx context.Context, userID string, after *market.PageKey, limit int) ([]market.Withdrawal, error) {
	var at *time.Time
	var id *string
	if after != nil {
		at, id = &after.At, &after.ID
	}
	list := []market.Withdrawal{}
	err := db.x.SelectContext(ctx, &list, `SELECT `+withdrawalColumns+` FROM withdrawals WHERE user_id = $1
		AND ($3::timestamptz IS NULL OR (created_at, id) < ($3::timestamptz, $4::uuid))
		ORDER BY created_at DESC, id DESC LIMIT $2`, userID, limit, at, id)
	if err != nil {
		return nil, fmt.Errorf("withdrawals: %w", err)
	}
	return list, nil
}

// Balances returns the user's balances per currency in which they have a seller
// account or a withdrawal: pending and available from the ledger (available less what
// pending and review withdrawals reserve), what is being withdrawn (reserved, plus in
// transit) and what was paid out.
func (db *DB) Balances(ctx context.Context, userID string) ([]market.Balance, error) {
	list := []market.Balance{}
	err := db.x.SelectContext(ctx, &list, `
		WITH cur AS (
			SELECT currency FROM ledger_balances WHERE account IN ($2, $3)
			UNION SELECT currency FROM withdrawals WHERE user_id = $1),
		b AS (SELECT c.currency,
			COALESCE((SELECT balance_minor FROM ledger_balances WHERE account = $2 AND currency = c.currency), 0) AS pending_minor,
			COALESCE((SELECT balance_minor FROM ledger_balances WHERE account = $3 AND currency = c.currency), 0) AS ledger_available,
			COALESCE((SELECT sum(amount_minor) FROM withdrawals WHERE user_id = $1 AND currency = c.currency AND status IN ('pending', 'review')), 0) AS reserved_minor,
			COALESCE((SELECT sum(amount_minor) FROM withdrawals WHERE user_id = $1 AND currency = c.currency AND status = 'in_transit'), 0) AS transit_minor,
			COALESCE((SELECT sum(amount_minor) FROM withdrawals WHERE user_id = $1 AND currency = c.currency AND status = 'paid'), 0) AS withdrawn_minor
			FROM cur c)
		SELECT currency, pending_minor, ledger_available - reserved_minor AS available_minor,
			reserved_minor + transit_minor AS withdrawing_minor, withdrawn_minor
		FROM b ORDER BY currency`, userID, market.SellerPendingAccount(userID), market.SellerAvailableAccount(userID))
	if err != nil {
		return nil, fmt.Errorf("balances: %w", err)
	}
	return list, nil
}

// PendingWithdrawalsBefore lists up to limit withdrawals still pending that were
// created (or approved) before before, oldest first: those the periodic sweep retries.
func (db *DB) PendingWithdrawalsBefore(ctx context.Context, before time.Time, limit int) ([]market.Withdrawal, error) {
	list := []market.Withdrawal{}
	err := db.x.SelectContext(ctx, &list, `SELECT `+withdrawalColumns+` FROM withdrawals WHERE status = 'pending' AND COALESCE(reviewed_at, created_at) < $1
		ORDER BY created_at LIMIT $2`, before, limit)
	if err != nil {
		return nil, fmt.Errorf("pending withdrawals: %w", err)
	}
	return list, nil
}
