package main

import (
	"errors"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/payments/stripetest"
)

// TestAdminPaysBackARefundOwed takes an order down the path that leaves money in
// platform:refunds_owed (cancelled before it was paid, then paid, charged back and the
// chargeback won: Stripe refuses the refund) and has an admin pay it back outside the
// provider through market.RefundsOwed: never more than the order's share, replays
// under a key record nothing more, admins racing on one order cannot pay it twice,
// and the buyer hears of each payment. The ledger invariants hold throughout.
func TestAdminPaysBackARefundOwed(t *testing.T) {
	w := newMoneyWorld(t, 17)
	w.quiesce()
	owed := market.NewRefundsOwed(w.db, nil, nil)
	ord := w.cancelledBeforePayment(0)
	buyer := ord.BuyerID
	intent := ord.Payment.PaymentIntentID
	w.must(w.fake.Succeed(intent))
	pi, _ := w.fake.Intent(intent)
	dp, err := w.fake.Dispute(intent, pi.Amount)
	w.must(err)
	w.must(w.fake.CloseDispute(dp, true))
	events := w.fake.TakeEvents()
	for _, typ := range []string{market.StripePaymentSucceeded, "charge.dispute.created", "charge.dispute.closed"} {
		w.must(w.deliver(eventOfType(t, events, typ)))
	}
	w.quiesce()
	total := pi.Amount
	if got := w.balance(market.PlatformRefundsOwedAccount, ord.Currency); got != total {
		t.Fatalf("platform:refunds_owed holds %d after the chargeback was won, want the payment, %d", got, total)
	}
	list, err := owed.List(w.ctx, w.admin, nil, market.MaxRefundOwedPage)
	w.must(err)
	if len(list) != 1 || list[0].OrderID != ord.ID || list[0].BuyerID != buyer || list[0].OwedMinor != total || list[0].PaidMinor != 0 {
		t.Fatalf("refunds owed = %+v, want the order's %d owed to %s", list, total, buyer)
	}

	// Only admins; only what is owed; a clear field error otherwise.
	if _, err := owed.List(w.ctx, market.User{ID: buyer}, nil, 10); !errors.Is(err, market.ErrNotFound) {
		t.Errorf("a buyer listing refunds owed: %v, want not found", err)
	}
	if _, _, err := owed.Pay(w.ctx, market.User{ID: buyer}, ord.ID, 1, "bank_transfer", "x", "k"); !errors.Is(err, market.ErrNotFound) {
		t.Errorf("a buyer paying a refund owed: %v, want not found", err)
	}
	for _, c := range []struct {
		amount            int64
		method, ref, want string
	}{
		{total + 1, "bank_transfer", "ref", "amount_minor"},
		{0, "bank_transfer", "ref", "amount_minor"},
		{1, "wire", "ref", "method"},
		{1, "bank_transfer", "  ", "reference"},
	} {
		_, _, err := owed.Pay(w.ctx, w.admin, ord.ID, c.amount, c.method, c.ref, uuid.NewString())
		if market.ErrorCode(err) != market.CodeInvalid || fieldOf(err) != c.want {
			t.Errorf("pay %d by %q with %q: %v, want invalid naming %s", c.amount, c.method, c.ref, err, c.want)
		}
	}
	if _, _, err := owed.Pay(w.ctx, w.admin, uuid.NewString(), 1, "bank_transfer", "ref", "k"); !errors.Is(err, market.ErrNotFound) {
		t.Errorf("paying for an unknown order: %v, want not found", err)
	}
	if got := w.balance(market.PlatformRefundsOwedAccount, ord.Currency); got != total {
		t.Fatalf("refused payments moved money: platform:refunds_owed holds %d, want %d", got, total)
	}

	// A first part, and its retry under the same key.
	part := total / 4
	first, replayed, err := owed.Pay(w.ctx, w.admin, ord.ID, part, "bank_transfer", "TRX-1", "first")
	w.must(err)
	again, replayedAgain, err := owed.Pay(w.ctx, w.admin, ord.ID, part, "bank_transfer", "TRX-1", "first")
	w.must(err)
	if replayed || !replayedAgain || again.ID != first.ID {
		t.Fatalf("the retry under the key answered %+v (replayed %v), want the first record %s replayed", again, replayedAgain, first.ID)
	}
	if _, _, err := owed.Pay(w.ctx, w.admin, ord.ID, part+1, "bank_transfer", "TRX-1", "first"); fieldOf(err) != "Idempotency-Key" {
		t.Errorf("the key again with another amount: %v, want invalid naming Idempotency-Key", err)
	}

	// Admins racing on what is left: never more than is owed.
	var (
		mu   sync.Mutex
		paid = part
		wg   sync.WaitGroup
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := owed.Pay(w.ctx, w.admin, ord.ID, part, "paypal", "race", uuid.NewString())
			switch {
			case err == nil:
				mu.Lock()
				paid += part
				mu.Unlock()
			case market.ErrorCode(err) == market.CodeInvalid || market.ErrorCode(err) == market.CodeConflict:
			default:
				t.Errorf("a racing payment: %v", err)
			}
		}()
	}
	wg.Wait()
	left := total - paid
	if left < 0 || left >= part {
		t.Fatalf("after the race %d of %d was paid: %d left, want 0 ≤ left < %d", paid, total, left, part)
	}
	if got := w.balance(market.PlatformRefundsOwedAccount, ord.Currency); got != left {
		t.Fatalf("platform:refunds_owed holds %d, want %d", got, left)
	}
	if left > 0 {
		_, _, err := owed.Pay(w.ctx, w.admin, ord.ID, left, "cheque", "CHQ-7", uuid.NewString())
		w.must(err)
	}
	if _, _, err := owed.Pay(w.ctx, w.admin, ord.ID, 1, "other", "more", uuid.NewString()); market.ErrorCode(err) != market.CodeConflict {
		t.Errorf("paying an order nothing is owed for: %v, want conflict", err)
	}
	if got := w.balance(market.PlatformRefundsOwedAccount, ord.Currency); got != 0 {
		t.Errorf("platform:refunds_owed holds %d after everything was paid back, want 0", got)
	}
	if got := w.balance(market.OfflineAccount, ord.Currency); got != total {
		t.Errorf("external:offline holds %d, want the %d paid outside the provider", got, total)
	}
	if list, err := owed.List(w.ctx, w.admin, nil, 10); err != nil || len(list) != 0 {
		t.Errorf("refunds owed after paying everything back: %+v, %v; want none", list, err)
	}
	var notices, sum int64
	w.must(w.raw.QueryRowContext(w.ctx, `SELECT count(*), COALESCE(sum((data->>'amount_minor')::bigint), 0) FROM events
		WHERE channel = $1 AND type = 'refund_owed.paid' AND data->>'order_id' = $2`, market.UserChannel(buyer), ord.ID).Scan(&notices, &sum))
	if sum != total {
		t.Errorf("the buyer heard of %d payments summing to %d, want %d", notices, sum, total)
	}
	if err := w.checkInvariants(); err != nil {
		t.Error(err)
	}
}

// fieldOf is the field a domain Error names ("" for any other error).
func fieldOf(err error) string {
	var e *market.Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// eventOfType is the one event of typ among events.
func eventOfType(t *testing.T, events []stripetest.Event, typ string) stripetest.Event {
	t.Helper()
	for _, ev := range events {
		if ev.Type == typ {
			return ev
		}
	}
	t.Fatalf("the fake queued no %s event", typ)
	return stripetest.Event{}
}
