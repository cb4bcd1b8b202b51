package market

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestPayPalCaptureFundsEscrowFromPayPal(t *testing.T) {
	ord := Order{ID: testOrder, PriceMinor: 4500, TotalMinor: 4500, Currency: "USD", Status: OrderPlaced}
	pay := &PaymentInfo{Provider: ProviderPayPal, PaymentIntentID: "PP1"}
	ev := PaymentEvent{Provider: ProviderPayPal, ID: "capture:CAP1", Type: PayPalCaptureCompleted, PaymentIntentID: "PP1",
		CaptureID: "CAP1", AmountMinor: 4500, Currency: "USD", OrderID: testOrder}
	d := decidePayment(ev, ord, pay)
	if d.Outcome != OutcomeApplied || d.CaptureID != "CAP1" || d.Ledger == nil || d.Ledger.Postings[0].Account != "external:paypal" {
		t.Fatalf("decision = %+v", d)
	}
	if err := d.Ledger.Validate(); err != nil {
		t.Fatal(err)
	}
	stripe := ev
	stripe.Provider = ProviderStripe
	if d := decidePayment(stripe, ord, pay); d.Outcome != OutcomeMismatch {
		t.Fatalf("a Stripe event on a PayPal payment: %s", d.Outcome)
	}
	paid := ord
	paid.Payment = pay
	rel := ReleaseEscrow(paid, Split{Refund: 4500})
	if rel.Postings[1].Account != "external:paypal" {
		t.Fatalf("refund of a PayPal order goes to %s", rel.Postings[1].Account)
	}
}

func TestProviderIsPartOfTheOrderRequest(t *testing.T) {
	o := &Orders{}
	in := NewOrder{GigID: testOrder, Tier: "basic"}
	if err := o.checkProvider(&in); err != nil || in.Provider != ProviderStripe {
		t.Fatalf("default provider = %q, %v", in.Provider, err)
	}
	before := orderRequestHash(NewOrder{GigID: testOrder, Tier: "basic"}) // as hashed before PayPal existed
	if orderRequestHash(in) != before {
		t.Fatal("a Stripe order's request hash changed")
	}
	paypal := in
	paypal.Provider = ProviderPayPal
	if orderRequestHash(paypal) == before {
		t.Fatal("the same key for a PayPal order would replay a Stripe one")
	}
	for _, p := range []string{ProviderPayPal, "bitcoin"} {
		in := NewOrder{Provider: p}
		if err := o.checkProvider(&in); ErrorCode(err) != CodeInvalid || !strings.Contains(err.Error(), "provider") {
			t.Errorf("provider %q without PayPal configured: %v; want invalid naming provider", p, err)
		}
	}
}

func TestPayPalPaymentShowsItsApproveLink(t *testing.T) {
	raw, _ := json.Marshal(PaymentInfo{Provider: ProviderPayPal, PaymentIntentID: "PP1", ApproveURL: "https://paypal.test/approve", CaptureID: "CAP"})
	if s := string(raw); !strings.Contains(s, `"paypal_order_id":"PP1"`) || !strings.Contains(s, `"approve_url":"https://paypal.test/approve"`) ||
		strings.Contains(s, "client_secret") || strings.Contains(s, "CAP") {
		t.Fatalf("PayPal payment JSON = %s", s)
	}
	raw, _ = json.Marshal(PaymentInfo{Provider: ProviderStripe, PaymentIntentID: "pi_1", ClientSecret: "sec"})
	if s := string(raw); !strings.Contains(s, `"payment_intent_id":"pi_1"`) || !strings.Contains(s, `"client_secret":"sec"`) || strings.Contains(s, "approve_url") {
		t.Fatalf("Stripe payment JSON = %s", s)
	}
}
