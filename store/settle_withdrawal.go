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

const withdrawalColumns = `id, user_id, request_hash, amount_minor, currency, status, provider_ref, failure, created_at, updated_at`

// ReserveWithdrawal records a pending withdrawal under the user's lock (their users
// row, FOR NO KEY UPDATE, so one user's withdrawals serialize): when the key was used
// before it returns that withdrawal (created false) and changes nothing; otherwise it
// checks that the available balance less every pending withdrawal in the currency
// covers the amount, and answers a conflict naming amount_minor when it does not.
func (db *DB) ReserveWithdrawal(ctx context.Context, in market.NewWithdrawal) (market.Withdrawal, bool, error) {
	var w market.Withdrawal
	created := false
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE`, in.UserID); err != nil {
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
		var free int64
		err = tx.GetContext(ctx, &free, `SELECT
			COALESCE((SELECT balance_minor FROM ledger_balances WHERE account = $2 AND currency = $3), 0) -
			COALESCE((SELECT sum(amount_minor) FROM withdrawals WHERE user_id = $1 AND currency = $3 AND status = 'pending'), 0)`,
			in.UserID, market.SellerAvailableAccount(in.UserID), in.Currency)
		if err != nil {
			return fmt.Errorf("available balance: %w", err)
		}
		if in.AmountMinor > free {
			return market.FieldError(market.CodeConflict, "amount_minor",
				fmt.Sprintf("exceeds your available balance of %d %s", max(free, 0), in.Currency))
		}
		created = true
		err = tx.GetContext(ctx, &w, `INSERT INTO withdrawals (user_id, idempotency_key, request_hash, amount_minor, currency)
			VALUES ($1, $2, $3, $4, $5) RETURNING `+withdrawalColumns, in.UserID, in.IdempotencyKey, in.RequestHash, in.AmountMinor, in.Currency)
		if err != nil {
			return fmt.Errorf("insert withdrawal: %w", err)
		}
		return nil
	})
	return w, created, err
}

// FinishWithdrawal settles a pending withdrawal under its row lock: with a failure it
// is marked failed (its reservation released, nothing posted); otherwise the ledger
// moves the amount from the seller's available balance to external:stripe, it is
// marked paid with the provider's ref, and balance.updated is stored on the seller's
// channel. A withdrawal that is no longer pending is returned as it is.
func (db *DB) FinishWithdrawal(ctx context.Context, id, providerRef, failure string) (market.Withdrawal, []market.Event, error) {
	var w market.Withdrawal
	var events []market.Event
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &w, `SELECT `+withdrawalColumns+` FROM withdrawals WHERE id = $1 FOR UPDATE`, id); err != nil {
			return fmt.Errorf("lock withdrawal %s: %w", id, err)
		}
		if w.Status != market.WithdrawalPending {
			return nil
		}
		if failure != "" {
			return tx.GetContext(ctx, &w, `UPDATE withdrawals SET status = 'failed', failure = $2, updated_at = now()
				WHERE id = $1 RETURNING `+withdrawalColumns, id, failure)
		}
		if err := postLedger(ctx, tx, market.PayOut(w.ID, w.UserID, w.AmountMinor, w.Currency)); err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &w, `UPDATE withdrawals SET status = 'paid', provider_ref = $2, updated_at = now()
			WHERE id = $1 RETURNING `+withdrawalColumns, id, providerRef); err != nil {
			return fmt.Errorf("mark withdrawal paid: %w", err)
		}
		ev, err := appendEvent(ctx, tx, market.UserChannel(w.UserID), "balance.updated", balanceEvent{Currency: w.Currency, Reason: "withdrawal"})
		events = []market.Event{ev}
		return err
	})
	if err != nil {
		return market.Withdrawal{}, nil, err
	}
	return w, events, nil
}

// Withdrawals lists up to limit of the user's withdrawals, newest first.
func (db *DB) Withdrawals(ctx context.Context, userID string, limit int) ([]market.Withdrawal, error) {
	list := []market.Withdrawal{}
	err := db.x.SelectContext(ctx, &list, `SELECT `+withdrawalColumns+` FROM withdrawals WHERE user_id = $1
		ORDER BY created_at DESC, id LIMIT $2`, userID, limit)
	if err != nil {
		return nil, fmt.Errorf("withdrawals: %w", err)
	}
	return list, nil
}

// Balances returns the user's balances per currency in which they have a seller
// account or a withdrawal: pending and available from the ledger (available less the
// pending withdrawals), what is being withdrawn and what was paid out.
func (db *DB) Balances(ctx context.Context, userID string) ([]market.Balance, error) {
	list := []market.Balance{}
	err := db.x.SelectContext(ctx, &list, `
		WITH cur AS (
			SELECT currency FROM ledger_balances WHERE account IN ($2, $3)
			UNION SELECT currency FROM withdrawals WHERE user_id = $1),
		b AS (SELECT c.currency,
			COALESCE((SELECT balance_minor FROM ledger_balances WHERE account = $2 AND currency = c.currency), 0) AS pending_minor,
			COALESCE((SELECT balance_minor FROM ledger_balances WHERE account = $3 AND currency = c.currency), 0) AS ledger_available,
			COALESCE((SELECT sum(amount_minor) FROM withdrawals WHERE user_id = $1 AND currency = c.currency AND status = 'pending'), 0) AS withdrawing_minor,
			COALESCE((SELECT sum(amount_minor) FROM withdrawals WHERE user_id = $1 AND currency = c.currency AND status = 'paid'), 0) AS withdrawn_minor
			FROM cur c)
		SELECT currency, pending_minor, ledger_available - withdrawing_minor AS available_minor, withdrawing_minor, withdrawn_minor
		FROM b ORDER BY currency`, userID, market.SellerPendingAccount(userID), market.SellerAvailableAccount(userID))
	if err != nil {
		return nil, fmt.Errorf("balances: %w", err)
	}
	return list, nil
}

// PendingWithdrawalsBefore lists up to limit withdrawals still pending that were
// created before before, oldest first: those the periodic sweep retries.
func (db *DB) PendingWithdrawalsBefore(ctx context.Context, before time.Time, limit int) ([]market.Withdrawal, error) {
	list := []market.Withdrawal{}
	err := db.x.SelectContext(ctx, &list, `SELECT `+withdrawalColumns+` FROM withdrawals WHERE status = 'pending' AND created_at < $1
		ORDER BY created_at LIMIT $2`, before, limit)
	if err != nil {
		return nil, fmt.Errorf("pending withdrawals: %w", err)
	}
	return list, nil
}
