package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gigstream/hub/market"
)

// paidOrderWithIntent places and pays an order of the fixture through a
// PaymentIntent of its own (reversals find their order by it).
func (f orderFixture) paidOrderWithIntent(t *testing.T) (market.Order, string) {
	t.Helper()
	ctx := context.Background()
	o := f.place(t, newUUID(t)).Order
	pi := "pi_" + o.ID
	_, err := f.db.RecordPayment(ctx, o.ID, market.PaymentInfo{Provider: "stripe", PaymentIntentID: pi, ClientSecret: "s", AmountMinor: o.PriceMinor, Currency: o.Currency})
	must(t, err)
	_, err = f.db.ApplyPaymentEvent(ctx, market.PaymentEvent{Provider: "stripe", ID: newUUID(t), Type: market.StripePaymentSucceeded, OrderID: o.ID}, fundDecision)
	must(t, err)
	return o, pi
}

// A chargeback on one of a seller's settled orders and an admin's partial refund of
// another of their orders, at the same time, many times over: each must finish (the
// chargeback locked the seller's balances and then waited for external:stripe while
// the refund held external:stripe and waited for the seller's pending balance, and
// Postgres killed one as a deadlock; found by TestMoneyProperty in cmd/gigstream).
func TestChargebackAndRefundOfOneSellerDoNotDeadlock(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	s := f.settlement(&fakeMoney{}, market.SettlementConfig{})
	admin, err := f.db.CreateUser(ctx, market.NewUser{Email: "admin@x.test", Username: "admin_one", DisplayName: "Admin"})
	must(t, err)
	admin.IsAdmin = true
	_, err = f.raw.Exec(`UPDATE users SET is_admin = true WHERE id = $1`, admin.ID)
	must(t, err)
	const pairs = 8
	type pair struct {
		settled, open market.Order
		intent        string
	}
	var ps []pair
	for range pairs {
		settled, intent := f.paidOrderWithIntent(t)
		_, err := f.raw.Exec(`UPDATE orders SET status = 'delivered', delivered_at = now() WHERE id = $1`, settled.ID)
		must(t, err)
		if _, _, err := s.Accept(ctx, settled.ID, f.buyer, uuid.NewString()); err != nil {
			t.Fatalf("accept: %v", err)
		}
		open, _ := f.paidOrderWithIntent(t)
		ps = append(ps, pair{settled: settled, open: open, intent: intent})
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, p := range ps {
		wg.Add(2)
		go func() {
			defer wg.Done()
			<-start
			ev := market.PaymentEvent{Provider: "stripe", ID: uuid.NewString(), Type: "charge.dispute.created", PaymentIntentID: p.intent,
				AmountMinor: p.settled.PriceMinor, Currency: p.settled.Currency,
				Reversal: &market.ReversalEvent{Kind: market.ReversalChargeback, Ref: "dp_" + p.settled.ID, Status: market.ReversalOpen,
					ProviderStatus: "needs_response", AmountMinor: p.settled.PriceMinor}}
			// Under heavy load the seller's lock may wait past the store's bound: busy
			// (503, the provider retries) is an answer; a deadlock is not.
			if out, err := s.ApplyReversal(ctx, ev); market.ErrorCode(err) != market.CodeUnavailable && (err != nil || out.Outcome != market.OutcomeApplied) {
				t.Errorf("chargeback of %s: %+v %v", p.settled.ID, out, err)
			}
		}()
		go func() {
			defer wg.Done()
			<-start
			if _, _, err := s.Refund(ctx, p.open.ID, admin, p.open.PriceMinor/2, "half", uuid.NewString()); err != nil && market.ErrorCode(err) != market.CodeUnavailable {
				t.Errorf("refund of %s: %v", p.open.ID, err)
			}
		}()
	}
	time.Sleep(10 * time.Millisecond)
	close(start)
	wg.Wait()
	if sum := f.ledgerSum(t); sum != 0 {
		t.Fatalf("the ledger sums to %d", sum)
	}
}
