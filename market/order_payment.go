package market

import (
	"cmp"
	"context"
	"errors"
	"fmt"
)

// ErrBadWebhookSignature is returned, wrapped, for a webhook whose signature does not
// verify (missing, forged, too old) or whose body is not an event; handlers answer 400.
var ErrBadWebhookSignature = errors.New("market: webhook signature not valid")

// PaymentEvent is a verified provider webhook about a payment.
type PaymentEvent struct {
	Provider        string // "stripe" or "paypal"
	ID, Type        string // the provider's event id and type
	PaymentIntentID string // Stripe's PaymentIntent, or the PayPal order
	CaptureID       string // PayPal's capture, which refunds go through
	AmountMinor     int64
	Currency        string // ISO 4217, upper case
	OrderID         string // from the PaymentIntent's metadata
	Failure         string // why a payment failed, as the provider says
	// Payout is set for a PayPal payout item event (paid, failed, or Pending while
	// PayPal has not decided); Orders hands it to OrdersConfig.Payouts.
	Payout *PayoutOutcome
	// Reversal is set for a chargeback or a refund made at the provider; Orders hands
	// it to OrdersConfig.Reversals.
	Reversal *ReversalEvent
	// ObjectRef is the provider's id of what the event is about, kept with events we
	// do not handle.
	ObjectRef string
}

// The Stripe event types the orders act on.
const (
	StripePaymentSucceeded = "payment_intent.succeeded"
	StripePaymentFailed    = "payment_intent.payment_failed"
	StripePaymentCanceled  = "payment_intent.canceled"
)

// What applying a webhook did; stored with the event and logged.
const (
	OutcomeApplied      = "applied"        // the order moved (paid) and escrow was funded
	OutcomeFailed       = "payment_failed" // the failure was recorded on the payment
	OutcomeDuplicate    = "duplicate"      // this event was applied before: nothing changed
	OutcomeIgnored      = "ignored"        // not an event for this order's state (e.g. paid already)
	OutcomeUnknownOrder = "unknown_order"  // no order matches its metadata
	OutcomeMismatch     = "mismatch"       // amount, currency or PaymentIntent differ from the order's
	// OutcomeRefundDue is a payment that succeeded for an order cancelled before it was
	// paid: the escrow was funded with the amount received and is refunded in full.
	OutcomeRefundDue = "refund_due"
	// OutcomeCancelled is a payment the provider cancelled: its placed order is
	// cancelled.
	OutcomeCancelled = "cancelled"
	// OutcomeUnhandled is an event of a type GigStream does not act on: it is stored
	// and listed for admins (GET /admin/provider-events), never silently lost.
	OutcomeUnhandled = "unhandled"
)

// PaymentDecision is what a payment webhook does to a locked order: the outcome, and
// when set, the new order status, the payment's new status, the ledger transaction and
// the type of the order event to store.
type PaymentDecision struct {
	Outcome       string
	Status        OrderStatus
	PaymentStatus string
	Failure       string
	Ledger        *LedgerTransaction
	EventType     string
	CaptureID     string // recorded on the payment with PaymentStatus (PayPal)
	// SettleKey is the provider event that took the order's final action (a cancelled
	// payment cancels a placed order); it is recorded as the settlement's key.
	SettleKey string
}

// PaymentOutcome is what applying a webhook did, with the events to publish.
type PaymentOutcome struct {
	Outcome string
	OrderID string
	Events  []Event
	Payout  bool // the event was about a seller's payout, not a buyer's payment
}

// ApplyStripeWebhook verifies a Stripe webhook and applies it at most once, however
// often or concurrently it arrives: payment_intent.succeeded for the order's total
// moves a placed order to paid and funds its escrow (FundOrder) in one transaction
// with the order.paid event; payment_intent.payment_failed records the
// failure; payment_intent.canceled cancels a placed order. charge.dispute.* and
// charge.refunded are reversals (OrdersConfig.Reversals, ReversalRule). A webhook
// naming an unknown order, or whose PaymentIntent, amount or currency differ from the
// order's, changes nothing and is logged. Every other event type is stored once as
// unhandled, for admins to see. It returns an error wrapping ErrBadWebhookSignature
// when the signature does not verify, or a storage error (the provider should retry).
func (o *Orders) ApplyStripeWebhook(ctx context.Context, payload []byte, signature string) (PaymentOutcome, error) {
	ev, err := o.gateway.VerifyWebhook(payload, signature)
	if err != nil {
		return PaymentOutcome{}, err
	}
	ev.Provider = ProviderStripe
	switch {
	case ev.Type == StripePaymentSucceeded || ev.Type == StripePaymentFailed || ev.Type == StripePaymentCanceled:
		return o.applyPaymentEvent(ctx, ev)
	case ev.Reversal != nil && o.cfg.Reversals != nil:
		return o.cfg.Reversals.ApplyReversal(ctx, ev)
	}
	return o.recordUnhandled(ctx, ev)
}

// recordUnhandled stores an event we do not act on, once, and logs it.
func (o *Orders) recordUnhandled(ctx context.Context, ev PaymentEvent) (PaymentOutcome, error) {
	fresh, err := o.store.RecordUnhandledEvent(ctx, ev.Provider, ev.ID, ev.Type, ev.ObjectRef)
	if err != nil {
		return PaymentOutcome{}, fmt.Errorf("record %s %s: %w", ev.Type, ev.ID, err)
	}
	if !fresh {
		return PaymentOutcome{Outcome: OutcomeDuplicate}, nil
	}
	o.log.InfoContext(ctx, "provider event not handled; stored for admins", "provider", ev.Provider, "event_id", ev.ID,
		"type", ev.Type, "object", ev.ObjectRef)
	return PaymentOutcome{Outcome: OutcomeUnhandled}, nil
}

