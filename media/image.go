package media

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"io"
	"strconv"

	// Decoders of the image types gig images and avatars may be (see imageTypes); WebP
	// is registered by github.com/gen2brain/webp. AVIF originals get no variants.
	_ "image/gif"
	_ "image/png"

	"github.com/buckket/go-blurhash"
	"github.com/gen2brain/webp"
	xdraw "golang.org/x/image/draw"
)

// ErrUnreadableImage means an image cannot be decoded (corrupt, truncated, a type we
// do not decode): trying again cannot help, so the image job records the upload's
// image as failed instead of retrying. Never an HTTP answer.
var ErrUnreadableImage = errors.New("media: image cannot be read")

// ErrImageTooLarge means an image's header declares more pixels than the processing
// budget (ImageConfig.MaxPixels) or a side over MaxImageSide: a decompression bomb or
// simply too big. It is found from the header, before any pixel is decoded.
var ErrImageTooLarge = errors.New("media: image too large to process")

// VariantWidths are the widths of an image's responsive variants. An image narrower
// than a width gets no variant of it, and one narrower than the widest also gets a
// variant at its own width: variants are never upscaled.
var VariantWidths = []int{320, 640, 1280}

// MaxImageSide is the longest side an image may have, whatever its pixel count: a
// 1 × 10⁶ strip passes a pixel budget but is no photo.
const MaxImageSide = 16384

// The formats of image variants: WebP, and JPEG for clients without WebP.
const (
	FormatWebP = "webp"
	FormatJPEG = "jpeg"
)

// ImageObjects is the slice of the ObjectStore the image job uses; *ObjectStore
// implements it.
type ImageObjects interface {
	Open(ctx context.Context, key string) (io.ReadCloser, ObjectInfo, error)
	Put(ctx context.Context, key string, r io.Reader, opts PutOptions) (ObjectInfo, error)
}

// ImageConfig tunes an ImageProcessor. The zero value means the defaults below.
type ImageConfig struct {
	// MaxPixels is the most pixels (width × height, from the header) an image may have
	// to be decoded; a decoded image costs 3 to 4 bytes a pixel. 0 means
	// DefaultImageMaxPixels.
	MaxPixels int64
	// MaxSourceBytes is the largest original read into memory; 0 means 64 MB (the
	// upload limits of images are far below).
	MaxSourceBytes int64
	// WebPQuality and JPEGQuality are the encoders' quality (1–100); 0 means 80.
	WebPQuality, JPEGQuality int
	// WebPMethod is libwebp's speed/size trade-off (0 fast … 6 small); 0 means 2,
	// chosen by measurement (docs/images.md).
	WebPMethod int
}

// DefaultImageMaxPixels is 50 megapixels: every camera photo of today passes (a 12 MP
// phone photo is a quarter of it), and the decoded image stays under about 200 MB.
const DefaultImageMaxPixels = 50_000_000

// ImageVariant is one stored variant: its size, format, object key and the SHA-256 of
// its bytes (which names it in public URLs).
type ImageVariant struct {
	Width, Height int
	Format        string
	Key           string
	SHA256        string
	Size          int64
}

// ImageResult is what the image job made of an original: its dimensions, a BlurHash
// placeholder and the variants, narrowest first, WebP before JPEG at each width.
type ImageResult struct {
	Width, Height int
	Placeholder   string
	Variants      []ImageVariant
}

// ImageProcessor makes an image's responsive variants: it reads the clean original
// from the object store, refuses it from its header when over the pixel budget, and
// stores WebP and JPEG variants under the original's prefix.
type ImageProcessor struct {
	objects ImageObjects
	cfg     ImageConfig
}

// NewImageProcessor returns a processor over objects, tuned by cfg.
func NewImageProcessor(objects ImageObjects, cfg ImageConfig) *ImageProcessor {
	if cfg.MaxPixels <= 0 {
		cfg.MaxPixels = DefaultImageMaxPixels
	}
	if cfg.MaxSourceBytes <= 0 {
		cfg.MaxSourceBytes = 64 * MB
	}
	if cfg.WebPQuality <= 0 {
		cfg.WebPQuality = 80
	}
	if cfg.JPEGQuality <= 0 {
		cfg.JPEGQuality = 80
	}
	if cfg.WebPMethod <= 0 {
		cfg.WebPMethod = 2
	}
	return &ImageProcessor{objects: objects, cfg: cfg}
}

