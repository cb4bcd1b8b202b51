package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gigstream/hub/market"
)

// TestPayoutOutcomesApplyOnceUnderRaces sends many paid and failed outcomes at once
// for withdrawals in transit: each withdrawal ends paid or failed exactly once, its
// transit account ends at zero, a failure puts the amount back in available, and
// every currency's postings still sum to zero.
func TestPayoutOutcomesApplyOnceUnderRaces(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	s := f.settlement(&fakeMoney{}, market.SettlementConfig{ClearingPeriod: time.Nanosecond})
	o := f.deliveredOrder(t, time.Now())
	_, _, err := s.Accept(ctx, o.ID, f.buyer, "a")
	must(t, err)
	time.Sleep(time.Millisecond)
	_, err = s.ClearEarnings(ctx, 10)
	must(t, err) // 900 available
	f.payoutMethod(t)
	var ws []market.Withdrawal
	for i := range 3 {
		w, _, err := s.Withdraw(ctx, market.NewWithdrawal{UserID: f.seller, AmountMinor: 300, Currency: "USD", IdempotencyKey: fmt.Sprint("k", i)})
		if err != nil || w.Status != market.WithdrawalInTransit {
			t.Fatalf("withdraw: %+v %v", w, err)
		}
		ws = append(ws, w)
	}
	if f.balance(t, market.SellerAvailableAccount(f.seller)) != 0 || f.balance(t, market.TransitAccount(ws[0].ID)) != 300 {
		t.Fatal("in transit: the money did not leave available for transit")
	}
	outcome := func(w market.Withdrawal, event string, paid bool) market.PayoutOutcome {
		return market.PayoutOutcome{EventID: event, EventType: "payout.x", Provider: "stripe", WithdrawalID: w.ID,
			AmountMinor: 300, Currency: "USD", Paid: paid, Failure: map[bool]string{false: "account closed"}[paid]}
	}
	var wg sync.WaitGroup
	applied := make(chan string, 100)
	for _, w := range ws {
		for i := range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// w0 gets only paid events (half of them one duplicated id), w1 only
				// failed ones, w2 both at once.
				paid := w.ID == ws[0].ID || (w.ID == ws[2].ID && i%2 == 0)
				id := fmt.Sprintf("evt_%s_%d", w.ID, i)
				if i%3 == 0 {
					id = "evt_same_" + w.ID
				}
				_, out, _, err := f.db.FinishPayout(ctx, outcome(w, id, paid))
				if err != nil {
					t.Error(err)
				}
				if out == market.OutcomeApplied {
					applied <- w.ID
				}
			}()
		}
	}
	wg.Wait()
	close(applied)
	count := map[string]int{}
	for id := range applied {
		count[id]++
	}
	for _, w := range ws {
		if count[w.ID] != 1 {
			t.Fatalf("withdrawal %s finished %d times", w.ID, count[w.ID])
		}
		if f.balance(t, market.TransitAccount(w.ID)) != 0 {
			t.Fatalf("transit of %s not empty", w.ID)
		}
	}
	list, err := s.Withdrawals(ctx, f.seller, nil, 10)
	must(t, err)
	status := map[string]market.Withdrawal{}
	for _, w := range list {
		status[w.ID] = w
	}
	if status[ws[0].ID].Status != market.WithdrawalPaid || status[ws[1].ID].Status != market.WithdrawalFailed ||
		status[ws[1].ID].Failure == nil || *status[ws[1].ID].Failure != "account closed" {
		t.Fatalf("statuses: %+v %+v", status[ws[0].ID], status[ws[1].ID])
	}
	returned := int64(300)
	if status[ws[2].ID].Status == market.WithdrawalFailed {
		returned += 300
	}
	if got := f.balance(t, market.SellerAvailableAccount(f.seller)); got != returned || f.ledgerSum(t) != 0 {
		t.Fatalf("available %d, want %d; sum %d", got, returned, f.ledgerSum(t))
	}
	bal, err := s.Balances(ctx, f.seller)
	if err != nil || bal[0].Available != returned || bal[0].Withdrawing != 0 || bal[0].Withdrawn != 900-returned {
		t.Fatalf("balances %+v %v", bal, err)
	}
}

