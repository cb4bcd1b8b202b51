package handlers

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// The Cache-Control of public reads. Short lifetimes bound how long a cache may show a
// gig after its seller paused it or an admin took it down, and presence (online now)
// on profiles and the online filter; ETags make the revalidation after them cheap.
const (
	cachePublicGig      = "public, max-age=60"
	cachePublicProfile  = "public, max-age=30"
	cachePublicSearch   = "public, max-age=15"
	cachePublicCatalog  = "public, max-age=300"
	cachePublicReviews  = "public, max-age=60"
	cachePrivateNoStore = "private, no-store"
	// cacheRevalidate lets a cache keep a representation but ask every time (a 304
	// when its ETag still matches): for answers that depend on presence (the online
	// filter) or on who asks (a signed-in viewer may see their own unpublished gig's
	// reviews).
	cachePublicRevalidate  = "public, no-cache"
	cachePrivateRevalidate = "private, no-cache"
)

// sendCached writes v as JSON with a strong ETag (a hash of the body) and the given
// Cache-Control; a request whose If-None-Match names the ETag gets 304 without a body.
// The body is built in full either way: the ETag saves the bytes on the wire.
func sendCached(c *fiber.Ctx, v any, cacheControl string) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	return sendCachedBody(c, body, fiber.MIMEApplicationJSON, cacheControl)
}

// sendCachedBody is sendCached for a body already built, of the given content type.
func sendCachedBody(c *fiber.Ctx, body []byte, contentType, cacheControl string) error {
	etag := strongETag(body)
	c.Set(fiber.HeaderETag, etag)
	c.Set(fiber.HeaderCacheControl, cacheControl)
	if etagMatches(c.Get(fiber.HeaderIfNoneMatch), etag) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, contentType)
	return c.Send(body)
}

// strongETag is the strong ETag of body: a hash of its bytes.
func strongETag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:15]) + `"`
}

// etagMatches applies If-None-Match's weak comparison (RFC 9110 §13.1.2): "*" or any
// listed tag equal to etag once a W/ prefix is dropped.
func etagMatches(header, etag string) bool {
	for _, tag := range strings.Split(header, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == "*" || (tag != "" && tag == etag) {
			return true
		}
	}
	return false
}