// Process makes the variants of the image under key, turned upright as its EXIF
// orientation says (dimensions and placeholder too), and stores them as prefix +
// "/w{width}.webp" and "/w{width}.jpg": fixed keys, so a retried job overwrites what
// an interrupted one left. It returns ErrImageTooLarge or ErrUnreadableImage (wrapped)
// for an image it will not or cannot decode, ErrInvalidKey for a bad prefix,
// ErrStorage or ErrObjectNotFound from the store, or ctx's error.
func (p *ImageProcessor) Process(ctx context.Context, key, prefix string) (ImageResult, error) {
	prefix, err := cleanKeyPrefix(prefix, "image")
	if err != nil {
		return ImageResult{}, err
	}
	src, err := p.read(ctx, key)
	if err != nil {
		return ImageResult{}, err
	}
	img, err := p.Decode(src)
	if err != nil {
		return ImageResult{}, err
	}
	o := ImageOrientation(src)
	width, height := img.Bounds().Dx(), img.Bounds().Dy()
	if o.SwapsAxes() {
		width, height = height, width
	}
	res := ImageResult{Width: width, Height: height} // as displayed
	for _, v := range PlanVariants(width, height) {
		scaled := resizeOriented(img, v, o)
		for _, format := range []string{FormatWebP, FormatJPEG} {
			made, err := p.store(ctx, prefix, scaled, format)
			if err != nil {
				return ImageResult{}, err
			}
			res.Variants = append(res.Variants, made)
		}
		// The next, narrower variant is scaled from this one (cheaper, as sharp), which
		// is already upright.
		img, o = scaled, OrientationUpright
	}
	res.Placeholder = placeholder(img)
	return res, ctx.Err()
}

// read returns the original's bytes, at most MaxSourceBytes.
func (p *ImageProcessor) read(ctx context.Context, key string) ([]byte, error) {
	body, _, err := p.objects.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	src, err := io.ReadAll(io.LimitReader(body, p.cfg.MaxSourceBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: read %q: %w", ErrStorage, key, err)
	}
	if int64(len(src)) > p.cfg.MaxSourceBytes {
		return nil, fmt.Errorf("%w: the file is over %d bytes", ErrImageTooLarge, p.cfg.MaxSourceBytes)
	}
	return src, nil
}

// Decode decodes an image after checking from its header alone that it is within the
// pixel budget: a small file declaring 100,000 × 100,000 pixels (a decompression
// bomb) is refused with ErrImageTooLarge before any allocation. A file that is no
// image we decode is ErrUnreadableImage.
func (p *ImageProcessor) Decode(src []byte) (image.Image, error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnreadableImage, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("%w: no pixels", ErrUnreadableImage)
	}
	if cfg.Width > MaxImageSide || cfg.Height > MaxImageSide || int64(cfg.Width)*int64(cfg.Height) > p.cfg.MaxPixels {
		return nil, fmt.Errorf("%w: %d × %d pixels (budget %d, longest side %d)",
			ErrImageTooLarge, cfg.Width, cfg.Height, p.cfg.MaxPixels, MaxImageSide)
	}
	img, _, err := image.Decode(bytes.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnreadableImage, err)
	}
	if b := img.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return nil, fmt.Errorf("%w: header and pixels disagree", ErrUnreadableImage)
	}
	return img, nil
}

// VariantSize is the size of one planned variant.
type VariantSize struct{ Width, Height int }

