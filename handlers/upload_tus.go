package handlers

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/media"
	"github.com/gigstream/hub/media/tus"
)

// tusRoutes speak tus 1.0 (core, creation, termination, expiration, checksum sha1) on
// /uploads/tus/, mapping headers to the media/tus engine; each tus upload fills one
// uploads row, whose status follows it (uploading, scanning, clean or rejected).
// Upload-Metadata carries kind (default deliverable), filename, and gig_id,
// conversation_id or order_id as the kind needs.
type tusRoutes struct {
	engine  *tus.Engine
	uploads *market.Uploads
	log     *slog.Logger
	idle    time.Duration
	slots   *uploadSlots // caps on bodies in flight and their minimum rate
	maxSize int64        // Tus-Max-Size: the largest limit of any kind
}

// resumable checks Tus-Resumable on every request but OPTIONS and sets it on answers.
func (h *tusRoutes) resumable(c *fiber.Ctx) error {
	c.Set("Tus-Resumable", tus.Version)
	c.Set(fiber.HeaderCacheControl, "no-store")
	if c.Method() != fiber.MethodOptions && c.Get("Tus-Resumable") != tus.Version {
		c.Set("Tus-Version", tus.Version)
		return newProblem(fiber.StatusPreconditionFailed, "Tus-Resumable must be "+tus.Version+".")
	}
	return c.Next()
}

// options describes the server (tus discovery).
func (h *tusRoutes) options(c *fiber.Ctx) error {
	c.Set("Tus-Version", tus.Version)
	c.Set("Tus-Extension", tus.Extensions)
	c.Set("Tus-Checksum-Algorithm", tus.ChecksumAlgorithm)
	c.Set("Tus-Max-Size", strconv.FormatInt(h.maxSize, 10))
	return c.SendStatus(fiber.StatusNoContent)
}

// create starts an upload (creation): 201 with Location, or 413 past the kind's limit.
func (h *tusRoutes) create(c *fiber.Ctx) error {
	length, err := strconv.ParseInt(c.Get("Upload-Length"), 10, 64)
	if err != nil || length < 0 {
		return uploadProblem(c, h.log, tus.ErrInvalidLength)
	}
	header := c.Get("Upload-Metadata")
	meta, err := tus.ParseMetadata(header)
	if err != nil {
		return uploadProblem(c, h.log, err)
	}
	if meta["kind"] == "" {
		meta["kind"] = string(market.UploadDeliverable)
	}
	in, err := newUploadFrom(c, func(name string, _ ...string) string { return meta[name] })
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	row, err := h.uploads.Start(ctx, in, length)
	if err != nil {
		return uploadProblem(c, h.log, err)
	}
	up, err := h.engine.Create(ctx, tus.CreateRequest{Kind: media.Kind(row.Kind), Owner: row.OwnerID,
		Length: length, Metadata: header, KeyPrefix: market.UploadKeyPrefix(row)})
	if err == nil {
		if err = h.uploads.LinkResumable(ctx, row.ID, up.ID); err != nil {
			_ = h.engine.Terminate(context.WithoutCancel(ctx), up.ID)
		}
	}
	if err != nil {
		_, err = h.uploads.Fail(ctx, row.ID, err)
		return uploadProblem(c, h.log, err)
	}
	if err := h.settle(c, row.ID, up, nil); err != nil {
		return err
	}
	h.describe(c, up)
	c.Set(uploadIDHeader, row.ID)
	c.Location("/uploads/tus/" + up.ID)
	return c.SendStatus(fiber.StatusCreated)
}

// head answers where an upload stands; an upload of someone else is not found. An
// upload whose last byte is in but whose verdict is missing (clamd or S3 failed at the
// last PATCH) is finished first, so that a client resuming with HEAD learns the
// verdict instead of taking the full offset for success: 503 while clamd is still
// down, 422 when infected.
func (h *tusRoutes) head(c *fiber.Ctx) error {
	up, row, err := h.ownWithRow(c)
	if err != nil {
		return err
	}
	c.Set(uploadIDHeader, row.ID)
	if up.Status == tus.StatusScanning {
		// A verdict still missing (clamd or S3 failed at the last PATCH) is tried again.
		if err := h.uploads.FinishResumable(c.UserContext(), row.ID, up.ID); err != nil {
			return uploadProblem(c, h.log, err)
		}
	}
	h.describe(c, up)
	c.Set("Upload-Length", strconv.FormatInt(up.Length, 10))
	if len(up.Metadata) > 0 {
		c.Set("Upload-Metadata", tus.EncodeMetadata(up.Metadata))
	}
	return c.SendStatus(fiber.StatusOK)
}

