package store

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/gigstream/hub/market"
)

// postLedger writes a validated ledger transaction and its postings in tx. The
// database checks again at commit that the postings balance per currency, and refuses
// to overdraw any account but the outside world's.
//
// Each posting locks its account's balance row until commit, so the balance rows are
// locked first, in one global order (lockBalances), and the postings then written in
// their given order: two transactions that touch the same accounts wait for each
// other instead of deadlocking (a refund posting external:stripe before a seller's
// pending while a chargeback held them the other way round was a deadlock the money
// property test found). The transaction and its postings are one statement, so the
// rows stay locked for one round trip less per posting.
func postLedger(ctx context.Context, tx *sqlx.Tx, t market.LedgerTransaction) error {
	if err := t.Validate(); err != nil {
		return fmt.Errorf("ledger transaction %s: %w", t.Reference, err)
	}
	if err := lockPostedBalances(ctx, tx, t.Postings); err != nil {
		return fmt.Errorf("ledger transaction %s: %w", t.Reference, err)
	}
	return writeLedger(ctx, tx, t)
}

// writeLedger writes a validated ledger transaction and its postings in tx, whose
// caller locked the balance rows already (postLedger, lockBalances).
func writeLedger(ctx context.Context, tx *sqlx.Tx, t market.LedgerTransaction) error {
	if err := t.Validate(); err != nil {
		return fmt.Errorf("ledger transaction %s: %w", t.Reference, err)
	}
	accounts, amounts, currencies := make([]string, len(t.Postings)), make([]int64, len(t.Postings)), make([]string, len(t.Postings))
	for i, p := range t.Postings {
		accounts[i], amounts[i], currencies[i] = p.Account, p.Amount, p.Currency
	}
	if _, err := tx.ExecContext(ctx, postLedgerQuery, t.Kind, t.OrderID, t.Reference,
		pq.Array(accounts), pq.Array(amounts), pq.Array(currencies)); err != nil {
		return fmt.Errorf("ledger transaction %s: %w", t.Reference, err)
	}
	return nil
}

// postLedgerQuery inserts a ledger transaction ($1 kind, $2 order id or empty, $3
// reference) and its postings ($4 accounts, $5 amounts, $6 currencies), in the
// arrays' order.
const postLedgerQuery = `
	WITH t AS (
		INSERT INTO ledger_transactions (kind, order_id, reference) VALUES ($1, NULLIF($2, '')::uuid, $3) RETURNING id)
	INSERT INTO ledger_postings (transaction_id, account, amount_minor, currency)
	SELECT t.id, p.account, p.amount, p.currency
	FROM t, unnest($4::text[], $5::bigint[], $6::text[]) WITH ORDINALITY AS p(account, amount, currency, n)
	ORDER BY p.n`

// Balance returns an account's balance in minor units of currency (0 when it never
// moved).
func (db *DB) Balance(ctx context.Context, account, currency string) (int64, error) {
	var b int64
	err := db.x.GetContext(ctx, &b, `SELECT COALESCE((SELECT balance_minor FROM ledger_balances WHERE account = $1 AND currency = $2), 0)`,
		account, currency)
	if err != nil {
		return 0, fmt.Errorf("balance of %s: %w", account, err)
	}
	return b, nil
}

// LedgerTransactionsOf counts the ledger transactions of an order.
func (db *DB) LedgerTransactionsOf(ctx context.Context, orderID string) (int, error) {
	var n int
	if err := db.x.GetContext(ctx, &n, `SELECT count(*) FROM ledger_transactions WHERE order_id = $1`, orderID); err != nil {
		return 0, fmt.Errorf("ledger transactions of %s: %w", orderID, err)
	}
	return n, nil
}

// lockPostedBalances locks the balance rows of the postings' accounts, currencies in
// order, each currency's in the one order of lockBalances, creating at zero those
// that do not exist yet (the postings then move them). A row the postings themselves
// created would be locked in the postings' order instead, not in that one: two
// settlements of one seller, each racing to create the seller's pending row or the
// platform's fee row, deadlocked so (found by BenchmarkSettleOrders). The upsert is
// one statement, so the rows are taken one by one in that order.
func lockPostedBalances(ctx context.Context, tx *sqlx.Tx, ps []market.Posting) error {
	accounts, currencies := make([]string, len(ps)), make([]string, len(ps))
	for i, p := range ps {
		accounts[i], currencies[i] = p.Account, p.Currency
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO ledger_balances (account, currency, balance_minor)
		SELECT account, currency, 0 FROM (SELECT DISTINCT account, currency FROM unnest($1::text[], $2::text[]) AS p(account, currency)) d
		ORDER BY currency, account ~ '^(external|platform|tax):', account
		ON CONFLICT (account, currency) DO UPDATE SET balance_minor = ledger_balances.balance_minor`, pq.Array(accounts), pq.Array(currencies))
	if err != nil {
		return fmt.Errorf("lock balances: %w", err)
	}
	return nil
}
