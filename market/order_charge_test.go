package market

import "testing"

// chargedOrder is an order of 10.00 EUR with a 2.00 service fee and 19 % tax on both
// (1.90 + 0.38), 14.28 paid in all.
func chargedOrder() Order {
	return Order{ID: testOrder, SellerID: settleSeller, PriceMinor: 1000, ServiceFeeMinor: 200, TaxMinor: 228, TotalMinor: 1428,
		TaxRateBPS: 1900, TaxCountry: "DE", Currency: "EUR", Status: OrderPlaced}
}

func ledgerSums(t *testing.T, tx LedgerTransaction) map[string]int64 {
	t.Helper()
	if err := tx.Validate(); err != nil {
		t.Fatalf("%s: %v", tx.Kind, err)
	}
	out := map[string]int64{}
	for _, p := range tx.Postings {
		out[p.Account] += p.Amount
	}
	return out
}

func TestPaymentFundsEscrowWithThePriceAndBooksFeeAndTax(t *testing.T) {
	ord := chargedOrder()
	p := &PaymentInfo{Provider: ProviderStripe, PaymentIntentID: "pi_1"}
	ev := PaymentEvent{Provider: ProviderStripe, Type: StripePaymentSucceeded, PaymentIntentID: "pi_1", AmountMinor: 1000, Currency: "EUR"}
	if d := decidePayment(ev, ord, p); d.Outcome != OutcomeMismatch {
		t.Fatalf("the price alone paid: %s, want mismatch", d.Outcome)
	}
	ev.AmountMinor = 1428
	d := decidePayment(ev, ord, p)
	if d.Outcome != OutcomeApplied || d.Ledger == nil {
		t.Fatalf("total paid: %+v", d)
	}
	got := ledgerSums(t, *d.Ledger)
	want := map[string]int64{"external:stripe": -1428, EscrowAccount(testOrder): 1000, "platform:service_fees": 200, "tax:payable:DE": 228}
	for a, v := range want {
		if got[a] != v {
			t.Errorf("%s: %d, want %d (all: %v)", a, got[a], v, got)
		}
	}
}

func TestRefundShareReturnsFeeAndTaxProRata(t *testing.T) {
	ord := chargedOrder()
	for _, c := range []struct {
		refund, fee, tax int64
	}{
		{0, 0, 0},
		{1000, 200, 228},     // full: everything paid
		{500, 100, 95 + 19},  // half: 5.00 and 1.00 with 19 % on each
		{333, 67, 63 + 13},   // 66.6 → 67; 63.27 → 63, 12.73 → 13
		{1, 0, 0},            // 0.2 rounds down; 0.19 too
		{999, 200, 190 + 38}, // 199.8 → 200; 189.81 → 190
	} {
		fee, tax := RefundShare(ord, c.refund)
		if fee != c.fee || tax != c.tax {
			t.Errorf("RefundShare(%d) = %d, %d; want %d, %d", c.refund, fee, tax, c.fee, c.tax)
		}
		if fee > ord.ServiceFeeMinor || tax > ord.TaxMinor {
			t.Errorf("RefundShare(%d) returns more than was paid", c.refund)
		}
	}
}

func TestRefundReleaseReturnsFeeAndTaxFromTheirAccounts(t *testing.T) {
	ord := chargedOrder()
	split := SplitOrder(ord, 500, 1000)
	if split.BuyerRefund() != 500+100+114 || split.Fee != 50 || split.Seller != 450 {
		t.Fatalf("split %+v", split)
	}
	got := ledgerSums(t, ReleaseEscrow(ord, split))
	want := map[string]int64{"external:stripe": 714, EscrowAccount(testOrder): -1000, "platform:service_fees": -100,
		"tax:payable:DE": -114, PlatformFeesAccount: 50, SellerPendingAccount(settleSeller): 450}
	for a, v := range want {
		if got[a] != v {
			t.Errorf("%s: %d, want %d (all: %v)", a, got[a], v, got)
		}
	}
	full := ledgerSums(t, ReleaseEscrow(ord, SplitOrder(ord, 1000, 1000)))
	if full["external:stripe"] != 1428 || full["platform:service_fees"] != -200 || full["tax:payable:DE"] != -228 {
		t.Errorf("full refund %v", full)
	}
}

func TestStaleQuoteIsAConflict(t *testing.T) {
	o := &Orders{cfg: OrdersConfig{}}
	seen := int64(999)
	price, err := o.pricer(t.Context(), NewOrder{BuyerID: settleBuyer, QuoteTotalMinor: &seen})
	if err != nil {
		t.Fatal(err)
	}
	offer := GigOffer{SellerID: settleSeller, GigStatus: "published", GigTitle: "Logo", PackageTitle: "Basic", PriceMinor: 1000, Currency: "USD"}
	if _, err := price(offer); ErrorCode(err) != CodeConflict {
		t.Fatalf("stale quote: %v, want conflict", err)
	}
	seen = 1000
	q, err := price(offer)
	if err != nil || q.TotalMinor != 1000 {
		t.Fatalf("fresh quote: %+v, %v", q, err)
	}
}
