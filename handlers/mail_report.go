package handlers

import (
	"bytes"
	"errors"
	"log/slog"

	"github.com/gofiber/fiber/v2"

	"github.com/gigstream/hub/market"
)

// mailReportRoutes take the bounces and complaints our inbound mail server receives
// (POST /webhooks/mail-bounce): the raw message, as the MTA's pipe or webhook hands
// it over, behind a bearer token.
type mailReportRoutes struct {
	mail  *market.MailDelivery
	token string // MAIL_BOUNCE_TOKEN; empty answers 404: the hook is off
	log   *slog.Logger
}

// requireToken answers 404 while the hook is off and 401 without the right token.
func (h *mailReportRoutes) requireToken(c *fiber.Ctx) error {
	if h.token == "" {
		return newProblem(fiber.StatusNotFound, "The mail bounce hook is not configured (MAIL_BOUNCE_TOKEN).")
	}
	if !hasBearer(c, h.token) {
		securityEvent(c, h.log, "mail_report_bad_token")
		return newProblem(fiber.StatusUnauthorized, "A valid bearer token is required.")
	}
	return c.Next()
}

// report parses an RFC 3464 delivery status notification or an RFC 5965 feedback
// report and suppresses the addresses it gives up on. It answers 200 with how many
// addresses were suppressed (0 for a delay or a transient failure), and 422 naming
// "body" for a message that is no such report, so the MTA can route it elsewhere.
func (h *mailReportRoutes) report(c *fiber.Ctx) error {
	rep, err := market.ParseMailReport(bytes.NewReader(c.Body()))
	if errors.Is(err, market.ErrNotAReport) {
		return market.FieldError(market.CodeInvalid, "body", err.Error())
	}
	if err != nil {
		return market.FieldError(market.CodeInvalid, "body", "malformed report: "+err.Error())
	}
	n, err := h.mail.RecordReport(c.UserContext(), rep)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"kind": rep.Reason, "suppressed": n})
}
