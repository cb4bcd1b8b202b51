package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/gigstream/hub/market"
)

const reconcileDifferenceColumns = `id, provider, object_kind, object_ref, order_id, withdrawal_id, currency,
	ours_minor, theirs_minor, first_seen_at, last_seen_at, resolved_at`

// ReconcileObjects returns the ledger's side of every object of provider created at
// or after since, and of the objects refs names (kind → ids) whatever their age:
//   - a payment (its PaymentIntent, or PayPal capture order) holds what the order's
//     postings to the provider's external account say the provider took in, net of
//     what went back (−sum, as external accounts move opposite to the money);
//   - a withdrawal's transfer holds its amount while the withdrawal stands (in
//     transit or paid) and 0 once it failed, since a failed payout's transfer is
//     reversed;
//   - a PayPal withdrawal's payout batch (provider_ref) holds its amount the same
//     way: PayPal takes it from the platform's balance when the batch is made and
//     gives it back when the item fails. (A Stripe withdrawal's payout leaves the
//     connected account, not the platform's balance: its transfer is compared.)
//
// Payments sharing a provider id (stripe-mock repeats them) are one object.
func (db *DB) ReconcileObjects(ctx context.Context, provider string, since time.Time, refs map[string][]string) ([]market.ReconcileObject, error) {
	out := []market.ReconcileObject{}
	err := db.x.SelectContext(ctx, &out, `
		SELECT 'payment' AS kind, p.provider_ref AS object_ref, p.currency,
			COALESCE(sum(e.amount), 0)::bigint AS ours_minor, min(p.order_id::text) AS order_id,
			NULL::text AS withdrawal_id, min(p.created_at) AS created_at
		FROM payments p
		LEFT JOIN LATERAL (
			SELECT -sum(lp.amount_minor) AS amount FROM ledger_transactions t
			JOIN ledger_postings lp ON lp.transaction_id = t.id
			WHERE t.order_id = p.order_id AND lp.account = $5 AND lp.currency = p.currency) e ON true
		WHERE p.provider = $1 AND (p.created_at >= $2 OR p.provider_ref = ANY($3))
		GROUP BY p.provider_ref, p.currency
		UNION ALL
		SELECT 'transfer', w.transfer_ref, w.currency,
			CASE WHEN w.status IN ('in_transit', 'paid') THEN w.amount_minor ELSE 0 END,
			NULL, w.id::text, w.created_at
		FROM withdrawals w
		WHERE w.provider = $1 AND w.transfer_ref IS NOT NULL AND (w.created_at >= $2 OR w.transfer_ref = ANY($4))
		UNION ALL
		SELECT 'payout', w.provider_ref, w.currency,
			CASE WHEN w.status IN ('in_transit', 'paid') THEN w.amount_minor ELSE 0 END,
			NULL, w.id::text, w.created_at
		FROM withdrawals w
		WHERE w.provider = $1 AND $1 = 'paypal' AND w.provider_ref IS NOT NULL
			AND (w.created_at >= $2 OR w.provider_ref = ANY($6))`,
		provider, since, pq.Array(refs[market.ReconcilePayment]), pq.Array(refs[market.ReconcileTransfer]),
		market.ExternalAccount(provider), pq.Array(refs[market.ReconcilePayout]))
	if err != nil {
		return nil, fmt.Errorf("ledger side of %s since %s: %w", provider, since.Format(time.RFC3339), err)
	}
	return out, nil
}

