package handlers

import (
	"github.com/gofiber/fiber/v2"

	"github.com/gigstream/hub/market"
)

// favoriteRoutes serve the caller's favorites (saved gigs) under /me/favorites.
type favoriteRoutes struct {
	favorites *market.Favorites
}

// favoriteList is a page of the caller's favorites; next_cursor is null on the last.
type favoriteList struct {
	Favorites  []market.FavoriteGig `json:"favorites"`
	NextCursor *string              `json:"next_cursor"`
}

// add keeps a published gig for the caller (idempotent: 204 every time).
func (h *favoriteRoutes) add(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	if err := h.favorites.Add(c.UserContext(), u.ID, c.Params("gigId")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// remove forgets a gig for the caller (idempotent: 204 whether it was kept or not).
func (h *favoriteRoutes) remove(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	if err := h.favorites.Remove(c.UserContext(), u.ID, c.Params("gigId")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// list pages the caller's favorites, newest first.
func (h *favoriteRoutes) list(c *fiber.Ctx) error {
	limit, after, err := queryPage(c, market.DefaultFavoritePage, market.MaxFavoritePage)
	if err != nil {
		return err
	}
	u, _ := currentUser(c)
	page, err := h.favorites.List(c.UserContext(), u.ID, after, limit)
	if err != nil {
		return err
	}
	out := favoriteList{Favorites: page.Favorites}
	if page.Next != nil {
		next := encodeCursor(page.Next.At, page.Next.ID)
		out.NextCursor = &next
	}
	c.Set(fiber.HeaderCacheControl, cachePrivateNoStore)
	return c.JSON(out)
}
