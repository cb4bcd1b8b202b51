package handlers

import (
	"errors"
	"log/slog"
	"slices"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gigstream/hub/market"
)

// paymentRoutes take the payment providers' webhooks. They are authenticated by their
// signature, not a session, so they sit before session lookup and CSRF.
type paymentRoutes struct {
	orders  *market.Orders
	log     *slog.Logger
	metrics *paymentMetrics
}

// paymentMetrics counts every webhook by provider and outcome, and the payments
// webhooks settled: succeeded (escrow funded), failed, or refund_due (paid after
// the order was cancelled).
type paymentMetrics struct {
	webhooks *prometheus.CounterVec
	payments *prometheus.CounterVec
}

// webhookOutcomes are the outcomes a webhook can have: the domain's, a signature
// that does not verify, and a failure to apply it (answered 5xx; the provider retries).
var webhookOutcomes = []string{market.OutcomeApplied, market.OutcomeFailed, market.OutcomeDuplicate, market.OutcomeIgnored,
	market.OutcomeUnknownOrder, market.OutcomeMismatch, market.OutcomeRefundDue, market.OutcomeUnknownWithdrawal, market.OutcomePayoutPending, market.OutcomeCancelled, market.OutcomeUnhandled, "bad_signature", "error"}

// paymentOutcomes maps a webhook's outcome to the payment's, for those that settle one.
var paymentOutcomes = map[string]string{market.OutcomeApplied: "succeeded", market.OutcomeFailed: "failed", market.OutcomeRefundDue: "refund_due"}

func newPaymentMetrics(reg prometheus.Registerer) *paymentMetrics {
	m := &paymentMetrics{
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gigstream_webhooks_total",
			Help: "Payment provider webhooks received, by provider and outcome (bad_signature and error included)."}, []string{"provider", "outcome"}),
		payments: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gigstream_payments_total",
			Help: "Payments settled by webhooks, by provider and outcome: succeeded, failed, refund_due."}, []string{"provider", "outcome"}),
	}
	reg.MustRegister(m.webhooks, m.payments)
	// Every series exists from the start, so rates and alerts see zeros, not gaps.
	for _, provider := range []string{"stripe", "paypal"} {
		for _, o := range webhookOutcomes {
			m.webhooks.WithLabelValues(provider, o)
		}
		for _, o := range paymentOutcomes {
			m.payments.WithLabelValues(provider, o)
		}
	}
	return m
}

// observe counts one webhook's outcome (err, when not nil, decides it).
func (m *paymentMetrics) observe(provider string, out market.PaymentOutcome, err error) {
	outcome := out.Outcome
	switch {
	case errors.Is(err, market.ErrBadWebhookSignature):
		outcome = "bad_signature"
	case err != nil:
		outcome = "error"
	}
	if !slices.Contains(webhookOutcomes, outcome) {
		outcome = "error" // a new domain outcome nobody told us about; keep labels bounded
	}
	m.webhooks.WithLabelValues(provider, outcome).Inc()
	if p, ok := paymentOutcomes[outcome]; ok && !out.Payout {
		m.payments.WithLabelValues(provider, p).Inc()
	}
}

// stripe verifies the Stripe-Signature of the raw body and applies the event at most
// once. It answers 400 for a bad signature (logged as a security event) and 200 for
// anything verified, duplicates and events it ignores included, so Stripe stops
// sending them; a storage failure is a 500 and Stripe retries.
func (h *paymentRoutes) stripe(c *fiber.Ctx) error {
	out, err := h.orders.ApplyStripeWebhook(c.UserContext(), c.Body(), c.Get("Stripe-Signature"))
	h.metrics.observe("stripe", out, err)
	if errors.Is(err, market.ErrBadWebhookSignature) {
		securityEvent(c, h.log, "webhook_bad_signature", slog.String("provider", "stripe"))
		return badRequest("Stripe-Signature", "does not verify against this endpoint's signing secret")
	}
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"received": true, "outcome": out.Outcome})
}

// paypal has PayPal verify the webhook (verify-webhook-signature, with its transmission
// headers) and applies PAYMENT.CAPTURE.COMPLETED at most once. It answers 400 when a
// header is missing or PayPal does not vouch for it (logged as a security event), 200
// for anything verified, duplicates and ignored events included, 404 when PayPal is
// not configured, and 503 when PayPal cannot be asked (PayPal retries).
func (h *paymentRoutes) paypal(c *fiber.Ctx) error {
	header := func(name string) string { return c.Get(name) }
	out, err := h.orders.ApplyPayPalWebhook(c.UserContext(), header, c.Body())
	h.metrics.observe("paypal", out, err)
	if errors.Is(err, market.ErrBadWebhookSignature) {
		securityEvent(c, h.log, "webhook_bad_signature", slog.String("provider", "paypal"))
		return badRequest("PAYPAL-TRANSMISSION-SIG", "PayPal does not verify this webhook for this endpoint")
	}
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"received": true, "outcome": out.Outcome})
}
