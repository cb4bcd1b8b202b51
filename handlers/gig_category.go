package handlers

import (
	"github.com/gofiber/fiber/v2"

	"github.com/gigstream/hub/market"
)

// createCategoryRequest is a new category from an admin; parent is a slug.
type createCategoryRequest struct {
	Slug   string `json:"slug" validate:"required,max=60"`
	Name   string `json:"name" validate:"required,max=400"`
	Parent string `json:"parent" validate:"max=60"`
}

// changeCategoryRequest renames or moves a category; a parent of "" makes it top-level.
type changeCategoryRequest struct {
	Name   *string `json:"name" validate:"omitempty,max=400"`
	Parent *string `json:"parent" validate:"omitempty,max=60"`
}

// categories lists the categories buyers and sellers see (archived ones left out).
func (h *gigRoutes) categories(c *fiber.Ctx) error {
	list, err := h.gigs.Categories(c.UserContext())
	if err != nil {
		return err
	}
	return sendCached(c, fiber.Map{"categories": list}, cachePublicCatalog)
}

// adminCategories lists every category with archived_at; 404 to non-admins.
func (h *gigRoutes) adminCategories(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	list, err := h.gigs.AdminCategories(c.UserContext(), u)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, cachePrivateNoStore)
	return c.JSON(fiber.Map{"categories": list})
}

// createCategory adds a category (201); 409 when the slug is taken.
func (h *gigRoutes) createCategory(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	if !u.IsAdmin {
		return market.ErrNotFound // before reading the body: the route reveals nothing
	}
	var req createCategoryRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	cat, err := h.gigs.CreateCategory(c.UserContext(), u, market.NewCategory{Slug: req.Slug, Name: req.Name, Parent: req.Parent})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(cat)
}

// changeCategory renames or moves the category of the path's slug.
func (h *gigRoutes) changeCategory(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	if !u.IsAdmin {
		return market.ErrNotFound
	}
	var req changeCategoryRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	cat, err := h.gigs.ChangeCategory(c.UserContext(), u, c.Params("slug"), market.CategoryChange(req))
	if err != nil {
		return err
	}
	return c.JSON(cat)
}

// archiveCategory retires the category of the path's slug (409 while it has live
// subcategories); its gigs keep it.
func (h *gigRoutes) archiveCategory(c *fiber.Ctx) error {
	return h.setArchived(c, true)
}

// restoreCategory brings an archived category back (409 under an archived parent).
func (h *gigRoutes) restoreCategory(c *fiber.Ctx) error {
	return h.setArchived(c, false)
}

func (h *gigRoutes) setArchived(c *fiber.Ctx, archived bool) error {
	u, _ := currentUser(c)
	cat, err := h.gigs.ArchiveCategory(c.UserContext(), u, c.Params("slug"), archived)
	if err != nil {
		return err
	}
	return c.JSON(cat)
}
