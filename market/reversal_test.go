package market

import (
	"testing"
	"time"
)

// reversalOrder is a paid order of 10000 USD in escrow.
func reversalOrder() Order {
	return Order{ID: "0b4a3f8e-6c7d-4e21-9a55-1f2e3d4c5b6a", SellerID: "1b4a3f8e-6c7d-4e21-9a55-1f2e3d4c5b6a",
		BuyerID: "2b4a3f8e-6c7d-4e21-9a55-1f2e3d4c5b6a", PriceMinor: 10000, TotalMinor: 10000, Currency: "USD", Status: OrderDelivered,
		Payment: &PaymentInfo{Provider: ProviderStripe, PaymentIntentID: "pi_1"}}
}

func chargeback(status string, amount int64) PaymentEvent {
	return PaymentEvent{Provider: ProviderStripe, ID: "evt_" + status, Type: "charge.dispute.x", Currency: "USD",
		Reversal: &ReversalEvent{Kind: ReversalChargeback, Ref: "dp_1", Status: status, AmountMinor: amount}}
}

// sumTo checks a plan's ledger balances and returns each account's movement.
func movements(t *testing.T, p ReversalPlan) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, tx := range []*LedgerTransaction{p.Ledger, p.Release} {
		if tx == nil {
			continue
		}
		if err := tx.Validate(); err != nil {
			t.Fatalf("ledger: %v", err)
		}
		for _, ps := range tx.Postings {
			out[ps.Account] += ps.Amount
		}
	}
	return out
}

// TestRefundWhileAChargebackHoldsTheOrderSettlesItAtTheEnd: a refund at the provider
// that arrives while another chargeback holds an unsettled order takes from the escrow
// but waits; the chargeback's end (won or lost) settles the order by what was taken,
// so no unsettled order is left with part of its escrow.
func TestRefundWhileAChargebackHoldsTheOrderSettlesItAtTheEnd(t *testing.T) {
	ord := reversalOrder()
	refund := PaymentEvent{Provider: ProviderStripe, ID: "evt_refund", Type: "charge.refunded", Currency: "USD",
		Reversal: &ReversalEvent{Kind: ReversalRefund, Ref: "ch_1:3000", Status: ReversalFinal, AmountMinor: 3000}}
	held := decideReversal(refund, ReversalFacts{Order: ord, Escrow: 4000, OtherOpen: true}, 1000)
	if m := movements(t, held); held.Settle != nil || m[EscrowAccount(ord.ID)] != -3000 {
		t.Fatalf("refund while held: %+v %v", held.Settle, m)
	}
	prior := ReversalRecord{ID: "r1", OrderID: ord.ID, Provider: ProviderStripe, Kind: ReversalChargeback, Ref: "dp_1",
		Status: ReversalOpen, AmountMinor: 6000, Currency: "USD", FromEscrow: 6000}
	won := decideReversal(chargeback(ReversalWon, 6000), ReversalFacts{Order: ord, Prior: &prior, Escrow: 1000}, 1000)
	m := movements(t, won)
	if won.Settle == nil || won.Settle.Status != OrderCancelled || won.Settle.Split.Refund != 3000 ||
		m[EscrowAccount(ord.ID)] != 6000-7000 || m[PlatformFeesAccount] != 700 || m[SellerPendingAccount(ord.SellerID)] != 6300 {
		t.Fatalf("won after the refund: %+v %v", won.Settle, m)
	}
	lost := decideReversal(chargeback(ReversalLost, 6000), ReversalFacts{Order: ord, Prior: &prior, Escrow: 1000}, 1000)
	m = movements(t, lost)
	if lost.Settle == nil || lost.Settle.Split.Refund != 9000 || m[EscrowAccount(ord.ID)] != -1000 ||
		m[PlatformFeesAccount] != 100 || m[SellerPendingAccount(ord.SellerID)] != 900 {
		t.Fatalf("lost after the refund: %+v %v", lost.Settle, m)
	}
}

