package handlers

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/media"
	"github.com/gigstream/hub/media/tus"
)

// uploadRoutes take files in as streams (multipart form or raw body) and hand out
// downloads as short-lived presigned URLs.
type uploadRoutes struct {
	uploads *market.Uploads
	log     *slog.Logger
	idle    time.Duration // longest pause between bytes of an upload body
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
// read, so a stalled client is cut after h.idle whatever the upload's size.
func (h *uploadRoutes) body(c *fiber.Ctx) io.Reader {
	return &idleReader{r: c.Context().RequestBodyStream(), conn: c.Context().Conn(), idle: h.idle}
}

type idleReader struct {
	r    io.Reader
	conn net.Conn
	idle time.Duration
}

func (r *idleReader) Read(p []byte) (int, error) {
	if r.conn != nil {
		_ = r.conn.SetReadDeadline(time.Now().Add(r.idle))
	}
	return r.r.Read(p)
}

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

// uploadProblem is the one map from the media pipeline's and the tus engine's errors to
// HTTP answers (their doc comments name the statuses); other errors pass through to the
// app's error handler. An infected upload is also logged as a security event.
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
	case errors.Is(err, media.ErrScannerUnavailable):
		return newProblem(fiber.StatusServiceUnavailable, "The virus scanner is unavailable; nothing was stored. Try again later.")
	case errors.Is(err, media.ErrStorage):
		return newProblem(fiber.StatusBadGateway, "The file store failed; nothing was stored. Try again later.")
	case errors.Is(err, media.ErrSizeMismatch), errors.Is(err, media.ErrEmpty), errors.Is(err, media.ErrBodyRead),
		errors.Is(err, media.ErrUnknownKind):
		return newProblem(fiber.StatusBadRequest, strings.TrimPrefix(err.Error(), "media: "))
	}
	return tusProblem(err)
}

// tusProblem maps the tus engine's errors.
func tusProblem(err error) error {
	status := 0
	switch {
	case errors.Is(err, tus.ErrNotFound):
		status = fiber.StatusNotFound
	case errors.Is(err, tus.ErrOffsetMismatch):
		status = fiber.StatusConflict
	case errors.Is(err, tus.ErrContentType):
		status = fiber.StatusUnsupportedMediaType
	case errors.Is(err, tus.ErrChecksumMismatch):
		status = 460
	case errors.Is(err, tus.ErrChecksumAlgorithm), errors.Is(err, tus.ErrInvalidLength), errors.Is(err, tus.ErrInvalidMetadata):
		status = fiber.StatusBadRequest
	case errors.Is(err, tus.ErrExceedsLength):
		status = fiber.StatusRequestEntityTooLarge
	case errors.Is(err, tus.ErrFinished):
		status = fiber.StatusForbidden
	default:
		return err
	}
	p := newProblem(status, strings.TrimPrefix(err.Error(), "tus: "))
	if status == 460 {
		p.Title = "Checksum Mismatch"
	}
	return p
}
