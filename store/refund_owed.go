package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/gigstream/hub/market"
)

// refundOwedShareQuery sums an order's share of platform:refunds_owed ($1): what its
// ledger transactions put there less what was paid back.
const refundOwedShareQuery = `
	SELECT COALESCE(sum(p.amount_minor), 0)::bigint FROM ledger_transactions t
	JOIN ledger_postings p ON p.transaction_id = t.id
	WHERE t.order_id = $1 AND p.account = 'platform:refunds_owed'`

// RefundsOwed lists up to limit orders whose share of platform:refunds_owed is above
// zero, oldest first (the first posting there), after the key (since, order id), with
// what admins recorded as paid back of each so far.
func (db *DB) RefundsOwed(ctx context.Context, after *market.PageKey, limit int) ([]market.RefundOwed, error) {
	out := []market.RefundOwed{}
	query := `
		WITH owed AS (
			SELECT t.order_id, p.currency, sum(p.amount_minor)::bigint AS owed_minor,
				COALESCE(-sum(p.amount_minor) FILTER (WHERE p.amount_minor < 0), 0)::bigint AS paid_minor,
				min(p.created_at) AS since
			FROM ledger_postings p JOIN ledger_transactions t ON t.id = p.transaction_id
			WHERE p.account = 'platform:refunds_owed'
			GROUP BY t.order_id, p.currency
			HAVING sum(p.amount_minor) > 0)
		SELECT owed.order_id, o.buyer_id, owed.currency, owed.owed_minor, owed.paid_minor, owed.since
		FROM owed JOIN orders o ON o.id = owed.order_id`
	args := []any{}
	if after != nil {
		query += ` WHERE (owed.since, owed.order_id) > ($1, $2)`
		args = append(args, after.At, after.ID)
	}
	query += fmt.Sprintf(` ORDER BY owed.since, owed.order_id LIMIT $%d`, len(args)+1)
	if err := db.x.SelectContext(ctx, &out, query, append(args, limit)...); err != nil {
		return nil, fmt.Errorf("refunds owed: %w", err)
	}
	return out, nil
}

// PayRefundOwed records an admin's payment of a refund owed (market.RefundOwedStore):
// under the order's row lock, a payment already recorded under the key is returned as
// a replay; otherwise plan gets the order's share of platform:refunds_owed and the new
// payment's id, and its ledger transaction, the payment row and the buyer's
// refund_owed.paid event are written in the same transaction. The lock serializes
// payments of one order, so two admins paying at once cannot both take the same
// share; the balance row's CHECK refuses the account going negative besides.
func (db *DB) PayRefundOwed(ctx context.Context, in market.NewRefundOwedPayment, plan func(market.RefundOwedFacts) (market.LedgerTransaction, error)) (market.RefundOwedPayment, *market.Event, bool, error) {
	var (
		p        market.RefundOwedPayment
		ev       *market.Event
		replayed bool
	)
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		f := market.RefundOwedFacts{OrderID: in.OrderID, PaymentID: uuid.NewString()}
		err := tx.QueryRowxContext(ctx, `SELECT buyer_id, currency FROM orders WHERE id = $1 FOR UPDATE`, in.OrderID).
			Scan(&f.BuyerID, &f.Currency)
		if errors.Is(err, sql.ErrNoRows) {
			return market.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("lock order %s: %w", in.OrderID, err)
		}
		err = tx.GetContext(ctx, &p, `SELECT `+refundOwedPaymentColumns+` FROM refund_owed_payments
			WHERE order_id = $1 AND idempotency_key = $2`, in.OrderID, in.Key)
		if err == nil {
			replayed = true
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("refund owed payment under key: %w", err)
		}
		if err := tx.GetContext(ctx, &f.OwedMinor, refundOwedShareQuery, in.OrderID); err != nil {
			return fmt.Errorf("refund owed of order %s: %w", in.OrderID, err)
		}
		lt, err := plan(f)
		if err != nil {
			return err
		}
		if err := postLedger(ctx, tx, lt); err != nil {
			return err
		}
		err = tx.GetContext(ctx, &p, `
			INSERT INTO refund_owed_payments (id, order_id, admin_id, amount_minor, currency, method, reference, idempotency_key)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING `+refundOwedPaymentColumns,
			f.PaymentID, in.OrderID, in.AdminID, in.AmountMinor, f.Currency, in.Method, in.Reference, in.Key)
		if err != nil {
			return fmt.Errorf("record refund owed payment: %w", err)
		}
		e, err := appendEvent(ctx, tx, market.UserChannel(f.BuyerID), "refund_owed.paid", market.RefundOwedNotice{
			OrderID: in.OrderID, AmountMinor: p.AmountMinor, Currency: p.Currency, Method: p.Method, Reference: p.Reference})
		if err != nil {
			return err
		}
		ev = &e
		return nil
	})
	if err != nil {
		return market.RefundOwedPayment{}, nil, false, err
	}
	return p, ev, replayed, nil
}

const refundOwedPaymentColumns = `id, order_id, admin_id, amount_minor, currency, method, reference, created_at`
