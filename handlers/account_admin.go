package handlers

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gigstream/hub/market"
)

// searchUsers finds users for an admin by e-mail, username or display name (q),
// oldest first, in keyset pages; 404 to everyone else.
func (h *accountRoutes) searchUsers(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	if !u.IsAdmin {
		return market.ErrNotFound
	}
	limit, after, err := queryPage(c, market.DefaultUserSearchPage, market.MaxUserSearchPage)
	if err != nil {
		return err
	}
	list, err := h.accounts.SearchUsers(c.UserContext(), u, c.Query("q"), after, limit+1)
	if err != nil {
		return err
	}
	list, next := pageOf(list, limit, func(a market.AdminUser) (time.Time, string) { return a.CreatedAt, a.ID })
	c.Set(fiber.HeaderCacheControl, cachePrivateNoStore)
	return c.JSON(fiber.Map{"users": list, "next_cursor": next})
}
