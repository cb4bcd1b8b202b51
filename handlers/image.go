package handlers

import (
	"cmp"
	"context"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gigstream/hub/market"
)

// imageRoutes serve public image variants at content-addressed URLs
// (/media/{sha256}.webp|.jpg): the node streams the bytes from S3 itself, so the URL
// never expires and caches (browsers, a CDN in front) may keep it.
type imageRoutes struct {
	images *market.Images
	log    *slog.Logger
	// cdnMaxAge bounds how long a shared cache serves a variant before revalidating:
	// the longest a taken-down image stays reachable through a CDN.
	cdnMaxAge time.Duration
	streams   chan struct{} // one token per variant being streamed on this node
}

// newImageRoutes returns the routes with their per-node stream cap.
func newImageRoutes(images *market.Images, log *slog.Logger, cdnMaxAge time.Duration, streams int) *imageRoutes {
	return &imageRoutes{images: images, log: log, cdnMaxAge: cmp.Or(cdnMaxAge, 5*time.Minute),
		streams: make(chan struct{}, cmp.Or(streams, 256))}
}

// mediaStreamTimeout bounds one variant's stream from S3 to the client; variants are
// at most a few hundred kilobytes.
const mediaStreamTimeout = time.Minute

// cacheImmutable is the Cache-Control of a public variant: its bytes never change.
const cacheImmutable = "public, max-age=31536000, immutable"

// variant answers GET /media/{sha256}.{webp|jpg}: 200 with the bytes streamed from S3,
// 304 when If-None-Match names the hash, 404 when no variant with that hash is public
// now (unknown, or its gig unpublished or its owner disabled: checked on every request,
// so the node stops serving it at once), 503 with Retry-After when the node streams
// MediaStreams variants already. The database lookup is over before S3 is opened, so
// no connection is held while bytes flow.
func (h *imageRoutes) variant(c *fiber.Ctx) error {
	hash, format, ok := market.ParseMediaPath(c.Params("file"))
	if !ok || h.images == nil {
		return newProblem(fiber.StatusNotFound, "No such media.")
	}
	etag := `"` + hash + `"`
	if ifNoneMatch(c, etag) {
		if _, err := h.images.CheckPublicVariant(c.UserContext(), hash, format); err != nil {
			return h.problem(c, err)
		}
		h.headers(c, etag)
		return c.SendStatus(fiber.StatusNotModified)
	}
	select {
	case h.streams <- struct{}{}:
	default:
		c.Set(fiber.HeaderRetryAfter, "1")
		return newProblem(fiber.StatusServiceUnavailable, "This node is streaming as many media as it may; try again.")
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.UserContext()), mediaStreamTimeout)
	body, v, err := h.images.OpenPublicVariant(ctx, hash, format)
	if err != nil {
		cancel()
		<-h.streams
		return h.problem(c, err)
	}
	h.headers(c, etag)
	c.Set(fiber.HeaderContentType, market.VariantContentType(v.Format))
	// fasthttp closes the stream once the response is written or the client is gone.
	c.Context().SetBodyStream(&mediaStream{ReadCloser: body, done: func() { cancel(); <-h.streams }}, int(v.Size))
	return nil
}

// headers sets the caching headers of a public variant: a year for browsers, and
// cdnMaxAge for shared caches (CDN-Cache-Control, RFC 9213, and Surrogate-Control),
// which bounds how long a CDN serves an image after its gig is taken down.
func (h *imageRoutes) headers(c *fiber.Ctx, etag string) {
	cdn := "public, max-age=" + strconv.Itoa(int(h.cdnMaxAge.Seconds()))
	c.Set(fiber.HeaderCacheControl, cacheImmutable)
	c.Set("CDN-Cache-Control", cdn)
	c.Set("Surrogate-Control", "max-age="+strconv.Itoa(int(h.cdnMaxAge.Seconds())))
	c.Set(fiber.HeaderETag, etag)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set("Cross-Origin-Resource-Policy", "cross-origin")
}

// problem answers a lookup or S3 error: not found is 404, the rest the usual mapping.
func (h *imageRoutes) problem(c *fiber.Ctx, err error) error {
	if errors.Is(err, market.ErrNotFound) {
		return newProblem(fiber.StatusNotFound, "No such media.")
	}
	return uploadProblem(c, h.log, err)
}

// ifNoneMatch reports whether the request's If-None-Match names etag (or is *).
func ifNoneMatch(c *fiber.Ctx, etag string) bool {
	for _, tag := range strings.Split(c.Get(fiber.HeaderIfNoneMatch), ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == etag || tag == "*" {
			return true
		}
	}
	return false
}

// mediaStream is a variant's S3 body that releases its stream slot and context once,
// when fasthttp closes it.
type mediaStream struct {
	io.ReadCloser
	once sync.Once
	done func()
}

// Close closes the S3 body and releases the slot.
func (s *mediaStream) Close() error {
	err := s.ReadCloser.Close()
	s.once.Do(s.done)
	return err
}