func TestChargebackInEscrowFreezesThenSettles(t *testing.T) {
	ord := reversalOrder()
	open := decideReversal(chargeback(ReversalOpen, 10000), ReversalFacts{Order: ord, Escrow: 10000}, 1000)
	m := movements(t, open)
	if open.Record.FromEscrow != 10000 || m[EscrowAccount(ord.ID)] != -10000 || m["external:stripe"] != 10000 || open.Settle != nil {
		t.Fatalf("open: %+v %v", open.Record, m)
	}
	prior := *open.Record
	prior.ID = "r1"
	won := decideReversal(chargeback(ReversalWon, 10000), ReversalFacts{Order: ord, Prior: &prior}, 1000)
	if m := movements(t, won); m[EscrowAccount(ord.ID)] != 10000 || won.Record.Status != ReversalWon || won.Settle != nil {
		t.Fatalf("won: %+v %v", won.Record, m)
	}
	lost := decideReversal(chargeback(ReversalLost, 10000), ReversalFacts{Order: ord, Prior: &prior}, 1000)
	if lost.Settle == nil || lost.Settle.Status != OrderCancelled || lost.Settle.Split.Refund != 10000 || lost.Ledger != nil {
		t.Fatalf("lost: %+v", lost)
	}
	partial := prior
	partial.AmountMinor, partial.FromEscrow = 4000, 4000
	lost = decideReversal(chargeback(ReversalLost, 4000), ReversalFacts{Order: ord, Prior: &partial, Escrow: 6000}, 1000)
	m = movements(t, lost)
	if lost.Settle == nil || m[EscrowAccount(ord.ID)] != -6000 || m[PlatformFeesAccount] != 600 || m[SellerPendingAccount(ord.SellerID)] != 5400 {
		t.Fatalf("partial lost: %+v %v", lost.Settle, m)
	}
	again := decideReversal(chargeback(ReversalLost, 10000), ReversalFacts{Order: ord, Prior: lost.Record}, 1000)
	if again.Outcome != OutcomeIgnored {
		t.Fatalf("a closed chargeback closed again: %s", again.Outcome)
	}
}

func TestChargebackAfterPayoutTakesPendingAvailableThenDebt(t *testing.T) {
	ord := reversalOrder()
	now := time.Now()
	ord.Status, ord.SettledAt, ord.FeeMinor, ord.SellerMinor = OrderCompleted, &now, 1000, 9000
	f := ReversalFacts{Order: ord, Pending: 2000, Available: 5000, Reserved: 1000, Debt: -50}
	p := decideReversal(chargeback(ReversalOpen, 10000), f, 1000)
	m := movements(t, p)
	want := map[string]int64{"external:stripe": 10000, SellerPendingAccount(ord.SellerID): -2000,
		SellerAvailableAccount(ord.SellerID): -4000, SellerDebtAccount(ord.SellerID): -3000, PlatformLossesAccount: -1000}
	for a, v := range want {
		if m[a] != v {
			t.Fatalf("%s moved %d, want %d (all: %v)", a, m[a], v, m)
		}
	}
	prior := *p.Record
	prior.ID = "r1"
	f.Debt = -3050
	won := decideReversal(chargeback(ReversalWon, 10000), ReversalFacts{Order: ord, Prior: &prior, Debt: -3050}, 1000)
	m = movements(t, won)
	if m[SellerDebtAccount(ord.SellerID)] != 3050 || m[SellerAvailableAccount(ord.SellerID)] != 5950 || m[PlatformLossesAccount] != 1000 {
		t.Fatalf("won: %v", m)
	}
}

func TestProviderRefunds(t *testing.T) {
	ord := reversalOrder()
	refund := func(amount int64) PaymentEvent {
		return PaymentEvent{Provider: ProviderStripe, ID: "evt", Currency: "USD",
			Reversal: &ReversalEvent{Kind: ReversalRefund, Ref: "ch_1:x", Status: ReversalFinal, AmountMinor: amount, Cumulative: true}}
	}
	p := decideReversal(refund(3000), ReversalFacts{Order: ord, Escrow: 10000}, 1000)
	if p.Settle == nil || p.Settle.Split != SplitEscrow(10000, 3000, 1000) || movements(t, p)["external:stripe"] != 3000 {
		t.Fatalf("dashboard refund in escrow: %+v", p)
	}
	if p := decideReversal(refund(3000), ReversalFacts{Order: ord, Refunded: 3000}, 1000); p.Outcome != OutcomeIgnored {
		t.Fatalf("our own refund's event: %s", p.Outcome)
	}
	if p := decideReversal(refund(20000), ReversalFacts{Order: ord, Escrow: 10000}, 1000); p.Outcome != OutcomeMismatch {
		t.Fatalf("more than was paid: %s", p.Outcome)
	}
}

func TestClearingRepaysDebtFirst(t *testing.T) {
	for _, c := range []struct{ earned, pending, debt, toDebt, toAvailable int64 }{
		{1000, 1000, 0, 0, 1000},
		{1000, 1000, -300, 300, 700},
		{1000, 400, -300, 300, 100},
		{1000, 0, -300, 0, 0},
		{1000, 5000, -3000, 1000, 0},
	} {
		d, a := ClearingSplit(c.earned, c.pending, c.debt)
		if d != c.toDebt || a != c.toAvailable {
			t.Errorf("ClearingSplit(%d, %d, %d) = %d, %d; want %d, %d", c.earned, c.pending, c.debt, d, a, c.toDebt, c.toAvailable)
		}
	}
	if ClearEarningsOf("o", "s", 0, 0, "USD") != nil {
		t.Error("a clearing of nothing posts")
	}
}
