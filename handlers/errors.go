package handlers

import (
	"github.com/gofiber/fiber/v2"

	"github.com/gigstream/hub/market"
)

// statusOf maps each domain error code to its one HTTP status.
var statusOf = map[market.Code]int{
	market.CodeInvalid:      fiber.StatusUnprocessableEntity,
	market.CodeConflict:     fiber.StatusConflict,
	market.CodeUnauthorized: fiber.StatusUnauthorized,
	market.CodeForbidden:    fiber.StatusForbidden,
	market.CodeNotFound:     fiber.StatusNotFound,
	market.CodeRateLimited:  fiber.StatusTooManyRequests,
	market.CodeUnavailable:  fiber.StatusServiceUnavailable,
	market.CodeGone:         fiber.StatusGone,
}

// domainProblem renders a domain Error, with its field when it names one.
func domainProblem(e *market.Error) *Problem {
	status, ok := statusOf[e.Code]
	if !ok {
		status = fiber.StatusInternalServerError
	}
	msg := e.Message
	if msg == "" && e.Code == market.CodeNotFound {
		msg = "The resource does not exist."
	}
	p := newProblem(status, msg)
	if e.Field != "" {
		p.Detail = "The request has a bad field."
		p.Errors = []FieldError{{Field: e.Field, Message: msg}}
	}
	return p
}
