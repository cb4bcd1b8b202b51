package handlers

import (
	"errors"
	"io"
	"log/slog"
	"mime/multipart"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/media"
)

// uploadRoutes take files in as streams (multipart form or raw body) and hand out
// downloads as short-lived presigned URLs.
type uploadRoutes struct {
	uploads *market.Uploads
	log     *slog.Logger
	idle    time.Duration // longest pause between bytes of an upload body
	slots   *uploadSlots  // caps on bodies in flight and their minimum rate
}

// multipartEnvelope is what a multipart form may add around the file: boundaries, part
// headers and the small fields before it. Content-Length minus this is at least the
// file's size, which is enough to refuse an oversize upload before reading it.
const multipartEnvelope = 64 << 10

// form accepts POST /uploads as multipart/form-data: small fields (kind, gig_id,
// conversation_id, order_id) first, then the file part, streamed through the pipeline
// as it is parsed. Answers 201 with the clean upload; 413, 415, 422, 502, 503 from the
// pipeline (see uploadProblem).
func (h *uploadRoutes) form(c *fiber.Ctx) error {
	boundary := string(c.Request().Header.MultipartFormBoundary())
	if boundary == "" {
		return h.fail(c, newProblem(fiber.StatusUnsupportedMediaType, "The body must be multipart/form-data."))
	}
	mr := multipart.NewReader(h.body(c), boundary)
	fields, file, err := readFormUntilFile(mr)
	if err != nil {
		return h.fail(c, err)
	}
	// The part is never closed: Close would drain the rest of the body, which an
	// oversize or refused upload must not read.
	in, err := newUploadFrom(c, fields.get)
	if err != nil {
		return h.fail(c, err)
	}
	hint := int64(c.Request().Header.ContentLength()) - multipartEnvelope
	return h.ingest(c, in, market.IngestInput{Body: file, DeclaredSize: -1, SizeHint: hint, Filename: file.FileName()})
}

// raw accepts PUT /uploads/raw?kind=…&filename=… whose body is the file itself.
func (h *uploadRoutes) raw(c *fiber.Ctx) error {
	in, err := newUploadFrom(c, c.Query)
	if err != nil {
		return h.fail(c, err)
	}
	declared := int64(c.Request().Header.ContentLength())
	if declared < 0 {
		declared = -1
	}
	return h.ingest(c, in, market.IngestInput{Body: h.body(c), DeclaredSize: declared, SizeHint: declared, Filename: c.Query("filename")})
}

func (h *uploadRoutes) ingest(c *fiber.Ctx, in market.NewUpload, body market.IngestInput) error {
	u, err := h.uploads.Ingest(c.UserContext(), in, body)
	if err != nil {
		return h.fail(c, err)
	}
	c.Location("/uploads/" + u.ID)
	return c.Status(fiber.StatusCreated).JSON(u)
}

// fail answers an upload error, closing the connection: the rest of the body is
// never read.
func (h *uploadRoutes) fail(c *fiber.Ctx, err error) error {
	c.Context().SetConnectionClose()
	return uploadProblem(c, h.log, err)
}

// body is the request body as a stream, with a read deadline that moves on with every
// read, so a stalled client is cut after h.idle whatever the upload's size, and a
// minimum rate (see rateReader).
func (h *uploadRoutes) body(c *fiber.Ctx) io.Reader { return h.slots.body(c, h.idle) }

// formFields are the small fields before the file part.
type formFields map[string]string

func (f formFields) get(name string, _ ...string) string { return f[name] }

// readFormUntilFile reads fields up to the part named "file" and returns it unread.
func readFormUntilFile(mr *multipart.Reader) (formFields, *multipart.Part, error) {
	fields := formFields{}
	for len(fields) < 8 {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, nil, badRequest("file", "is required (the last part of the form)")
		}
		if err != nil {
			return nil, nil, newProblem(fiber.StatusBadRequest, "The multipart body is malformed.")
		}
		if part.FormName() == "file" {
			return fields, part, nil
		}
		value, err := io.ReadAll(io.LimitReader(part, 257))
		if err != nil || len(value) > 256 {
			return nil, nil, badRequest(part.FormName(), "must be at most 256 bytes")
		}
		fields[part.FormName()] = string(value)
	}
	return nil, nil, newProblem(fiber.StatusBadRequest, "Too many form fields before the file.")
}

// newUploadFrom reads kind and the target ids through get (query or form fields).
func newUploadFrom(c *fiber.Ctx, get func(string, ...string) string) (market.NewUpload, error) {
	u, _ := currentUser(c)
	kind, err := market.ParseUploadKind(get("kind"))
	if err != nil {
		return market.NewUpload{}, err
	}
	in := market.NewUpload{OwnerID: u.ID, Kind: kind, Filename: get("filename"),
		GigID: optional(get("gig_id")), ConversationID: optional(get("conversation_id")), OrderID: optional(get("order_id"))}
	return in, nil
}

func optional(s string) *string {
	if s = strings.TrimSpace(s); s == "" {
		return nil
	}
	return &s
}

// show returns an upload's metadata to whoever may see it (anonymous callers too, for
// published gig media), with presigned poster and rendition URLs once a video is
// ready; anyone else gets 404.
func (h *uploadRoutes) show(c *fiber.Ctx) error {
	u, err := h.uploads.Visible(c.UserContext(), c.Params("id"), viewerID(c))
	if err != nil {
		return err
	}
	links, err := h.uploads.VideoLinks(c.UserContext(), u)
	if err != nil {
		return uploadProblem(c, h.log, err)
	}
	return c.JSON(struct {
		market.Upload
		market.VideoLinks
	}{u, links})
}

// download redirects (302) to a presigned URL of a clean upload the caller may see;
// the URL answers with Content-Disposition: attachment and the sniffed type.
func (h *uploadRoutes) download(c *fiber.Ctx) error {
	url, u, err := h.uploads.DownloadURL(c.UserContext(), c.Params("id"), viewerID(c))
	if err != nil {
		return uploadProblem(c, h.log, err)
	}
	c.Set(fiber.HeaderContentDisposition, media.ContentDisposition(u.Filename))
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	return c.Redirect(url, fiber.StatusFound)
}

func viewerID(c *fiber.Ctx) string {
	u, _ := currentUser(c)
	return u.ID
}
