package handlers

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gigstream/hub/market"
)

// refundOwedRoutes serve the admins' list of refunds owed to buyers outside the
// provider (/admin/refunds-owed) and the record of paying one back. Both answer 404
// to everyone but admins.
type refundOwedRoutes struct {
	refunds *market.RefundsOwed
}

// refundOwedPaymentRequest is an admin's record of paying a buyer back.
type refundOwedPaymentRequest struct {
	AmountMinor int64  `json:"amount_minor" validate:"required,min=1"`
	Method      string `json:"method" validate:"required,max=20"`
	Reference   string `json:"reference" validate:"required,max=255"`
}

// list pages the orders whose buyer is still owed money, oldest first.
func (h *refundOwedRoutes) list(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	if !u.IsAdmin {
		return market.ErrNotFound
	}
	limit, after, err := queryPage(c, market.DefaultRefundOwedPage, market.MaxRefundOwedPage)
	if err != nil {
		return err
	}
	list, err := h.refunds.List(c.UserContext(), u, after, limit+1)
	if err != nil {
		return err
	}
	list, next := pageOf(list, limit, func(r market.RefundOwed) (time.Time, string) { return r.Since, r.OrderID })
	c.Set(fiber.HeaderCacheControl, cachePrivateNoStore)
	return c.JSON(fiber.Map{"refunds_owed": list, "next_cursor": next})
}

// pay records a payment of what the order's buyer is owed: 201, or 200 with the
// first record (Idempotent-Replayed: true) on a retry under the same key.
func (h *refundOwedRoutes) pay(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	if !u.IsAdmin {
		return market.ErrNotFound // before reading the body: the route reveals nothing
	}
	key, err := requireKey(c)
	if err != nil {
		return err
	}
	var req refundOwedPaymentRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	p, replayed, err := h.refunds.Pay(c.UserContext(), u, c.Params("id"), req.AmountMinor, req.Method, req.Reference, key)
	if err != nil {
		return err
	}
	markReplayed(c, replayed)
	c.Set(fiber.HeaderCacheControl, cachePrivateNoStore)
	if !replayed {
		c.Status(fiber.StatusCreated)
	}
	return c.JSON(p)
}
