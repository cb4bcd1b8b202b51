package handlers

import (
	"math"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/gigstream/hub/market"
)

// gigRoutes serve the catalogue: categories, published gigs for everyone, and a
// seller's own gigs through their life (draft, published, paused).
type gigRoutes struct {
	gigs        *market.Gigs
	views       *market.GigViews // counts views of published gigs (the seller dashboard); nil counts none
	conversions Conversions      // hears of gig views by signed-in users (analytics)
}

// packageRequest is one package of a gig as a seller sends it; the domain checks
// the bounds (market.CheckPackages) and names the field at fault.
type packageRequest struct {
	Tier         string `json:"tier" validate:"required"`
	Title        string `json:"title" validate:"required,max=200"`
	Description  string `json:"description" validate:"max=4000"`
	PriceMinor   int64  `json:"price_minor"`
	Currency     string `json:"currency" validate:"required"`
	DeliveryDays int    `json:"delivery_days"`
	Revisions    int    `json:"revisions"`
}

type createGigRequest struct {
	Title       string           `json:"title" validate:"required,max=500"`
	Description string           `json:"description" validate:"required,max=100000"`
	Category    string           `json:"category" validate:"required,max=60"`
	Tags        []string         `json:"tags" validate:"max=20,dive,max=200"`
	Packages    []packageRequest `json:"packages" validate:"required,dive"`
}

type updateGigRequest struct {
	Title       *string          `json:"title" validate:"omitempty,max=500"`
	Description *string          `json:"description" validate:"omitempty,max=100000"`
	Category    *string          `json:"category" validate:"omitempty,max=60"`
	Tags        *[]string        `json:"tags" validate:"omitempty,max=20,dive,max=200"`
	Packages    []packageRequest `json:"packages" validate:"omitempty,dive"`
}

func packagesOf(list []packageRequest) []market.GigPackage {
	if list == nil {
		return nil
	}
	out := make([]market.GigPackage, len(list))
	for i, p := range list {
		out[i] = market.GigPackage(p)
	}
	return out
}

