package market

import "testing"

func TestDecidePayment(t *testing.T) {
	ord := Order{ID: testOrder, PriceMinor: 4500, TotalMinor: 4500, Currency: "USD", Status: OrderPlaced}
	pay := &PaymentInfo{Provider: "stripe", PaymentIntentID: "pi_1"}
	ok := PaymentEvent{Provider: "stripe", ID: "evt_1", Type: StripePaymentSucceeded, PaymentIntentID: "pi_1", AmountMinor: 4500, Currency: "USD", OrderID: testOrder}
	d := decidePayment(ok, ord, pay)
	if d.Outcome != OutcomeApplied || d.Status != OrderPaid || d.Ledger == nil || d.EventType != "order.paid" {
		t.Fatalf("succeeded on a placed order: %+v", d)
	}
	if err := d.Ledger.Validate(); err != nil {
		t.Fatalf("funding does not balance: %v", err)
	}
	with := func(f func(*PaymentEvent)) PaymentEvent { e := ok; f(&e); return e }
	paid := ord
	paid.Status = OrderPaid
	cases := []struct {
		name string
		ev   PaymentEvent
		ord  Order
		pay  *PaymentInfo
		want string
	}{
		{"unknown order", ok, Order{}, nil, OutcomeUnknownOrder},
		{"no payment recorded", ok, ord, nil, OutcomeMismatch},
		{"other intent", with(func(e *PaymentEvent) { e.PaymentIntentID = "pi_2" }), ord, pay, OutcomeMismatch},
		{"amount", with(func(e *PaymentEvent) { e.AmountMinor = 4499 }), ord, pay, OutcomeMismatch},
		{"currency", with(func(e *PaymentEvent) { e.Currency = "EUR" }), ord, pay, OutcomeMismatch},
		{"other provider", with(func(e *PaymentEvent) { e.Provider = ProviderPayPal }), ord, pay, OutcomeMismatch},
		{"paid already", ok, paid, pay, OutcomeIgnored},
		{"failed", with(func(e *PaymentEvent) { e.Type = StripePaymentFailed }), ord, pay, OutcomeFailed},
		{"failed after paid", with(func(e *PaymentEvent) { e.Type = StripePaymentFailed }), paid, pay, OutcomeIgnored},
	}
	for _, c := range cases {
		d := decidePayment(c.ev, c.ord, c.pay)
		if d.Outcome != c.want {
			t.Errorf("%s: outcome %s, want %s", c.name, d.Outcome, c.want)
		}
		if c.want != OutcomeApplied && (d.Ledger != nil || d.Status != "") {
			t.Errorf("%s: moves money or status: %+v", c.name, d)
		}
	}
}

// TestDecidePaymentAfterItsOwnChargeback is EarlyReversalRule: a payment of a placed
// order whose chargeback took from platform:losses repays it from the escrow, up to
// the price.
func TestDecidePaymentAfterItsOwnChargeback(t *testing.T) {
	ord := Order{ID: testOrder, PriceMinor: 4000, ServiceFeeMinor: 300, TaxMinor: 200, TotalMinor: 4500, TaxCountry: "DE",
		Currency: "USD", Status: OrderPlaced}
	ev := PaymentEvent{Provider: "stripe", ID: "evt_1", Type: StripePaymentSucceeded, PaymentIntentID: "pi_1", AmountMinor: 4500,
		Currency: "USD", OrderID: testOrder}
	for _, c := range []struct {
		taken, repay int64
	}{{0, 0}, {1000, 1000}, {4000, 4000}, {4500, 4000}} {
		pay := &PaymentInfo{Provider: "stripe", PaymentIntentID: "pi_1", Reversed: PaymentReversed{FromPlatform: c.taken}}
		d := decidePayment(ev, ord, pay)
		if d.Outcome != OutcomeApplied || d.Status != OrderPaid || d.Ledger == nil || d.RepayLosses != c.repay {
			t.Fatalf("taken %d: %+v, want paid repaying %d", c.taken, d, c.repay)
		}
		if err := d.Ledger.Validate(); err != nil {
			t.Fatalf("taken %d: %v", c.taken, err)
		}
		got := map[string]int64{}
		for _, p := range d.Ledger.Postings {
			got[p.Account] += p.Amount
		}
		if got[EscrowAccount(testOrder)] != 4000-c.repay || got[PlatformLossesAccount] != c.repay || got[ExternalStripeAccount] != -4500 ||
			got[ServiceFeesAccount] != 300 || got[TaxPayableAccount("DE")] != 200 {
			t.Errorf("taken %d: postings %v", c.taken, got)
		}
	}
}