// patch appends bytes at Upload-Offset (409 at any other offset, changing nothing).
// The PATCH that brings the last byte also gets the scan's verdict: 204 when clean,
// 422 with the signature when infected, 503 when clamd is down.
func (h *tusRoutes) patch(c *fiber.Ctx) error {
	up, row, err := h.ownWithRow(c)
	if err != nil {
		return err
	}
	offset, err := strconv.ParseInt(c.Get("Upload-Offset"), 10, 64)
	if err != nil || offset < 0 {
		return newProblem(fiber.StatusBadRequest, "Upload-Offset must be a whole number.")
	}
	ctx := c.UserContext()
	// The row says scanning once the last byte is really in, never on the promise of a
	// Content-Length that a dropped connection may not keep.
	scanning := func() {
		if err := h.uploads.MarkScanning(ctx, row.ID); err != nil {
			h.log.ErrorContext(ctx, "uploads: mark scanning", "upload_id", row.ID, "err", err)
		}
	}
	body := h.slots.body(c, h.idle)
	next, err := h.engine.Patch(ctx, tus.PatchRequest{ID: up.ID, Offset: offset, OnComplete: scanning,
		ContentType: c.Get(fiber.HeaderContentType), Checksum: c.Get("Upload-Checksum"), Body: body})
	if err != nil && next.Status != tus.StatusRejected {
		c.Context().SetConnectionClose()
		return uploadProblem(c, h.log, err)
	}
	if err := h.settle(c, row.ID, next, err); err != nil {
		return err
	}
	h.describe(c, next)
	return c.SendStatus(fiber.StatusNoContent)
}

// terminate deletes an upload and its bytes (termination).
func (h *tusRoutes) terminate(c *fiber.Ctx) error {
	up, err := h.own(c)
	if err != nil {
		return err
	}
	// A finished upload's object is the stored file itself: terminating it would
	// delete a clean upload under its row, so tus's termination ends at completion.
	if up.Status != tus.StatusUploading {
		return newProblem(fiber.StatusForbidden, "The upload is complete; it can no longer be terminated.")
	}
	if err := h.engine.Terminate(c.UserContext(), up.ID); err != nil {
		return uploadProblem(c, h.log, err)
	}
	// Its uploads row goes too (with a final status event), so no row waits forever.
	if row, err := h.uploads.Resumable(c.UserContext(), up.ID, viewerID(c)); err == nil {
		_, _ = h.uploads.Fail(c.UserContext(), row.ID, market.Errorf(market.CodeGone, "the upload was terminated"))
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// ownWithRow returns the caller's tus upload named in the path and its uploads row.
func (h *tusRoutes) ownWithRow(c *fiber.Ctx) (tus.Upload, market.Upload, error) {
	up, err := h.own(c)
	if err != nil {
		return up, market.Upload{}, err
	}
	row, err := h.uploads.Resumable(c.UserContext(), up.ID, viewerID(c))
	return up, row, err
}

// own returns the caller's upload named in the path; anyone else's is not found.
func (h *tusRoutes) own(c *fiber.Ctx) (tus.Upload, error) {
	up, err := h.engine.Head(c.UserContext(), c.Params("id"))
	if err != nil {
		return tus.Upload{}, uploadProblem(c, h.log, err)
	}
	if up.Owner != viewerID(c) {
		return tus.Upload{}, uploadProblem(c, h.log, tus.ErrNotFound)
	}
	return up, nil
}

// settle records a finished upload on its row (Uploads.SettleResumable); a rejection
// is then the answer.
func (h *tusRoutes) settle(c *fiber.Ctx, rowID string, up tus.Upload, cause error) error {
	err := h.uploads.SettleResumable(c.UserContext(), rowID, tusVerdict(up, cause))
	var rejected *market.RejectedUpload
	if errors.As(err, &rejected) {
		return uploadProblem(c, h.log, err)
	}
	return err
}

// describe sets Upload-Offset and, while unfinished, Upload-Expires.
func (h *tusRoutes) describe(c *fiber.Ctx, up tus.Upload) {
	c.Set("Upload-Offset", strconv.FormatInt(up.Offset, 10))
	if up.Status == tus.StatusUploading {
		c.Set("Upload-Expires", up.ExpiresAt.UTC().Format(http.TimeFormat))
	}
}

// The tus headers browsers must be allowed to send and to read across origins.
const (
	// uploadIDHeader names the uploads row a tus upload fills, on creation and HEAD.
	uploadIDHeader = "X-Upload-Id"

	tusRequestHeaders  = "Tus-Resumable, Upload-Length, Upload-Metadata, Upload-Offset, Upload-Checksum"
	tusResponseHeaders = "Location, Tus-Resumable, Tus-Version, Tus-Extension, Tus-Max-Size, " +
		"Tus-Checksum-Algorithm, X-Upload-Id, Upload-Offset, Upload-Length, Upload-Metadata, Upload-Expires"
)
