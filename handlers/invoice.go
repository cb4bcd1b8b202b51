package handlers

import (
	"fmt"
	"io"

	"github.com/gofiber/fiber/v2"

	"github.com/gigstream/hub/market"
)

// maxInvoicePDF bounds what is read of a stored PDF: one page is a few kilobytes.
const maxInvoicePDF = 10 << 20

// invoiceRoutes serve an order's invoices and credit notes, and their PDFs, to the
// order's buyer, its seller and admins; everyone else gets 404.
type invoiceRoutes struct {
	invoices *market.Invoices
}

// list returns the order's invoice and credit notes, oldest first.
func (h *invoiceRoutes) list(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	list, err := h.invoices.OrderInvoices(c.UserContext(), c.Params("id"), u)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"invoices": list})
}

// pdf streams the stored PDF as an attachment named after its number; 409 while it is
// still being rendered.
func (h *invoiceRoutes) pdf(c *fiber.Ctx) error {
	u, _ := currentUser(c)
	body, inv, err := h.invoices.InvoicePDF(c.UserContext(), c.Params("id"), u)
	if err != nil {
		return err
	}
	pdf, err := io.ReadAll(io.LimitReader(body, maxInvoicePDF))
	body.Close()
	if err != nil {
		return fmt.Errorf("read %s: %w", inv.Number, err)
	}
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+inv.Number+`.pdf"`)
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	return c.Send(pdf)
}
