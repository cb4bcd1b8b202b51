package handlers

import (
	"crypto/subtle"
	"encoding/json"
	"log/slog"

	"github.com/gofiber/fiber/v2"

	"github.com/gigstream/hub/market"
)

// publishRoutes serve the server-to-server publish API, for other back ends (the web
// front end's server, workers) that want to push live events to channels.
type publishRoutes struct {
	realtime *market.Realtime
	apiKey   string
	log      *slog.Logger
}

type publishRequest struct {
	Channel string          `json:"channel" validate:"required,max=128"`
	Type    string          `json:"type" validate:"required,max=64"`
	Data    json.RawMessage `json:"data" validate:"required"`
	Durable bool            `json:"durable"`
}

// requireAPIKey admits callers with `Authorization: Bearer <PUBLISH_API_KEY>`; with
// no key configured, no one.
func (h *publishRoutes) requireAPIKey(c *fiber.Ctx) error {
	got := []byte(bearerToken(c))
	if h.apiKey == "" || subtle.ConstantTimeCompare(got, []byte(h.apiKey)) != 1 {
		securityEvent(c, h.log, "publish_bad_key")
		return newProblem(fiber.StatusUnauthorized, "A valid publish API key is required.")
	}
	return c.Next()
}

// publish stores (when durable) and fans out one event.
func (h *publishRoutes) publish(c *fiber.Ctx) error {
	var req publishRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	ev, err := h.realtime.Publish(c.UserContext(), market.PublishInput{
		Channel: req.Channel, Type: req.Type, Data: req.Data, Durable: req.Durable,
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(publishReply{Channel: ev.Channel, Seq: ev.Seq, Type: ev.Type})
}

// publishReply is the publish API's answer: a struct, not a map, as it is encoded on
// every publish (no map to build, no keys to sort).
type publishReply struct {
	Channel string `json:"channel"`
	Seq     uint64 `json:"seq"`
	Type    string `json:"type"`
}
