package payments

import (
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v82/webhook"
)

const secret = "whsec_test_secret"

// signed returns Stripe's Stripe-Signature header for payload at t.
func signed(payload []byte, t time.Time, key string) string {
	return fmt.Sprintf("t=%d,v1=%s", t.Unix(), hex.EncodeToString(webhook.ComputeSignature(t, payload, key)))
}

const succeeded = `{"id":"evt_1","object":"event","type":"payment_intent.succeeded","api_version":"2019-01-01",
 "data":{"object":{"id":"pi_1","object":"payment_intent","amount":4500,"currency":"usd","status":"succeeded",
 "metadata":{"order_id":"0b4a3f8e-6c7d-4e21-9a55-1f2e3d4c5b6a"}}}}`

func TestVerifyDecodesASignedPaymentEvent(t *testing.T) {
	v := NewWebhookVerifier(secret, 0)
	ev, err := v.Verify([]byte(succeeded), signed([]byte(succeeded), time.Now(), secret))
	if err != nil {
		t.Fatal(err)
	}
	want := PaymentEvent{ID: "evt_1", Type: "payment_intent.succeeded", ObjectRef: "pi_1", PaymentIntentID: "pi_1", Amount: 4500, Currency: "USD", OrderID: "0b4a3f8e-6c7d-4e21-9a55-1f2e3d4c5b6a"}
	if ev != want {
		t.Fatalf("event %+v, want %+v", ev, want)
	}
}

func TestVerifyRefusesForgedOldAndMalformedWebhooks(t *testing.T) {
	v := NewWebhookVerifier(secret, time.Minute)
	body := []byte(succeeded)
	cases := map[string]struct {
		body   []byte
		header string
	}{
		"wrong secret":   {body, signed(body, time.Now(), "whsec_other")},
		"changed body":   {[]byte(succeeded + " "), signed(body, time.Now(), secret)},
		"too old":        {body, signed(body, time.Now().Add(-2*time.Minute), secret)},
		"no header":      {body, ""},
		"garbage header": {body, "v1=zz"},
		"not an event":   {[]byte(`[1]`), signed([]byte(`[1]`), time.Now(), secret)},
	}
	for name, c := range cases {
		if _, err := v.Verify(c.body, c.header); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s: %v, want ErrBadSignature", name, err)
		}
	}
}

func TestVerifyPassesOtherEventTypesThrough(t *testing.T) {
	body := []byte(`{"id":"evt_2","object":"event","type":"customer.created","data":{"object":{"id":"cus_1","object":"customer"}}}`)
	ev, err := NewWebhookVerifier(secret, 0).Verify(body, signed(body, time.Now(), secret))
	if err != nil || ev.Type != "customer.created" || ev.PaymentIntentID != "" {
		t.Fatalf("%+v, %v", ev, err)
	}
}

func TestVerifyDecodesDisputesAndChargeRefunds(t *testing.T) {
	v := NewWebhookVerifier(secret, 0)
	dispute := []byte(`{"id":"evt_3","object":"event","type":"charge.dispute.closed","data":{"object":{"id":"dp_1","object":"dispute",
 "amount":4500,"currency":"usd","status":"lost","reason":"fraudulent","charge":"ch_1","payment_intent":{"id":"pi_9","object":"payment_intent"}}}}`)
	ev, err := v.Verify(dispute, signed(dispute, time.Now(), secret))
	if err != nil || ev.Dispute == nil || *ev.Dispute != (Dispute{ID: "dp_1", Amount: 4500, Currency: "USD", Status: "lost", Reason: "fraudulent",
		PaymentIntentID: "pi_9", ChargeID: "ch_1"}) || ev.PaymentIntentID != "pi_9" {
		t.Fatalf("dispute: %+v %+v %v", ev, ev.Dispute, err)
	}
	refunded := []byte(`{"id":"evt_4","object":"event","type":"charge.refunded","data":{"object":{"id":"ch_2","object":"charge",
 "amount":4500,"amount_refunded":1500,"currency":"eur","payment_intent":"pi_8"}}}`)
	ev, err = v.Verify(refunded, signed(refunded, time.Now(), secret))
	if err != nil || ev.Refund == nil || *ev.Refund != (ChargeRefund{ChargeID: "ch_2", PaymentIntentID: "pi_8", AmountRefunded: 1500, Currency: "EUR"}) {
		t.Fatalf("charge.refunded: %+v %v", ev, err)
	}
	bad := []byte(`{"id":"evt_5","object":"event","type":"charge.dispute.created","data":{"object":{"id":"cus_1","object":"customer"}}}`)
	if _, err := v.Verify(bad, signed(bad, time.Now(), secret)); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("a dispute event about a customer: %v", err)
	}
}
