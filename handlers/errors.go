package handlers

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/media"
	"github.com/gigstream/hub/media/tus"
)

// This file is the one map from errors to HTTP statuses. problemFor sends every
// error a route returns through statusOf; the upload routes first send the media
// pipeline's and the tus engine's errors through uploadProblem. media/ and media/tus
// know nothing of HTTP.

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

// statusChecksumMismatch is tus's own status for a PATCH whose body fails its
// Upload-Checksum.
const statusChecksumMismatch = 460

// uploadStatus maps the upload pipeline's and the tus engine's sentinel errors to their
// HTTP status, tested in this order after the typed errors of uploadProblem. An empty
// detail shows the error's own text without its package prefix.
var uploadStatus = []struct {
	err    error
	status int
	detail string
}{
	{tus.ErrLocked, fiber.StatusLocked, "Another request is still working on this upload; retry shortly."},
	{tus.ErrLeaseLost, fiber.StatusServiceUnavailable, "The upload's lease lapsed before it could be renewed; what was saved is kept. Ask HEAD for the offset and resume."},
	{media.ErrScannerUnavailable, fiber.StatusServiceUnavailable, "The virus scanner is unavailable; nothing was stored. Try again later."},
	{media.ErrStorage, fiber.StatusBadGateway, "The file store failed; nothing was stored. Try again later."},
	{media.ErrSizeMismatch, fiber.StatusBadRequest, ""},
	{media.ErrEmpty, fiber.StatusBadRequest, ""},
	{media.ErrBodyRead, fiber.StatusBadRequest, ""},
	{media.ErrUnknownKind, fiber.StatusBadRequest, ""},
	{tus.ErrNotFound, fiber.StatusNotFound, ""},
	{tus.ErrOffsetMismatch, fiber.StatusConflict, ""},
	{tus.ErrContentType, fiber.StatusUnsupportedMediaType, ""},
	{tus.ErrChecksumMismatch, statusChecksumMismatch, ""},
	{tus.ErrChecksumAlgorithm, fiber.StatusBadRequest, ""},
	{tus.ErrInvalidLength, fiber.StatusBadRequest, ""},
	{tus.ErrInvalidMetadata, fiber.StatusBadRequest, ""},
	{tus.ErrExceedsLength, fiber.StatusRequestEntityTooLarge, ""},
	{tus.ErrFinished, fiber.StatusForbidden, ""},
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
	p.Rule = e.Rule
	if e.Field != "" {
		p.Detail = "The request has a bad field."
		p.Errors = []FieldError{{Field: e.Field, Message: msg}}
	}
	return p
}

// uploadProblem answers the media pipeline's and the tus engine's errors: the typed
// verdicts on the content (infected 422, too large 413, type not allowed 415), then
// uploadStatus. Other errors pass through to problemFor. An infected upload is also
// logged as a security event.
func uploadProblem(c *fiber.Ctx, log *slog.Logger, err error) error {
	var tooLarge *media.TooLargeError
	var badType *media.UnsupportedTypeError
	var infected *media.InfectedError
	switch {
	case errors.As(err, &infected):
		securityEvent(c, log, "upload_rejected", slog.String("signature", infected.Signature))
		return newProblem(fiber.StatusUnprocessableEntity, "The file was rejected by the virus scanner: "+infected.Signature)
	case errors.As(err, &tooLarge):
		return newProblem(fiber.StatusRequestEntityTooLarge, fmt.Sprintf("The file is larger than the %d bytes allowed for this kind.", tooLarge.Limit))
	case errors.As(err, &badType):
		return newProblem(fiber.StatusUnsupportedMediaType, "Files of type "+badType.ContentType+" are not allowed for this kind.")
	case errors.Is(err, errBodyTooSlow):
		c.Context().SetConnectionClose()
		return newProblem(fiber.StatusRequestTimeout, "The upload arrived slower than this node's minimum rate and was cut; "+
			"a resumable (tus) upload keeps what arrived: resume it from HEAD's offset.")
	}
	for _, s := range uploadStatus {
		if errors.Is(err, s.err) {
			if s.status == fiber.StatusLocked || s.status == fiber.StatusServiceUnavailable {
				c.Set(fiber.HeaderRetryAfter, "1")
			}
			return sentinelProblem(err, s.err, s.status, s.detail)
		}
	}
	return err
}

// sentinelProblem is the answer to err, which wraps sentinel: detail, or err's text
// without the package prefix the sentinel's text starts with ("media: ", "tus: ").
func sentinelProblem(err, sentinel error, status int, detail string) *Problem {
	if detail == "" {
		prefix, _, _ := strings.Cut(sentinel.Error(), ": ")
		detail = strings.TrimPrefix(err.Error(), prefix+": ")
	}
	p := newProblem(status, detail)
	if status == statusChecksumMismatch {
		p.Title = "Checksum Mismatch"
	}
	return p
}
