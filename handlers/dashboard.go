package handlers

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gigstream/hub/market"
)

// dashboardRoutes serve a seller's private figures.
type dashboardRoutes struct {
	dashboard *market.Dashboard
}

// seller returns the caller's seller dashboard (403 for a buyer only).
func (h *dashboardRoutes) seller(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	out, err := h.dashboard.Seller(c.UserContext(), u, time.Now())
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, cachePrivateNoStore)
	return c.JSON(out)
}
