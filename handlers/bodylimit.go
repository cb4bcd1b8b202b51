package handlers

import (
	"io"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// limitBody enforces the body limit that fasthttp no longer enforces once the app
// streams request bodies (StreamRequestBody): a declared Content-Length over limit is
// refused with 413 before any of the body is read, and a chunked body is read up to
// limit and refused past it. The bytes read become the request's body, so c.Body()
// stays bounded for every route. Upload routes are left alone: they stream their body
// through the media pipeline, which has per-kind limits of its own.
func limitBody(limit int) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if streamsBody(c) {
			return c.Next()
		}
		cl := c.Request().Header.ContentLength()
		switch {
		case cl == 0 || cl == -2 || !c.Request().IsBodyStream():
			return c.Next()
		case cl > limit:
			c.Context().SetConnectionClose()
			return newProblem(fiber.StatusRequestEntityTooLarge, "The body is larger than this route accepts.")
		}
		body, err := io.ReadAll(io.LimitReader(c.Context().RequestBodyStream(), int64(limit)+1))
		if err != nil {
			c.Context().SetConnectionClose()
			return newProblem(fiber.StatusBadRequest, "The body could not be read.")
		}
		if len(body) > limit {
			c.Context().SetConnectionClose()
			return newProblem(fiber.StatusRequestEntityTooLarge, "The body is larger than this route accepts.")
		}
		c.Request().SetBody(body)
		return c.Next()
	}
}

// streamsBody reports whether the request goes to an upload route, which reads its
// body as a stream.
func streamsBody(c *fiber.Ctx) bool {
	switch c.Method() {
	case fiber.MethodPost, fiber.MethodPut, fiber.MethodPatch:
		return c.Path() == "/uploads" || strings.HasPrefix(c.Path(), "/uploads/")
	}
	return false
}
