package media

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	mrand "math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/gen2brain/webp"
)

// photoLike draws a width × height image with smooth gradients, a few soft shapes and
// grain: it compresses roughly as a photo does, unlike flat colour or pure noise.
func photoLike(width, height int, alpha bool) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, width, height))
	rng := mrand.New(mrand.NewPCG(1, 2))
	for y := range height {
		for x := range width {
			fx, fy := float64(x)/float64(width), float64(y)/float64(height)
			r := 128 + 100*math.Sin(fx*7+fy*3)
			g := 128 + 90*math.Cos(fy*9-fx*2)
			b := 128 + 80*math.Sin((fx+fy)*13)
			n := rng.Float64()*24 - 12
			a := uint8(255)
			if alpha && x < width/4 {
				a = uint8(255 * fx * 4)
			}
			img.SetNRGBA(x, y, color.NRGBA{clamp8(r + n), clamp8(g + n), clamp8(b + n), a})
		}
	}
	return img
}

func clamp8(v float64) uint8 { return uint8(max(0, min(255, v))) }

func encodeJPEG(t testing.TB, img image.Image) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodePNG(t testing.TB, img image.Image) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// processImage stores src under a fresh prefix and runs the processor on it.
func processImage(t *testing.T, src []byte) (ImageResult, *ObjectStore, string, error) {
	t.Helper()
	client, bucket := testS3(t, "")
	objects := NewObjectStore(client, bucket)
	prefix := testPrefix(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := objects.Put(ctx, prefix+"/original", bytes.NewReader(src), PutOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err := NewImageProcessor(objects, ImageConfig{}).Process(ctx, prefix+"/original", prefix)
	return res, objects, prefix, err
}

// checkVariant reads a stored variant back and checks its format, size and hash.
func checkVariant(t *testing.T, objects *ObjectStore, v ImageVariant) {
	t.Helper()
	body, _, err := objects.Open(context.Background(), v.Key)
	if err != nil {
		t.Fatalf("variant %s: %v", v.Key, err)
	}
	data, _ := io.ReadAll(body)
	body.Close()
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != v.SHA256 || int64(len(data)) != v.Size {
		t.Errorf("variant %s: hash/size do not match the stored bytes", v.Key)
	}
	var cfg image.Config
	switch v.Format {
	case FormatWebP:
		cfg, err = webp.DecodeConfig(bytes.NewReader(data))
	case FormatJPEG:
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(data))
	}
	if err != nil {
		t.Fatalf("variant %s is no %s: %v", v.Key, v.Format, err)
	}
	if cfg.Width != v.Width || cfg.Height != v.Height {
		t.Errorf("variant %s is %d×%d, recorded %d×%d", v.Key, cfg.Width, cfg.Height, v.Width, v.Height)
	}
}

func variantSizes(res ImageResult) []string {
	var out []string
	for _, v := range res.Variants {
		out = append(out, v.Format+":"+strconv.Itoa(v.Width)+"x"+strconv.Itoa(v.Height))
	}
	return out
}

func TestImageProcessorMakesWebPAndJPEGVariantsOfAJPEG(t *testing.T) {
	res, objects, _, err := processImage(t, encodeJPEG(t, photoLike(2000, 1500, false)))
	if err != nil {
		t.Fatal(err)
	}
	if res.Width != 2000 || res.Height != 1500 {
		t.Errorf("dimensions %d×%d, want 2000×1500", res.Width, res.Height)
	}
	want := []string{"webp:1280x960", "jpeg:1280x960", "webp:640x480", "jpeg:640x480", "webp:320x240", "jpeg:320x240"}
	if got := variantSizes(res); !equalStrings(got, want) {
		t.Fatalf("variants %v, want %v", got, want)
	}
	for _, v := range res.Variants {
		checkVariant(t, objects, v)
	}
	if len(res.Placeholder) < 20 || len(res.Placeholder) > 40 {
		t.Errorf("placeholder %q is no 4×3 BlurHash", res.Placeholder)
	}
}

func TestImageProcessorNeverUpscalesAndFlattensAlpha(t *testing.T) {
	res, objects, _, err := processImage(t, encodePNG(t, photoLike(500, 300, true)))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"webp:500x300", "jpeg:500x300", "webp:320x192", "jpeg:320x192"}
	if got := variantSizes(res); !equalStrings(got, want) {
		t.Fatalf("variants %v, want %v", got, want)
	}
	for _, v := range res.Variants {
		checkVariant(t, objects, v)
	}
}

func TestPlanVariants(t *testing.T) {
	cases := []struct {
		w, h int
		want []VariantSize
	}{
		{1280, 720, []VariantSize{{1280, 720}, {640, 360}, {320, 180}}},
		{640, 640, []VariantSize{{640, 640}, {320, 320}}},
		{100, 50, []VariantSize{{100, 50}}},
		{4000, 10, []VariantSize{{1280, 3}, {640, 2}, {320, 1}}},
	}
	for _, c := range cases {
		got := PlanVariants(c.w, c.h)
		if len(got) != len(c.want) {
			t.Errorf("%d×%d: %v, want %v", c.w, c.h, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%d×%d: %v, want %v", c.w, c.h, got, c.want)
			}
		}
	}
}

// pngBomb is a valid small PNG whose header declares width × height pixels.
func pngBomb(t testing.TB, width, height uint32) []byte {
	src := encodePNG(t, image.NewGray(image.Rect(0, 0, 8, 8)))
	ihdr := src[8+8 : 8+8+13] // after the signature, the IHDR chunk's length and type
	binary.BigEndian.PutUint32(ihdr[0:], width)
	binary.BigEndian.PutUint32(ihdr[4:], height)
	binary.BigEndian.PutUint32(src[8+8+13:], crc32.ChecksumIEEE(src[8+4:8+8+13]))
	return src
}

func TestImageProcessorRefusesADecompressionBombFromItsHeader(t *testing.T) {
	bomb := pngBomb(t, 100_000, 100_000)
	if _, err := NewImageProcessor(nil, ImageConfig{}).Decode(bomb); !errors.Is(err, ErrImageTooLarge) {
		t.Fatalf("Decode(10¹⁰-pixel PNG) = %v, want ErrImageTooLarge", err)
	}
	if _, err := NewImageProcessor(nil, ImageConfig{}).Decode(pngBomb(t, 20_000, 10)); !errors.Is(err, ErrImageTooLarge) {
		t.Fatalf("Decode(20000×10 PNG) = %v, want ErrImageTooLarge (side over MaxImageSide)", err)
	}
	res, _, prefix, err := processImage(t, bomb)
	if !errors.Is(err, ErrImageTooLarge) || len(res.Variants) != 0 {
		t.Fatalf("Process(bomb) = %v, %v; want ErrImageTooLarge and nothing", res, err)
	}
	client, bucket := testS3(t, "")
	if left := leftovers(t, client, bucket, prefix+"/w"); len(left) != 0 {
		t.Errorf("variants stored for a bomb: %v", left)
	}
}

func TestImageProcessorCallsGarbageUnreadable(t *testing.T) {
	for name, src := range map[string][]byte{
		"text":           []byte("hello, this is not an image at all"),
		"truncated JPEG": encodeJPEG(t, photoLike(200, 100, false))[:400],
	} {
		if _, err := NewImageProcessor(nil, ImageConfig{}).Decode(src); !errors.Is(err, ErrUnreadableImage) {
			t.Errorf("Decode(%s) = %v, want ErrUnreadableImage", name, err)
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
