package media

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/gen2brain/webp"
	xdraw "golang.org/x/image/draw"
)

// BenchmarkImageVariants12MP makes every variant of a 12-megapixel (4000 × 3000) JPEG
// as the image job does (decode, resize to 1280, 640 and 320, encode WebP and JPEG),
// without S3. It reports the bytes of all variants and the process's peak RSS (run it
// alone: `go test -run '^$' -bench ImageVariants12MP ./media/`; with -tags nodynamic
// the WebP encoder is the WebAssembly build the static binary uses, without it a
// system libwebp.so when one is installed).
func BenchmarkImageVariants12MP(b *testing.B) {
	src := encodeJPEG(b, photoLike(4000, 3000, false))
	p := NewImageProcessor(nil, ImageConfig{})
	b.Logf("source: %d bytes; webp encoder: %s", len(src), webpEncoder())
	b.ResetTimer()
	var total int
	for range b.N {
		img, err := p.Decode(src)
		if err != nil {
			b.Fatal(err)
		}
		total = 0
		for _, v := range PlanVariants(4000, 3000) {
			img = Resize(img, v.Width, v.Height)
			for _, f := range []string{FormatWebP, FormatJPEG} {
				var buf bytes.Buffer
				if err := p.encode(&buf, img, f); err != nil {
					b.Fatal(err)
				}
				total += buf.Len()
			}
		}
		_ = placeholder(img)
	}
	b.ReportMetric(float64(total), "variant-bytes")
	b.ReportMetric(peakRSSMB(), "peak-RSS-MB")
}

// BenchmarkImageStages times each stage on the 12 MP photo: decode, the first resize
// (4000 → 1280), and the encoders on the 1280 × 960 variant at several settings, with
// the output size of each.
func BenchmarkImageStages(b *testing.B) {
	src := encodeJPEG(b, photoLike(4000, 3000, false))
	p := NewImageProcessor(nil, ImageConfig{})
	full, err := p.Decode(src)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("decode-jpeg-12MP", func(b *testing.B) {
		for range b.N {
			if _, err := jpeg.Decode(bytes.NewReader(src)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("resize-12MP-to-1280", func(b *testing.B) {
		for range b.N {
			Resize(full, 1280, 960)
		}
	})
	b.Run("resize-12MP-to-1280-bilinear", func(b *testing.B) {
		for range b.N {
			dst := image.NewRGBA(image.Rect(0, 0, 1280, 960))
			xdraw.BiLinear.Scale(dst, dst.Bounds(), full, full.Bounds(), xdraw.Src, nil)
		}
	})
	v := Resize(full, 1280, 960)
	for _, method := range []int{0, 2, 4, 6} {
		b.Run("webp-q80-m"+strconv.Itoa(method), func(b *testing.B) {
			encodeBench(b, func(buf *bytes.Buffer) error {
				return webp.Encode(buf, v, webp.Options{Quality: 80, Method: method})
			})
		})
	}
	for _, q := range []int{75, 80, 85} {
		b.Run("jpeg-q"+strconv.Itoa(q), func(b *testing.B) {
			encodeBench(b, func(buf *bytes.Buffer) error { return jpeg.Encode(buf, v, &jpeg.Options{Quality: q}) })
		})
	}
}

func encodeBench(b *testing.B, encode func(*bytes.Buffer) error) {
	var n int
	for range b.N {
		var buf bytes.Buffer
		if err := encode(&buf); err != nil {
			b.Fatal(err)
		}
		n = buf.Len()
	}
	b.ReportMetric(float64(n), "bytes")
}

// webpEncoder says which WebP encoder runs: the system libwebp or the WebAssembly build.
func webpEncoder() string {
	if err := webp.Dynamic(); err != nil {
		return "wasm (" + err.Error() + ")"
	}
	return "libwebp.so"
}

// peakRSSMB is the process's peak resident set (VmHWM) in MB, or -1 where unknown.
func peakRSSMB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb float64
			fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), &kb)
			return kb / 1000
		}
	}
	return -1
}
