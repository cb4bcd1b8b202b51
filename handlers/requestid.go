package handlers

import (
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

const (
	headerRequestID = "X-Request-Id"
	localRequestID  = "request_id"
)

// withRequestID gives every request an id, echoed in the X-Request-Id header and in
// logs. A caller's id is kept only when it is short and plain, since headers are hostile.
func withRequestID(c *fiber.Ctx) error {
	id := c.Get(headerRequestID)
	if !validRequestID(id) {
		id = uuid.NewString()
	}
	c.Locals(localRequestID, id)
	c.Set(headerRequestID, id)
	return c.Next()
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
		if !ok {
			return false
		}
	}
	return true
}

// requestID returns the id withRequestID gave this request.
func requestID(c *fiber.Ctx) string {
	id, _ := c.Locals(localRequestID).(string)
	return id
}