// RecordReconciliation keeps each of diffs open (a new row, or the open row of its
// object refreshed with the latest amounts) and resolves the open differences of the
// other compared objects, in one transaction. It returns the differences as recorded
// and how many it resolved.
func (db *DB) RecordReconciliation(ctx context.Context, provider string, compared []market.ReconcileObject, diffs []market.ReconcileDifference) ([]market.ReconcileDifference, int, error) {
	resolved := 0
	recorded := make([]market.ReconcileDifference, 0, len(diffs))
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		for _, d := range diffs {
			var row market.ReconcileDifference
			if err := tx.GetContext(ctx, &row, `INSERT INTO reconciliation_differences
				(provider, object_kind, object_ref, order_id, withdrawal_id, currency, ours_minor, theirs_minor)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
				ON CONFLICT (provider, object_kind, object_ref, currency) WHERE resolved_at IS NULL
				DO UPDATE SET ours_minor = EXCLUDED.ours_minor, theirs_minor = EXCLUDED.theirs_minor, last_seen_at = now()
				RETURNING `+reconcileDifferenceColumns,
				provider, d.Kind, d.ObjectRef, d.OrderID, d.WithdrawalID, d.Currency, d.OursMinor, d.TheirsMinor); err != nil {
				return fmt.Errorf("keep the difference of %s %s: %w", d.Kind, d.ObjectRef, err)
			}
			recorded = append(recorded, row)
		}
		differing := map[[3]string]bool{}
		for _, d := range diffs {
			differing[[3]string{d.Kind, d.ObjectRef, d.Currency}] = true
		}
		var kinds, refs, currencies []string
		for _, o := range compared {
			if !differing[[3]string{o.Kind, o.ObjectRef, o.Currency}] {
				kinds, refs, currencies = append(kinds, o.Kind), append(refs, o.ObjectRef), append(currencies, o.Currency)
			}
		}
		if len(kinds) == 0 {
			return nil
		}
		res, err := tx.ExecContext(ctx, `UPDATE reconciliation_differences d SET resolved_at = now(), last_seen_at = now()
			FROM unnest($2::text[], $3::text[], $4::text[]) AS c(kind, ref, currency)
			WHERE d.resolved_at IS NULL AND d.provider = $1
				AND d.object_kind = c.kind AND d.object_ref = c.ref AND d.currency = c.currency`,
			provider, pq.Array(kinds), pq.Array(refs), pq.Array(currencies))
		if err != nil {
			return fmt.Errorf("resolve the differences that agree again: %w", err)
		}
		n, _ := res.RowsAffected()
		resolved = int(n)
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return recorded, resolved, nil
}

// ReconciliationDifferences lists up to limit differences (only open ones when
// open), newest first, after before in (first_seen_at, id) descending order.
func (db *DB) ReconciliationDifferences(ctx context.Context, open bool, before *market.PageKey, limit int) ([]market.ReconcileDifference, error) {
	var at any
	id := ""
	if before != nil {
		at, id = before.At, before.ID
	}
	out := []market.ReconcileDifference{}
	err := db.x.SelectContext(ctx, &out, `SELECT `+reconcileDifferenceColumns+` FROM reconciliation_differences
		WHERE (NOT $1 OR resolved_at IS NULL)
			AND ($2::timestamptz IS NULL OR (first_seen_at, id) < ($2, $3::uuid))
		ORDER BY first_seen_at DESC, id DESC LIMIT $4`, open, at, nullUUID(id), limit)
	if err != nil {
		return nil, fmt.Errorf("reconciliation differences: %w", err)
	}
	return out, nil
}

// ReconciliationSummary counts the open differences per provider and currency with
// the sum of |ours − theirs|.
func (db *DB) ReconciliationSummary(ctx context.Context) ([]market.ReconciliationSummary, error) {
	out := []market.ReconciliationSummary{}
	err := db.x.SelectContext(ctx, &out, `SELECT provider, currency, count(*) AS open,
			sum(abs(ours_minor - theirs_minor))::bigint AS drift_minor
		FROM reconciliation_differences WHERE resolved_at IS NULL
		GROUP BY provider, currency ORDER BY provider, currency`)
	if err != nil {
		return nil, fmt.Errorf("reconciliation summary: %w", err)
	}
	return out, nil
}

var _ market.ReconciliationStore = (*DB)(nil)
