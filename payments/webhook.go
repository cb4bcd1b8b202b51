package payments

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"
)

// WebhookVerifier checks Stripe-Signature headers with the endpoint's signing secret.
type WebhookVerifier struct {
	secret    string
	tolerance time.Duration
}

// NewWebhookVerifier returns a verifier for secret (whsec_…). tolerance bounds the age
// of a signature's timestamp, against replays; zero means Stripe's 5 minutes.
func NewWebhookVerifier(secret string, tolerance time.Duration) *WebhookVerifier {
	if tolerance <= 0 {
		tolerance = webhook.DefaultTolerance
	}
	return &WebhookVerifier{secret: secret, tolerance: tolerance}
}

// ErrBadSignature is returned, wrapped, for a webhook whose signature is missing,
// malformed, wrong or too old, or whose body is not a Stripe event.
var ErrBadSignature = errors.New("payments: webhook signature not valid")

// PaymentEvent is a verified webhook about a PaymentIntent, a dispute (Dispute set) or
// a charge's refunds (Refund set). For other event types only ID, Type and ObjectRef
// are set.
type PaymentEvent struct {
	ID, Type        string
	ObjectRef       string // data.object.id: what the event is about
	PaymentIntentID string
	Amount          int64
	Currency        string // upper case, ISO 4217
	OrderID         string // metadata.order_id
	Failure         string // last_payment_error.message, for payment_failed; cancellation_reason, for canceled
	Dispute         *Dispute
	Refund          *ChargeRefund
}

// Verify checks payload against the Stripe-Signature header and decodes the event. It
// returns an error wrapping ErrBadSignature when the signature does not hold or the
// body is not an event. The event's API version is not required to match the SDK's:
// only fields that are stable across versions are read.
func (v *WebhookVerifier) Verify(payload []byte, header string) (PaymentEvent, error) {
	ev, err := webhook.ConstructEventWithOptions(payload, header, v.secret, webhook.ConstructEventOptions{
		Tolerance: v.tolerance, IgnoreAPIVersionMismatch: true,
	})
	if err != nil {
		return PaymentEvent{}, fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	out := PaymentEvent{ID: ev.ID, Type: string(ev.Type)}
	if out.ID == "" || out.Type == "" {
		return PaymentEvent{}, fmt.Errorf("%w: the event has no id or type", ErrBadSignature)
	}
	if ev.Data == nil {
		return out, nil
	}
	var obj stripeObject
	_ = json.Unmarshal(ev.Data.Raw, &obj)
	out.ObjectRef = obj.ID
	if strings.HasPrefix(out.Type, "charge.dispute.") || out.Type == "charge.refunded" {
		return decodeReversal(out, ev.Data.Raw)
	}
	if !strings.HasPrefix(out.Type, "payment_intent.") {
		return out, nil
	}
	var pi stripe.PaymentIntent
	if err := json.Unmarshal(ev.Data.Raw, &pi); err != nil {
		return PaymentEvent{}, fmt.Errorf("%w: data.object is not a PaymentIntent: %w", ErrBadSignature, err)
	}
	out.PaymentIntentID, out.Amount = pi.ID, pi.Amount
	out.Currency = strings.ToUpper(string(pi.Currency))
	out.OrderID = pi.Metadata["order_id"]
	if pi.LastPaymentError != nil {
		out.Failure = pi.LastPaymentError.Msg
	}
	if pi.CancellationReason != "" {
		out.Failure = string(pi.CancellationReason)
	}
	return out, nil
}
