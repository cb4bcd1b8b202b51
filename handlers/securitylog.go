package handlers

import (
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"
)

// securityEvent logs one security-relevant event (failed login, CSRF failure, forbidden
// access, rate-limit hit) as a structured line with user, address, route and UTC time.
// Callers never pass passwords, tokens or cookies.
func securityEvent(c *fiber.Ctx, log *slog.Logger, event string, attrs ...slog.Attr) {
	userID := ""
	if u, ok := currentUser(c); ok {
		userID = u.ID
	}
	base := []slog.Attr{
		slog.String("event", event),
		slog.String("user_id", userID),
		slog.String("ip", clientIP(c)),
		slog.String("method", c.Method()),
		slog.String("route", c.Route().Path),
		slog.String("request_id", requestID(c)),
		slog.Time("at", time.Now().UTC()),
	}
	log.LogAttrs(c.UserContext(), slog.LevelWarn, "security event", append(base, attrs...)...)
}
