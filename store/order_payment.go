package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/gigstream/hub/market"
)

const paymentColumns = `provider, provider_ref, client_secret, status, amount_minor, currency,
	COALESCE(approve_url, '') AS approve_url, COALESCE(capture_ref, '') AS capture_ref`

// paymentOf returns the order's payment, or nil when none was recorded yet.
func paymentOf(ctx context.Context, q querier, orderID string) (*market.PaymentInfo, error) {
	var p market.PaymentInfo
	err := q.GetContext(ctx, &p, `SELECT `+paymentColumns+` FROM payments WHERE order_id = $1`, orderID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil // an order without a payment yet is a state, not a missing row
	}
	if err != nil {
		return nil, fmt.Errorf("payment of order %s: %w", orderID, err)
	}
	return &p, nil
}

// paymentsOf returns the payments of orders by order id, in one query; orders without
// a payment are absent.
func paymentsOf(ctx context.Context, q querier, orderIDs []string) (map[string]*market.PaymentInfo, error) {
	var rows []struct {
		OrderID string `db:"order_id"`
		market.PaymentInfo
	}
	err := q.SelectContext(ctx, &rows, `SELECT order_id, `+paymentColumns+` FROM payments WHERE order_id = ANY($1::uuid[])`, pq.Array(orderIDs))
	if err != nil {
		return nil, fmt.Errorf("payments of orders: %w", err)
	}
	out := make(map[string]*market.PaymentInfo, len(rows))
	for i := range rows {
		out[rows[i].OrderID] = &rows[i].PaymentInfo
	}
	return out, nil
}

// RecordPayment stores the order's PaymentIntent (or PayPal order, with its approve
// link) unless one is recorded already, and returns the one that is: the first
// recorded wins when two requests race.
func (db *DB) RecordPayment(ctx context.Context, orderID string, p market.PaymentInfo) (market.PaymentInfo, error) {
	_, err := db.x.ExecContext(ctx, `
		INSERT INTO payments (order_id, provider, provider_ref, client_secret, amount_minor, currency, approve_url)
		VALUES ($1, $2, $3, $4, $5, $6, NULLIF($7, '')) ON CONFLICT (order_id) DO NOTHING`,
		orderID, p.Provider, p.PaymentIntentID, p.ClientSecret, p.AmountMinor, p.Currency, p.ApproveURL)
	if err != nil {
		return market.PaymentInfo{}, fmt.Errorf("record payment of order %s: %w", orderID, err)
	}
	got, err := paymentOf(ctx, db.x, orderID)
	if err != nil {
		return market.PaymentInfo{}, err
	}
	if got == nil {
		return market.PaymentInfo{}, fmt.Errorf("payment of order %s: %w", orderID, ErrNotFound)
	}
	return *got, nil
}

