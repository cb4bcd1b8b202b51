package handlers

import (
	"github.com/gofiber/fiber/v2"

	"github.com/gigstream/hub/market"
)

// profileRoutes serve public profiles.
type profileRoutes struct {
	profiles *market.Profiles
}

// show returns the profile of an active user to anyone (404 for a disabled, deleted
// or unknown one), cacheable for a short while because it shows presence.
func (h *profileRoutes) show(c *fiber.Ctx) error {
	p, err := h.profiles.Public(c.UserContext(), c.Params("username"))
	if err != nil {
		return err
	}
	return sendCached(c, p, cachePublicProfile)
}
