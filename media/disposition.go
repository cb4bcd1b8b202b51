package media

import (
	"strings"
)

// ContentDisposition returns an RFC 6266 "attachment" header value for filename, which it
// sanitizes first: an ASCII-only quoted fallback for old clients, and the exact name as an
// RFC 5987 ext-value in filename* (UTF-8, percent-encoded) for the rest. The value is
// pure ASCII, so it is safe in an HTTP header and in S3's response-content-disposition.
func ContentDisposition(filename string) string {
	name := SanitizeFilename(filename)
	return `attachment; filename="` + asciiFilename(name) + `"; filename*=UTF-8''` + encodeRFC5987(name)
}

// asciiFilename replaces what cannot stand in a quoted-string safely everywhere: non-ASCII,
// quotes, backslashes, and '%' (some browsers percent-decode the plain parameter).
func asciiFilename(name string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' || r == '%' {
			return '_'
		}
		return r
	}, name)
}

// encodeRFC5987 percent-encodes every byte that is not an RFC 5987 attr-char.
func encodeRFC5987(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAttrChar(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0x0f])
	}
	return b.String()
}

func isAttrChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$&+-.^_`|~", c) >= 0
}
