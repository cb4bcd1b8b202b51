package handlers

import (
	"github.com/gofiber/fiber/v2"

	"github.com/gigstream/hub/market"
)

// currencies lists every currency GigStream takes with its ISO 4217 exponent, so
// clients write amounts (integer minor units everywhere in the API) exactly as the
// server's e-mails and invoices do. It is public and the same for everyone.
func currencies(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "public, max-age=86400")
	return c.JSON(fiber.Map{"currencies": market.Currencies()})
}
