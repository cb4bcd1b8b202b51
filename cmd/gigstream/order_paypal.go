package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/payments"
)

// paypalConfig points the hub at PayPal; PayPal is optional: without a client id,
// orders cannot be paid with it and serve starts all the same.
type paypalConfig struct {
	APIBase      string
	ClientID     string
	ClientSecret secret
	WebhookID    string
}

// enabled says whether PayPal is configured.
func (c paypalConfig) enabled() bool { return c.ClientID != "" }

// loadPayPalConfig reads the PayPal settings: all three credentials or none.
func loadPayPalConfig(e *envReader, c *config) {
	c.PayPal = paypalConfig{
		APIBase:      strings.TrimRight(e.str("PAYPAL_API_BASE", "https://api-m.paypal.com"), "/"),
		ClientID:     e.str("PAYPAL_CLIENT_ID", ""),
		ClientSecret: secret(e.str("PAYPAL_CLIENT_SECRET", "")),
		WebhookID:    e.str("PAYPAL_WEBHOOK_ID", ""),
	}
	p := c.PayPal
	if !strings.HasPrefix(p.APIBase, "http://") && !strings.HasPrefix(p.APIBase, "https://") {
		e.fail("PAYPAL_API_BASE", "an http:// or https:// URL", p.APIBase)
	}
	if p.enabled() && p.ClientSecret == "" {
		e.fail("PAYPAL_CLIENT_SECRET", "the REST app's secret when PAYPAL_CLIENT_ID is set", "")
	}
	if p.enabled() && p.WebhookID == "" {
		e.fail("PAYPAL_WEBHOOK_ID", "the id of the webhook pointed at POST /webhooks/paypal when PAYPAL_CLIENT_ID is set", "")
	}
	if !p.enabled() && (p.ClientSecret != "" || p.WebhookID != "") {
		e.fail("PAYPAL_CLIENT_ID", "the REST app's client id when PAYPAL_CLIENT_SECRET or PAYPAL_WEBHOOK_ID is set", "")
	}
}

// newPayPal returns the PayPal client over hc (nil: the adapter's own), or nil when
// PayPal is not configured.
func newPayPal(cfg paypalConfig, hc *http.Client) (*payments.PayPal, error) {
	if !cfg.enabled() {
		return nil, nil // not configured: paying with PayPal is refused
	}
	p, err := payments.NewPayPal(payments.PayPalConfig{APIBase: cfg.APIBase, ClientID: cfg.ClientID,
		ClientSecret: string(cfg.ClientSecret), WebhookID: cfg.WebhookID, Exponents: market.CurrencyExponent}, hc)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return p, nil
}

// paypalGateway adapts payments' PayPal client to the order use cases.
type paypalGateway struct{ client *payments.PayPal }

func (g paypalGateway) CreatePayment(ctx context.Context, in market.PaymentRequest) (market.PaymentInfo, error) {
	o, err := g.client.CreateOrder(ctx, payments.PayPalOrderRequest{
		OrderID: in.OrderID, Amount: in.AmountMinor, Currency: in.Currency, IdempotencyKey: in.IdempotencyKey,
	})
	if err != nil {
		return market.PaymentInfo{}, err
	}
	return market.PaymentInfo{Provider: market.ProviderPayPal, PaymentIntentID: o.ID, ApproveURL: o.ApproveURL,
		Status: "requires_payment", AmountMinor: in.AmountMinor, Currency: in.Currency}, nil
}

func (g paypalGateway) Capture(ctx context.Context, payPalOrderID, idempotencyKey string) (market.PaymentEvent, error) {
	c, err := g.client.Capture(ctx, payPalOrderID, idempotencyKey)
	if errors.Is(err, payments.ErrNotApproved) {
		return market.PaymentEvent{}, fmt.Errorf("%w: %w", market.ErrPaymentNotApproved, err)
	}
	if err != nil {
		return market.PaymentEvent{}, err
	}
	return market.PaymentEvent{ID: "capture:" + c.CaptureID, Type: "PAYMENT.CAPTURE." + c.Status, PaymentIntentID: c.OrderID,
		CaptureID: c.CaptureID, AmountMinor: c.Amount, Currency: c.Currency, OrderID: c.CustomID}, nil
}

func (g paypalGateway) VerifyWebhook(ctx context.Context, header func(string) string, body []byte) (market.PaymentEvent, error) {
	ev, err := g.client.VerifyWebhook(ctx, payments.PayPalWebhookHeadersFrom(header), body)
	if errors.Is(err, payments.ErrBadSignature) {
		return market.PaymentEvent{}, fmt.Errorf("%w: %w", market.ErrBadWebhookSignature, err)
	}
	if err != nil {
		return market.PaymentEvent{}, err
	}
	if ev.Type == market.PayPalCaptureCompleted && ev.Status != "COMPLETED" {
		ev.Type = "PAYMENT.CAPTURE." + ev.Status // the resource says otherwise: not a payment
	}
	out := market.PaymentEvent{ID: ev.ID, Type: ev.Type, PaymentIntentID: ev.OrderID, CaptureID: ev.CaptureID,
		AmountMinor: ev.Amount, Currency: ev.Currency, OrderID: ev.CustomID}
	if ev.PayoutItem != nil {
		p, final := payPalPayoutOutcome(*ev.PayoutItem)
		p.Pending = !final
		out.Payout, out.ObjectRef = &p, ev.PayoutItem.BatchID
	}
	if ev.RefundID != "" {
		// A refund not made by us (our own are recognised by their id), or a reversal:
		// a chargeback PayPal decided for the buyer.
		r := &market.ReversalEvent{Kind: market.ReversalRefund, Ref: ev.RefundID, Status: market.ReversalFinal,
			ProviderStatus: ev.Status, AmountMinor: ev.Amount}
		if ev.Type == market.PayPalCaptureReversed {
			r.Kind, r.Status, r.Reason = market.ReversalChargeback, market.ReversalLost, "reversed by PayPal"
		}
		out.Reversal, out.PaymentIntentID, out.ObjectRef = r, "", ev.RefundID
	}
	if out.ObjectRef == "" {
		out.ObjectRef = cmp.Or(ev.CaptureID, ev.OrderID)
	}
	return out, nil
}

// refundPayPal refunds a PayPal order's capture, or fails when PayPal is not configured.
func refundPayPal(ctx context.Context, client *payments.PayPal, in market.RefundRequest) (string, error) {
	if client == nil {
		return "", fmt.Errorf("refund of order %s: it was paid with PayPal, which is not configured", in.OrderID)
	}
	return client.RefundCapture(ctx, payments.PayPalRefundRequest{OrderID: in.OrderID, CaptureID: in.CaptureID,
		Amount: in.AmountMinor, Currency: in.Currency, IdempotencyKey: in.IdempotencyKey})
}
