package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gigstream/hub/market"
)

// fakeMoney is a MoneyGateway that counts its calls and fails when told to.
type fakeMoney struct {
	refunds, payouts atomic.Int32
	fail, silent     atomic.Bool
}

func (g *fakeMoney) Refund(context.Context, market.RefundRequest) (string, error) {
	g.refunds.Add(1)
	if g.fail.Load() {
		return "", errors.New("provider down")
	}
	return "re_1", nil
}

// Payout refuses (market.ErrPayoutRefused) when told to fail, and does not answer at
// all when told to be silent.
func (g *fakeMoney) Payout(_ context.Context, in market.PayoutRequest) (market.PayoutResult, error) {
	g.payouts.Add(1)
	switch {
	case g.fail.Load():
		return market.PayoutResult{}, fmt.Errorf("%w: provider says no", market.ErrPayoutRefused)
	case g.silent.Load():
		return market.PayoutResult{}, errors.New("provider timed out")
	}
	return market.PayoutResult{TransferRef: "tr_" + in.WithdrawalID, PayoutRef: "po_" + in.WithdrawalID}, nil
}

// payoutMethod gives the fixture's seller a Stripe connected account that can receive
// payouts, chosen long enough ago for no lock to apply.
func (f orderFixture) payoutMethod(t *testing.T) {
	t.Helper()
	_, err := f.raw.Exec(`INSERT INTO payout_methods (user_id, method, stripe_account_id, stripe_payouts_enabled, changed_at)
		VALUES ($1::uuid, 'stripe', 'acct_' || replace($1::text, '-', ''), true, now() - interval '30 days')`, f.seller)
	must(t, err)
}

// deliveredOrder is a paid order the seller delivered at deliveredAt.
func (f orderFixture) deliveredOrder(t *testing.T, deliveredAt time.Time) market.Order {
	t.Helper()
	o := f.paidOrder(t)
	_, err := f.raw.Exec(`UPDATE orders SET status = 'delivered', delivered_at = $2 WHERE id = $1`, o.ID, deliveredAt)
	must(t, err)
	return o
}

func (f orderFixture) settlement(g market.MoneyGateway, cfg market.SettlementConfig) *market.Settlement {
	return market.NewSettlement(f.db, g, nil, cfg, nil)
}

// ledgerSum is the sum of every posting in the currency: zero in a double-entry ledger.
func (f orderFixture) ledgerSum(t *testing.T) int64 {
	t.Helper()
	var sum int64
	must(t, f.raw.QueryRow(`SELECT COALESCE(sum(amount_minor), 0) FROM ledger_postings WHERE currency = $1`, f.currency).Scan(&sum))
	return sum
}

func (f orderFixture) balance(t *testing.T, account string) int64 {
	t.Helper()
	b, err := f.db.Balance(context.Background(), account, f.currency)
	must(t, err)
	return b
}

func TestAcceptReleasesEscrowOnceAndClears(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	s := f.settlement(&fakeMoney{}, market.SettlementConfig{ClearingPeriod: time.Hour})
	o := f.deliveredOrder(t, time.Now())
	if _, _, err := s.Accept(ctx, o.ID, f.seller, "k1"); market.ErrorCode(err) != market.CodeForbidden {
		t.Fatalf("the seller accepts: %v", err)
	}
	got, replayed, err := s.Accept(ctx, o.ID, f.buyer, "k1")
	if err != nil || replayed || got.Status != market.OrderCompleted || got.FeeMinor != 100 || got.SellerMinor != 900 {
		t.Fatalf("accept: %+v %v %v", got, replayed, err)
	}
	if _, replayed, err := s.Accept(ctx, o.ID, f.buyer, "k1"); err != nil || !replayed {
		t.Fatalf("retry: %v %v", replayed, err)
	}
	if _, _, err := s.Accept(ctx, o.ID, f.buyer, "k2"); market.ErrorCode(err) != market.CodeConflict {
		t.Fatalf("accept again under another key: %v", err)
	}
	assertEscrow(t, f, o.ID, 0, 2)
	if p, fees := f.balance(t, market.SellerPendingAccount(f.seller)), f.balance(t, market.PlatformFeesAccount); p != 900 || fees != 100 || f.ledgerSum(t) != 0 {
		t.Fatalf("pending %d fees %d sum %d", p, fees, f.ledgerSum(t))
	}
	if n, err := s.ClearEarnings(ctx, 10); err != nil || n != 0 {
		t.Fatalf("cleared %d before the period: %v", n, err)
	}
	now := market.NewSettlement(f.db, &fakeMoney{}, nil, market.SettlementConfig{ClearingPeriod: time.Nanosecond}, nil)
	time.Sleep(time.Millisecond)
	var wg sync.WaitGroup
	var cleared atomic.Int32
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := now.ClearEarnings(ctx, 10)
			if err != nil {
				t.Error(err)
			}
			cleared.Add(int32(n))
		}()
	}
	wg.Wait()
	if cleared.Load() != 1 || f.balance(t, market.SellerAvailableAccount(f.seller)) != 900 || f.balance(t, market.SellerPendingAccount(f.seller)) != 0 {
		t.Fatalf("cleared %d times; available %d", cleared.Load(), f.balance(t, market.SellerAvailableAccount(f.seller)))
	}
}

