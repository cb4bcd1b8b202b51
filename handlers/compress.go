package handlers

import (
	"bytes"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// compressMinBytes is the smallest body compressResponse compresses. Below about a
// kilobyte the saving is a few hundred bytes, less than a TCP segment, and not worth
// the CPU (see BenchmarkCompressCatalogue for the figures).
const compressMinBytes = 1024

// compressResponse compresses the catalogue's larger JSON answers with gzip (or
// deflate) at the fastest level, as Accept-Encoding allows (fasthttp adds Vary), after the
// handler has written them. A compressed representation is no longer byte-equal to
// the one its strong ETag named, so the ETag becomes weak (W/), which If-None-Match
// still matches (see etagMatches). Errors pass through uncompressed.
func compressResponse() fiber.Handler {
	// Not brotli: at its fastest level it took 2.3 times gzip's CPU for no smaller
	// body on a page of gigs (BenchmarkCompressCatalogue).
	compress := fasthttp.CompressHandlerLevel(func(*fasthttp.RequestCtx) {}, fasthttp.CompressBestSpeed)
	return func(c *fiber.Ctx) error {
		if err := c.Next(); err != nil {
			return err
		}
		if len(c.Response().Body()) < compressMinBytes {
			return nil
		}
		compress(c.Context())
		if etag := c.GetRespHeader(fiber.HeaderETag); len(c.Response().Header.ContentEncoding()) > 0 && etag != "" && !bytes.HasPrefix([]byte(etag), []byte("W/")) {
			c.Set(fiber.HeaderETag, "W/"+etag)
		}
		return nil
	}
}
