package media

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/draw"
)

// Orientation is an image's EXIF Orientation tag (TIFF tag 0x0112): how the stored
// pixels must be turned to show the picture as it was taken. Phones store a portrait
// photo as landscape pixels with Orientation 6 instead of rotating the pixels; every
// browser turns such an original when it shows it, so the variants must be turned too.
type Orientation int

// The eight EXIF orientations, named by what the stored image needs to be displayed.
const (
	OrientationUpright        Orientation = 1 // as stored
	OrientationFlipHorizontal Orientation = 2 // mirrored left to right
	OrientationRotate180      Orientation = 3 // upside down
	OrientationFlipVertical   Orientation = 4 // mirrored top to bottom
	OrientationTranspose      Orientation = 5 // mirrored along the main diagonal
	OrientationRotate90       Orientation = 6 // turned 90° clockwise
	OrientationTransverse     Orientation = 7 // mirrored along the other diagonal
	OrientationRotate270      Orientation = 8 // turned 90° counter-clockwise
)

// The parser's bounds: hostile files cannot make it loop or allocate.
const (
	maxMetadataSegments = 256 // JPEG segments, PNG or RIFF chunks looked at
	maxIFDEntries       = 512 // entries read from IFD0
	exifTagOrientation  = 0x0112
	tiffTypeShort       = 3
)

var exifHeader = []byte("Exif\x00\x00")

// SwapsAxes reports whether displaying the image swaps its width and height (5–8).
func (o Orientation) SwapsAxes() bool { return o >= OrientationTranspose && o <= OrientationRotate270 }

// ImageOrientation returns the EXIF orientation of a JPEG (APP1 Exif), PNG (eXIf) or
// WebP (RIFF EXIF chunk) file. A file without the tag, with a value outside 1–8, of
// another type or malformed in any way is OrientationUpright: the tag is advice, and
// a broken one must not fail an image that decodes. It never reads outside src and
// looks at a bounded number of segments and entries, whatever src says.
func ImageOrientation(src []byte) Orientation {
	var tiff []byte
	switch {
	case bytes.HasPrefix(src, []byte{0xFF, 0xD8}):
		tiff = jpegExif(src[2:])
	case bytes.HasPrefix(src, []byte("\x89PNG\r\n\x1a\n")):
		tiff = pngExif(src[8:])
	case len(src) >= 12 && string(src[:4]) == "RIFF" && string(src[8:12]) == "WEBP":
		tiff = bytes.TrimPrefix(webpExif(src[12:]), exifHeader) // some writers keep the JPEG prefix
	}
	return tiffOrientation(tiff)
}

// jpegExif returns the TIFF data of the first APP1 Exif segment before the scan.
func jpegExif(b []byte) []byte {
	for range maxMetadataSegments {
		for len(b) > 0 && b[0] == 0xFF && len(b) > 1 && b[1] == 0xFF {
			b = b[1:] // fill bytes
		}
		if len(b) < 2 || b[0] != 0xFF {
			return nil
		}
		marker := b[1]
		b = b[2:]
		if marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7) {
			continue // standalone markers carry no length
		}
		if marker == 0xDA || marker == 0xD9 || len(b) < 2 {
			return nil // start of scan or end of image: no metadata after this
		}
		n := int(binary.BigEndian.Uint16(b))
		if n < 2 || n > len(b) {
			return nil
		}
		payload := b[2:n]
		if marker == 0xE1 && bytes.HasPrefix(payload, exifHeader) {
			return payload[len(exifHeader):]
		}
		b = b[n:]
	}
	return nil
}

// pngExif returns the data of the eXIf chunk, if any.
func pngExif(b []byte) []byte {
	for range maxMetadataSegments {
		if len(b) < 12 {
			return nil
		}
		n := binary.BigEndian.Uint32(b)
		if uint64(n) > uint64(len(b)-12) {
			return nil
		}
		kind, data := string(b[4:8]), b[8:8+n]
		if kind == "eXIf" {
			return data
		}
		if kind == "IEND" {
			return nil
		}
		b = b[12+n:]
	}
	return nil
}

// webpExif returns the data of the RIFF EXIF chunk, if any.
func webpExif(b []byte) []byte {
	for range maxMetadataSegments {
		if len(b) < 8 {
			return nil
		}
		n := binary.LittleEndian.Uint32(b[4:])
		if uint64(n) > uint64(len(b)-8) {
			return nil
		}
		if string(b[:4]) == "EXIF" {
			return b[8 : 8+n]
		}
		skip := uint64(8) + uint64(n) + uint64(n&1) // chunks are padded to even sizes
		if skip > uint64(len(b)) {
			return nil
		}
		b = b[skip:]
	}
	return nil
}

// tiffOrientation reads the Orientation tag from IFD0 of TIFF data.
func tiffOrientation(t []byte) Orientation {
	if len(t) < 8 {
		return OrientationUpright
	}
	var order binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		order = binary.LittleEndian
	case "MM":
		order = binary.BigEndian
	default:
		return OrientationUpright
	}
	if order.Uint16(t[2:]) != 42 {
		return OrientationUpright
	}
	ifd := uint64(order.Uint32(t[4:]))
	if ifd+2 > uint64(len(t)) {
		return OrientationUpright
	}
	count := min(int(order.Uint16(t[ifd:])), maxIFDEntries)
	for i := range count {
		at := ifd + 2 + 12*uint64(i)
		if at+12 > uint64(len(t)) {
			break
		}
		e := t[at : at+12]
		if order.Uint16(e) != exifTagOrientation {
			continue
		}
		if order.Uint16(e[2:]) != tiffTypeShort || order.Uint32(e[4:]) < 1 {
			return OrientationUpright
		}
		if o := Orientation(order.Uint16(e[8:])); o >= OrientationUpright && o <= OrientationRotate270 {
			return o
		}
		return OrientationUpright
	}
	return OrientationUpright
}

// Orient returns img turned as o says, so that it looks as displayed: a new RGBA image
// (width and height swapped for 5–8), or img itself when o is upright or invalid.
func Orient(img image.Image, o Orientation) image.Image {
	if o <= OrientationUpright || o > OrientationRotate270 {
		return img
	}
	src := toRGBA(img)
	w, h := src.Rect.Dx(), src.Rect.Dy()
	dw, dh := w, h
	if o.SwapsAxes() {
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := range dh {
		row := dst.Pix[y*dst.Stride:]
		for x := range dw {
			sx, sy := o.storedPixel(x, y, w, h)
			si := src.PixOffset(src.Rect.Min.X+sx, src.Rect.Min.Y+sy)
			copy(row[4*x:4*x+4], src.Pix[si:si+4])
		}
	}
	return dst
}

// storedPixel maps pixel (x, y) of the displayed image to the stored w × h image.
func (o Orientation) storedPixel(x, y, w, h int) (int, int) {
	switch o {
	case OrientationFlipHorizontal:
		return w - 1 - x, y
	case OrientationRotate180:
		return w - 1 - x, h - 1 - y
	case OrientationFlipVertical:
		return x, h - 1 - y
	case OrientationTranspose:
		return y, x
	case OrientationRotate90:
		return y, h - 1 - x
	case OrientationTransverse:
		return w - 1 - y, h - 1 - x
	case OrientationRotate270:
		return w - 1 - y, x
	}
	return x, y
}

// toRGBA returns img as an *image.RGBA, converting it if it is another type.
func toRGBA(img image.Image) *image.RGBA {
	if rgba, ok := img.(*image.RGBA); ok {
		return rgba
	}
	b := img.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Bounds(), img, b.Min, draw.Src)
	return dst
}
