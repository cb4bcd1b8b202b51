package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gigstream/hub/market"
)

// fixedWebhook is a PaymentGateway whose every webhook verifies as ev.
type fixedWebhook struct{ ev market.PaymentEvent }

func (g fixedWebhook) CreatePayment(context.Context, market.PaymentRequest) (market.PaymentInfo, error) {
	return market.PaymentInfo{}, nil
}

func (g fixedWebhook) VerifyWebhook([]byte, string) (market.PaymentEvent, error) { return g.ev, nil }

func (f orderFixture) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	must(t, f.raw.QueryRow(query, args...).Scan(&n))
	return n
}

func TestPaymentAfterCancellationIsRecordedAndRefundedOnce(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	g := &fakeMoney{}
	s := f.settlement(g, market.SettlementConfig{})
	o := f.place(t, "k").Order
	_, err := f.db.RecordPayment(ctx, o.ID, market.PaymentInfo{Provider: "stripe", PaymentIntentID: "pi_late", ClientSecret: "s", AmountMinor: o.PriceMinor, Currency: o.Currency})
	must(t, err)
	if _, _, err := s.Cancel(ctx, o.ID, f.buyer, "cancel"); err != nil {
		t.Fatal(err)
	}
	ev := market.PaymentEvent{Provider: "stripe", ID: "evt_late", Type: market.StripePaymentSucceeded, PaymentIntentID: "pi_late",
		AmountMinor: o.PriceMinor, Currency: o.Currency, OrderID: o.ID}
	orders := market.NewOrders(f.db, fixedWebhook{ev}, nil, market.OrdersConfig{LateRefunds: s}, nil)

	// The provider is down: the payment is recorded once, the escrow stays funded.
	g.fail.Store(true)
	var due atomic.Int32
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := orders.ApplyStripeWebhook(ctx, nil, "")
			if err != nil {
				t.Error(err)
			}
			if out.Outcome == market.OutcomeRefundDue {
				due.Add(1)
			}
		}()
	}
	wg.Wait()
	if due.Load() != 1 || g.refunds.Load() != 1 {
		t.Fatalf("%d applications, %d refund calls; want 1 and 1", due.Load(), g.refunds.Load())
	}
	assertEscrow(t, f, o.ID, o.PriceMinor, 1)
	if f.ledgerSum(t) != 0 {
		t.Fatal("ledger does not sum to 0")
	}
	// Another event about the same payment changes nothing.
	ev.ID = "evt_late_2"
	if out, err := market.NewOrders(f.db, fixedWebhook{ev}, nil, market.OrdersConfig{}, nil).ApplyStripeWebhook(ctx, nil, ""); err != nil || out.Outcome != market.OutcomeIgnored {
		t.Fatalf("second event: %+v %v", out, err)
	}

	// The provider is back: two concurrent sweeps refund once.
	g.fail.Store(false)
	var refunded atomic.Int32
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := s.RefundCancelledPayments(ctx, 10)
			if err != nil {
				t.Error(err)
			}
			refunded.Add(int32(n))
		}()
	}
	wg.Wait()
	if g.refunds.Load() != 2 {
		t.Fatalf("%d refund calls, want 2 (one failed, one made)", g.refunds.Load())
	}
	assertEscrow(t, f, o.ID, 0, 2)
	if f.ledgerSum(t) != 0 || f.balance(t, market.ExternalStripeAccount) != 0 {
		t.Fatal("the refund does not balance the payment")
	}
	if n := f.count(t, `SELECT count(*) FROM refunds WHERE order_id = $1 AND amount_minor = $2`, o.ID, o.PriceMinor); n != 1 {
		t.Fatalf("%d refund rows", n)
	}
	if n := f.count(t, `SELECT count(*) FROM events WHERE channel = $1 AND type = 'order.refunded'`, market.OrderChannel(o.ID)); n != 1 {
		t.Fatalf("%d order.refunded events", n)
	}
	got, err := f.db.Order(ctx, o.ID, f.buyer)
	must(t, err)
	if got.Status != market.OrderCancelled || got.PaidAt != nil || got.Payment.Status != "succeeded" || got.RefundedMinor != o.PriceMinor {
		t.Fatalf("after the refund: %+v %+v", got, got.Payment)
	}
	if n, err := s.RefundCancelledPayments(ctx, 10); err != nil || n != 0 {
		t.Fatalf("a later sweep refunded %d, %v", n, err)
	}
	if g.refunds.Load() != 2 {
		t.Fatal("a later sweep called the provider")
	}
}