func TestAutoCompleteOnlyWhatIsDueOnce(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	s := f.settlement(&fakeMoney{}, market.SettlementConfig{AutoCompleteAfter: time.Hour})
	due := f.deliveredOrder(t, time.Now().Add(-2*time.Hour))
	fresh := f.deliveredOrder(t, time.Now())
	var wg sync.WaitGroup
	var done atomic.Int32
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := s.AutoComplete(ctx, 10)
			if err != nil {
				t.Error(err)
			}
			done.Add(int32(n))
		}()
	}
	wg.Wait()
	a, _ := f.db.Order(ctx, due.ID, f.buyer)
	b, _ := f.db.Order(ctx, fresh.ID, f.buyer)
	if done.Load() != 1 || a.Status != market.OrderCompleted || b.Status != market.OrderDelivered {
		t.Fatalf("completed %d: due %s, fresh %s", done.Load(), a.Status, b.Status)
	}
	assertEscrow(t, f, due.ID, 0, 2)
}

func TestRefundsAndCancelsMoveTheEscrowOnce(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	g := &fakeMoney{}
	s := f.settlement(g, market.SettlementConfig{})
	admin := market.User{ID: f.buyer, IsAdmin: false}

	placed := f.place(t, newUUID(t)).Order
	if _, _, err := s.Cancel(ctx, placed.ID, f.buyer, "c1"); err != nil {
		t.Fatalf("buyer cancels a placed order: %v", err)
	}
	paid := f.paidOrder(t)
	if _, _, err := s.Cancel(ctx, paid.ID, f.buyer, "c2"); market.ErrorCode(err) != market.CodeForbidden {
		t.Fatalf("buyer cancels a paid order: %v", err)
	}
	if _, _, err := s.Refund(ctx, paid.ID, admin, 100, "why", "r0"); market.ErrorCode(err) != market.CodeForbidden {
		t.Fatalf("a non-admin party refunds: %v", err)
	}
	g.fail.Store(true)
	if _, _, err := s.Cancel(ctx, paid.ID, f.seller, "c3"); market.ErrorCode(err) != market.CodeUnavailable {
		t.Fatalf("cancel with the provider down: %v", err)
	}
	assertEscrow(t, f, paid.ID, f.price, 1)
	g.fail.Store(false)
	got, _, err := s.Cancel(ctx, paid.ID, f.seller, "c3")
	if err != nil || got.Status != market.OrderCancelled || got.RefundedMinor != f.price {
		t.Fatalf("seller cancels: %+v %v", got, err)
	}
	assertEscrow(t, f, paid.ID, 0, 2)

	admin = market.User{ID: newAdmin(t, f), IsAdmin: true}
	disputed := f.paidOrder(t)
	if _, _, err := s.Refund(ctx, disputed.ID, admin, f.price+1, "why", "r1"); market.ErrorCode(err) != market.CodeInvalid {
		t.Fatalf("refund above the price: %v", err)
	}
	got, _, err = s.Refund(ctx, disputed.ID, admin, 300, "late delivery", "r1")
	if err != nil || got.RefundedMinor != 300 || got.FeeMinor != 70 || got.SellerMinor != 630 || got.Status != market.OrderCancelled {
		t.Fatalf("partial refund: %+v %v", got, err)
	}
	if _, _, err := s.Refund(ctx, disputed.ID, admin, 301, "late delivery", "r1"); market.ErrorCode(err) != market.CodeInvalid {
		t.Fatalf("the key reused for another amount: %v", err)
	}
	assertEscrow(t, f, disputed.ID, 0, 2)
	if f.ledgerSum(t) != 0 || g.refunds.Load() != 3 {
		t.Fatalf("sum %d, %d provider refunds", f.ledgerSum(t), g.refunds.Load())
	}
}

func newAdmin(t *testing.T, f orderFixture) string {
	t.Helper()
	u, err := f.db.CreateUser(context.Background(), market.NewUser{Email: "admin@x.test", Username: "the_admin", DisplayName: "Admin"})
	must(t, err)
	_, err = f.raw.Exec(`UPDATE users SET is_admin = true WHERE id = $1`, u.ID)
	must(t, err)
	return u.ID
}

