package market

import (
	"context"
	"encoding/json"
	"errors"
)

// The payment providers an order may be paid with.
const (
	ProviderStripe = "stripe"
	ProviderPayPal = "paypal"
)

// PayPalCaptureCompleted is the PayPal event (and capture outcome) that pays an order.
const PayPalCaptureCompleted = "PAYMENT.CAPTURE.COMPLETED"

// The PayPal capture events besides COMPLETED: a pending capture denied (the payment
// failed), a capture refunded (by us or in PayPal's dashboard) and a capture reversed
// (a chargeback the buyer won).
const (
	PayPalCaptureDenied   = "PAYMENT.CAPTURE.DENIED"
	PayPalCaptureRefunded = "PAYMENT.CAPTURE.REFUNDED"
	PayPalCaptureReversed = "PAYMENT.CAPTURE.REVERSED"
)

// ErrPaymentNotApproved is returned, wrapped, by PayPalGateway.Capture when the buyer
// has not approved the payment at PayPal yet.
var ErrPaymentNotApproved = errors.New("market: the buyer has not approved the payment yet")

// PayPalGateway is PayPal as the order use cases need it; cmd/ adapts payments/ to it.
// CreatePayment returns the PayPal order as a PaymentInfo (PaymentIntentID is the
// PayPal order id; ApproveURL is set). Capture captures an approved PayPal order and
// returns it as an event: Type is PAYMENT.CAPTURE.<capture status>, ID
// "capture:<capture id>", OrderID the capture's custom_id; it returns an error wrapping
// ErrPaymentNotApproved before approval. VerifyWebhook has PayPal verify a webhook
// (header looks up its transmission headers) and returns an error wrapping
// ErrBadWebhookSignature when PayPal does not vouch for it.
type PayPalGateway interface {
	CreatePayment(ctx context.Context, in PaymentRequest) (PaymentInfo, error)
	Capture(ctx context.Context, payPalOrderID, idempotencyKey string) (PaymentEvent, error)
	VerifyWebhook(ctx context.Context, header func(string) string, body []byte) (PaymentEvent, error)
}

// checkProvider defaults the provider to Stripe and refuses one that is unknown or,
// for PayPal, not configured.
func (o *Orders) checkProvider(in *NewOrder) error {
	switch in.Provider {
	case "":
		in.Provider = ProviderStripe
	case ProviderStripe:
	case ProviderPayPal:
		if o.cfg.PayPal == nil {
			return FieldError(CodeInvalid, "provider", "PayPal is not available on this server; pay with stripe")
		}
	default:
		return FieldError(CodeInvalid, "provider", "must be stripe or paypal")
	}
	return nil
}

// CapturePayPal is the buyer, back from approving at PayPal, asking for the payment to
// be taken: the PayPal order is captured (under a key derived from the order, so
// retries capture once) and a COMPLETED capture of the order's amount and currency
// moves it to paid and funds its escrow, exactly as a webhook would and at most once
// however often capture and webhook arrive. An order paid already is returned as it
// is. Errors: invalid naming "provider" when PayPal is not configured; not found for
// an order the caller is no party to; forbidden for its seller; conflict when the
// order is not a PayPal one, is cancelled, not approved yet, pending at PayPal, or
// captured for another amount (nothing changes then); unavailable when PayPal fails.
func (o *Orders) CapturePayPal(ctx context.Context, orderID, userID string) (Order, error) {
	if o.cfg.PayPal == nil {
		return Order{}, FieldError(CodeInvalid, "provider", "PayPal is not available on this server")
	}
	ord, err := o.store.Order(ctx, orderID, userID)
	if err != nil {
		return Order{}, err
	}
	if err := checkCapturable(ord, userID); err != nil || ord.Status != OrderPlaced {
		return ord.visibleTo(userID), err
	}
	ev, err := o.cfg.PayPal.Capture(ctx, ord.Payment.PaymentIntentID, "gigstream-order-"+ord.ID+"-capture")
	if errors.Is(err, ErrPaymentNotApproved) {
		return Order{}, Errorf(CodeConflict, "the buyer has not approved this payment at PayPal yet: approve it at payment.approve_url, then capture again")
	}
	if err != nil {
		o.log.WarnContext(ctx, "paypal capture failed", "order_id", ord.ID, "err", err)
		return Order{}, Errorf(CodeUnavailable, "PayPal is not reachable; nothing changed, capture again")
	}
	if err := o.applyCapture(ctx, ord, ev); err != nil {
		return Order{}, err
	}
	return o.Order(ctx, orderID, userID)
}

