package handlers

import (
	"github.com/gofiber/fiber/v2"
	"time"

	"github.com/gigstream/hub/market"
)

// settleRoutes serve the final actions on an order (accept, cancel, admin refund) and
// the caller's balance and withdrawals. Every one that moves money needs an
// Idempotency-Key; a retry under it answers the same (Idempotent-Replayed: true).
type settleRoutes struct {
	settlement *market.Settlement
}

// settled answers the order after a final action, marking a replay.
func settled(c *fiber.Ctx, ord market.Order, replayed bool) error {
	markReplayed(c, replayed)
	return c.JSON(ord)
}

// accept completes a delivered order for its buyer: the escrow goes to the seller.
func (h *settleRoutes) accept(c *fiber.Ctx) error {
	key, err := requireKey(c)
	if err != nil {
		return err
	}
	u, _ := currentUser(c)
	ord, replayed, err := h.settlement.Accept(c.UserContext(), c.Params("id"), u.ID, key)
	if err != nil {
		return err
	}
	return settled(c, ord, replayed)
}

// cancel cancels an order: a placed one by either party, a paid one by its seller with
// a full refund.
func (h *settleRoutes) cancel(c *fiber.Ctx) error {
	key, err := requireKey(c)
	if err != nil {
		return err
	}
	u, _ := currentUser(c)
	ord, replayed, err := h.settlement.Cancel(c.UserContext(), c.Params("id"), u.ID, key)
	if err != nil {
		return err
	}
	return settled(c, ord, replayed)
}

type refundRequest struct {
	AmountMinor int64  `json:"amount_minor" validate:"required,min=1"`
	Reason      string `json:"reason" validate:"required,max=1000"`
}

// refund is an admin refunding all or part of a paid order that is not completed.
func (h *settleRoutes) refund(c *fiber.Ctx) error {
	key, err := requireKey(c)
	if err != nil {
		return err
	}
	var req refundRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, _ := currentUser(c)
	ord, replayed, err := h.settlement.Refund(c.UserContext(), c.Params("id"), u, req.AmountMinor, req.Reason, key)
	if err != nil {
		return err
	}
	return settled(c, ord, replayed)
}

// balance returns the caller's balances, one per currency.
func (h *settleRoutes) balance(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	list, err := h.settlement.Balances(c.UserContext(), u.ID)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"balances": list})
}

type withdrawRequest struct {
	AmountMinor int64  `json:"amount_minor" validate:"required,min=1"`
	Currency    string `json:"currency" validate:"required,len=3"`
}

// withdraw pays part of the caller's available balance out (201; a replay is 200).
func (h *settleRoutes) withdraw(c *fiber.Ctx) error {
	key, err := requireKey(c)
	if err != nil {
		return err
	}
	var req withdrawRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, _ := currentUser(c)
	w, replayed, err := h.settlement.Withdraw(c.UserContext(), market.NewWithdrawal{
		UserID: u.ID, AmountMinor: req.AmountMinor, Currency: req.Currency, IdempotencyKey: key,
	})
	if err != nil {
		return err
	}
	markReplayed(c, replayed)
	if replayed {
		return c.JSON(w)
	}
	return c.Status(fiber.StatusCreated).JSON(w)
}

// withdrawals lists the caller's withdrawals, newest first.
func (h *settleRoutes) withdrawals(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	limit, after, err := queryPage(c, 50, 200)
	if err != nil {
		return err
	}
	list, err := h.settlement.Withdrawals(c.UserContext(), u.ID, after, limit+1)
	if err != nil {
		return err
	}
	list, next := pageOf(list, limit, func(w market.Withdrawal) (time.Time, string) { return w.CreatedAt, w.ID })
	return c.JSON(fiber.Map{"withdrawals": list, "next_cursor": next})
}
