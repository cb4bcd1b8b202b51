package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gen2brain/webp"
)

// pictureView is a ready image as the API shows it (gig media "image", profile "avatar").
type pictureView struct {
	Width, Height int
	Placeholder   string
	Variants      []struct {
		Width, Height int
		Format, URL   string
	}
}

// variantNode starts one seeded node whose job workers look for work often.
func variantNode(t *testing.T) *Node {
	t.Helper()
	env := migratedEnv(t, videoEnv(nil))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if code, out := Run(ctx, bin, env, "seed"); code != 0 {
		t.Fatalf("seed: exit %d\n%s", code, out)
	}
	n := StartNode(t, bin, env)
	n.WaitReady(t)
	return n
}

// photoJPEG is a width × height JPEG with gradients, as a camera photo compresses.
func photoJPEG(t *testing.T, width, height int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	for y := range height {
		for x := range width {
			img.SetRGBA(x, y, color.RGBA{uint8(x * 255 / width), uint8(y * 255 / height), uint8((x + y) % 256), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// waitPicture polls path as token until pick finds a ready picture or the image
// failed; it fails the test after timeout.
func waitPicture(t *testing.T, n *Node, token, path string, pick func(response) (status string, pic *pictureView)) pictureView {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		status, pic := pick(expect(t, as(t, n, token, "GET", path), 200, "GET "+path))
		if pic != nil {
			return *pic
		}
		if status != "pending" || time.Now().After(deadline) {
			t.Fatalf("image at %s: status %q, want ready", path, status)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// getMedia fetches a public media URL, with If-None-Match when etag is not "".
func getMedia(t *testing.T, n *Node, url, etag string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", n.URL+url, nil)
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	r := sendAs(t, req, "")
	return &http.Response{StatusCode: r.status, Header: r.header}, r.body
}

// TestGigImageVariantsAreServedImmutableWhilePublished: a clean gig image gets WebP and
// JPEG variants at 1280, 640 and 320 px with its dimensions and a placeholder, made by
// the media queue; an infected upload is refused and never listed. The variants are
// served at content-addressed URLs with a year-long immutable Cache-Control, a bounded
// CDN lifetime and an ETag (304 on revalidation) only while the gig is published:
// pausing it stops them at once (404), revalidation included.
func TestGigImageVariantsAreServedImmutableWhilePublished(t *testing.T) {
	n := variantNode(t)
	_, sellerTok := appUser(t, n, "imager")
	seller := &client{t: t, base: n.URL, bearer: sellerTok}
	g := createGig(t, seller, gigBody("Product photos retouched for your shop", "graphics-design", pkg("basic", 2500, "USD")))
	photo := photoJPEG(t, 1600, 1200)
	var up uploaded
	expect(t, uploadForm(t, n, sellerTok, map[string]string{"kind": "gig_image", "gig_id": g.ID}, "photo.jpg", photo), 201, "gig image").json(t, &up)
	infected := append(pngBytes(t), "GIGSTREAM-TEST-MALWARE-"+"MARKER-7f3a9c"...)
	expect(t, uploadForm(t, n, sellerTok, map[string]string{"kind": "gig_image", "gig_id": g.ID}, "bad.png", infected), 422, "infected gig image")

	pic := waitPicture(t, n, sellerTok, "/gigs/"+g.ID, func(r response) (string, *pictureView) {
		var v struct {
			Media []struct {
				ID          string
				ImageStatus string `json:"image_status"`
				Image       *pictureView
			}
		}
		r.json(t, &v)
		if len(v.Media) != 1 {
			t.Fatalf("gig media %+v, want only the clean image", v.Media)
		}
		return v.Media[0].ImageStatus, v.Media[0].Image
	})
	if pic.Width != 1600 || pic.Height != 1200 || pic.Placeholder == "" || len(pic.Variants) != 6 {
		t.Fatalf("picture %+v, want 1600×1200, a placeholder and six variants", pic)
	}
	want := []string{"webp 1280x960", "jpeg 1280x960", "webp 640x480", "jpeg 640x480", "webp 320x240", "jpeg 320x240"}
	for i, v := range pic.Variants {
		if got := v.Format + " " + strconv.Itoa(v.Width) + "x" + strconv.Itoa(v.Height); got != want[i] {
			t.Fatalf("variant %d is %s, want %s", i, got, want[i])
		}
	}
	webpURL, jpegURL := pic.Variants[2].URL, pic.Variants[3].URL
	if resp, _ := getMedia(t, n, webpURL, ""); resp.StatusCode != 404 {
		t.Fatalf("a draft's variant: %d, want 404", resp.StatusCode)
	}

	expect(t, seller.do("POST", "/gigs/"+g.ID+"/publish", nil), 200, "publish")
	resp, body := getMedia(t, n, webpURL, "")
	if resp.StatusCode != 200 {
		t.Fatalf("published variant: %d %s", resp.StatusCode, body)
	}
	sum := sha256.Sum256(body)
	if !strings.Contains(webpURL, hex.EncodeToString(sum[:])) {
		t.Fatalf("URL %s does not name the SHA-256 of its bytes", webpURL)
	}
	for header, value := range map[string]string{
		"Cache-Control": "public, max-age=31536000, immutable", "Content-Type": "image/webp",
		"CDN-Cache-Control": "public, max-age=300", "ETag": `"` + hex.EncodeToString(sum[:]) + `"`, "X-Content-Type-Options": "nosniff",
	} {
		if got := resp.Header.Get(header); got != value {
			t.Errorf("%s: %q, want %q", header, got, value)
		}
	}
	if cfg, err := webp.DecodeConfig(bytes.NewReader(body)); err != nil || cfg.Width != 640 || cfg.Height != 480 {
		t.Fatalf("WebP variant decodes to %+v, %v; want 640×480", cfg, err)
	}
	_, jbody := getMedia(t, n, jpegURL, "")
	if cfg, err := jpeg.DecodeConfig(bytes.NewReader(jbody)); err != nil || cfg.Width != 640 || cfg.Height != 480 {
		t.Fatalf("JPEG variant decodes to %+v, %v; want 640×480", cfg, err)
	}
	if resp, _ := getMedia(t, n, webpURL, resp.Header.Get("ETag")); resp.StatusCode != 304 {
		t.Fatalf("revalidation: %d, want 304", resp.StatusCode)
	}

	expect(t, seller.do("POST", "/gigs/"+g.ID+"/pause", nil), 200, "pause")
	if resp, _ := getMedia(t, n, webpURL, ""); resp.StatusCode != 404 {
		t.Fatalf("a paused gig's variant: %d, want 404", resp.StatusCode)
	}
	if resp, _ := getMedia(t, n, webpURL, resp.Header.Get("ETag")); resp.StatusCode != 404 {
		t.Fatalf("a paused gig's variant revalidated: %d, want 404", resp.StatusCode)
	}
}

// TestAvatarVariantsShowOnTheProfile: an avatar gets variants (never upscaled: a
// 500 px image gets 500 and 320), shown on the public profile and served publicly.
func TestAvatarVariantsShowOnTheProfile(t *testing.T) {
	n := variantNode(t)
	_, tok := appUser(t, n, "face")
	c := &client{t: t, base: n.URL, bearer: tok}
	var me struct{ Username string }
	expect(t, c.do("GET", "/me", nil), 200, "me").json(t, &me)
	expect(t, uploadForm(t, n, tok, map[string]string{"kind": "avatar"}, "me.jpg", photoJPEG(t, 500, 500)), 201, "avatar")
	pic := waitPicture(t, n, "", "/users/"+me.Username, func(r response) (string, *pictureView) {
		var p struct{ Avatar *pictureView }
		r.json(t, &p)
		if p.Avatar == nil {
			return "pending", nil
		}
		return "ready", p.Avatar
	})
	if pic.Width != 500 || len(pic.Variants) != 4 || pic.Variants[0].Width != 500 || pic.Variants[2].Width != 320 || pic.Variants[2].Height != 320 {
		t.Fatalf("avatar picture %+v, want 500 and 320 px variants", pic)
	}
	if resp, body := getMedia(t, n, pic.Variants[1].URL, ""); resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/jpeg" || len(body) == 0 {
		t.Fatalf("avatar variant: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
