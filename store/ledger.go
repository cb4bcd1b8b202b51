package store

import (
	"context"
	"fmt"

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
// property test found). The locks, the transaction and its postings are one statement
// (postLedgerQuery), so the rows stay locked for two round trips less per ledger
// transaction than with a statement each.
func postLedger(ctx context.Context, tx txQuerier, t market.LedgerTransaction) error {
	if err := t.Validate(); err != nil {
		return fmt.Errorf("ledger transaction %s: %w", t.Reference, err)
	}
	if _, err := tx.ExecContext(ctx, postLockedLedgerQuery, ledgerArgs(t)...); err != nil {
		return fmt.Errorf("ledger transaction %s: %w", t.Reference, err)
	}
	return nil
}

// ledgerArgs are postLockedLedgerQuery's six parameters for t.
func ledgerArgs(t market.LedgerTransaction) []any {
	accounts, amounts, currencies := make([]string, len(t.Postings)), make([]int64, len(t.Postings)), make([]string, len(t.Postings))
	for i, p := range t.Postings {
		accounts[i], amounts[i], currencies[i] = p.Account, p.Amount, p.Currency
	}
	return []any{t.Kind, t.OrderID, t.Reference, pq.Array(accounts), pq.Array(amounts), pq.Array(currencies)}
}

// postLockedLedgerQuery locks (creating at zero) the balance rows of the postings ($4
// accounts, $5 amounts, $6 currencies) that the database does not defer, as
// lockPostedBalancesQuery does, then inserts one ledger transaction ($1 kind, $2 order
// id or empty, $3 reference) and its postings in the arrays' order (ledgerCTEs, then
// ledgerPostingsInsert). The balance trigger (ledger_apply_postings) runs after the
// whole statement, on rows the transaction holds already.
const postLockedLedgerQuery = `
	WITH ` + ledgerCTEs + `
	` + ledgerPostingsInsert

// ledgerCTEs are postLockedLedgerQuery's common table expressions: ledger_locks locks
// the balance rows, ledger_tx inserts the transaction once every row is locked (it
// reads their count) and returns its id. acceptWritesQuery uses them too.
const ledgerCTEs = `ledger_locks AS (` + lockPostedBalancesQuery + `
		RETURNING 1),
	ledger_tx AS (
		INSERT INTO ledger_transactions (kind, order_id, reference)
		SELECT $1, NULLIF($2, '')::uuid, $3 FROM (SELECT count(*) FROM ledger_locks) locked RETURNING id)`

// ledgerPostingsInsert inserts the postings of ledgerCTEs' transaction in the arrays'
// order.
const ledgerPostingsInsert = `INSERT INTO ledger_postings (transaction_id, account, amount_minor, currency)
	SELECT ledger_tx.id, p.account, p.amount, p.currency
	FROM ledger_tx, unnest($4::text[], $5::bigint[], $6::text[]) WITH ORDINALITY AS p(account, amount, currency, n)
	ORDER BY p.n`

// writeLedgers writes validated ledger transactions and their postings in tx in one
// statement, in the given order (each posting moves its balance in turn, so a later
// transaction sees what an earlier one posted); the caller locked the balance rows
// already. The clearing sweep writes a seller's batch so, one round trip for all of
// it. It returns the first invalid transaction's error, or the database's.
func writeLedgers(ctx context.Context, tx txQuerier, ts []market.LedgerTransaction) error {
	if len(ts) == 0 {
		return nil
	}
	kinds, orders, refs := make([]string, len(ts)), make([]string, len(ts)), make([]string, len(ts))
	var owners, accounts, currencies []string
	var amounts []int64
	for i, t := range ts {
		if err := t.Validate(); err != nil {
			return fmt.Errorf("ledger transaction %s: %w", t.Reference, err)
		}
		kinds[i], orders[i], refs[i] = t.Kind, t.OrderID, t.Reference
		for _, p := range t.Postings {
			owners, accounts, amounts, currencies = append(owners, t.Reference), append(accounts, p.Account), append(amounts, p.Amount), append(currencies, p.Currency)
		}
	}
	if _, err := tx.ExecContext(ctx, postLedgerQuery, pq.Array(kinds), pq.Array(orders), pq.Array(refs),
		pq.Array(owners), pq.Array(accounts), pq.Array(amounts), pq.Array(currencies)); err != nil {
		if len(ts) == 1 {
			return fmt.Errorf("ledger transaction %s: %w", ts[0].Reference, err)
		}
		return fmt.Errorf("%d ledger transactions (%s…): %w", len(ts), ts[0].Reference, err)
	}
	return nil
}

// postLedgerQuery inserts ledger transactions ($1 kinds, $2 order ids or empty, $3
// references) and their postings ($4 the reference of each posting's transaction, $5
// accounts, $6 amounts, $7 currencies), the postings in the arrays' order.
const postLedgerQuery = `
	WITH t AS (
		INSERT INTO ledger_transactions (kind, order_id, reference)
		SELECT kind, NULLIF(order_id, '')::uuid, reference FROM unnest($1::text[], $2::text[], $3::text[]) AS x(kind, order_id, reference)
		RETURNING id, reference)
	INSERT INTO ledger_postings (transaction_id, account, amount_minor, currency)
	SELECT t.id, p.account, p.amount, p.currency
	FROM unnest($4::text[], $5::text[], $6::bigint[], $7::text[]) WITH ORDINALITY AS p(reference, account, amount, currency, n)
	JOIN t ON t.reference = p.reference
	ORDER BY p.n`

// Balance returns an account's balance in minor units of currency (0 when it never
// moved): its balance row plus its deferred postings.
func (db *DB) Balance(ctx context.Context, account, currency string) (int64, error) {
	var b int64
	err := db.x.GetContext(ctx, &b, `SELECT COALESCE((SELECT balance_minor FROM ledger_account_balances WHERE account = $1 AND currency = $2), 0)`,
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

// lockPostedBalancesQuery locks (creating at zero) the balance rows of the postings
// ($4 accounts, $5 amounts, $6 currencies) that the database does not defer, in
// lockBalances' order within each currency, creating at zero those that do not exist
// yet (the postings then move them). A row the postings themselves created would be
// locked in the postings' order instead, not in that one: two settlements of one
// seller, each racing to create the seller's pending row or the platform's fee row,
// deadlocked so (found by BenchmarkSettleOrders). The upsert is one statement, so the
// rows are taken one by one in that order.
//
// A posting the database defers (ledger_defers, migration 00054: a credit of a
// platform or tax account, any posting of an external one) takes no row: the trigger
// writes it to ledger_deferred, so the settlements of a currency no longer queue on
// its platform:fees row.
const lockPostedBalancesQuery = `INSERT INTO ledger_balances (account, currency, balance_minor)
	SELECT account, currency, 0 FROM (SELECT DISTINCT account, currency FROM unnest($4::text[], $5::bigint[], $6::text[]) AS p(account, amount, currency)
		WHERE NOT ledger_defers(account, amount)) d
	ORDER BY currency, account ~ '^(external|platform|tax):', account
	ON CONFLICT (account, currency) DO UPDATE SET balance_minor = ledger_balances.balance_minor`