// TestWithdrawalReviewAndRules: above the threshold a withdrawal waits in review
// (reserved), an admin approves one (paid out) and rejects another (released); the
// daily limit counts what is under way.
func TestWithdrawalReviewAndRules(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	rules := market.WithdrawalRules{MinMinor: 50, DailyLimitMinor: 800, ApprovalAboveMinor: 250}
	s := f.settlement(&fakeMoney{}, market.SettlementConfig{ClearingPeriod: time.Nanosecond, Withdrawals: rules})
	o := f.deliveredOrder(t, time.Now())
	_, _, err := s.Accept(ctx, o.ID, f.buyer, "a")
	must(t, err)
	time.Sleep(time.Millisecond)
	_, err = s.ClearEarnings(ctx, 10)
	must(t, err) // 900 available
	f.payoutMethod(t)
	admin := market.User{ID: newAdmin(t, f), IsAdmin: true}
	ruleOf := func(err error) string {
		if e, ok := err.(*market.Error); ok {
			return e.Rule
		}
		return fmt.Sprint(err)
	}
	if _, _, err := s.Withdraw(ctx, market.NewWithdrawal{UserID: f.seller, AmountMinor: 49, Currency: "USD", IdempotencyKey: "small"}); ruleOf(err) != "withdrawal_minimum" {
		t.Fatalf("below the minimum: %v", err)
	}
	big, _, err := s.Withdraw(ctx, market.NewWithdrawal{UserID: f.seller, AmountMinor: 400, Currency: "USD", IdempotencyKey: "big"})
	if err != nil || big.Status != market.WithdrawalReview {
		t.Fatalf("above the threshold: %+v %v", big, err)
	}
	other, _, err := s.Withdraw(ctx, market.NewWithdrawal{UserID: f.seller, AmountMinor: 300, Currency: "USD", IdempotencyKey: "other"})
	if err != nil || other.Status != market.WithdrawalReview {
		t.Fatalf("second above the threshold: %+v %v", other, err)
	}
	if _, _, err := s.Withdraw(ctx, market.NewWithdrawal{UserID: f.seller, AmountMinor: 250, Currency: "USD", IdempotencyKey: "over"}); ruleOf(err) != "available_balance" {
		t.Fatalf("reserved money withdrawn again: %v", err)
	}
	if _, _, err := s.Withdraw(ctx, market.NewWithdrawal{UserID: f.seller, AmountMinor: 150, Currency: "USD", IdempotencyKey: "daily"}); ruleOf(err) != "daily_limit" {
		t.Fatalf("over the daily limit: %v", err)
	}
	queue, err := s.WithdrawalsInReview(ctx, admin, nil, 10)
	if err != nil || len(queue) != 2 || queue[0].ID != big.ID {
		t.Fatalf("queue %+v %v", queue, err)
	}
	if _, err := s.WithdrawalsInReview(ctx, market.User{ID: f.seller}, nil, 10); market.ErrorCode(err) != market.CodeForbidden {
		t.Fatalf("a seller read the queue: %v", err)
	}
	w, err := s.ApproveWithdrawal(ctx, admin, big.ID)
	if err != nil || w.Status != market.WithdrawalInTransit {
		t.Fatalf("approve: %+v %v", w, err)
	}
	if _, err := s.ApproveWithdrawal(ctx, admin, big.ID); market.ErrorCode(err) != market.CodeConflict {
		t.Fatalf("approved twice: %v", err)
	}
	w, err = s.RejectWithdrawal(ctx, admin, other.ID, "looks like fraud")
	if err != nil || w.Status != market.WithdrawalRejected || w.Failure == nil || *w.Failure != "looks like fraud" {
		t.Fatalf("reject: %+v %v", w, err)
	}
	bal, err := s.Balances(ctx, f.seller)
	if err != nil || bal[0].Available != 500 || bal[0].Withdrawing != 400 || f.ledgerSum(t) != 0 {
		t.Fatalf("balances %+v %v", bal, err)
	}
}
