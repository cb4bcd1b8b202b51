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

const reversalColumns = `id, order_id, provider, kind, provider_ref, status, provider_status, reason, amount_minor, currency,
	from_escrow, from_seller, from_platform`

// reversalEvent is the data of order.chargeback and of order.refunded after a refund
// made at the provider: the order and the reversal.
type reversalEvent struct {
	orderEvent
	Refund   *refundEvent          `json:"refund,omitempty"`
	Reversal market.ReversalRecord `json:"reversal"`
}

// ApplyReversal records the event once, then under the order's lock (and its seller's,
// the one withdrawals take, so no reservation races the balances read here) reads the
// facts, asks decide and writes the plan: the reversal record, the ledger transaction,
// the order's final action, the order event and the seller's balance.updated.
func (db *DB) ApplyReversal(ctx context.Context, ev market.PaymentEvent, decide func(market.ReversalFacts) market.ReversalPlan) (market.PaymentOutcome, error) {
	var out market.PaymentOutcome
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO provider_events (provider, event_id, type, outcome, object_ref)
			VALUES ($1, $2, $3, 'pending', NULLIF($4, '')) ON CONFLICT DO NOTHING`, ev.Provider, ev.ID, ev.Type, ev.ObjectRef)
		if err != nil {
			return fmt.Errorf("record provider event: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			out.Outcome = market.OutcomeDuplicate
			return nil
		}
		f, err := reversalFacts(ctx, tx, ev)
		if err != nil {
			return err
		}
		plan := decide(f)
		out.Outcome, out.OrderID = plan.Outcome, f.Order.ID
		if _, err := tx.ExecContext(ctx, `UPDATE provider_events SET outcome = $3, order_id = NULLIF($4, '')::uuid
			WHERE provider = $1 AND event_id = $2`, ev.Provider, ev.ID, plan.Outcome, f.Order.ID); err != nil {
			return fmt.Errorf("record outcome: %w", err)
		}
		out.Events, err = writeReversal(ctx, tx, ev, f.Order, plan)
		return err
	})
	return out, err
}

// orderOfPayment is the order whose payment an event is about: Stripe's by its
// PaymentIntent, PayPal's by its capture; "" when none is. Of several Stripe payments
// with one PaymentIntent (stripe-mock's ids repeat) the event's own order_id, when it
// names one of them, wins, else the newest.
func orderOfPayment(ctx context.Context, tx *sqlx.Tx, ev market.PaymentEvent) (string, error) {
	var ids []string
	var err error
	switch ev.Provider {
	case market.ProviderPayPal:
		err = tx.SelectContext(ctx, &ids, `SELECT order_id FROM payments WHERE provider = 'paypal' AND capture_ref = $1`, ev.CaptureID)
	default:
		err = tx.SelectContext(ctx, &ids, `SELECT order_id FROM payments WHERE provider = 'stripe' AND provider_ref = $1
			ORDER BY created_at DESC`, ev.PaymentIntentID)
	}
	if err != nil {
		return "", fmt.Errorf("order of payment: %w", err)
	}
	for _, id := range ids {
		if id == ev.OrderID {
			return id, nil
		}
	}
	if len(ids) == 0 {
		return "", nil
	}
	return ids[0], nil
}

// reversalFacts locks the order and its seller and reads what decideReversal needs;
// zero facts when no order has the payment.
func reversalFacts(ctx context.Context, tx *sqlx.Tx, ev market.PaymentEvent) (market.ReversalFacts, error) {
	var f market.ReversalFacts
	id, err := orderOfPayment(ctx, tx, ev)
	if err != nil || id == "" {
		return f, err
	}
	if f.Order, err = lockOrder(ctx, tx, id, ""); err != nil {
		return f, err
	}
	if f.Order.Payment, err = paymentOf(ctx, tx, id); err != nil {
		return f, err
	}
	ord, ref := f.Order, ev.Reversal.Ref
	if _, err := tx.ExecContext(ctx, `SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE`, ord.SellerID); err != nil {
		return f, fmt.Errorf("lock seller: %w", err)
	}
	var prior market.ReversalRecord
	err = tx.GetContext(ctx, &prior, `SELECT `+reversalColumns+` FROM payment_reversals WHERE provider = $1 AND provider_ref = $2 FOR UPDATE`,
		ev.Provider, ref)
	switch {
	case err == nil:
		f.Prior = &prior
	case !errors.Is(err, sql.ErrNoRows):
		return f, fmt.Errorf("reversal %s: %w", ref, err)
	}
	err = tx.QueryRowxContext(ctx, `SELECT
		COALESCE((SELECT amount_minor FROM refunds WHERE order_id = $1), 0) +
		COALESCE((SELECT sum(amount_minor) FROM payment_reversals WHERE order_id = $1 AND kind = 'refund'), 0),
		EXISTS (SELECT 1 FROM refunds WHERE order_id = $1 AND provider_ref = $2),
		COALESCE((SELECT sum(from_seller) FROM payment_reversals WHERE order_id = $1 AND status <> 'won'), 0),
		COALESCE((SELECT sum(amount_minor) FROM withdrawals WHERE user_id = $3 AND currency = $4 AND status IN ('pending', 'review')), 0),
		EXISTS (SELECT 1 FROM payment_reversals WHERE order_id = $1 AND status = 'open' AND NOT (provider = $5 AND provider_ref = $2)),
		COALESCE((SELECT sum(from_platform) FROM payment_reversals WHERE order_id = $1 AND status <> 'won'
			AND NOT (provider = $5 AND provider_ref = $2)), 0)`,
		ord.ID, ref, ord.SellerID, ord.Currency, ev.Provider).Scan(&f.Refunded, &f.OurRefund, &f.SellerTaken, &f.Reserved, &f.OtherOpen,
		&f.OtherFromPlatform)
	if err != nil {
		return f, fmt.Errorf("reversal facts of order %s: %w", ord.ID, err)
	}
	// Every balance the plan may post to is locked here, in the one account order
	// postLedger locks in (lockBalances): a reversal holding the
	// seller's rows while it waits for external:stripe, and a settlement of another of
	// the seller's orders holding external:stripe while it waits for the seller's
	// pending balance, deadlocked (found by the money property test).
	bal, err := lockBalances(ctx, tx, ord.Currency, market.ExternalAccount(ev.Provider), market.EscrowAccount(ord.ID),
		market.PlatformFeesAccount, market.PlatformLossesAccount, market.PlatformRefundsOwedAccount, market.SellerPendingAccount(ord.SellerID),
		market.SellerAvailableAccount(ord.SellerID), market.SellerDebtAccount(ord.SellerID))
	if err != nil {
		return f, err
	}
	f.Escrow, f.Pending = bal[market.EscrowAccount(ord.ID)], bal[market.SellerPendingAccount(ord.SellerID)]
	f.Available, f.Debt = bal[market.SellerAvailableAccount(ord.SellerID)], bal[market.SellerDebtAccount(ord.SellerID)]
	return f, nil
}

// lockBalances reads accounts' balances in currency FOR UPDATE, in the one order every
// multi-account writer locks them in: an order's and a seller's own accounts (escrow,
// seller, transit) first, then the accounts every order shares (external, platform,
// tax), each group in account order; absent accounts are zero. The shared rows come
// last because every settlement of the currency waits for them: a transaction takes
// them only once it holds its own rows, so it holds them for the rest of its work and
// not also while it waits for a seller's row.
func lockBalances(ctx context.Context, tx *sqlx.Tx, currency string, accounts ...string) (map[string]int64, error) {
	var rows []market.AccountBalance
	err := tx.SelectContext(ctx, &rows, `SELECT account, currency, balance_minor FROM ledger_balances
		WHERE account = ANY($1) AND currency = $2 ORDER BY account ~ '^(external|platform|tax):', account FOR UPDATE`,
		pq.Array(accounts), currency)
	if err != nil {
		return nil, fmt.Errorf("lock balances: %w", err)
	}
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.Account] = r.BalanceMinor
	}
	return out, nil
}

// writeReversal writes a reversal plan for the locked order.
func writeReversal(ctx context.Context, tx *sqlx.Tx, ev market.PaymentEvent, ord market.Order, plan market.ReversalPlan) ([]market.Event, error) {
	if plan.Record == nil {
		return nil, nil
	}
	rec := *plan.Record
	var err error
	if rec.ID == "" {
		err = tx.GetContext(ctx, &rec.ID, `INSERT INTO payment_reversals (order_id, provider, kind, provider_ref, status, provider_status, reason,
				amount_minor, currency, from_escrow, from_seller, from_platform, closed_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, CASE WHEN $5 = 'open' THEN NULL ELSE now() END) RETURNING id`,
			rec.OrderID, rec.Provider, rec.Kind, rec.Ref, rec.Status, truncate(rec.ProviderStatus, 64), truncate(rec.Reason, 255),
			rec.AmountMinor, rec.Currency, rec.FromEscrow, rec.FromSeller, rec.FromPlatform)
	} else {
		_, err = tx.ExecContext(ctx, `UPDATE payment_reversals SET status = $2, provider_status = $3, reason = $4, updated_at = now(),
				closed_at = CASE WHEN $2 = 'open' THEN NULL ELSE now() END WHERE id = $1`,
			rec.ID, rec.Status, truncate(rec.ProviderStatus, 64), truncate(rec.Reason, 255))
	}
	if err != nil {
		return nil, fmt.Errorf("record reversal %s: %w", rec.Ref, err)
	}
	for _, t := range []*market.LedgerTransaction{plan.Ledger, plan.Release} {
		if t == nil {
			continue
		}
		if err := postLedger(ctx, tx, *t); err != nil {
			return nil, err
		}
	}
	// the other reversals: this one is won already
	if err := shiftReversals(ctx, tx, ord.ID, plan.RepayLosses, false); err != nil {
		return nil, err
	}
	if err := shiftReversals(ctx, tx, ord.ID, plan.RepayLossesFromSeller, true); err != nil {
		return nil, err
	}
	if d := plan.Settle; d != nil {
		if ord, err = settleByProvider(ctx, tx, ord, ev.ID, *d); err != nil {
			return nil, err
		}
	}
	invoices, err := prepareInvoices(ctx, tx, ord, plan.Invoices, rec.ID)
	if err != nil {
		return nil, err
	}
	if err := issueInvoices(ctx, tx, invoices); err != nil {
		return nil, err
	}
	var events []market.Event
	if plan.EventType != "" {
		o := ord
		o.Payment = nil
		data := reversalEvent{orderEvent: orderEvent{Order: o}, Reversal: rec}
		if plan.Settle != nil && plan.Settle.Split.Refund > 0 {
			data.Refund = &refundEvent{AmountMinor: plan.Settle.Split.Refund, Currency: ord.Currency, Reason: plan.Settle.Reason}
		}
		e, err := appendEvent(ctx, tx, market.OrderChannel(ord.ID), plan.EventType, data)
		if err != nil {
			return nil, err
		}
		events = append(events, e)
	}
	if plan.Seller {
		reason := "chargeback"
		switch {
		case rec.Status == market.ReversalWon:
			reason = "chargeback_won"
		case rec.Kind == market.ReversalRefund:
			reason = "refunded_at_provider"
		}
		e, err := appendEvent(ctx, tx, market.UserChannel(ord.SellerID), "balance.updated",
			balanceEvent{Currency: ord.Currency, Reason: reason, OrderID: ord.ID})
		if err != nil {
			return nil, err
		}
		events = append(events, e)
	}
	return events, nil
}

// settleByProvider records the order's final action taken by a provider (action
// provider, keyed by the event): status and split, and an open dispute of the order
// is resolved with the refund.
func settleByProvider(ctx context.Context, tx *sqlx.Tx, ord market.Order, eventID string, d market.SettleDecision) (market.Order, error) {
	if _, err := tx.ExecContext(ctx, `INSERT INTO order_settlements (order_id, action, user_id, idempotency_key, request_hash)
		VALUES ($1, 'provider', NULL, $2, '')`, ord.ID, truncate(eventID, 255)); err != nil {
		return ord, fmt.Errorf("record settlement: %w", err)
	}
	s := d.Split
	if err := tx.GetContext(ctx, &ord, `UPDATE orders SET status = $2, refunded_minor = $3, fee_minor = $4, seller_minor = $5,
			settled_at = now(), updated_at = now()
		WHERE id = $1 RETURNING `+orderColumns, ord.ID, d.Status, s.Refund, s.Fee, s.Seller); err != nil {
		return ord, fmt.Errorf("settle order: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE disputes SET status = 'resolved', resolved_at = now(), refund_minor = $2,
			resolution_note = $3 WHERE order_id = $1 AND status = 'open'`, ord.ID, s.Refund, truncate(d.Reason, 1000)); err != nil {
		return ord, fmt.Errorf("resolve dispute: %w", err)
	}
	return ord, nil
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && (s[n]&0xC0) == 0x80 {
		n--
	}
	return s[:n]
}

// RecordUnhandledEvent stores a verified event we do not act on, with what it is
// about, once; false when it was stored before.
func (db *DB) RecordUnhandledEvent(ctx context.Context, provider, eventID, eventType, objectRef string) (bool, error) {
	res, err := db.x.ExecContext(ctx, `INSERT INTO provider_events (provider, event_id, type, outcome, object_ref)
		VALUES ($1, $2, $3, $4, NULLIF($5, '')) ON CONFLICT DO NOTHING`, provider, eventID, eventType, market.OutcomeUnhandled, truncate(objectRef, 255))
	if err != nil {
		return false, fmt.Errorf("record unhandled event %s: %w", eventID, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}
