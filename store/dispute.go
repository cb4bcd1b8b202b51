package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/gigstream/hub/market"
)

const disputeColumns = `id, order_id, opened_by, reason, prior_status, status, response, responded_at, withdrawn_at,
	resolved_by, refund_minor, resolution_note, resolved_at, created_at, open_key, open_hash, response_key, response_hash, withdraw_key`

// disputeEvent is the data of order.disputed, order.dispute_answered and
// order.dispute_withdrawn: the order as both parties see it, and its dispute.
type disputeEvent struct {
	Order   market.Order   `json:"order"`
	Dispute market.Dispute `json:"dispute"`
}

// ChangeDispute takes a party's step on an order's dispute under the order's row
// lock: decide sees the locked order and its latest dispute; a replay writes nothing;
// otherwise the step, the order's status and its event are written in one short
// transaction. A user who is no party to the order gets an error wrapping ErrNotFound.
func (db *DB) ChangeDispute(ctx context.Context, in market.DisputeChange,
	decide func(market.Order, *market.Dispute) (market.DisputeDecision, error)) (market.DisputeOutcome, error) {
	var out market.DisputeOutcome
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		ord, err := lockOrder(ctx, tx, in.OrderID, in.UserID)
		if err != nil {
			return err
		}
		latest, err := latestDispute(ctx, tx, ord.ID)
		if err != nil {
			return err
		}
		d, err := decide(ord, latest)
		if err != nil {
			return err
		}
		if d.Replay {
			out.Order, out.Dispute, out.Replayed = ord, *latest, true
			return nil
		}
		if out.Dispute, err = writeDisputeStep(ctx, tx, in, ord, latest); err != nil {
			return err
		}
		if out.Order, err = setDisputedStatus(ctx, tx, ord.ID, d.Status, in.Step == market.DisputeWithdrawStep); err != nil {
			return err
		}
		ev, err := appendEvent(ctx, tx, market.OrderChannel(ord.ID), d.EventType, disputeEvent{Order: out.Order, Dispute: out.Dispute})
		out.Events = []market.Event{ev}
		return err
	})
	return out, err
}

// writeDisputeStep records the step itself: a new dispute, its answer, or its
// withdrawal.
func writeDisputeStep(ctx context.Context, tx *sqlx.Tx, in market.DisputeChange, ord market.Order, latest *market.Dispute) (market.Dispute, error) {
	var d market.Dispute
	var err error
	switch in.Step {
	case market.DisputeOpenStep:
		err = tx.GetContext(ctx, &d, `INSERT INTO disputes (order_id, opened_by, reason, prior_status, open_key, open_hash)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+disputeColumns, ord.ID, in.UserID, in.Text, ord.Status, in.IdempotencyKey, in.RequestHash)
	case market.DisputeAnswerStep:
		err = tx.GetContext(ctx, &d, `UPDATE disputes SET response = $2, response_key = $3, response_hash = $4, responded_at = now()
			WHERE id = $1 RETURNING `+disputeColumns, latest.ID, in.Text, in.IdempotencyKey, in.RequestHash)
	case market.DisputeWithdrawStep:
		err = tx.GetContext(ctx, &d, `UPDATE disputes SET status = 'withdrawn', withdraw_key = $2, withdrawn_at = now()
			WHERE id = $1 RETURNING `+disputeColumns, latest.ID, in.IdempotencyKey)
	default:
		err = fmt.Errorf("unknown step %q", in.Step)
	}
	if err != nil {
		return d, fmt.Errorf("dispute %s on order %s: %w", in.Step, ord.ID, err)
	}
	return d, nil
}

// setDisputedStatus moves the order to status. A withdrawal gives back the time the
// dispute took from the buyer's review window: auto-complete counts from delivered_at,
// which moves forward by as long as the dispute was open.
func setDisputedStatus(ctx context.Context, tx *sqlx.Tx, orderID string, status market.OrderStatus, withdrawn bool) (market.Order, error) {
	var o market.Order
	err := tx.GetContext(ctx, &o, `UPDATE orders SET status = $2, updated_at = now(),
			delivered_at = CASE WHEN $3 AND delivered_at IS NOT NULL THEN delivered_at + (now() -
				(SELECT created_at FROM disputes WHERE order_id = $1 ORDER BY created_at DESC LIMIT 1)) ELSE delivered_at END
		WHERE id = $1 RETURNING `+orderColumns, orderID, status, withdrawn)
	if err != nil {
		return o, fmt.Errorf("order %s to %s: %w", orderID, status, err)
	}
	return o, nil
}

// latestDispute is the order's latest dispute, or nil when it has none.
func latestDispute(ctx context.Context, q querier, orderID string) (*market.Dispute, error) {
	var d market.Dispute
	err := q.GetContext(ctx, &d, `SELECT `+disputeColumns+` FROM disputes WHERE order_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1`, orderID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil // never disputed
	}
	if err != nil {
		return nil, fmt.Errorf("dispute of order %s: %w", orderID, err)
	}
	return &d, nil
}

// LatestDispute returns the order's latest dispute to its buyer or seller, or to
// anyone when admin. Anyone else, a malformed id and an order never disputed get an
// error wrapping ErrNotFound.
func (db *DB) LatestDispute(ctx context.Context, orderID, userID string, admin bool) (market.Dispute, error) {
	if !isUUID(orderID) {
		return market.Dispute{}, fmt.Errorf("order %q: %w", orderID, ErrNotFound)
	}
	var d market.Dispute
	err := db.x.GetContext(ctx, &d, `SELECT `+disputeColumns+` FROM disputes d WHERE order_id = $1 AND ($3
			OR EXISTS (SELECT 1 FROM orders o WHERE o.id = d.order_id AND (o.buyer_id::text = $2 OR o.seller_id::text = $2)))
		ORDER BY created_at DESC, id DESC LIMIT 1`, orderID, userID, admin)
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("dispute of order %s: %w", orderID, ErrNotFound)
	}
	if err != nil {
		return d, fmt.Errorf("dispute of order %s: %w", orderID, err)
	}
	return d, nil
}

var _ market.DisputeStore = (*DB)(nil)

// resolveDispute marks the order's open dispute resolved by the admin of in, inside
// the settlement's transaction; writeSettlement calls it for a resolve. An order with
// no open dispute fails (the order's status said disputed, so it cannot happen).
func resolveDispute(ctx context.Context, tx *sqlx.Tx, in market.SettleRequest, orderID string) error {
	res, err := tx.ExecContext(ctx, `UPDATE disputes SET status = 'resolved', resolved_by = $2, refund_minor = $3,
			resolution_note = $4, resolved_at = now()
		WHERE order_id = $1 AND status = 'open'`, orderID, in.UserID, in.RefundMinor, in.Reason)
	if err != nil {
		return fmt.Errorf("resolve dispute of order %s: %w", orderID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("resolve dispute of order %s: %d open disputes (%v)", orderID, n, err)
	}
	return nil
}