// ApplyPaymentEvent applies a verified provider event at most once: its id is recorded
// first (a concurrent copy waits on that row, then finds it and changes nothing:
// outcome duplicate); then the order named by the event is locked, decide is called
// with it (zero when there is none) and its payment, and the decision is written in
// the same transaction: payment status (and PayPal capture), order status, ledger
// transaction, order event.
func (db *DB) ApplyPaymentEvent(ctx context.Context, ev market.PaymentEvent, decide func(market.Order, *market.PaymentInfo) market.PaymentDecision) (market.PaymentOutcome, error) {
	var out market.PaymentOutcome
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO provider_events (provider, event_id, type, outcome) VALUES ($1, $2, $3, 'pending')
			ON CONFLICT DO NOTHING`, ev.Provider, ev.ID, ev.Type)
		if err != nil {
			return fmt.Errorf("record provider event: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			out.Outcome = market.OutcomeDuplicate
			return nil
		}
		ord, pay, err := orderForEvent(ctx, tx, ev.OrderID)
		if err != nil {
			return err
		}
		d := decide(ord, pay)
		out.Outcome, out.OrderID = d.Outcome, ord.ID
		if _, err := tx.ExecContext(ctx, `UPDATE provider_events SET outcome = $3, order_id = NULLIF($4, '')::uuid
			WHERE provider = $1 AND event_id = $2`, ev.Provider, ev.ID, d.Outcome, ord.ID); err != nil {
			return fmt.Errorf("record outcome: %w", err)
		}
		out.Events, err = applyPaymentDecision(ctx, tx, ord, d)
		return err
	})
	return out, err
}

// orderForEvent locks the order an event names, with its payment and, for an order
// not paid yet (placed or cancelled), what reversals did before the payment
// (market.LatePaymentRule, market.EarlyReversalRule); an order that does not exist
// comes back zero, without error.
func orderForEvent(ctx context.Context, tx *sqlx.Tx, orderID string) (market.Order, *market.PaymentInfo, error) {
	ord, err := lockOrder(ctx, tx, orderID, "")
	if errors.Is(err, ErrNotFound) {
		return market.Order{}, nil, nil
	}
	if err != nil {
		return market.Order{}, nil, err
	}
	pay, err := paymentOf(ctx, tx, ord.ID)
	if err != nil || pay == nil || ord.PaidAt != nil || (ord.Status != market.OrderCancelled && ord.Status != market.OrderPlaced) {
		return ord, pay, err
	}
	pay.Reversed, err = reversedBeforePayment(ctx, tx, ord.ID)
	return ord, pay, err
}

// reversedBeforePayment is what the reversals of a locked order's payment did before
// the payment was recorded (market.PaymentReversed).
func reversedBeforePayment(ctx context.Context, tx *sqlx.Tx, orderID string) (market.PaymentReversed, error) {
	var r market.PaymentReversed
	err := tx.QueryRowxContext(ctx, `SELECT
		COALESCE(sum(from_platform) FILTER (WHERE status <> 'won'), 0),
		COALESCE(bool_or(kind = 'chargeback' AND status IN ('won', 'lost')), false)
		FROM payment_reversals WHERE order_id = $1`, orderID).Scan(&r.FromPlatform, &r.ChargebackClosed)
	if err != nil {
		return r, fmt.Errorf("reversals of order %s: %w", orderID, err)
	}
	return r, nil
}

// repayReversals records that the escrow repaid amount of what the locked order's
// reversals (not won) took from platform:losses (a late payment,
// market.LatePaymentRule; a payment after its own chargeback,
// market.EarlyReversalRule): see shiftReversals.
func repayReversals(ctx context.Context, tx *sqlx.Tx, orderID string, amount int64) error {
	return shiftReversals(ctx, tx, orderID, amount, false)
}

// shiftReversals records that amount of what the locked order's reversals (not won)
// took from platform:losses was repaid, from the escrow, or from the seller when
// toSeller (a chargeback won, market.ReversalRule): the oldest first, each
// reversal's platform part becomes an escrow (or seller) part, so a chargeback won
// gives it back there. Nothing happens for amount 0.
func shiftReversals(ctx context.Context, tx *sqlx.Tx, orderID string, amount int64, toSeller bool) error {
	if amount <= 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE payment_reversals r SET from_escrow = r.from_escrow + CASE WHEN $3 THEN 0 ELSE s.part END,
			from_seller = r.from_seller + CASE WHEN $3 THEN s.part ELSE 0 END,
			from_platform = r.from_platform - s.part, updated_at = now()
		FROM (SELECT id, LEAST(from_platform, GREATEST($2 - (sum(from_platform) OVER (ORDER BY created_at, id) - from_platform), 0)) AS part
			FROM payment_reversals WHERE order_id = $1 AND status <> 'won' AND from_platform > 0) s
		WHERE r.id = s.id AND s.part > 0`, orderID, amount, toSeller)
	if err != nil {
		return fmt.Errorf("repay reversals of order %s: %w", orderID, err)
	}
	return nil
}

// applyPaymentDecision writes what decide chose for the locked order.
func applyPaymentDecision(ctx context.Context, tx *sqlx.Tx, ord market.Order, d market.PaymentDecision) ([]market.Event, error) {
	if d.PaymentStatus != "" {
		if _, err := tx.ExecContext(ctx, `UPDATE payments SET status = $2, failure = NULLIF($3, ''),
			capture_ref = COALESCE(NULLIF($4, ''), capture_ref), updated_at = now() WHERE order_id = $1`,
			ord.ID, d.PaymentStatus, d.Failure, d.CaptureID); err != nil {
			return nil, fmt.Errorf("update payment: %w", err)
		}
	}
	if d.Status == market.OrderPaid {
		err := tx.GetContext(ctx, &ord, `UPDATE orders SET status = 'paid', paid_at = now(),
			due_at = now() + make_interval(days => delivery_days), updated_at = now()
			WHERE id = $1 RETURNING `+orderColumns, ord.ID)
		if err != nil {
			return nil, fmt.Errorf("mark order paid: %w", err)
		}
	} else if d.Status == market.OrderCancelled {
		var err error
		if ord, err = settleByProvider(ctx, tx, ord, d.SettleKey, market.SettleDecision{Status: market.OrderCancelled,
			Reason: d.Failure}); err != nil {
			return nil, err
		}
	} else if d.Status != "" {
		return nil, fmt.Errorf("payment decision: unexpected status %s", d.Status)
	}
	if d.Ledger != nil {
		if err := postLedger(ctx, tx, *d.Ledger); err != nil {
			return nil, err
		}
	}
	if d.RepayLosses > 0 {
		if err := repayReversals(ctx, tx, ord.ID, d.RepayLosses); err != nil {
			return nil, err
		}
	}
	if d.EventType == "" {
		return nil, nil
	}
	ev, err := appendOrderEvent(ctx, tx, d.EventType, orderEvent{Order: ord})
	return []market.Event{ev}, err
}
