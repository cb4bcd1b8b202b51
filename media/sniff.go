package media

import (
	"bytes"
	"encoding/binary"
	"net/http"
	"strings"
)

// SniffLen is how many leading bytes Sniff looks at. It is more than net/http's 512 so
// that OOXML part names and an SVG root after an XML prolog or comment are in view.
const SniffLen = 3072

// Media types Sniff returns (without parameters). Executables, scripts, HTML and SVG
// have types of their own so that no allow-list can mistake them for harmless content.
const (
	TypePNG         = "image/png"
	TypeJPEG        = "image/jpeg"
	TypeGIF         = "image/gif"
	TypeWebP        = "image/webp"
	TypeAVIF        = "image/avif"
	TypeHEIC        = "image/heic"
	TypeSVG         = "image/svg+xml"
	TypeMP4         = "video/mp4"
	TypeQuickTime   = "video/quicktime"
	Type3GPP        = "video/3gpp"
	TypeAudioMP4    = "audio/mp4"
	TypeWebM        = "video/webm"
	TypeMatroska    = "video/x-matroska"
	TypePDF         = "application/pdf"
	TypeZip         = "application/zip"
	TypeDOCX        = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	TypeXLSX        = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	TypePPTX        = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
	TypeODT         = "application/vnd.oasis.opendocument.text"
	TypeODS         = "application/vnd.oasis.opendocument.spreadsheet"
	TypeODP         = "application/vnd.oasis.opendocument.presentation"
	TypeOLE         = "application/x-ole-storage"
	TypeRTF         = "application/rtf"
	Type7z          = "application/x-7z-compressed"
	TypeText        = "text/plain"
	TypeHTML        = "text/html"
	TypeXML         = "text/xml"
	TypeShell       = "text/x-shellscript"
	TypeELF         = "application/x-elf"
	TypePE          = "application/vnd.microsoft.portable-executable"
	TypeMachO       = "application/x-mach-binary"
	TypeOctetStream = "application/octet-stream"
)

// Sniff names the content type of data from its first bytes (pass at least SniffLen when
// the file has them). It never looks at a client's header or file name. Our own
// signatures run first (executables, ISO-BMFF brands, Matroska doc types, zip-based
// documents, markup); whatever they do not claim goes to net/http.DetectContentType.
// The result is a bare media type such as "image/png", without parameters.
func Sniff(data []byte) string {
	if len(data) > SniffLen {
		data = data[:SniffLen]
	}
	for _, sniff := range sniffers {
		if t := sniff(data); t != "" {
			return t
		}
	}
	t, _, _ := strings.Cut(http.DetectContentType(data), ";")
	return t
}

// sniffers run in order; each returns "" when the data is not its business.
var sniffers = []func([]byte) string{
	sniffExecutable, sniffISOBMFF, sniffMatroska, sniffZip, sniffMagic, sniffMarkup,
}

func sniffExecutable(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("\x7fELF")):
		return TypeELF
	case bytes.HasPrefix(b, []byte("MZ")):
		return TypePE
	case bytes.HasPrefix(b, []byte("#!")):
		return TypeShell
	}
	if len(b) >= 4 {
		switch binary.BigEndian.Uint32(b) {
		case 0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe, 0xcafebabe:
			return TypeMachO
		}
	}
	return ""
}

// sniffISOBMFF reads the ftyp box of MP4, QuickTime, 3GP, AVIF and HEIF files.
func sniffISOBMFF(b []byte) string {
	if len(b) < 12 || string(b[4:8]) != "ftyp" {
		return ""
	}
	major := string(b[8:12])
	brands := []string{major}
	end := min(int(binary.BigEndian.Uint32(b)), len(b))
	for i := 16; i+4 <= end; i += 4 {
		brands = append(brands, string(b[i:i+4]))
	}
	return brandType(major, brands)
}

func brandType(major string, brands []string) string {
	has := func(set ...string) bool {
		for _, b := range brands {
			for _, s := range set {
				if b == s {
					return true
				}
			}
		}
		return false
	}
	switch {
	case major == "qt  ":
		return TypeQuickTime
	case major == "avif" || major == "avis" || (major == "mif1" && has("avif")):
		return TypeAVIF
	case has("heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1"):
		return TypeHEIC
	case strings.HasPrefix(major, "M4A") || major == "M4B " || major == "M4P ":
		return TypeAudioMP4
	case strings.HasPrefix(major, "3gp") || strings.HasPrefix(major, "3g2"):
		return Type3GPP
	}
	return TypeMP4
}

// sniffMatroska tells WebM from other Matroska by the EBML DocType near the start.
func sniffMatroska(b []byte) string {
	if !bytes.HasPrefix(b, []byte{0x1a, 0x45, 0xdf, 0xa3}) {
		return ""
	}
	head := b[:min(len(b), 64)]
	switch {
	case bytes.Contains(head, []byte("webm")):
		return TypeWebM
	case bytes.Contains(head, []byte("matroska")):
		return TypeMatroska
	}
	return TypeOctetStream
}

// sniffMagic covers fixed signatures net/http does not know.
func sniffMagic(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte{0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1}):
		return TypeOLE
	case bytes.HasPrefix(b, []byte(`{\rtf`)):
		return TypeRTF
	case bytes.HasPrefix(b, []byte{'7', 'z', 0xbc, 0xaf, 0x27, 0x1c}):
		return Type7z
	}
	return ""
}
