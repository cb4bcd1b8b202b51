package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/payments"
	"github.com/gigstream/hub/store"
)

// stripeConfig points the hub at Stripe (stripe-mock in the devstack).
type stripeConfig struct {
	APIBase       string
	SecretKey     secret
	WebhookSecret secret
}

// loadStripeConfig reads the Stripe settings; the keys are required, since orders
// cannot be paid without them.
func loadStripeConfig(e *envReader, c *config) {
	c.Stripe = stripeConfig{
		APIBase:       strings.TrimRight(e.str("STRIPE_API_BASE", "https://api.stripe.com"), "/"),
		SecretKey:     secret(e.required("STRIPE_SECRET_KEY", "a Stripe secret key, sk_live_… or sk_test_… (or a restricted rk_… key)")),
		WebhookSecret: secret(e.required("STRIPE_WEBHOOK_SECRET", "the webhook endpoint's signing secret, whsec_…")),
	}
	if !strings.HasPrefix(c.Stripe.APIBase, "http://") && !strings.HasPrefix(c.Stripe.APIBase, "https://") {
		e.fail("STRIPE_API_BASE", "an http:// or https:// URL", c.Stripe.APIBase)
	}
	if k := string(c.Stripe.SecretKey); k != "" && !strings.HasPrefix(k, "sk_") && !strings.HasPrefix(k, "rk_") {
		e.fail("STRIPE_SECRET_KEY", "a key starting sk_ or rk_ (value not shown)", "")
	}
	if k := string(c.Stripe.WebhookSecret); k != "" && !strings.HasPrefix(k, "whsec_") {
		e.fail("STRIPE_WEBHOOK_SECRET", "a signing secret starting whsec_ (value not shown)", "")
	}
}

// stripeGateway adapts payments' Stripe adapter and webhook verifier to the domain.
type stripeGateway struct {
	stripe   *payments.Stripe
	verifier *payments.WebhookVerifier
}

func (g stripeGateway) CreatePayment(ctx context.Context, in market.PaymentRequest) (market.PaymentInfo, error) {
	amount, err := toStripe(in.AmountMinor, in.Currency)
	if err != nil {
		return market.PaymentInfo{}, err
	}
	intent, err := g.stripe.CreateIntent(ctx, payments.IntentRequest{
		OrderID: in.OrderID, Amount: amount, Currency: in.Currency, IdempotencyKey: in.IdempotencyKey,
	})
	if err != nil {
		return market.PaymentInfo{}, err
	}
	return market.PaymentInfo{
		Provider: "stripe", PaymentIntentID: intent.ID, ClientSecret: intent.ClientSecret,
		Status: "requires_payment", AmountMinor: in.AmountMinor, Currency: in.Currency,
	}, nil
}

func (g stripeGateway) VerifyWebhook(payload []byte, signature string) (market.PaymentEvent, error) {
	ev, err := g.verifier.Verify(payload, signature)
	if errors.Is(err, payments.ErrBadSignature) {
		return market.PaymentEvent{}, fmt.Errorf("%w: %w", market.ErrBadWebhookSignature, err)
	}
	if err != nil {
		return market.PaymentEvent{}, err
	}
	amount := ev.Amount
	if exp, ok := market.CurrencyExponent(ev.Currency); ok && ev.Amount != 0 {
		if amount, err = payments.FromStripeAmount(ev.Amount, ev.Currency, exp); err != nil {
			amount = -1 // matches no order: the event is recorded as a mismatch
		}
	}
	return market.PaymentEvent{
		ID: ev.ID, Type: ev.Type, PaymentIntentID: ev.PaymentIntentID, AmountMinor: amount,
		Currency: ev.Currency, OrderID: ev.OrderID, Failure: ev.Failure, ObjectRef: ev.ObjectRef,
		Reversal: stripeReversal(ev, amount),
	}, nil
}

// stripeReversal is what a dispute or charge.refunded event says as a reversal, with
// its amount in minor units; nil for other events.
func stripeReversal(ev payments.PaymentEvent, amount int64) *market.ReversalEvent {
	switch {
	case ev.Dispute != nil:
		d := ev.Dispute
		r := &market.ReversalEvent{Kind: market.ReversalChargeback, Ref: d.ID, ProviderStatus: d.Status, Reason: d.Reason,
			AmountMinor: amount, Status: market.ReversalOpen}
		switch {
		case d.Status == "won":
			r.Status = market.ReversalWon
		case d.Status == "lost":
			r.Status = market.ReversalLost
		case strings.HasPrefix(d.Status, "warning_"):
			r.Inquiry = true // an inquiry: Stripe holds no money
		}
		return r
	case ev.Refund != nil:
		return &market.ReversalEvent{Kind: market.ReversalRefund, Ref: fmt.Sprintf("%s:%d", ev.Refund.ChargeID, ev.Refund.AmountRefunded),
			Status: market.ReversalFinal, ProviderStatus: "refunded", AmountMinor: amount, Cumulative: true}
	}
	return nil
}

// toStripe converts minor units of currency, counted with market's ISO 4217 exponent,
// to Stripe's unit of it (payments.ToStripeAmount).
func toStripe(minor int64, currency string) (int64, error) {
	exp, ok := market.CurrencyExponent(currency)
	if !ok {
		return 0, fmt.Errorf("%w: %q is not a currency GigStream knows", payments.ErrAmount, currency)
	}
	return payments.ToStripeAmount(minor, currency, exp)
}

// newOrders builds the order use cases on the database, Stripe and (when configured)
// PayPal; a placed order opens its conversation in the chat, and a payment that
// arrives for a cancelled order is refunded through the settlement.
func newOrders(cfg config, db *store.DB, realtime *market.Realtime, chat *market.Chat, settlement *market.Settlement, payouts *market.Payouts,
	billing *market.Billing, log *slog.Logger) (*market.Orders, error) {
	client, err := payments.NewStripeClient(payments.StripeConfig{SecretKey: string(cfg.Stripe.SecretKey), APIBase: cfg.Stripe.APIBase,
		Transport: providerTransport(cfg, "stripe")})
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	gateway := stripeGateway{
		stripe:   payments.NewStripe(client.V1PaymentIntents),
		verifier: payments.NewWebhookVerifier(string(cfg.Stripe.WebhookSecret), 0),
	}
	pp, err := newPayPal(cfg.PayPal, providerHTTP(cfg, "paypal", 15*time.Second))
	if err != nil {
		return nil, err
	}
	ocfg := market.OrdersConfig{Threads: chat, LateRefunds: settlement, Payouts: payouts, Reversals: settlement, Billing: billing}
	if pp != nil {
		ocfg.PayPal = paypalGateway{client: pp}
	}
	return market.NewOrders(db, gateway, realtime, ocfg, log), nil
}
