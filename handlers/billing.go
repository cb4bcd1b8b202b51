package handlers

import (
	"github.com/gofiber/fiber/v2"

	"github.com/gigstream/hub/market"
)

// billingRoutes serve the caller's billing profile, quotes and invoices.
type billingRoutes struct {
	billing *market.Billing
}

// billingProfileRequest is the body of PUT /me/billing-profile: the whole profile.
// Lengths and formats are the domain's rules (market.BillingProfile), which name the
// field at fault; the tags here only bound what is read.
type billingProfileRequest struct {
	Name         string `json:"name" validate:"max=1000"`
	AddressLine1 string `json:"address_line1" validate:"max=1000"`
	AddressLine2 string `json:"address_line2" validate:"max=1000"`
	City         string `json:"city" validate:"max=1000"`
	PostalCode   string `json:"postal_code" validate:"max=1000"`
	Region       string `json:"region" validate:"max=1000"`
	Country      string `json:"country" validate:"max=1000"`
	TaxID        string `json:"tax_id" validate:"max=1000"`
}

// profile returns the caller's billing profile; 404 when they have not given one.
func (h *billingRoutes) profile(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	p, err := h.billing.Profile(c.UserContext(), u.ID)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

// setProfile replaces the caller's billing profile.
func (h *billingRoutes) setProfile(c *fiber.Ctx) error {
	var req billingProfileRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, _ := currentUser(c)
	p, err := h.billing.PutProfile(c.UserContext(), market.BillingProfile{UserID: u.ID, Name: req.Name,
		AddressLine1: req.AddressLine1, AddressLine2: req.AddressLine2, City: req.City, PostalCode: req.PostalCode,
		Region: req.Region, Country: req.Country, TaxID: req.TaxID})
	if err != nil {
		return err
	}
	return c.JSON(p)
}

// quote prices a package of the gig (?tier=, default basic) for the caller: price,
// service fee, tax and total.
func (h *billingRoutes) quote(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	q, err := h.billing.Quote(c.UserContext(), u.ID, c.Params("id"), c.Query("tier", "basic"))
	if err != nil {
		return err
	}
	return c.JSON(q)
}
