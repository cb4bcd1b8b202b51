package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/gigstream/hub/market"
)

// TestAcceptsDoNotQueueOnTheSharedRows: an accept credits the platform's fee (and
// service fee and tax) accounts, which every order of the currency shares; those
// credits are deferred (migration 00054), so an accept completes while another
// transaction holds every shared balance row. The fee account's balance is its row
// plus the deferred credits; a debit of the whole of it succeeds (it folds the
// deferred credits in first), one minor unit more is refused by the database, and
// FoldLedger empties ledger_deferred without changing a balance.
func TestAcceptsDoNotQueueOnTheSharedRows(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	s := f.settlement(&fakeMoney{}, market.SettlementConfig{})
	first := f.deliveredOrder(t, time.Now())
	if _, _, err := s.Accept(ctx, first.ID, f.buyer, "first"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.FoldLedger(ctx); err != nil { // every shared row exists and holds what is posted
		t.Fatal(err)
	}

	hold, err := f.raw.BeginTx(ctx, nil)
	must(t, err)
	defer func() { _ = hold.Rollback() }()
	var held int
	must(t, hold.QueryRow(`WITH l AS (SELECT 1 FROM ledger_balances WHERE account ~ '^(external|platform|tax):' FOR UPDATE)
		SELECT count(*) FROM l`).Scan(&held))
	if held == 0 {
		t.Fatal("no shared balance row to hold")
	}
	second := f.deliveredOrder(t, time.Now())
	done := make(chan error, 1)
	go func() {
		_, _, err := s.Accept(ctx, second.ID, f.buyer, "second")
		done <- err
	}()
	select {
	case err := <-done:
		must(t, err)
	case <-time.After(10 * time.Second):
		must(t, hold.Rollback())
		<-done
		t.Fatal("the accept waited for a shared balance row another transaction held")
	}
	must(t, hold.Rollback())

	var posted, stored, deferred int64
	must(t, f.raw.QueryRow(`SELECT (SELECT sum(amount_minor) FROM ledger_postings WHERE account = 'platform:fees' AND currency = $1),
		(SELECT balance_minor FROM ledger_balances WHERE account = 'platform:fees' AND currency = $1),
		(SELECT COALESCE(sum(amount_minor), 0) FROM ledger_deferred WHERE account = 'platform:fees' AND currency = $1)`, f.currency).
		Scan(&posted, &stored, &deferred))
	if deferred <= 0 || stored+deferred != posted || f.balance(t, market.PlatformFeesAccount) != posted {
		t.Fatalf("platform:fees: posted %d, row %d + deferred %d, Balance %d", posted, stored, deferred, f.balance(t, market.PlatformFeesAccount))
	}
	take := func(amount int64) error {
		_, err := f.raw.Exec(`WITH t AS (INSERT INTO ledger_transactions (kind, reference) VALUES ('clearing', 'take:' || $1::text) RETURNING id)
			INSERT INTO ledger_postings (transaction_id, account, amount_minor, currency)
			SELECT t.id, v.a, v.x, $2 FROM t, (VALUES ('platform:fees', -$1::bigint), ('external:stripe', $1::bigint)) v(a, x)`, amount, f.currency)
		return err
	}
	if err := take(posted + 1); err == nil {
		t.Fatalf("took %d of platform:fees holding %d", posted+1, posted)
	}
	must(t, take(posted)) // more than its row held: the deferred credits are folded first
	if b := f.balance(t, market.PlatformFeesAccount); b != 0 {
		t.Fatalf("platform:fees after taking all of it: %d", b)
	}
	if err := take(1); err == nil {
		t.Fatal("took 1 of an empty platform:fees")
	}

	before := f.balance(t, market.ExternalAccount("stripe"))
	n, err := f.db.FoldLedger(ctx)
	must(t, err)
	var left int
	must(t, f.raw.QueryRow(`SELECT count(*) FROM ledger_deferred`).Scan(&left))
	if n == 0 || left != 0 || f.balance(t, market.ExternalAccount("stripe")) != before {
		t.Fatalf("FoldLedger folded %d accounts, left %d deferred postings, external:stripe %d → %d",
			n, left, before, f.balance(t, market.ExternalAccount("stripe")))
	}
	a, err := f.db.LedgerAudit(ctx)
	must(t, err)
	if !a.OK {
		t.Fatalf("ledger check: %+v", a)
	}
}