func TestSweepFinishesStalePendingWithdrawalsOnce(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	g := &fakeMoney{}
	s := f.settlement(g, market.SettlementConfig{ClearingPeriod: time.Nanosecond, WithdrawalRetryAfter: 5 * time.Minute})
	o := f.deliveredOrder(t, time.Now())
	_, _, err := s.Accept(ctx, o.ID, f.buyer, "a")
	must(t, err)
	time.Sleep(time.Millisecond)
	_, err = s.ClearEarnings(ctx, 10)
	must(t, err) // 900 available
	f.payoutMethod(t)
	plan := func(f market.WithdrawalFacts) (market.WithdrawalPlan, error) {
		return market.WithdrawalRules{}.PlanWithdrawal(f, 1, "USD")
	}
	reserve := func(key string, amount int64, age time.Duration) market.Withdrawal {
		w, created, err := f.db.ReserveWithdrawal(ctx, market.NewWithdrawal{UserID: f.seller, AmountMinor: amount, Currency: "USD", IdempotencyKey: key, RequestHash: "h"}, plan)
		if err != nil || !created {
			t.Fatalf("reserve %s: %v %v", key, created, err)
		}
		_, err = f.raw.Exec(`UPDATE withdrawals SET created_at = now() - make_interval(secs => $2) WHERE id = $1`, w.ID, age.Seconds())
		must(t, err)
		return w
	}
	stale := reserve("stale", 500, 10*time.Minute)
	fresh := reserve("fresh", 100, time.Minute)

	var wg sync.WaitGroup
	var finished atomic.Int32
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := s.RetryPendingWithdrawals(ctx, 10)
			if err != nil {
				t.Error(err)
			}
			finished.Add(int32(n))
		}()
	}
	wg.Wait()
	if finished.Load() != 1 {
		t.Fatalf("%d withdrawals finished, want 1", finished.Load())
	}
	if n := f.count(t, `SELECT count(*) FROM ledger_transactions WHERE reference = $1`, "withdrawal:"+stale.ID); n != 1 {
		t.Fatalf("%d payout transactions", n)
	}
	if f.balance(t, market.SellerAvailableAccount(f.seller)) != 400 || f.ledgerSum(t) != 0 {
		t.Fatalf("available %d after paying out 500 of 900", f.balance(t, market.SellerAvailableAccount(f.seller)))
	}
	list, err := s.Withdrawals(ctx, f.seller, nil, 10)
	must(t, err)
	status := map[string]string{}
	for _, w := range list {
		status[w.ID] = w.Status
	}
	if status[stale.ID] != market.WithdrawalInTransit || status[fresh.ID] != market.WithdrawalPending {
		t.Fatalf("statuses %v", status)
	}

	// A refusal marks a stale withdrawal failed and releases its reservation.
	refused := reserve("refused", 200, 10*time.Minute)
	g.fail.Store(true)
	if n, err := s.RetryPendingWithdrawals(ctx, 10); err != nil || n != 1 {
		t.Fatalf("refused sweep: %d %v", n, err)
	}
	bal, err := s.Balances(ctx, f.seller)
	if err != nil || len(bal) != 1 || bal[0].Available != 300 || bal[0].Withdrawing != 600 || bal[0].Withdrawn != 0 {
		t.Fatalf("balances after a refusal %+v %v", bal, err)
	}
	list, err = s.Withdrawals(ctx, f.seller, nil, 10)
	must(t, err)
	for _, w := range list {
		if w.ID == refused.ID && w.Status != market.WithdrawalFailed {
			t.Fatalf("refused withdrawal is %s", w.Status)
		}
	}
}
