package store

import (
	"context"
	"fmt"

	"github.com/lib/pq"

	"github.com/gigstream/hub/market"
)

// LedgerEntries lists up to limit postings to accounts with ids below beforeID (0:
// from the newest), newest first, each with its transaction's kind and order and the
// account's balance right after it (a running sum over the account's postings in id
// order, which is the order the balance trigger applied them in per account).
func (db *DB) LedgerEntries(ctx context.Context, accounts []string, beforeID int64, limit int) ([]market.LedgerEntry, error) {
	out := []market.LedgerEntry{}
	err := db.x.SelectContext(ctx, &out, `SELECT * FROM (
			SELECT p.id, p.transaction_id, t.kind, t.order_id, p.account, p.amount_minor, p.currency, p.created_at,
				sum(p.amount_minor) OVER (PARTITION BY p.account, p.currency ORDER BY p.id) AS balance_after_minor
			FROM ledger_postings p JOIN ledger_transactions t ON t.id = p.transaction_id
			WHERE p.account = ANY($1)) e
		WHERE $2 = 0 OR id < $2
		ORDER BY id DESC LIMIT $3`, pq.Array(accounts), beforeID, limit)
	if err != nil {
		return nil, fmt.Errorf("ledger entries of %v: %w", accounts, err)
	}
	return out, nil
}

// OrdersByStatus lists up to limit orders of status ("" any), most recently changed
// first, after before in (updated_at, id) order.
func (db *DB) OrdersByStatus(ctx context.Context, status market.OrderStatus, before *market.PageKey, limit int) ([]market.Order, error) {
	var at any
	id := ""
	if before != nil {
		at, id = before.At, before.ID
	}
	out := []market.Order{}
	err := db.x.SelectContext(ctx, &out, `SELECT `+orderColumns+` FROM orders
		WHERE ($1 = '' OR status = $1) AND ($2::timestamptz IS NULL OR (updated_at, id) < ($2, $3::uuid))
		ORDER BY updated_at DESC, id DESC LIMIT $4`, string(status), at, nullUUID(id), limit)
	if err != nil {
		return nil, fmt.Errorf("orders that are %q: %w", status, err)
	}
	return out, nil
}

// nullUUID is id, or NULL when it is empty.
func nullUUID(id string) any {
	if id == "" {
		return nil
	}
	return id
}

// LedgerAudit checks the ledger's invariants over every posting and kept balance.
func (db *DB) LedgerAudit(ctx context.Context) (market.LedgerAudit, error) {
	a := market.LedgerAudit{Currencies: []market.CurrencyTotal{}, Overdrawn: []market.AccountBalance{}, Mismatched: []market.AccountBalance{}}
	if err := db.x.SelectContext(ctx, &a.Currencies, `SELECT currency, sum(amount_minor) AS sum_minor
		FROM ledger_postings GROUP BY currency ORDER BY currency`); err != nil {
		return a, fmt.Errorf("ledger sums: %w", err)
	}
	if err := db.x.SelectContext(ctx, &a.Overdrawn, `SELECT account, currency, balance_minor FROM ledger_balances
		WHERE balance_minor < 0 AND account NOT LIKE 'external:%' ORDER BY account, currency`); err != nil {
		return a, fmt.Errorf("overdrawn accounts: %w", err)
	}
	if err := db.x.SelectContext(ctx, &a.Mismatched, `SELECT b.account, b.currency, b.balance_minor FROM ledger_balances b
		LEFT JOIN (SELECT account, currency, sum(amount_minor) AS total FROM ledger_postings GROUP BY account, currency) p
			ON p.account = b.account AND p.currency = b.currency
		WHERE b.balance_minor <> COALESCE(p.total, 0) ORDER BY b.account, b.currency`); err != nil {
		return a, fmt.Errorf("balances against postings: %w", err)
	}
	a.OK = len(a.Overdrawn) == 0 && len(a.Mismatched) == 0
	for _, c := range a.Currencies {
		a.OK = a.OK && c.SumMinor == 0
	}
	return a, nil
}

var _ market.AuditStore = (*DB)(nil)