// checkCapturable says who may capture which order: its buyer, a PayPal one, not
// cancelled before it was paid.
func checkCapturable(ord Order, userID string) error {
	switch {
	case ord.BuyerID != userID:
		return Errorf(CodeForbidden, "only the buyer captures the order's payment")
	case ord.Payment == nil || ord.Payment.Provider != ProviderPayPal:
		return Errorf(CodeConflict, "this order is not paid with PayPal")
	case ord.Status == OrderCancelled && ord.PaidAt == nil:
		return Errorf(CodeConflict, "this order was cancelled before it was paid")
	}
	return nil
}

// applyCapture applies a capture the way a webhook applies, at most once.
func (o *Orders) applyCapture(ctx context.Context, ord Order, ev PaymentEvent) error {
	if ev.Type != PayPalCaptureCompleted {
		o.log.WarnContext(ctx, "paypal capture not completed", "order_id", ord.ID, "type", ev.Type, "capture_id", ev.CaptureID)
		return Errorf(CodeConflict, "PayPal has not completed the capture (%s); the order is paid when PayPal completes it", ev.Type)
	}
	out, err := o.applyPayPalEvent(ctx, ev)
	if err != nil {
		return err
	}
	if out.Outcome == OutcomeMismatch || out.Outcome == OutcomeUnknownOrder {
		return Errorf(CodeConflict, "PayPal's capture does not match this order; nothing changed")
	}
	return nil
}

// ApplyPayPalWebhook has PayPal verify a webhook and applies PAYMENT.CAPTURE.COMPLETED
// at most once (by event id; and the order is paid at most once whatever arrives): the
// order named by custom_id, whose PayPal order, amount and currency must match, moves
// to paid and its escrow is funded. PAYMENT.CAPTURE.DENIED records the payment as
// failed; REFUNDED (a refund that is not our own) and REVERSED are reversals
// (ReversalRule); payout item events finish withdrawals. Mismatches and unknown
// orders change nothing and are logged; other event types are stored as unhandled. Errors: not found when
// PayPal is not configured; wrapping ErrBadWebhookSignature when PayPal does not vouch
// for the webhook; unavailable when PayPal cannot be asked; a storage error.
func (o *Orders) ApplyPayPalWebhook(ctx context.Context, header func(string) string, body []byte) (PaymentOutcome, error) {
	if o.cfg.PayPal == nil {
		return PaymentOutcome{}, Errorf(CodeNotFound, "PayPal is not configured on this server")
	}
	ev, err := o.cfg.PayPal.VerifyWebhook(ctx, header, body)
	if errors.Is(err, ErrBadWebhookSignature) {
		return PaymentOutcome{}, err
	}
	if err != nil {
		o.log.WarnContext(ctx, "paypal webhook not verified: paypal unreachable", "err", err)
		return PaymentOutcome{}, Errorf(CodeUnavailable, "PayPal could not verify the webhook; send it again")
	}
	if ev.Payout != nil && o.cfg.Payouts != nil {
		out := *ev.Payout
		out.EventID, out.EventType, out.Provider = ev.ID, ev.Type, PayoutPayPal
		outcome, err := o.cfg.Payouts.ApplyPayoutOutcome(ctx, out)
		return PaymentOutcome{Outcome: outcome, Payout: true}, err
	}
	ev.Provider = ProviderPayPal
	switch {
	case ev.Type == PayPalCaptureCompleted || ev.Type == PayPalCaptureDenied:
		return o.applyPayPalEvent(ctx, ev)
	case ev.Reversal != nil && o.cfg.Reversals != nil:
		return o.cfg.Reversals.ApplyReversal(ctx, ev)
	}
	return o.recordUnhandled(ctx, ev)
}

// applyPayPalEvent stores a PayPal capture event, from a webhook or a capture call.
func (o *Orders) applyPayPalEvent(ctx context.Context, ev PaymentEvent) (PaymentOutcome, error) {
	ev.Provider = ProviderPayPal
	return o.applyPaymentEvent(ctx, ev)
}

// MarshalJSON shows a Stripe payment as it always was, and a PayPal one with its
// PayPal order id and approve link instead of a PaymentIntent and client secret.
func (p PaymentInfo) MarshalJSON() ([]byte, error) {
	type plain PaymentInfo
	if p.Provider != ProviderPayPal {
		return json.Marshal(plain(p))
	}
	return json.Marshal(struct {
		Provider      string `json:"provider"`
		PayPalOrderID string `json:"paypal_order_id"`
		ApproveURL    string `json:"approve_url"`
		Status        string `json:"status"`
		AmountMinor   int64  `json:"amount_minor"`
		Currency      string `json:"currency"`
	}{p.Provider, p.PaymentIntentID, p.ApproveURL, p.Status, p.AmountMinor, p.Currency})
}
