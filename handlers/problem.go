package handlers

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/gigstream/hub/market"
)

// Problem is an RFC 9457 problem document: every error response of the hub is one,
// sent as application/problem+json.
type Problem struct {
	Type      string       `json:"type"`
	Title     string       `json:"title"`
	Status    int          `json:"status"`
	Detail    string       `json:"detail,omitempty"`
	Instance  string       `json:"instance,omitempty"`
	RequestID string       `json:"request_id,omitempty"`
	Errors    []FieldError `json:"errors,omitempty"`
	// Rule names the business rule that refused the request (market.Error's Rule).
	Rule string `json:"rule,omitempty"`
}

// FieldError names one request field at fault and what is wrong with it.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error makes a Problem usable as an error returned from a handler.
func (p *Problem) Error() string { return p.Title + ": " + p.Detail }

// newProblem returns a Problem with the standard title for status.
func newProblem(status int, detail string) *Problem {
	return &Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail}
}

// problemFor is the one place where errors become HTTP answers. Unknown errors are
// 500s whose detail is never shown to the client.
func problemFor(err error) *Problem {
	var p *Problem
	var fe *fiber.Error
	var de *market.Error
	switch {
	case errors.As(err, &p):
		return p
	case errors.As(err, &fe):
		return newProblem(fe.Code, fe.Message)
	case errors.As(err, &de):
		return domainProblem(de)
	default:
		return newProblem(fiber.StatusInternalServerError, "")
	}
}

// errorHandler answers every error with problem+json, and logs and reports server
// faults (faults may be nil).
func errorHandler(log *slog.Logger, faults FaultReporter) fiber.ErrorHandler {
	faults = orNoFaults(faults)
	return func(c *fiber.Ctx, err error) error {
		p := *problemFor(err)
		p.Instance = c.Path()
		p.RequestID = requestID(c)
		if p.Status >= fiber.StatusInternalServerError {
			attrs := []any{"request_id", p.RequestID, "route", routeLabel(c), "err", err}
			var pe *PanicError
			if errors.As(err, &pe) {
				attrs = append(attrs, "stack", string(pe.Stack))
			}
			log.ErrorContext(c.UserContext(), "request failed", attrs...)
		}
		if reportable(p.Status) {
			faults.ReportFault(c.UserContext(), requestFault(c, err, p.Status))
		}
		if p.Status == fiber.StatusServiceUnavailable && len(c.Response().Header.Peek(fiber.HeaderRetryAfter)) == 0 {
			c.Set(fiber.HeaderRetryAfter, "1") // overload and outages pass: every 503 says when to retry
		}
		c.Set(fiber.HeaderContentType, "application/problem+json")
		return c.Status(p.Status).JSON(p, "application/problem+json")
	}
}
