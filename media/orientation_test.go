package media

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"testing"

	"github.com/buckket/go-blurhash"
	"github.com/gen2brain/webp"
)

// The colours of the displayed test picture's quadrants: four distinct corners tell
// all eight orientations apart (no two turns or mirrors of a square agree on them).
var quadrantColours = [2][2]color.RGBA{
	{{220, 30, 30, 255}, {30, 200, 30, 255}},  // top: red, green
	{{30, 30, 220, 255}, {230, 220, 30, 255}}, // bottom: blue, yellow
}

// displayedPicture is what every test photo must look like once turned: 400 × 240,
// four coloured quadrants.
func displayedPicture() *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, 400, 240))
	for y := range 240 {
		for x := range 400 {
			img.SetRGBA(x, y, quadrantColours[y*2/240][x*2/400])
		}
	}
	return img
}

// storedAs returns the pixels a camera stores for displayed with orientation o: the
// inverse of what a viewer does, written as turns and mirrors of the picture (not with
// the code under test).
func storedAs(displayed *image.RGBA, o Orientation) *image.RGBA {
	w, h := displayed.Rect.Dx(), displayed.Rect.Dy()
	sw, sh := w, h
	if o >= 5 {
		sw, sh = h, w
	}
	stored := image.NewRGBA(image.Rect(0, 0, sw, sh))
	for y := range h {
		for x := range w {
			var sx, sy int
			switch o {
			case 1:
				sx, sy = x, y
			case 2: // the viewer mirrors left to right: so did the camera
				sx, sy = w-1-x, y
			case 3: // stored upside down
				sx, sy = w-1-x, h-1-y
			case 4:
				sx, sy = x, h-1-y
			case 5: // stored mirrored along the main diagonal
				sx, sy = y, x
			case 6: // the viewer turns clockwise, so the camera stored it turned anticlockwise
				sx, sy = y, w-1-x
			case 7:
				sx, sy = h-1-y, w-1-x
			case 8: // stored turned clockwise
				sx, sy = h-1-y, x
			}
			stored.SetRGBA(sx, sy, displayed.RGBAAt(x, y))
		}
	}
	return stored
}

// secretPlace stands for GPS coordinates and the like: it is in the originals' EXIF
// and must be in no variant.
const secretPlace = "51.5007N 0.1246W home of the seller"

// exifTIFF is TIFF data with IFD0 holding an ImageDescription (secretPlace) and the
// Orientation o, in the byte order given.
func exifTIFF(order binary.AppendByteOrder, o Orientation) []byte {
	var t bytes.Buffer
	if order == binary.AppendByteOrder(binary.LittleEndian) {
		t.WriteString("II")
	} else {
		t.WriteString("MM")
	}
	put16 := func(v uint16) { t.Write(order.AppendUint16(nil, v)) }
	put32 := func(v uint32) { t.Write(order.AppendUint32(nil, v)) }
	put16(42)
	put32(8)
	put16(2)
	put16(0x010E) // ImageDescription, ASCII, stored after the IFD
	put16(2)
	put32(uint32(len(secretPlace) + 1))
	put32(8 + 2 + 2*12 + 4)
	put16(exifTagOrientation)
	put16(tiffTypeShort)
	put32(1)
	put16(uint16(o))
	put16(0)
	put32(0) // no next IFD
	t.WriteString(secretPlace + "\x00")
	return t.Bytes()
}

// withJPEGExif inserts an APP1 Exif segment holding tiff right after a JPEG's SOI.
func withJPEGExif(jpg, tiff []byte) []byte {
	payload := append(append([]byte{}, exifHeader...), tiff...)
	seg := append([]byte{0xFF, 0xE1}, binary.BigEndian.AppendUint16(nil, uint16(len(payload)+2))...)
	out := append([]byte{}, jpg[:2]...)
	out = append(append(out, seg...), payload...)
	return append(out, jpg[2:]...)
}

