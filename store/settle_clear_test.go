package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/gigstream/hub/market"
)

// TestClearingABatchPostsEachOrderInTurn: the sweep clears a seller's due orders in
// one transaction, their ledger transactions in one statement and their events in
// another. Each order gets its own clearing transaction against the running balances
// (the seller's debt is repaid by the first order only), and the returned events are
// the stored ones, one per order in settlement order with consecutive seqs after the
// channel's earlier events.
func TestClearingABatchPostsEachOrderInTurn(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	s := f.settlement(&fakeMoney{}, market.SettlementConfig{ClearingPeriod: time.Nanosecond})
	var ids []string
	for i := range 3 {
		o := f.deliveredOrder(t, time.Now())
		if _, _, err := s.Accept(ctx, o.ID, f.buyer, "k"+o.ID); err != nil {
			t.Fatalf("accept %d: %v", i, err)
		}
		ids = append(ids, o.ID)
	}
	_, err := f.raw.Exec(`WITH t AS (INSERT INTO ledger_transactions (kind, reference) VALUES ('reversal', 'debt:' || $1::text) RETURNING id)
		INSERT INTO ledger_postings (transaction_id, account, amount_minor, currency)
		SELECT t.id, v.a, v.x, $2 FROM t, (VALUES ('seller:' || $1::text || ':debt', -500::bigint), ('external:stripe', 500::bigint)) v(a, x)`, f.seller, f.currency)
	must(t, err)
	var before uint64
	must(t, f.raw.QueryRow(`SELECT COALESCE(max(seq), 0) FROM events WHERE channel = $1`, market.UserChannel(f.seller)).Scan(&before))
	time.Sleep(time.Millisecond)

	events, err := f.db.ClearEarnings(ctx, time.Now(), 10)
	must(t, err)
	if len(events) != 3 {
		t.Fatalf("%d events, want 3", len(events))
	}
	for i, ev := range events {
		var stored json.RawMessage
		must(t, f.raw.QueryRow(`SELECT data FROM events WHERE channel = $1 AND seq = $2 AND type = 'balance.updated'`, ev.Channel, ev.Seq).Scan(&stored))
		var got, sent struct {
			Reason  string `json:"reason"`
			OrderID string `json:"order_id"`
		}
		must(t, json.Unmarshal(stored, &got))
		must(t, json.Unmarshal(ev.Data, &sent))
		if ev.Seq != before+uint64(i)+1 || got != sent || got.OrderID != ids[i] || got.Reason != "earnings_cleared" {
			t.Fatalf("event %d: seq %d after %d, stored %+v, returned %+v, order %s", i, ev.Seq, before, got, sent, ids[i])
		}
	}
	for _, id := range ids {
		if n := f.count(t, `SELECT count(*) FROM ledger_transactions WHERE order_id = $1 AND kind = 'clearing'`, id); n != 1 {
			t.Fatalf("order %s has %d clearing transactions", id, n)
		}
	}
	if n := f.count(t, `SELECT count(*) FROM ledger_postings p JOIN ledger_transactions t ON t.id = p.transaction_id
		WHERE t.order_id = $1 AND t.kind = 'clearing' AND p.account = $2 AND p.amount_minor = 500`, ids[0], market.SellerDebtAccount(f.seller)); n != 1 {
		t.Fatal("the first order's clearing does not repay the debt")
	}
	if a, p, d := f.balance(t, market.SellerAvailableAccount(f.seller)), f.balance(t, market.SellerPendingAccount(f.seller)),
		f.balance(t, market.SellerDebtAccount(f.seller)); a != 3*900-500 || p != 0 || d != 0 {
		t.Fatalf("available %d pending %d debt %d", a, p, d)
	}
	a, err := f.db.LedgerAudit(ctx)
	must(t, err)
	if !a.OK {
		t.Fatalf("ledger check: %+v", a)
	}
}

// TestClearingBatchesAtOnceClearEachOrderOnce clears more due orders than three
// batches hold, the batches running at once (clearingWorkers) and all of one seller,
// so they wait for each other on the seller's rows: every order clears once, the
// returned events are the channel's in seq order with no gap, and the ledger holds.
func TestClearingBatchesAtOnceClearEachOrderOnce(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	s := f.settlement(&fakeMoney{}, market.SettlementConfig{ClearingPeriod: time.Nanosecond})
	const orders = 250
	for i := range orders {
		o := f.deliveredOrder(t, time.Now())
		if _, _, err := s.Accept(ctx, o.ID, f.buyer, "k"+o.ID); err != nil {
			t.Fatalf("accept %d: %v", i, err)
		}
	}
	time.Sleep(time.Millisecond)
	events, err := f.db.ClearEarnings(ctx, time.Now(), 1000)
	must(t, err)
	if len(events) != orders {
		t.Fatalf("%d events, want %d", len(events), orders)
	}
	seen := map[string]bool{}
	for i, ev := range events {
		var d struct {
			OrderID string `json:"order_id"`
		}
		must(t, json.Unmarshal(ev.Data, &d))
		if seen[d.OrderID] {
			t.Fatalf("order %s cleared twice", d.OrderID)
		}
		seen[d.OrderID] = true
		if i > 0 && (ev.Channel != events[0].Channel || ev.Seq != events[i-1].Seq+1) {
			t.Fatalf("event %d: %s #%d after %s #%d", i, ev.Channel, ev.Seq, events[i-1].Channel, events[i-1].Seq)
		}
	}
	if n := f.count(t, `SELECT count(*) FROM ledger_transactions WHERE kind = 'clearing'`); n != orders {
		t.Fatalf("%d clearing transactions, want %d", n, orders)
	}
	if a, p := f.balance(t, market.SellerAvailableAccount(f.seller)), f.balance(t, market.SellerPendingAccount(f.seller)); a != orders*900 || p != 0 {
		t.Fatalf("available %d pending %d", a, p)
	}
	again, err := f.db.ClearEarnings(ctx, time.Now(), 1000)
	must(t, err)
	if len(again) != 0 {
		t.Fatalf("a second sweep cleared %d orders", len(again))
	}
	a, err := f.db.LedgerAudit(ctx)
	must(t, err)
	if !a.OK {
		t.Fatalf("ledger check: %+v", a)
	}
}
