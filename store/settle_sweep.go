package store

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/gigstream/hub/market"
)

// latePaymentReason is the reason recorded with the refund of a payment that arrived
// after its order was cancelled.
const latePaymentReason = "paid after the order was cancelled"

// CancelledOrdersWithEscrow lists up to limit cancelled orders whose escrow is not
// empty (a payment arrived after the cancellation and is not refunded yet), the
// longest waiting first.
func (db *DB) CancelledOrdersWithEscrow(ctx context.Context, limit int) ([]string, error) {
	ids := []string{}
	err := db.x.SelectContext(ctx, &ids, `SELECT o.id FROM orders o
		JOIN ledger_balances b ON b.account = 'escrow:order:' || o.id::text AND b.currency = o.currency
		WHERE o.status = 'cancelled' AND b.balance_minor <> 0 ORDER BY o.updated_at LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("cancelled orders with escrow: %w", err)
	}
	return ids, nil
}

// RefundCancelledPayment refunds the escrow of a cancelled order under its row lock:
// when the order is cancelled and its escrow holds money, refund is called with the
// locked order (its payment set) and the whole escrow while the lock is held (its
// error rolls everything back); then the escrow goes back to the provider's external
// account, the refund is recorded (requested by the buyer, whose money it is), the
// order's refunded_minor is set and order.refunded is stored, in the same transaction.
// Otherwise nothing happens and no events come back.
func (db *DB) RefundCancelledPayment(ctx context.Context, orderID string,
	refund func(context.Context, market.Order, market.Split) (string, error)) ([]market.Event, error) {
	var events []market.Event
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		ord, err := lockOrder(ctx, tx, orderID, "")
		if err != nil || ord.Status != market.OrderCancelled {
			return err
		}
		var held int64
		if err := tx.GetContext(ctx, &held, `SELECT COALESCE((SELECT balance_minor FROM ledger_balances
			WHERE account = $1 AND currency = $2), 0)`, market.EscrowAccount(ord.ID), ord.Currency); err != nil {
			return fmt.Errorf("escrow of order %s: %w", ord.ID, err)
		}
		if held <= 0 {
			return nil // refunded already, or never paid
		}
		if ord.Payment, err = paymentOf(ctx, tx, ord.ID); err != nil {
			return err
		}
		split := market.Split{Refund: held}
		providerRef, err := refund(ctx, ord, split)
		if err != nil {
			return err
		}
		if err := postLedger(ctx, tx, market.ReleaseEscrow(ord, split)); err != nil {
			return err
		}
		payment := ord.Payment
		if err := tx.GetContext(ctx, &ord, `UPDATE orders SET refunded_minor = $2, updated_at = now()
			WHERE id = $1 RETURNING `+orderColumns, ord.ID, held); err != nil {
			return fmt.Errorf("record refunded amount: %w", err)
		}
		ord.Payment = payment
		if _, err := tx.ExecContext(ctx, `INSERT INTO refunds (order_id, amount_minor, currency, reason, requested_by, provider_ref)
			VALUES ($1, $2, $3, $4, $5, $6)`, ord.ID, held, ord.Currency, latePaymentReason, ord.BuyerID, providerRef); err != nil {
			return fmt.Errorf("record refund: %w", err)
		}
		data := settledOrderEvent{orderEvent: orderEvent{Order: ord},
			Refund: &refundEvent{AmountMinor: held, Currency: ord.Currency, Reason: latePaymentReason}}
		ev, err := appendEvent(ctx, tx, market.OrderChannel(ord.ID), "order.refunded", data.public())
		events = []market.Event{ev}
		return err
	})
	if err != nil {
		return nil, err
	}
	return events, nil
}
