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

// LedgerAudit checks the ledger's invariants over every posting and kept balance. A
// debt account (market.IsDebtAccount) above zero counts as overdrawn: it is out of
// its bounds the other way.
func (db *DB) LedgerAudit(ctx context.Context) (market.LedgerAudit, error) {
	a := market.LedgerAudit{Currencies: []market.CurrencyTotal{}, Overdrawn: []market.AccountBalance{}, Mismatched: []market.AccountBalance{}}
	if err := db.x.SelectContext(ctx, &a.Currencies, `SELECT currency, sum(amount_minor) AS sum_minor
		FROM ledger_postings GROUP BY currency ORDER BY currency`); err != nil {
		return a, fmt.Errorf("ledger sums: %w", err)
	}
	if err := db.x.SelectContext(ctx, &a.Overdrawn, `SELECT account, currency, balance_minor FROM ledger_account_balances
		WHERE CASE WHEN account LIKE 'external:%' THEN false
			WHEN account LIKE 'seller:%:debt' OR account = 'platform:losses' THEN balance_minor > 0
			ELSE balance_minor < 0 END
		ORDER BY account, currency`); err != nil {
		return a, fmt.Errorf("overdrawn accounts: %w", err)
	}
	if err := db.x.SelectContext(ctx, &a.Mismatched, `SELECT b.account, b.currency, b.balance_minor FROM ledger_account_balances b
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

// ProviderEvents lists up to limit stored provider events of outcome, newest first,
// after before in (received_at, provider, event_id) descending order.
func (db *DB) ProviderEvents(ctx context.Context, outcome string, before *market.ProviderEventKey, limit int) ([]market.ProviderEvent, error) {
	var at any
	provider, id := "", ""
	if before != nil {
		at, provider, id = before.At, before.Provider, before.EventID
	}
	out := []market.ProviderEvent{}
	err := db.x.SelectContext(ctx, &out, `SELECT provider, event_id, type, outcome, object_ref, order_id::text AS order_id, received_at
		FROM provider_events WHERE outcome = $1
			AND ($2::timestamptz IS NULL OR (received_at, provider, event_id) < ($2, $3, $4))
		ORDER BY received_at DESC, provider DESC, event_id DESC LIMIT $5`, outcome, at, provider, id, limit)
	if err != nil {
		return nil, fmt.Errorf("provider events that are %q: %w", outcome, err)
	}
	return out, nil
}