// create stores a draft gig of the caller, who must be a seller (403 otherwise).
func (h *gigRoutes) create(c *fiber.Ctx) error {
	var req createGigRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, _ := currentUser(c)
	gig, err := h.gigs.Create(c.UserContext(), u, market.NewGig{
		Title: req.Title, Description: req.Description, CategorySlug: req.Category, Tags: req.Tags, Packages: packagesOf(req.Packages),
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(gig)
}

// show returns a gig by id or slug: a published one to anyone, a draft or paused one
// to its seller only (404 to everyone else).
func (h *gigRoutes) show(c *fiber.Ctx) error {
	gig, err := h.gigs.Show(c.UserContext(), c.Params("id"), viewerID(c))
	if err != nil {
		return err
	}
	viewer := viewerID(c)
	if viewer != "" {
		h.conversions.GigViewed(viewer, gig.ID)
	}
	h.views.Count(gig, viewer)
	if gig.Status != market.GigPublished {
		c.Set(fiber.HeaderCacheControl, cachePrivateNoStore)
		return c.JSON(gig)
	}
	return sendCached(c, gig, cachePublicGig)
}

// update changes the caller's own gig; packages, when sent, replace all of them.
func (h *gigRoutes) update(c *fiber.Ctx) error {
	var req updateGigRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, _ := currentUser(c)
	gig, err := h.gigs.Update(c.UserContext(), c.Params("id"), u.ID, market.GigChange{
		Title: req.Title, Description: req.Description, CategorySlug: req.Category, Tags: req.Tags, Packages: packagesOf(req.Packages),
	})
	if err != nil {
		return err
	}
	return c.JSON(gig)
}

// publish shows the caller's own gig to everyone.
func (h *gigRoutes) publish(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	gig, err := h.gigs.Publish(c.UserContext(), c.Params("id"), u.ID)
	if err != nil {
		return err
	}
	return c.JSON(gig)
}

// pause hides the caller's own published gig from everyone else.
func (h *gigRoutes) pause(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	gig, err := h.gigs.Pause(c.UserContext(), c.Params("id"), u.ID)
	if err != nil {
		return err
	}
	return c.JSON(gig)
}

// remove deletes the caller's own draft (409 for a gig that was ever published).
func (h *gigRoutes) remove(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	if err := h.gigs.Delete(c.UserContext(), c.Params("id"), u.ID); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// gigListResponse is a page of the catalogue; total and facets come from the search
// engine and are absent when the database answered alone.
type gigListResponse struct {
	Gigs       []market.Gig      `json:"gigs"`
	NextCursor *string           `json:"next_cursor"`
	Total      *int              `json:"total,omitempty"`
	Facets     *market.GigFacets `json:"facets,omitempty"`
}

// list pages the published gigs, filtered and sorted by the query (see market.GigSort).
// A page from the search engine's result cache comes with its encoded answer once
// one request has made it (see encodedAnswer).
func (h *gigRoutes) list(c *fiber.Ctx) error {
	f, err := gigFilterOf(c)
	if err != nil {
		return err
	}
	page, err := h.gigs.List(c.UserContext(), f)
	if err != nil {
		return err
	}
	answer, err := memoAnswer(page.Memo, func() any { return gigListOf(page) })
	if err != nil {
		return err
	}
	if f.OnlineOnly {
		return answer.send(c, cachePublicRevalidate) // who is online changes by the minute
	}
	return answer.send(c, cachePublicSearch)
}

// gigListOf is the answer of a page of the catalogue.
func gigListOf(page market.GigPage) gigListResponse {
	res := gigListResponse{Gigs: page.Gigs, Total: page.Total, Facets: page.Facets}
	if page.Next != nil {
		s := encodeGigCursor(*page.Next)
		res.NextCursor = &s
	}
	return res
}

// suggest completes what a buyer types in the search box.
func (h *gigRoutes) suggest(c *fiber.Ctx) error {
	limit, err := queryInt(c, "limit", 8, 1, 20)
	if err != nil {
		return err
	}
	list, err := h.gigs.Suggest(c.UserContext(), c.Query("q"), limit)
	if err != nil {
		return err
	}
	return sendCached(c, fiber.Map{"suggestions": list}, cachePublicSearch)
}

// gigFilterOf reads the catalogue's query parameters; a malformed one is a 400 naming it.
func gigFilterOf(c *fiber.Ctx) (market.GigFilter, error) {
	return gigFilterFrom(queryOf(c))
}

// gigFilterFrom reads the catalogue's parameters from get (the query string of GET
// /gigs, or the body of a saved search); a malformed one is a 400 naming it.
func gigFilterFrom(get params) (market.GigFilter, error) {
	f := market.GigFilter{
		CategorySlug: get("category"), Seller: get("seller"), Query: get("q"), Currency: get("currency"),
		Sort: market.GigSort(get("sort")),
	}
	var err error
	if f.Limit, err = paramInt(get, "limit", market.DefaultGigPage, 1, market.MaxGigPage); err != nil {
		return f, err
	}
	minPrice, err := paramInt(get, "min_price", 0, 0, market.MaxPackagePriceMinor)
	if err != nil {
		return f, err
	}
	maxPrice, err := paramInt(get, "max_price", 0, 0, market.MaxPackagePriceMinor)
	if err != nil {
		return f, err
	}
	f.MinPrice, f.MaxPrice = int64(minPrice), int64(maxPrice)
	if f.MaxDeliveryDays, err = paramInt(get, "delivery_days", 0, 1, market.MaxPackageDeliveryDays); err != nil {
		return f, err
	}
	if f.MinRating, err = queryStars(get, "min_rating"); err != nil {
		return f, err
	}
	if f.OnlineOnly, err = queryBool(get, "online"); err != nil {
		return f, err
	}
	if f.Facets, err = queryBool(get, "facets"); err != nil {
		return f, err
	}
	f.After, err = queryGigCursor(get("cursor"), f.EffectiveSort())
	return f, err
}

// queryStars reads a rating of 0 to 5 stars with at most two decimals, as hundredths;
// anything else is a 400 naming the parameter.
func queryStars(get params, name string) (int, error) {
	v := get(name)
	if v == "" {
		return 0, nil
	}
	stars, err := strconv.ParseFloat(v, 64)
	hundredths := math.Round(stars * 100)
	if err != nil || stars < 0 || stars > 5 || math.Abs(hundredths-stars*100) > 1e-6 {
		return 0, badRequest(name, "must be a number of stars from 0 to 5, such as 4.5")
	}
	return int(hundredths), nil
}

// queryBool reads true or false (absent is false); anything else is a 400 naming it.
func queryBool(get params, name string) (bool, error) {
	switch get(name) {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, badRequest(name, "must be true or false")
}
