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
