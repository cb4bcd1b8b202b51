package handlers

import (
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"
)

// withAccessLog writes one structured line per request. It logs the route pattern and
// the path without its query string, and never headers or bodies, so no token or
// password reaches the logs.
func withAccessLog(log *slog.Logger) fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		err := c.Next()
		status := c.Response().StatusCode()
		if err != nil {
			status = problemFor(err).Status
		}
		level := slog.LevelInfo
		if status >= fiber.StatusInternalServerError {
			level = slog.LevelError
		}
		log.LogAttrs(c.UserContext(), level, "request",
			slog.String("request_id", requestID(c)),
			slog.String("method", c.Method()),
			slog.String("route", routeLabel(c)),
			slog.String("path", c.Path()),
			slog.Int("status", status),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			slog.String("ip", clientIP(c)),
		)
		return err
	}
}
