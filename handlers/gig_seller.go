package handlers

import (
	"github.com/gofiber/fiber/v2"

	"github.com/gigstream/hub/market"
)

// mine pages the caller's own gigs in every status (or the one in ?status=), newest
// created first, so a seller finds their drafts and paused gigs.
func (h *gigRoutes) mine(c *fiber.Ctx) error {
	limit, after, err := queryPage(c, market.DefaultGigPage, market.MaxGigPage)
	if err != nil {
		return err
	}
	f := market.SellerGigFilter{Status: market.GigStatus(c.Query("status")), Limit: limit}
	if after != nil {
		f.After = &market.SellerGigCursor{CreatedAt: after.At, ID: after.ID}
	}
	u, _ := currentUser(c)
	list, next, err := h.gigs.Mine(c.UserContext(), u.ID, f)
	if err != nil {
		return err
	}
	var cursor *string
	if next != nil {
		s := encodeCursor(next.CreatedAt, next.ID)
		cursor = &s
	}
	return c.JSON(fiber.Map{"gigs": list, "next_cursor": cursor})
}