func TestImageProcessorTurnsVariantsAsTheirEXIFOrientationSays(t *testing.T) {
	displayed := displayedPicture()
	for o := OrientationUpright; o <= OrientationRotate270; o++ {
		t.Run(map[bool]string{true: "II", false: "MM"}[o%2 == 0]+"-"+string(rune('0'+o)), func(t *testing.T) {
			order := binary.AppendByteOrder(binary.BigEndian)
			if o%2 == 0 {
				order = binary.LittleEndian
			}
			src := withJPEGExif(encodeJPEG(t, storedAs(displayed, o)), exifTIFF(order, o))
			if !bytes.Contains(src, []byte(secretPlace)) || ImageOrientation(src) != o {
				t.Fatalf("the test original does not carry orientation %d", o)
			}
			res, objects, _, err := processImage(t, src)
			if err != nil {
				t.Fatal(err)
			}
			if res.Width != 400 || res.Height != 240 {
				t.Errorf("recorded dimensions %d×%d, displayed is 400×240", res.Width, res.Height)
			}
			if got := variantSizes(res); len(got) != 4 || got[0] != "webp:400x240" || got[2] != "webp:320x192" {
				t.Errorf("variants %v, want 400×240 and 320×192", got)
			}
			for _, v := range res.Variants {
				checkVariant(t, objects, v)
				assertQuadrants(t, v, readVariant(t, objects, v))
			}
			assertPlaceholderQuadrants(t, res.Placeholder)
		})
	}
}

// readVariant returns a stored variant's bytes after checking they hold no metadata
// of the original.
func readVariant(t *testing.T, objects *ObjectStore, v ImageVariant) []byte {
	t.Helper()
	body, _, err := objects.Open(t.Context(), v.Key)
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	data, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte(secretPlace)) || bytes.Contains(data, []byte("Exif")) || bytes.Contains(data, []byte("EXIF")) {
		t.Errorf("variant %s keeps the original's EXIF", v.Key)
	}
	return data
}

// assertQuadrants decodes a variant and checks the colour at each quadrant's centre.
func assertQuadrants(t *testing.T, v ImageVariant, data []byte) {
	t.Helper()
	var img image.Image
	var err error
	if v.Format == FormatWebP {
		img, err = webp.Decode(bytes.NewReader(data))
	} else {
		img, err = jpeg.Decode(bytes.NewReader(data))
	}
	if err != nil {
		t.Fatalf("variant %s: %v", v.Key, err)
	}
	b := img.Bounds()
	for qy := range 2 {
		for qx := range 2 {
			x, y := b.Min.X+b.Dx()*(2*qx+1)/4, b.Min.Y+b.Dy()*(2*qy+1)/4
			if !near(img.At(x, y), quadrantColours[qy][qx], 40) {
				t.Errorf("variant %s: pixel (%d,%d) is %v, want %v", v.Key, x, y, img.At(x, y), quadrantColours[qy][qx])
			}
		}
	}
}

// assertPlaceholderQuadrants checks that the BlurHash placeholder is upright too: each
// corner of the blurred picture is nearest to its own quadrant's colour.
func assertPlaceholderQuadrants(t *testing.T, hash string) {
	t.Helper()
	img, err := blurhash.Decode(hash, 40, 24, 1)
	if err != nil {
		t.Fatalf("placeholder %q: %v", hash, err)
	}
	corners := [2][2]image.Point{{{1, 1}, {38, 1}}, {{1, 22}, {38, 22}}}
	for qy := range 2 {
		for qx := range 2 {
			p := corners[qy][qx]
			if got := nearestQuadrant(img.At(p.X, p.Y)); got != [2]int{qy, qx} {
				t.Errorf("placeholder corner %v is %v, nearest to quadrant %v's colour", p, img.At(p.X, p.Y), got)
			}
		}
	}
}

func near(c color.Color, want color.RGBA, tolerance int) bool {
	r, g, b, _ := c.RGBA()
	d := func(a uint32, w uint8) bool { return abs(int(a>>8)-int(w)) <= tolerance }
	return d(r, want.R) && d(g, want.G) && d(b, want.B)
}

