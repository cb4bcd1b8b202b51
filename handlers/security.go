package handlers

import (
	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"
)

// contentSecurityPolicy allows only the hub's own scripts, styles and connections.
const contentSecurityPolicy = "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// securityHeaders sets the headers every response carries; HSTS only when the request
// came over HTTPS (directly or through a trusted proxy), since browsers ignore it otherwise.
// An accepted WebSocket upgrade (101) goes without them: from there on the connection
// speaks WebSocket, which no browser applies them to, and a connect would only pay for
// writing them (about 300 bytes and six header allocations each). A refused upgrade
// (401, 403, 429, a panic's 500) still gets them.
func securityHeaders(c *fiber.Ctx) error {
	if !websocket.IsWebSocketUpgrade(c) {
		setSecurityHeaders(c)
		return c.Next()
	}
	defer func() {
		if c.Response().StatusCode() != fiber.StatusSwitchingProtocols {
			setSecurityHeaders(c)
		}
	}()
	return c.Next()
}

func setSecurityHeaders(c *fiber.Ctx) {
	h := &c.Response().Header
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
	if isHTTPS(c) {
		h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
	}
}

// redirectToHTTPS sends plain-HTTP requests to the same URL over HTTPS. Health and
// metrics probes, which come from inside the network, are left alone.
func redirectToHTTPS(c *fiber.Ctx) error {
	if isHTTPS(c) || c.Path() == "/healthz" || c.Path() == "/readyz" || c.Path() == "/metrics" {
		return c.Next()
	}
	// The Host header, not X-Forwarded-Host, which anyone could point elsewhere.
	return c.Redirect("https://"+string(c.Request().Host())+c.OriginalURL(), fiber.StatusPermanentRedirect)
}
