package handlers

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// cataloguePage is a JSON body shaped like a page of GET /gigs: n gigs with packages.
func cataloguePage(n int) fiber.Map {
	gigs := make([]fiber.Map, n)
	for i := range gigs {
		gigs[i] = fiber.Map{"id": fmt.Sprintf("00000000-0000-4000-8000-%012d", i), "slug": fmt.Sprintf("logo-design-%d", i),
			"title": "I will design a minimalist logo for your brand", "description": "<p>Three concepts, vector files and a brand sheet.</p>",
			"tags": []string{"logo", "branding", "minimalist"}, "status": "published",
			"category": fiber.Map{"id": "00000000-0000-4000-8000-000000000001", "slug": "graphics-design", "name": "Graphics & Design"},
			"seller":   fiber.Map{"id": "00000000-0000-4000-8000-000000000002", "username": fmt.Sprintf("seller_%d", i), "display_name": "A Seller"},
			"packages": []fiber.Map{{"tier": "basic", "title": "One concept", "price_minor": 4500, "currency": "USD", "delivery_days": 3, "revisions": 1}},
			"rating":   fiber.Map{"count": 12, "mean": 4.8}}
	}
	return fiber.Map{"gigs": gigs, "next_cursor": "eyJ0IjoiMjAyNi0xMi0wM1QxMDowMDowMFoiLCJpZCI6IngifQ"}
}

func compressApp() *fiber.App {
	app := fiber.New()
	app.Get("/page/:n", compressResponse(), func(c *fiber.Ctx) error {
		n, _ := c.ParamsInt("n")
		return sendCached(c, cataloguePage(n), cachePublicSearch)
	})
	return app
}

func TestCompressResponseCompressesLargeJSONAndWeakensItsETag(t *testing.T) {
	app := compressApp()
	req := httptest.NewRequest("GET", "/page/20", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, body := do(t, app, req)
	etag := resp.Header.Get("ETag")
	if resp.Header.Get("Content-Encoding") != "gzip" || !strings.HasPrefix(etag, `W/"`) || !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
		t.Fatalf("large page: encoding %q, ETag %q, Vary %q", resp.Header.Get("Content-Encoding"), etag, resp.Header.Get("Vary"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	want, _ := json.Marshal(cataloguePage(20))
	if err != nil || !bytes.Equal(plain, want) {
		t.Fatalf("gunzipped body differs (%v): %d bytes, want %d", err, len(plain), len(want))
	}
	for _, tag := range []string{etag, strings.TrimPrefix(etag, "W/")} {
		again := httptest.NewRequest("GET", "/page/20", nil)
		again.Header.Set("Accept-Encoding", "gzip")
		again.Header.Set("If-None-Match", tag)
		if resp, _ := do(t, app, again); resp.StatusCode != 304 {
			t.Fatalf("If-None-Match %s: status %d, want 304", tag, resp.StatusCode)
		}
	}

	small := httptest.NewRequest("GET", "/page/0", nil)
	small.Header.Set("Accept-Encoding", "gzip")
	resp, _ = do(t, app, small)
	if resp.Header.Get("Content-Encoding") != "" || strings.HasPrefix(resp.Header.Get("ETag"), "W/") {
		t.Fatalf("small body: encoding %q, ETag %q", resp.Header.Get("Content-Encoding"), resp.Header.Get("ETag"))
	}
	plainReq := httptest.NewRequest("GET", "/page/20", nil)
	if resp, _ := do(t, app, plainReq); resp.Header.Get("Content-Encoding") != "" {
		t.Fatalf("compressed for a client that accepts none: %q", resp.Header.Get("Content-Encoding"))
	}
}

// BenchmarkCompressCatalogue weighs compression on a 20-gig page: bytes on the wire
// (reported as wire-bytes) and the CPU per response, per encoding.
func BenchmarkCompressCatalogue(b *testing.B) {
	raw, _ := json.Marshal(cataloguePage(20))
	for _, enc := range []string{"identity", "gzip", "br"} {
		b.Run(enc, func(b *testing.B) {
			handler := fasthttp.CompressHandlerBrotliLevel(func(ctx *fasthttp.RequestCtx) {
				ctx.SetContentType("application/json")
				ctx.SetBody(raw)
			}, fasthttp.CompressBrotliBestSpeed, fasthttp.CompressBestSpeed)
			var ctx fasthttp.RequestCtx
			size := 0
			for b.Loop() {
				ctx.Request.Reset()
				ctx.Response.Reset()
				ctx.Request.Header.Set("Accept-Encoding", enc)
				handler(&ctx)
				size = len(ctx.Response.Body())
			}
			b.ReportMetric(float64(size), "wire-bytes")
			b.ReportMetric(float64(len(raw)), "json-bytes")
		})
	}
}
