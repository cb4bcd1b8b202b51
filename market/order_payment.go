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
	// paid: the amount received is the buyer's (LatePaymentRule; what funds the escrow
	// is refunded in full).
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
	// RepayLosses is what a late payment repays of what the order's reversals took
	// from platform:losses (LatePaymentRule, EarlyReversalRule): they are recorded as
	// taken from the escrow instead.
	RepayLosses int64
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
	tx, repay := FundOrderRepaying(ord, ev.Provider, p.Reversed)
	return PaymentDecision{Outcome: OutcomeApplied, Status: next, PaymentStatus: "succeeded", Ledger: &tx, EventType: "order.paid",
		CaptureID: ev.CaptureID, RepayLosses: repay}
}

// FundOrderRepaying is FundOrder for a payment that lands after reversals of it (an
// open chargeback: a closed one would have cancelled the order) took money from
// platform:losses because the escrow was still empty (EarlyReversalRule): the escrow
// repays them first, up to the order's price, and the amount repaid is returned (the
// reversals are recorded as taken from the escrow: PaymentDecision.RepayLosses).
func FundOrderRepaying(ord Order, provider string, r PaymentReversed) (LedgerTransaction, int64) {
	repay := min(max(r.FromPlatform, 0), ord.PriceMinor)
	return fundOrder(ord, provider, repay), repay
}

// EarlyReversalRule is the rule of a payment whose chargeback was applied before it,
// on an order still placed (provider events arrive in any order): the payment is
// applied as if it had come first. The order is paid, its escrow repays what the
// chargeback took from platform:losses (up to the price: what exceeds it, the service
// fee and tax, stays the platform's loss as it would have), that part of the
// chargeback is recorded as taken from the escrow, and the order is held like any
// order under an open chargeback: a chargeback lost settles it (cancelled, refunded),
// one won gives the escrow back and the order goes on.
const EarlyReversalRule = "a payment after its own open chargeback funds the escrow, which repays platform:losses first"

// decideLatePayment is a payment that succeeded for an order cancelled before it was
// paid: the buyer was charged, so the money is recorded from the provider's external
// account, and the order stays cancelled (LatePaymentRule). A payment recorded
// already (another event about it) is ignored; one in another currency, or of
// nothing, changes nothing.
func decideLatePayment(ev PaymentEvent, ord Order, p *PaymentInfo) PaymentDecision {
	if p.Status == "succeeded" {
		return PaymentDecision{Outcome: OutcomeIgnored}
	}
	if ev.Currency != ord.Currency || ev.AmountMinor <= 0 {
		return PaymentDecision{Outcome: OutcomeMismatch}
	}
	repay, escrow, owed := LatePaymentSplit(ev.AmountMinor, p.Reversed)
	tx := LedgerTransaction{Kind: ledgerKindEscrow, OrderID: ord.ID, Reference: "escrow_funding:order:" + ord.ID,
		Postings: legs(ev.Currency,
			Posting{Account: ExternalAccount(ev.Provider), Amount: -ev.AmountMinor},
			Posting{Account: EscrowAccount(ord.ID), Amount: escrow},
			Posting{Account: PlatformRefundsOwedAccount, Amount: owed},
			Posting{Account: PlatformLossesAccount, Amount: repay})}
	return PaymentDecision{Outcome: OutcomeRefundDue, PaymentStatus: "succeeded", Ledger: &tx, CaptureID: ev.CaptureID, RepayLosses: repay}
}

// LatePaymentRule is the rule of a payment that arrives after its order was
// cancelled (the buyer is owed all of it):
//
//   - What reversals of the payment applied before it (a chargeback, a refund at the
//     provider) took from platform:losses, because the escrow was still empty, the
//     payment repays first: those reversals are recorded as taken from the escrow
//     (PaymentDecision.RepayLosses), so a chargeback won gives it back to the escrow
//     and one lost keeps it, as if the payment had come first.
//   - The rest funds the escrow and is refunded in full through the provider
//     (Settlement.RefundCancelledPayment), unless a chargeback of the payment is
//     closed: the provider refuses refunds of a charged-back charge, so it goes to
//     platform:refunds_owed, which an admin pays back outside the provider. A
//     chargeback that closes later on such an order moves what the escrow still holds
//     there too (ReversalRule), so a cancelled order's escrow ends at zero.
const LatePaymentRule = "repay the reversals' platform:losses, then escrow for the refund (platform:refunds_owed once charged back and closed)"

// PlatformRefundsOwedAccount holds what the platform owes buyers of cancelled orders
// and cannot refund through the provider (LatePaymentRule): an ordinary account.
const PlatformRefundsOwedAccount = "platform:refunds_owed"

// LatePaymentSplit splits a late payment of amount (LatePaymentRule): what repays
// the reversals' platform:losses, what funds the escrow for the refund, and what is
// owed to the buyer outside the provider.
func LatePaymentSplit(amount int64, r PaymentReversed) (repay, escrow, owed int64) {
	repay = min(amount, max(r.FromPlatform, 0))
	escrow = amount - repay
	if r.ChargebackClosed {
		return repay, 0, escrow
	}
	return repay, escrow, 0
}

// isPaymentFailure says whether an event type reports a payment that failed: Stripe's
// payment_failed, PayPal's denied capture.
func isPaymentFailure(eventType string) bool {
	return eventType == StripePaymentFailed || eventType == PayPalCaptureDenied
}
