package main

import (
	"sync"
	"testing"

	"github.com/google/uuid"
)

// TestClearingSweepsManySellersPerTransaction: the clearing sweep clears the due
// orders of many sellers in one database transaction (each order still its own
// ledger transaction), and sweeps running at once over the same sellers clear each
// order exactly once, without a deadlock, leaving the ledger's invariants whole.
func TestClearingSweepsManySellersPerTransaction(t *testing.T) {
	w := newMoneyWorldOf(t, 5, 40)
	orders := w.benchOrders(120)
	accept := func(os []moneyOrder) {
		for _, o := range os {
			_, _, err := w.settlement.Accept(w.ctx, o.id, o.buyer, uuid.NewString())
			w.must(err)
		}
	}
	accept(orders[:60])
	n, err := w.settlement.ClearEarnings(w.ctx, 1000)
	w.must(err)
	var sellers, dbTxs int
	w.must(w.raw.QueryRow(`SELECT count(DISTINCT o.seller_id), count(DISTINCT t.xmin::text) FROM ledger_transactions t
		JOIN orders o ON o.id = t.order_id WHERE t.kind = 'clearing'`).Scan(&sellers, &dbTxs))
	if n != 60 || sellers < 2 || dbTxs != 1 {
		t.Fatalf("cleared %d of 60 orders of %d sellers in %d database transactions, want one", n, sellers, dbTxs)
	}

	accept(orders[60:])
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := w.settlement.ClearEarnings(w.ctx, 7) // several small batches each, overlapping
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			total += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	n, err = w.settlement.ClearEarnings(w.ctx, 1000)
	w.must(err)
	total += n
	var clearings, distinct int
	w.must(w.raw.QueryRow(`SELECT count(*), count(DISTINCT order_id) FROM ledger_transactions WHERE kind = 'clearing'`).Scan(&clearings, &distinct))
	if total != 60 || clearings != 120 || distinct != 120 {
		t.Fatalf("concurrent sweeps cleared %d of 60; %d clearing transactions over %d orders, want 120 over 120", total, clearings, distinct)
	}
	w.must(w.checkInvariants())
}
