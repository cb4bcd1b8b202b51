package handlers

import (
	"strings"

	"github.com/gofiber/fiber/v2"
)

// idempotencyHeader carries the client's key on every request that must happen once
// (placing an order, the final actions, withdrawals, dispute steps).
const idempotencyHeader = "Idempotency-Key"

// requireKey returns the request's Idempotency-Key, or a 400 naming the header.
func requireKey(c *fiber.Ctx) (string, error) {
	key := strings.TrimSpace(c.Get(idempotencyHeader))
	if key == "" {
		return "", badRequest(idempotencyHeader, "is required: a unique value per request, sent again on retries")
	}
	return key, nil
}

// markReplayed tells the client, with Idempotent-Replayed: true, that the answer is the
// one an earlier request under the same Idempotency-Key got.
func markReplayed(c *fiber.Ctx, replayed bool) {
	if replayed {
		c.Set("Idempotent-Replayed", "true")
	}
}
