package handlers

import (
	"errors"
	"log/slog"

	"github.com/gofiber/fiber/v2"

	"github.com/gigstream/hub/market"
)

// paymentRoutes take the payment providers' webhooks. They are authenticated by their
// signature, not a session, so they sit before session lookup and CSRF.
type paymentRoutes struct {
	orders *market.Orders
	log    *slog.Logger
}

// stripe verifies the Stripe-Signature of the raw body and applies the event at most
// once. It answers 400 for a bad signature (logged as a security event) and 200 for
// anything verified, duplicates and events it ignores included, so Stripe stops
// sending them; a storage failure is a 500 and Stripe retries.
func (h *paymentRoutes) stripe(c *fiber.Ctx) error {
	out, err := h.orders.ApplyStripeWebhook(c.UserContext(), c.Body(), c.Get("Stripe-Signature"))
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
	if errors.Is(err, market.ErrBadWebhookSignature) {
		securityEvent(c, h.log, "webhook_bad_signature", slog.String("provider", "paypal"))
		return badRequest("PAYPAL-TRANSMISSION-SIG", "PayPal does not verify this webhook for this endpoint")
	}
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"received": true, "outcome": out.Outcome})
}
