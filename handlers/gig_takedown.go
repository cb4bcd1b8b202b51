package handlers

import (
	"github.com/gofiber/fiber/v2"

	"github.com/gigstream/hub/market"
)

// takedownRequest is an admin's takedown; the reason is shown to the gig's seller.
type takedownRequest struct {
	Reason string `json:"reason" validate:"required,max=2000"`
}

// takeDown hides the path's gig from everyone but its seller, who sees the reason
// (404 to non-admins, 409 for a draft, 422 naming reason without one).
func (h *gigRoutes) takeDown(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	if !u.IsAdmin {
		return market.ErrNotFound // before reading the body: the route reveals nothing
	}
	var req takedownRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	gig, err := h.gigs.TakeDown(c.UserContext(), u, c.Params("id"), req.Reason)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, cachePrivateNoStore)
	return c.JSON(gig)
}

// restoreGig lifts the path's gig's takedown; it stays paused (409 when not taken down).
func (h *gigRoutes) restoreGig(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	gig, err := h.gigs.Restore(c.UserContext(), u, c.Params("id"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, cachePrivateNoStore)
	return c.JSON(gig)
}
