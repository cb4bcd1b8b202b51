package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gigstream/hub/market"
)

// dashboardRefund is Stripe's charge.refunded for a refund of amount made in the
// dashboard, everything refunded of the payment so far being cumulative.
func dashboardRefund(o market.Order, intent string, cumulative int64) market.PaymentEvent {
	return market.PaymentEvent{Provider: "stripe", ID: uuid.NewString(), Type: "charge.refunded", PaymentIntentID: intent,
		AmountMinor: o.PriceMinor, Currency: o.Currency,
		Reversal: &market.ReversalEvent{Kind: market.ReversalRefund, Ref: fmt.Sprintf("ch_%s:%d", o.ID, cumulative), Status: market.ReversalFinal,
			ProviderStatus: "succeeded", AmountMinor: cumulative, Cumulative: true}}
}

// Refunds made at the provider on settled orders (a credit note each), on orders in
// escrow (settled by the refund: an invoice and its credit note) and accepts of other
// orders, all at once: both series stay gapless, each credit note credits its own
// order's invoice and states what the buyer got back, and a repeated event issues
// nothing twice. A chargeback lost gets a credit note, one won none; an order without
// an invoice gets none (InvoiceRule).
func TestProviderRefundsIssueGaplessCreditNotes(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	s := f.settlement(&fakeMoney{}, market.SettlementConfig{Issuer: market.Issuer{Name: "GigStream GmbH", Country: "DE"}})
	const settledN, escrowN, acceptN = 10, 8, 8
	type paid struct {
		o      market.Order
		intent string
	}
	var settled, escrow []paid
	var deliver []market.Order
	accept := func(o market.Order) {
		t.Helper()
		_, err := f.raw.Exec(`UPDATE orders SET status = 'delivered', delivered_at = now() WHERE id = $1`, o.ID)
		must(t, err)
		if _, _, err := s.Accept(ctx, o.ID, f.buyer, uuid.NewString()); err != nil {
			t.Fatalf("accept: %v", err)
		}
	}
	for range settledN {
		o, pi := f.paidOrderWithIntent(t)
		accept(o)
		settled = append(settled, paid{o, pi})
	}
	for range escrowN {
		o, pi := f.paidOrderWithIntent(t)
		escrow = append(escrow, paid{o, pi})
	}
	for range acceptN {
		deliver = append(deliver, f.deliveredOrder(t, time.Now()))
	}
	var events []market.PaymentEvent
	var wg sync.WaitGroup
	start := make(chan struct{})
	run := func(what string, fn func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if err := fn(); err != nil {
				t.Errorf("%s: %v", what, err)
			}
		}()
	}
	for i, p := range append(append([]paid{}, settled...), escrow...) {
		ev := dashboardRefund(p.o, p.intent, int64(100+i))
		events = append(events, ev)
		run("refund at the provider of "+p.o.ID, func() error {
			out, err := s.ApplyReversal(ctx, ev)
			if err == nil && out.Outcome != market.OutcomeApplied {
				err = fmt.Errorf("outcome %s", out.Outcome)
			}
			return err
		})
	}
	for _, o := range deliver {
		run("accept of "+o.ID, func() error { _, _, err := s.Accept(ctx, o.ID, f.buyer, uuid.NewString()); return err })
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	for _, ev := range events { // the provider sends again, under a new event id too
		again := ev
		again.ID = uuid.NewString()
		for _, e := range []market.PaymentEvent{ev, again} {
			if out, err := s.ApplyReversal(ctx, e); err != nil || out.Outcome == market.OutcomeApplied {
				t.Fatalf("a repeated refund event: %+v %v", out, err)
			}
		}
	}
	assertGapless(t, "INV", f.invoiceNumbers(t, "INV"), settledN+escrowN+acceptN)
	assertGapless(t, "CN", f.invoiceNumbers(t, "CN"), settledN+escrowN)
	var wrong int
	must(t, f.raw.QueryRow(`SELECT count(*) FROM invoices c JOIN invoices i ON i.id = c.credits_invoice_id
		JOIN payment_reversals r ON r.id = c.reversal_id
		WHERE c.kind = 'credit_note' AND (i.order_id <> c.order_id OR r.order_id <> c.order_id OR i.kind <> 'invoice'
			OR c.document->>'credits_number' <> i.document->>'number' OR c.total_minor <> r.amount_minor)`).Scan(&wrong))
	if wrong != 0 || f.count(t, `SELECT count(*) FROM invoices WHERE kind = 'credit_note' AND reversal_id IS NULL`) != 0 {
		t.Fatalf("%d credit notes do not match their reversal and invoice", wrong)
	}
	for _, p := range escrow {
		if n := f.count(t, `SELECT count(*) FROM orders WHERE id = $1 AND status = 'cancelled'`, p.o.ID); n != 1 {
			t.Fatalf("order %s in escrow was not settled by the refund", p.o.ID)
		}
	}

	// Chargebacks on two settled orders: one lost (a credit note), one won (none).
	dispute := func(p paid, status string) {
		t.Helper()
		ev := market.PaymentEvent{Provider: "stripe", ID: uuid.NewString(), Type: "charge.dispute.created", PaymentIntentID: p.intent,
			AmountMinor: 300, Currency: p.o.Currency,
			Reversal: &market.ReversalEvent{Kind: market.ReversalChargeback, Ref: "dp_" + p.o.ID, Status: market.ReversalOpen, AmountMinor: 300}}
		for _, st := range []string{market.ReversalOpen, status} {
			ev.ID, ev.Reversal.Status = uuid.NewString(), st
			if out, err := s.ApplyReversal(ctx, ev); err != nil || out.Outcome != market.OutcomeApplied {
				t.Fatalf("chargeback %s: %+v %v", st, out, err)
			}
		}
	}
	dispute(settled[0], market.ReversalLost)
	dispute(settled[1], market.ReversalWon)
	assertGapless(t, "CN", f.invoiceNumbers(t, "CN"), settledN+escrowN+1)
	if n := f.count(t, `SELECT count(*) FROM invoices WHERE order_id = $1 AND kind = 'credit_note' AND total_minor = 300`, settled[0].o.ID); n != 1 {
		t.Fatalf("%d credit notes of 3.00 for the lost chargeback, want 1", n)
	}

	// A settled order without an invoice (settled before invoices existed) gets none.
	bare, intent := f.paidOrderWithIntent(t)
	accept(bare)
	_, err := f.raw.Exec(`DELETE FROM invoices WHERE order_id = $1`, bare.ID)
	must(t, err)
	if out, err := s.ApplyReversal(ctx, dashboardRefund(bare, intent, 200)); err != nil || out.Outcome != market.OutcomeApplied {
		t.Fatalf("refund at the provider of an order without an invoice: %+v %v", out, err)
	}
	if n := f.count(t, `SELECT count(*) FROM invoices WHERE order_id = $1`, bare.ID); n != 0 {
		t.Fatalf("%d documents issued for an order without an invoice", n)
	}
	if sum := f.ledgerSum(t); sum != 0 {
		t.Fatalf("the ledger sums to %d", sum)
	}
}
