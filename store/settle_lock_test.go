package store_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/gigstream/hub/market"
)

// TestSettlementTakesTheSharedRowsLast: every settlement of a currency waits for the
// platform's fee balance and every settlement of the year for the invoice counter, so
// an accept must not hold them while it waits for rows of its own seller. Held by
// another transaction here: the seller's pending balance (the accept then holds
// neither shared row), then the seller's user channel (it holds the fee balance, not
// yet the counter).
func TestSettlementTakesTheSharedRowsLast(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	s := f.settlement(&fakeMoney{}, market.SettlementConfig{})
	first := f.deliveredOrder(t, time.Now())
	if _, _, err := s.Accept(ctx, first.ID, f.buyer, "first"); err != nil { // creates every row below
		t.Fatal(err)
	}
	fees := `SELECT 1 FROM ledger_balances WHERE account = 'platform:fees' FOR UPDATE NOWAIT`
	counter := `SELECT 1 FROM invoice_counters FOR UPDATE NOWAIT`
	for _, c := range []struct {
		name, lock, arg string
		free            []string
	}{
		{"the seller's pending balance", `SELECT 1 FROM ledger_balances WHERE account = $1 FOR UPDATE`, market.SellerPendingAccount(f.seller), []string{fees, counter}},
		{"the seller's user channel", `SELECT 1 FROM channel_seqs WHERE channel = $1 FOR UPDATE`, market.UserChannel(f.seller), []string{counter}},
	} {
		o := f.deliveredOrder(t, time.Now())
		hold, err := f.raw.BeginTx(ctx, nil)
		must(t, err)
		if _, err := hold.Exec(c.lock, c.arg); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			_, _, err := s.Accept(ctx, o.ID, f.buyer, "accept")
			done <- err
		}()
		waitForLockWaiter(t, f.raw)
		for _, q := range c.free {
			if err := tryLock(ctx, f.raw, q); err != nil {
				t.Errorf("while the accept waits for %s, it holds a shared row (%s): %v", c.name, q, err)
			}
		}
		must(t, hold.Rollback())
		if err := <-done; err != nil {
			t.Fatalf("accept after %s was free again: %v", c.name, err)
		}
	}
}

// waitForLockWaiter waits until a session of the test's database waits for a lock.
func waitForLockWaiter(t *testing.T, raw *sql.DB) {
	t.Helper()
	for deadline := time.Now().Add(4 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		var n int
		must(t, raw.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n))
		if n > 0 {
			return
		}
	}
	t.Fatal("no session started waiting for a lock")
}

// tryLock runs a NOWAIT lock statement in a transaction of its own and rolls it back.
func tryLock(ctx context.Context, raw *sql.DB, q string) error {
	tx, err := raw.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	_, err = tx.Exec(q)
	return err
}