func TestWithdrawalsNeverOverdrawAndFailuresMoveNothing(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	g := &fakeMoney{}
	s := f.settlement(g, market.SettlementConfig{ClearingPeriod: time.Nanosecond})
	o := f.deliveredOrder(t, time.Now())
	_, _, err := s.Accept(ctx, o.ID, f.buyer, "a")
	must(t, err)
	time.Sleep(time.Millisecond)
	_, err = s.ClearEarnings(ctx, 10)
	must(t, err) // 900 available

	_, _, err = s.Withdraw(ctx, market.NewWithdrawal{UserID: f.seller, AmountMinor: 900, Currency: "USD", IdempotencyKey: "none"})
	if e := (*market.Error)(nil); !errors.As(err, &e) || e.Rule != "payout_method" {
		t.Fatalf("a withdrawal without a payout method: %v", err)
	}
	f.payoutMethod(t)
	g.fail.Store(true)
	w, _, err := s.Withdraw(ctx, market.NewWithdrawal{UserID: f.seller, AmountMinor: 900, Currency: "USD", IdempotencyKey: "w0"})
	if market.ErrorCode(err) != market.CodeUnavailable || w.Status != market.WithdrawalFailed {
		t.Fatalf("a failed payout: %+v %v", w, err)
	}
	if f.balance(t, market.SellerAvailableAccount(f.seller)) != 900 {
		t.Fatal("a failed payout moved money")
	}
	g.fail.Store(false)
	var wg sync.WaitGroup
	var ok, refused atomic.Int32
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := s.Withdraw(ctx, market.NewWithdrawal{UserID: f.seller, AmountMinor: 100, Currency: "USD", IdempotencyKey: "w" + string(rune('a'+i))})
			switch {
			case err == nil:
				ok.Add(1)
			case market.ErrorCode(err) == market.CodeConflict:
				refused.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 9 || refused.Load() != 11 || f.balance(t, market.SellerAvailableAccount(f.seller)) != 0 || f.ledgerSum(t) != 0 {
		t.Fatalf("%d paid, %d refused, available %d", ok.Load(), refused.Load(), f.balance(t, market.SellerAvailableAccount(f.seller)))
	}
	bal, err := s.Balances(ctx, f.seller)
	if err != nil || len(bal) != 1 || bal[0].Withdrawn != 0 || bal[0].Withdrawing != 900 || bal[0].Available != 0 || bal[0].Pending != 0 {
		t.Fatalf("balances in transit %+v %v", bal, err)
	}
	list, err := s.Withdrawals(ctx, f.seller, nil, 50)
	if err != nil || len(list) != 10 {
		t.Fatalf("%d withdrawals listed, %v", len(list), err)
	}
}

// TestSettlementEventsCarryTheStoredOrder checks the one statement that stores a
// settlement with its order events: the events' order is the row as stored (the
// status, split and timestamps the update wrote), their seqs follow the channel's, in
// the decision's order, and the refund part is there when money went back.
func TestSettlementEventsCarryTheStoredOrder(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	s := f.settlement(&fakeMoney{}, market.SettlementConfig{})
	accepted := f.deliveredOrder(t, time.Now())
	cancelled := f.paidOrder(t)
	for _, c := range []struct {
		id    string
		run   func() (market.Order, bool, error)
		types []string
	}{
		{accepted.ID, func() (market.Order, bool, error) { return s.Accept(ctx, accepted.ID, f.buyer, "e1") }, []string{"order.completed"}},
		{cancelled.ID, func() (market.Order, bool, error) { return s.Cancel(ctx, cancelled.ID, f.seller, "e2") },
			[]string{"order.cancelled", "order.refunded"}},
	} {
		var before int64
		must(t, f.raw.QueryRow(`SELECT COALESCE(max(seq), 0) FROM events WHERE channel = $1`, market.OrderChannel(c.id)).Scan(&before))
		got, _, err := c.run()
		if err != nil {
			t.Fatalf("settle %s: %v", c.id, err)
		}
		if c.id == accepted.ID && got.Payment == nil {
			t.Errorf("%s: the buyer's settled order has no payment", c.id)
		}
		got.Payment = nil
		want, err := json.Marshal(got)
		must(t, err)
		rows, err := f.raw.Query(`SELECT seq, type, data->'order', data->'refund' FROM events WHERE channel = $1 AND seq > $2 ORDER BY seq`,
			market.OrderChannel(c.id), before)
		must(t, err)
		var types []string
		for rows.Next() {
			var seq int64
			var typ string
			var ord, refund []byte
			must(t, rows.Scan(&seq, &typ, &ord, &refund))
			if seq != before+int64(len(types))+1 {
				t.Errorf("%s: event %s has seq %d after %d", c.id, typ, seq, before+int64(len(types)))
			}
			types = append(types, typ)
			var a, b any
			must(t, json.Unmarshal(ord, &a))
			must(t, json.Unmarshal(want, &b))
			if !reflect.DeepEqual(a, b) {
				t.Errorf("%s: %s carries\n%s\nthe stored order is\n%s", c.id, typ, ord, want)
			}
			if (string(refund) == "null" || refund == nil) == (got.RefundedMinor > 0) {
				t.Errorf("%s: %s refund %s, refunded %d", c.id, typ, refund, got.RefundedMinor)
			}
		}
		must(t, rows.Err())
		if !slices.Equal(types, c.types) {
			t.Errorf("%s: events %v, want %v", c.id, types, c.types)
		}
	}
}
