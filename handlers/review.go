package handlers

import (
	"github.com/gofiber/fiber/v2"

	"github.com/gigstream/hub/market"
)

// reviewRoutes serve reviews: a buyer rates a completed order, its seller answers,
// anyone reads a visible gig's reviews, a seller reads their insights.
type reviewRoutes struct {
	reviews *market.Reviews
}

type createReviewRequest struct {
	Rating  int    `json:"rating"`
	Comment string `json:"comment" validate:"max=20000"`
}

type respondReviewRequest struct {
	Response string `json:"response" validate:"required,max=20000"`
}

// create stores the caller's review of a completed order they bought (201).
func (h *reviewRoutes) create(c *fiber.Ctx) error {
	var req createReviewRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, _ := currentUser(c)
	rev, err := h.reviews.Create(c.UserContext(), market.NewReview{
		OrderID: c.Params("id"), BuyerID: u.ID, Rating: req.Rating, Comment: req.Comment,
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(rev)
}

// show returns the review of an order the caller is a party to.
func (h *reviewRoutes) show(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	rev, err := h.reviews.OfOrder(c.UserContext(), c.Params("id"), u.ID)
	if err != nil {
		return err
	}
	return c.JSON(rev)
}

// respond stores the seller's one answer to the review of their order.
func (h *reviewRoutes) respond(c *fiber.Ctx) error {
	var req respondReviewRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, _ := currentUser(c)
	rev, err := h.reviews.Respond(c.UserContext(), c.Params("id"), u.ID, req.Response)
	if err != nil {
		return err
	}
	return c.JSON(rev)
}

// ofGig returns a page of a gig's reviews (newest first) with the summary of all.
func (h *reviewRoutes) ofGig(c *fiber.Ctx) error {
	limit, page, err := queryPage(c, market.DefaultReviewPage, market.MaxReviewPage)
	if err != nil {
		return err
	}
	var after *market.ReviewCursor
	if page != nil {
		after = &market.ReviewCursor{CreatedAt: page.At, ID: page.ID}
	}
	list, summary, next, err := h.reviews.OfGig(c.UserContext(), c.Params("id"), viewerID(c), after, limit)
	if err != nil {
		return err
	}
	var cursor *string
	if next != nil {
		s := encodeCursor(next.CreatedAt, next.ID)
		cursor = &s
	}
	policy := cachePublicReviews
	if viewerID(c) != "" {
		policy = cachePrivateRevalidate // a seller also sees their paused gig's reviews
	}
	return sendCached(c, fiber.Map{"reviews": list, "summary": summary, "next_cursor": cursor}, policy)
}

// insights returns the caller's review dashboard as a seller.
func (h *reviewRoutes) insights(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	ins, err := h.reviews.Insights(c.UserContext(), u.ID)
	if err != nil {
		return err
	}
	return c.JSON(ins)
}