// PlanVariants returns the variant sizes of a width × height image, widest first: each
// of VariantWidths narrower than the image, plus the image's own width when it is
// narrower than the widest; heights keep the aspect ratio (at least one pixel).
func PlanVariants(width, height int) []VariantSize {
	var out []VariantSize
	widest := VariantWidths[len(VariantWidths)-1]
	if width < widest {
		out = append(out, VariantSize{width, height})
	}
	for i := len(VariantWidths) - 1; i >= 0; i-- {
		w := VariantWidths[i]
		if w > width || (w == width && width < widest) {
			continue
		}
		h := max(1, int((int64(height)*int64(w)+int64(width)/2)/int64(width)))
		out = append(out, VariantSize{w, h})
	}
	return out
}

// resizeOriented scales img, stored with orientation o, to the displayed size v and
// turns it upright: the turn costs a copy of the variant, not of the original. The
// result is new pixels, so no metadata of the original (EXIF, GPS) reaches a variant.
func resizeOriented(img image.Image, v VariantSize, o Orientation) image.Image {
	if o.SwapsAxes() {
		return Orient(Resize(img, v.Height, v.Width), o)
	}
	return Orient(Resize(img, v.Width, v.Height), o)
}

// Resize scales img to width × height with Catmull-Rom (sharp, no aliasing when
// shrinking). An image already that size is returned as is.
func Resize(img image.Image, width, height int) image.Image {
	if b := img.Bounds(); b.Dx() == width && b.Dy() == height {
		return img
	}
	dst := image.NewRGBA(image.Rect(0, 0, width, height))
	xdraw.CatmullRom.Scale(dst, dst.Bounds(), img, img.Bounds(), xdraw.Src, nil)
	return dst
}

// store encodes img in format and puts it under prefix.
func (p *ImageProcessor) store(ctx context.Context, prefix string, img image.Image, format string) (ImageVariant, error) {
	var buf bytes.Buffer
	if err := p.encode(&buf, img, format); err != nil {
		return ImageVariant{}, err
	}
	sum := sha256.Sum256(buf.Bytes())
	b := img.Bounds()
	v := ImageVariant{Width: b.Dx(), Height: b.Dy(), Format: format, SHA256: hex.EncodeToString(sum[:]), Size: int64(buf.Len())}
	v.Key = prefix + "/w" + strconv.Itoa(v.Width) + VariantExt(format)
	if _, err := p.objects.Put(ctx, v.Key, &buf, PutOptions{ContentType: VariantContentType(format)}); err != nil {
		return ImageVariant{}, err
	}
	return v, nil
}

// encode writes img as WebP (lossy) or as a baseline JPEG on white (JPEG has no alpha).
func (p *ImageProcessor) encode(w io.Writer, img image.Image, format string) error {
	var err error
	switch format {
	case FormatWebP:
		err = webp.Encode(w, img, webp.Options{Quality: p.cfg.WebPQuality, Method: p.cfg.WebPMethod})
	case FormatJPEG:
		err = jpeg.Encode(w, onWhite(img), &jpeg.Options{Quality: p.cfg.JPEGQuality})
	default:
		err = fmt.Errorf("unknown variant format %q", format)
	}
	if err != nil {
		return fmt.Errorf("encode %s variant: %w", format, err)
	}
	return nil
}

// onWhite flattens an image with transparency onto white; opaque images pass as is.
func onWhite(img image.Image) image.Image {
	if o, ok := img.(interface{ Opaque() bool }); ok && o.Opaque() {
		return img
	}
	dst := image.NewRGBA(img.Bounds())
	draw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.Draw(dst, dst.Bounds(), img, img.Bounds().Min, draw.Over)
	return dst
}

// placeholder is the BlurHash (4 × 3 components, about 28 characters) of img, computed
// on a 32-pixel-wide copy; "" if it cannot be made.
func placeholder(img image.Image) string {
	b := img.Bounds()
	small := Resize(img, 32, max(1, b.Dy()*32/max(1, b.Dx())))
	hash, err := blurhash.Encode(4, 3, small)
	if err != nil {
		return ""
	}
	return hash
}

// VariantExt is the file extension of a variant format, with its dot.
func VariantExt(format string) string {
	if format == FormatWebP {
		return ".webp"
	}
	return ".jpg"
}

// VariantContentType is the media type of a variant format.
func VariantContentType(format string) string {
	if format == FormatWebP {
		return TypeWebP
	}
	return TypeJPEG
}
