package store

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// deferredAccount is an account with postings deferred in one currency.
type deferredAccount struct {
	Account  string `db:"account"`
	Currency string `db:"currency"`
}

// FoldLedger adds the deferred postings (ledger_deferred, migration 00054) of every
// account that has some to its balance row, one account and currency per transaction
// so that each shared row is locked for one short statement, and returns how many
// accounts it folded. Balances read through ledger_account_balances are the same
// before and after; folding only keeps the deferred rows few. It returns the first
// error, after which the other accounts are folded by the next run.
func (db *DB) FoldLedger(ctx context.Context) (int, error) {
	var due []deferredAccount
	if err := db.x.SelectContext(ctx, &due, `SELECT DISTINCT account, currency FROM ledger_deferred ORDER BY currency, account`); err != nil {
		return 0, fmt.Errorf("deferred ledger accounts: %w", err)
	}
	for i, a := range due {
		err := db.inTx(ctx, func(tx *sqlx.Tx) error {
			_, err := tx.ExecContext(ctx, `SELECT ledger_fold($1, $2)`, a.Account, a.Currency)
			return err
		})
		if err != nil {
			return i, fmt.Errorf("fold %s in %s: %w", a.Account, a.Currency, err)
		}
	}
	return len(due), nil
}