// applyPaymentEvent applies a verified provider event to its order at most once (see
// decidePayment), publishes the events it stored and logs the outcome, as a warning
// for unknown orders and mismatches. It returns storage errors (the provider retries).
func (o *Orders) applyPaymentEvent(ctx context.Context, ev PaymentEvent) (PaymentOutcome, error) {
	out, err := o.store.ApplyPaymentEvent(ctx, ev, func(ord Order, p *PaymentInfo) PaymentDecision { return decidePayment(ev, ord, p) })
	if err != nil {
		return PaymentOutcome{}, fmt.Errorf("apply %s %s: %w", ev.Type, ev.ID, err)
	}
	o.realtime.PublishCommitted(ctx, out.Events...)
	if out.Outcome == OutcomeRefundDue && o.cfg.LateRefunds != nil {
		if err := o.cfg.LateRefunds.RefundCancelledPayment(ctx, out.OrderID); err != nil {
			o.log.WarnContext(ctx, "refund of a payment to a cancelled order failed; the settlement job retries it",
				"order_id", out.OrderID, "err", err)
		}
	}
	level := o.log.InfoContext
	if out.Outcome == OutcomeUnknownOrder || out.Outcome == OutcomeMismatch {
		level = o.log.WarnContext
	}
	level(ctx, "payment event", "provider", ev.Provider, "event_id", ev.ID, "type", ev.Type, "outcome", out.Outcome,
		"order_id", ev.OrderID, "provider_ref", ev.PaymentIntentID, "capture_id", ev.CaptureID,
		"amount_minor", ev.AmountMinor, "currency", ev.Currency)
	return out, nil
}

// decidePayment is the pure rule of a payment webhook on an order (zero when none was
// found) and its recorded payment (nil when none).
func decidePayment(ev PaymentEvent, ord Order, p *PaymentInfo) PaymentDecision {
	switch {
	case ord.ID == "":
		return PaymentDecision{Outcome: OutcomeUnknownOrder}
	case p == nil || p.PaymentIntentID != ev.PaymentIntentID || p.Provider != ev.Provider:
		return PaymentDecision{Outcome: OutcomeMismatch}
	case ev.Type == StripePaymentCanceled:
		if ord.Status != OrderPlaced {
			return PaymentDecision{Outcome: OutcomeIgnored}
		}
		return PaymentDecision{Outcome: OutcomeCancelled, Status: OrderCancelled, PaymentStatus: "failed",
			Failure: "cancelled at " + ev.Provider + ": " + cmp.Or(ev.Failure, "no reason given"), EventType: "order.cancelled", SettleKey: ev.ID}
	case !isPaymentFailure(ev.Type) && ord.Status == OrderCancelled && ord.PaidAt == nil:
		return decideLatePayment(ev, ord, p)
	case ev.AmountMinor != ord.TotalMinor || ev.Currency != ord.Currency:
		return PaymentDecision{Outcome: OutcomeMismatch}
	}
	if isPaymentFailure(ev.Type) {
		if ord.Status != OrderPlaced {
			return PaymentDecision{Outcome: OutcomeIgnored}
		}
		return PaymentDecision{Outcome: OutcomeFailed, PaymentStatus: "failed", Failure: ev.Failure, EventType: "order.payment_failed"}
	}
	next, err := NextStatus(ord.Status, ActionPay)
	if err != nil {
		return PaymentDecision{Outcome: OutcomeIgnored}
	}
	tx := FundOrder(ord, ev.Provider)
	return PaymentDecision{Outcome: OutcomeApplied, Status: next, PaymentStatus: "succeeded", Ledger: &tx, EventType: "order.paid",
		CaptureID: ev.CaptureID}
}

// decideLatePayment is a payment that succeeded for an order cancelled before it was
// paid: the buyer was charged, so the money is recorded (the escrow is funded with
// the amount received, from the provider's external account, as a normal payment)
// and is then refunded in full (Settlement.RefundCancelledPayment). The order stays
// cancelled. A payment recorded already (another event about it) is ignored; one in
// another currency, or of nothing, changes nothing.
func decideLatePayment(ev PaymentEvent, ord Order, p *PaymentInfo) PaymentDecision {
	if p.Status == "succeeded" {
		return PaymentDecision{Outcome: OutcomeIgnored}
	}
	if ev.Currency != ord.Currency || ev.AmountMinor <= 0 {
		return PaymentDecision{Outcome: OutcomeMismatch}
	}
	tx := FundEscrowFrom(ExternalAccount(ev.Provider), ord.ID, ev.AmountMinor, ev.Currency, "escrow_funding:order:"+ord.ID)
	return PaymentDecision{Outcome: OutcomeRefundDue, PaymentStatus: "succeeded", Ledger: &tx, CaptureID: ev.CaptureID}
}

// isPaymentFailure says whether an event type reports a payment that failed: Stripe's
// payment_failed, PayPal's denied capture.
func isPaymentFailure(eventType string) bool {
	return eventType == StripePaymentFailed || eventType == PayPalCaptureDenied
}
