package handlers

import (
	"errors"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gigstream/hub/market"
)

// payoutRoutes serve where a seller's money goes (their payout method and Stripe's
// onboarding), the Stripe Connect webhook, and the admins' queue of withdrawals that
// need approval.
type payoutRoutes struct {
	payouts    *market.Payouts
	settlement *market.Settlement
	log        *slog.Logger
}

// method shows the caller's payout method and whether it can receive money now.
func (h *payoutRoutes) method(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	m, err := h.payouts.PayoutMethod(c.UserContext(), u.ID)
	if err != nil {
		return err
	}
	return c.JSON(m)
}

type payoutMethodRequest struct {
	Method      string `json:"method" validate:"required,oneof=stripe paypal"`
	PayPalEmail string `json:"paypal_email" validate:"max=254"`
}

// setMethod chooses Stripe (a connected account is made the first time) or PayPal
// (with paypal_email). It needs a recent step-up (stepUp).
func (h *payoutRoutes) setMethod(c *fiber.Ctx) error {
	var req payoutMethodRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, _ := currentUser(c)
	var m market.PayoutMethod
	var err error
	if req.Method == market.PayoutPayPal {
		m, err = h.payouts.UsePayPal(c.UserContext(), u, req.PayPalEmail)
	} else {
		m, err = h.payouts.UseStripe(c.UserContext(), u)
	}
	if err != nil {
		return err
	}
	return c.JSON(m)
}

// onboarding returns a fresh link to Stripe's hosted onboarding of the caller's
// connected account (201). It needs a recent step-up: the seller names their bank there.
func (h *payoutRoutes) onboarding(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	link, err := h.payouts.OnboardingLink(c.UserContext(), u.ID)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(fiber.StatusCreated).JSON(link)
}

// connectWebhook verifies a Stripe Connect webhook (its own endpoint secret) and
// applies it at most once: 400 for a bad signature (a security event), 200 for
// anything verified, 500/503 when storage or Stripe failed (Stripe retries).
func (h *payoutRoutes) connectWebhook(c *fiber.Ctx) error {
	out, err := h.payouts.ApplyConnectWebhook(c.UserContext(), c.Body(), c.Get("Stripe-Signature"))
	if errors.Is(err, market.ErrBadWebhookSignature) {
		securityEvent(c, h.log, "webhook_bad_signature", slog.String("provider", "stripe_connect"))
		return badRequest("Stripe-Signature", "does not verify against the Connect endpoint's signing secret")
	}
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"received": true, "outcome": out})
}

// reviewQueue lists the withdrawals waiting for an admin, oldest first; 404 for
// anyone else.
func (h *payoutRoutes) reviewQueue(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	if !u.IsAdmin {
		return market.ErrNotFound
	}
	limit, after, err := queryPage(c, 50, 200)
	if err != nil {
		return err
	}
	list, err := h.settlement.WithdrawalsInReview(c.UserContext(), u, after, limit+1)
	if err != nil {
		return err
	}
	list, next := pageOf(list, limit, func(w market.Withdrawal) (time.Time, string) { return w.CreatedAt, w.ID })
	return c.JSON(fiber.Map{"withdrawals": list, "next_cursor": next})
}

// approve lets a withdrawal in review go out; 404 for anyone but an admin.
func (h *payoutRoutes) approve(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	if !u.IsAdmin {
		return market.ErrNotFound
	}
	w, err := h.settlement.ApproveWithdrawal(c.UserContext(), u, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(w)
}

type rejectRequest struct {
	Reason string `json:"reason" validate:"required,max=1000"`
}

// reject refuses a withdrawal in review with a reason; 404 for anyone but an admin.
func (h *payoutRoutes) reject(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	if !u.IsAdmin {
		return market.ErrNotFound
	}
	var req rejectRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	w, err := h.settlement.RejectWithdrawal(c.UserContext(), u, c.Params("id"), req.Reason)
	if err != nil {
		return err
	}
	return c.JSON(w)
}
