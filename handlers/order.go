package handlers

import (
	"github.com/gofiber/fiber/v2"
	"time"

	"github.com/gigstream/hub/market"
)

// orderRoutes serve orders, their deliveries and revision requests to their buyer and
// seller.
type orderRoutes struct {
	orders *market.Orders
}

type placeOrderRequest struct {
	GigID    string `json:"gig_id" validate:"required,uuid"`
	Tier     string `json:"tier" validate:"required,oneof=basic standard premium"`
	Provider string `json:"provider"` // stripe (default) or paypal; checked by the use case
	// QuoteTotalMinor is the total_minor of the quote the buyer saw; optional. When
	// the total differs now, the order is refused with 409.
	QuoteTotalMinor *int64 `json:"quote_total_minor" validate:"omitempty,min=0"`
}

// place creates an order (201) with its PaymentIntent's client secret (or PayPal
// approve link, with provider paypal); a retry with the
// same Idempotency-Key and body returns the same order (200, Idempotent-Replayed: true).
// A missing key is 400 naming the header.
func (h *orderRoutes) place(c *fiber.Ctx) error {
	key, err := requireKey(c)
	if err != nil {
		return err
	}
	var req placeOrderRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, _ := currentUser(c)
	ord, created, err := h.orders.PlaceOrder(c.UserContext(), market.NewOrder{
		BuyerID: u.ID, GigID: req.GigID, Tier: req.Tier, Provider: req.Provider, QuoteTotalMinor: req.QuoteTotalMinor, IdempotencyKey: key,
	})
	if err != nil {
		return err
	}
	c.Location("/orders/" + ord.ID)
	markReplayed(c, !created)
	if !created {
		return c.JSON(ord)
	}
	return c.Status(fiber.StatusCreated).JSON(ord)
}

// list returns the caller's orders, newest first, optionally only as buyer or seller.
func (h *orderRoutes) list(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	limit, after, err := queryPage(c, 50, 200)
	if err != nil {
		return err
	}
	list, err := h.orders.Orders(c.UserContext(), u.ID, c.Query("role"), after, limit+1)
	if err != nil {
		return err
	}
	list, next := pageOf(list, limit, func(o market.Order) (time.Time, string) { return o.CreatedAt, o.ID })
	return c.JSON(fiber.Map{"orders": list, "next_cursor": next})
}

// show returns one order to its buyer or seller; 404 to anyone else.
func (h *orderRoutes) show(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	ord, err := h.orders.Order(c.UserContext(), c.Params("id"), u.ID)
	if err != nil {
		return err
	}
	return c.JSON(ord)
}

type deliverRequest struct {
	Note      string   `json:"note"`
	UploadIDs []string `json:"upload_ids" validate:"required,min=1,max=20"`
}

// deliver records the seller's next version of the work (201).
func (h *orderRoutes) deliver(c *fiber.Ctx) error {
	var req deliverRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, _ := currentUser(c)
	d, err := h.orders.Deliver(c.UserContext(), market.NewDelivery{
		OrderID: c.Params("id"), UserID: u.ID, Note: req.Note, UploadIDs: req.UploadIDs,
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(d)
}

// deliveries lists every version of the work, newest first, with its files.
func (h *orderRoutes) deliveries(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	list, err := h.orders.Deliveries(c.UserContext(), c.Params("id"), u.ID)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"deliveries": list})
}

type revisionRequest struct {
	Note string `json:"note" validate:"required"`
}

// revision records the buyer's request for changes and returns the order.
func (h *orderRoutes) revision(c *fiber.Ctx) error {
	var req revisionRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, _ := currentUser(c)
	ord, err := h.orders.RequestRevision(c.UserContext(), market.NewRevision{OrderID: c.Params("id"), UserID: u.ID, Note: req.Note})
	if err != nil {
		return err
	}
	return c.JSON(ord)
}

// capturePayPal takes the payment of a PayPal order its buyer approved at PayPal and
// returns the order, paid; an order paid already is returned as it is (200 either way).
func (h *orderRoutes) capturePayPal(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	ord, err := h.orders.CapturePayPal(c.UserContext(), c.Params("id"), u.ID)
	if err != nil {
		return err
	}
	return c.JSON(ord)
}
