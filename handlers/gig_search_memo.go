package handlers

import (
	"encoding/json"
	"fmt"
	"sync"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/gigstream/hub/market"
)

// encodedAnswer is a JSON answer as sendCached writes it, kept in a search result's
// memo (market.SearchMemo) so that a cache hit sends bytes instead of encoding,
// hashing and compressing the page again: the body, its strong ETag and, made on the
// first request that accepts it, its gzip form (as compressResponse would make it).
type encodedAnswer struct {
	body   []byte
	etag   string
	gzOnce sync.Once
	gz     []byte
}

// encodeAnswer encodes v as sendCached would.
func encodeAnswer(v any) (*encodedAnswer, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode response: %w", err)
	}
	return &encodedAnswer{body: body, etag: strongETag(body)}, nil
}

// memoAnswer returns the answer kept in memo, or encodes v and keeps it there (a nil
// memo keeps nothing).
func memoAnswer(memo *market.SearchMemo, v func() any) (*encodedAnswer, error) {
	if a, ok := memo.Encoded().(*encodedAnswer); ok {
		return a, nil
	}
	a, err := encodeAnswer(v())
	if err != nil {
		return nil, err
	}
	memo.SetEncoded(a)
	return a, nil
}

// send writes the answer with its ETag and cacheControl (304 when If-None-Match names
// it), gzip-compressed with a weak ETag when the client accepts gzip and
// compressResponse would compress it (which then leaves it alone).
func (a *encodedAnswer) send(c *fiber.Ctx, cacheControl string) error {
	c.Set(fiber.HeaderETag, a.etag)
	c.Set(fiber.HeaderCacheControl, cacheControl)
	if etagMatches(c.Get(fiber.HeaderIfNoneMatch), a.etag) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	if len(a.body) < compressMinBytes || !c.Context().Request.Header.HasAcceptEncoding("gzip") {
		return c.Send(a.body)
	}
	a.gzOnce.Do(func() { a.gz = fasthttp.AppendGzipBytesLevel(nil, a.body, fasthttp.CompressBestSpeed) })
	c.Set(fiber.HeaderETag, "W/"+a.etag) // no longer byte-equal to what the strong one named
	c.Set(fiber.HeaderContentEncoding, "gzip")
	c.Vary(fiber.HeaderAcceptEncoding)
	return c.Send(a.gz)
}