// nearestQuadrant returns the quadrant (row, column) whose colour is nearest to c.
func nearestQuadrant(c color.Color) [2]int {
	r, g, b, _ := c.RGBA()
	best, bestDist := [2]int{}, -1
	for qy := range 2 {
		for qx := range 2 {
			q := quadrantColours[qy][qx]
			dr, dg, db := int(r>>8)-int(q.R), int(g>>8)-int(q.G), int(b>>8)-int(q.B)
			if d := dr*dr + dg*dg + db*db; bestDist < 0 || d < bestDist {
				best, bestDist = [2]int{qy, qx}, d
			}
		}
	}
	return best
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func TestImageOrientationReadsPNGAndWebPAndIgnoresBrokenTags(t *testing.T) {
	tiff := exifTIFF(binary.BigEndian, OrientationRotate90)
	pngChunk := func(kind string, data []byte) []byte {
		c := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
		return append(append(append(c, kind...), data...), 0, 0, 0, 0) // CRC unchecked here
	}
	png := append([]byte("\x89PNG\r\n\x1a\n"), pngChunk("IHDR", make([]byte, 13))...)
	png = append(png, pngChunk("eXIf", tiff)...)
	riffChunk := func(kind string, data []byte) []byte {
		c := append([]byte(kind), binary.LittleEndian.AppendUint32(nil, uint32(len(data)))...)
		c = append(c, data...)
		if len(data)%2 == 1 {
			c = append(c, 0)
		}
		return c
	}
	body := append(append([]byte("WEBP"), riffChunk("VP8X", make([]byte, 10))...), riffChunk("ICCP", []byte{1, 2, 3})...)
	body = append(body, riffChunk("EXIF", append(append([]byte{}, exifHeader...), tiff...))...)
	webpFile := append(append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...), body...)
	jpg := encodeJPEG(t, displayedPicture())
	badValue := exifTIFF(binary.LittleEndian, 9)
	cases := map[string]struct {
		src  []byte
		want Orientation
	}{
		"png eXIf":              {png, OrientationRotate90},
		"webp EXIF (odd chunk)": {webpFile, OrientationRotate90},
		"jpeg without exif":     {jpg, OrientationUpright},
		"value 9":               {withJPEGExif(jpg, badValue), OrientationUpright},
		"truncated tiff":        {withJPEGExif(jpg, tiff[:20]), OrientationUpright},
		"ifd past the end":      {withJPEGExif(jpg, []byte("MM\x00\x2a\xff\xff\xff\xf0")), OrientationUpright},
		"segment past the end":  {[]byte{0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF, 'E', 'x'}, OrientationUpright},
		"not an image":          {[]byte("hello"), OrientationUpright},
	}
	for name, c := range cases {
		if got := ImageOrientation(c.src); got != c.want {
			t.Errorf("%s: orientation %d, want %d", name, got, c.want)
		}
	}
}

func FuzzImageOrientation(f *testing.F) {
	jpg := encodeJPEG(f, image.NewGray(image.Rect(0, 0, 8, 8)))
	for o := OrientationUpright; o <= OrientationRotate270; o++ {
		f.Add(withJPEGExif(jpg, exifTIFF(binary.LittleEndian, o)))
	}
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBPEXIF\x08\x00\x00\x00MM\x00\x2a\x00\x00\x00\x08"))
	f.Add([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x08eXIfII\x2a\x00\x08\x00\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, src []byte) {
		o := ImageOrientation(src)
		if o < OrientationUpright || o > OrientationRotate270 {
			t.Fatalf("orientation %d out of range", o)
		}
		img := Orient(image.NewGray(image.Rect(0, 0, 3, 2)), o)
		if w := img.Bounds().Dx(); (w == 2) != o.SwapsAxes() {
			t.Fatalf("orientation %d: width %d", o, w)
		}
	})
}
