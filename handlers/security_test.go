package handlers

import (
	"net/http/httptest"
	"testing"

	"github.com/gofiber/fiber/v2"
)

// TestSecurityHeadersSkipOnlyAcceptedUpgrades: an ordinary response and a refused
// WebSocket upgrade carry the security headers; an accepted upgrade (101) does not.
func TestSecurityHeadersSkipOnlyAcceptedUpgrades(t *testing.T) {
	app := fiber.New()
	app.Use(securityHeaders)
	app.Get("/ws", func(c *fiber.Ctx) error {
		if c.Query("refuse") != "" {
			return fiber.ErrUnauthorized
		}
		c.Set(fiber.HeaderUpgrade, "websocket")
		c.Set(fiber.HeaderConnection, "Upgrade")
		return c.SendStatus(fiber.StatusSwitchingProtocols)
	})
	app.Get("/page", func(c *fiber.Ctx) error { return c.SendString("ok") })
	for _, tc := range []struct {
		path    string
		upgrade bool
		status  int
		headers bool
	}{
		{"/page", false, 200, true},
		{"/ws?refuse=1", true, 401, true},
		{"/ws", true, 101, false},
	} {
		req := httptest.NewRequest("GET", tc.path, nil)
		if tc.upgrade {
			req.Header.Set("Connection", "Upgrade")
			req.Header.Set("Upgrade", "websocket")
		}
		resp, err := app.Test(req, -1)
		if err != nil {
			t.Fatalf("GET %s: %v", tc.path, err)
		}
		_ = resp.Body.Close()
		got := resp.Header.Get("Content-Security-Policy") != "" && resp.Header.Get("X-Content-Type-Options") == "nosniff"
		if resp.StatusCode != tc.status || got != tc.headers {
			t.Errorf("GET %s (upgrade %v): status %d, security headers %v; want %d, %v", tc.path, tc.upgrade, resp.StatusCode, got, tc.status, tc.headers)
		}
	}
}
