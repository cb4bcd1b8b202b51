package media

import (
	"bytes"
	"encoding/binary"
	"strings"
)

// sniffZip classifies zip archives. Office Open XML (docx, xlsx, pptx) and OpenDocument
// files are zips; they are told apart by their first entries when those are in view, and
// are otherwise plain application/zip. The distinction only picks the content type served
// on download: every allow-list that takes one of them takes zip too, and clamd unpacks
// archives, so a misclassified document is never a hole.
func sniffZip(b []byte) string {
	if bytes.HasPrefix(b, []byte("PK\x05\x06")) {
		return TypeZip // empty archive
	}
	if !bytes.HasPrefix(b, []byte("PK\x03\x04")) {
		return ""
	}
	for off := 0; ; {
		name, data, next, ok := zipEntry(b, off)
		if !ok {
			return TypeZip
		}
		if t := officeType(name, data); t != "" {
			return t
		}
		if next < 0 {
			return TypeZip
		}
		off = next
	}
}

// zipEntry parses the local file header at off. It returns the entry's name, the bytes of
// its data that are in view, and the offset of the next header (-1 when not in view). ok
// is false past the window or on a header that is not one. Writers that stream (flag
// bit 3) put the sizes in a data descriptor after the data; then the data runs to the
// descriptor's signature, which may in rare cases also occur inside the data: a wrong
// guess here only names a zip a zip.
func zipEntry(b []byte, off int) (name string, data []byte, next int, ok bool) {
	const headerLen = 30
	if off < 0 || off+headerLen > len(b) || string(b[off:off+4]) != "PK\x03\x04" {
		return "", nil, 0, false
	}
	h := b[off:]
	flags := binary.LittleEndian.Uint16(h[6:])
	size := int(binary.LittleEndian.Uint32(h[18:]))
	nameLen := int(binary.LittleEndian.Uint16(h[26:]))
	extraLen := int(binary.LittleEndian.Uint16(h[28:]))
	start := headerLen + nameLen + extraLen
	if start > len(h) {
		return "", nil, 0, false
	}
	name = string(h[headerLen : headerLen+nameLen])
	rest := h[start:]
	if flags&0x08 != 0 {
		size = len(rest)
		if i := bytes.Index(rest, []byte("PK\x07\x08")); i >= 0 {
			size = i
		}
	}
	data = rest[:min(size, len(rest))]
	next = -1
	if i := bytes.Index(rest[len(data):], []byte("PK\x03\x04")); i >= 0 {
		next = off + start + len(data) + i
	}
	return name, data, next, true
}

// officeType recognises one entry of an OOXML or OpenDocument archive.
func officeType(name string, data []byte) string {
	switch {
	case strings.HasPrefix(name, "word/"):
		return TypeDOCX
	case strings.HasPrefix(name, "xl/"):
		return TypeXLSX
	case strings.HasPrefix(name, "ppt/"):
		return TypePPTX
	case name == "mimetype":
		switch string(data) {
		case TypeODT, TypeODS, TypeODP:
			return string(data)
		}
	}
	return ""
}
