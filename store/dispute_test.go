package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gigstream/hub/market"
)

func TestDisputeOpensAnswersWithdrawsAndReopens(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	d := market.NewDisputes(f.db, nil, nil)
	s := f.settlement(&fakeMoney{}, market.SettlementConfig{AutoCompleteAfter: time.Minute})
	delivered := time.Now().Add(-2 * time.Minute)
	o := f.deliveredOrder(t, delivered)
	out, err := d.Open(ctx, o.ID, f.buyer, "the logo is not what we agreed", "open-1")
	if err != nil || out.Replayed || out.Order.Status != market.OrderDisputed || out.Dispute.PriorStatus != market.OrderDelivered || len(out.Events) != 1 {
		t.Fatalf("open: %+v %v", out, err)
	}
	if again, err := d.Open(ctx, o.ID, f.buyer, "the logo is not what we agreed", "open-1"); err != nil || !again.Replayed || again.Dispute.ID != out.Dispute.ID {
		t.Fatalf("retry open: %+v %v", again, err)
	}
	if _, err := d.Open(ctx, o.ID, newUUID(t), "a stranger's complaint", "open-2"); market.ErrorCode(err) != market.CodeNotFound {
		t.Fatalf("a stranger opens: %v", err)
	}
	if n, err := s.AutoComplete(ctx, 10); err != nil || n != 0 {
		t.Fatalf("auto-complete of a disputed order: %d %v", n, err)
	}
	if _, _, err := s.Accept(ctx, o.ID, f.buyer, "acc-1"); market.ErrorCode(err) != market.CodeConflict {
		t.Fatalf("accept a disputed order: %v", err)
	}
	if _, err := d.Answer(ctx, o.ID, f.seller, "we delivered the brief", "ans-1"); err != nil {
		t.Fatalf("answer: %v", err)
	}
	if _, err := d.Answer(ctx, o.ID, f.seller, "one more thing", "ans-2"); market.ErrorCode(err) != market.CodeConflict {
		t.Fatalf("answer twice: %v", err)
	}
	back, err := d.Withdraw(ctx, o.ID, f.buyer, "wd-1")
	if err != nil || back.Order.Status != market.OrderDelivered || back.Dispute.Status != market.DisputeWithdrawn {
		t.Fatalf("withdraw: %+v %v", back, err)
	}
	if !back.Order.DeliveredAt.After(delivered) {
		t.Fatalf("withdrawal kept delivered_at %v; the dispute's time should not count", back.Order.DeliveredAt)
	}
	if _, err := d.Open(ctx, o.ID, f.buyer, "second try, still wrong", "open-3"); err != nil {
		t.Fatalf("reopen after a withdrawal: %v", err)
	}
	got, err := d.Dispute(ctx, o.ID, market.User{ID: f.seller})
	if err != nil || got.Status != market.DisputeOpen || got.Response != nil {
		t.Fatalf("the latest dispute: %+v %v", got, err)
	}
	if _, err := d.Dispute(ctx, o.ID, market.User{ID: newUUID(t)}); market.ErrorCode(err) != market.CodeNotFound {
		t.Fatalf("a stranger reads: %v", err)
	}
}

func TestResolveDisputeSplitsOnceUnderRaces(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	d := market.NewDisputes(f.db, nil, nil)
	money := &fakeMoney{}
	s := f.settlement(money, market.SettlementConfig{})
	o := f.deliveredOrder(t, time.Now())
	if _, err := d.Open(ctx, o.ID, f.buyer, "half of it is missing", "open-1"); err != nil {
		t.Fatal(err)
	}
	admin := market.User{ID: newAdmin(t, f), IsAdmin: true}
	if _, _, err := s.ResolveDispute(ctx, o.ID, market.User{ID: f.buyer}, 0, "mine", "r0"); market.ErrorCode(err) != market.CodeForbidden {
		t.Fatalf("the buyer resolves: %v", err)
	}
	if _, _, err := s.ResolveDispute(ctx, o.ID, admin, f.price+1, "too much", "r0"); market.ErrorCode(err) != market.CodeInvalid {
		t.Fatalf("refund above the price: %v", err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := s.ResolveDispute(ctx, o.ID, admin, 400, "split the difference", "race-"+string(rune('a'+i)))
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				wins++
			} else if market.ErrorCode(err) != market.CodeConflict {
				t.Errorf("a losing resolution: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 || money.refunds.Load() != 1 {
		t.Fatalf("%d resolutions, %d refunds; want one of each", wins, money.refunds.Load())
	}
	// 1000 price, 400 back; the fee is 10 % of the 600 rest.
	if esc, fee, pend := f.balance(t, "escrow:order:"+o.ID), f.balance(t, "platform:fees"), f.balance(t, "seller:"+f.seller+":pending"); esc != 0 || fee != 60 || pend != 540 {
		t.Fatalf("escrow %d, fees %d, seller pending %d", esc, fee, pend)
	}
	if f.ledgerSum(t) != 0 {
		t.Fatal("the ledger does not sum to zero")
	}
	got, err := d.Dispute(ctx, o.ID, admin)
	if err != nil || got.Status != market.DisputeResolved || got.RefundMinor == nil || *got.RefundMinor != 400 {
		t.Fatalf("resolved dispute: %+v %v", got, err)
	}
}
