package media

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxFilenameBytes bounds a sanitized file name, in bytes of UTF-8.
const MaxFilenameBytes = 200

// FallbackFilename is the name given when nothing usable is left of the client's.
const FallbackFilename = "file"

// maxKeptExtension is the longest extension (dot included) kept when a name is shortened.
const maxKeptExtension = 16

// SanitizeFilename turns a client's file name into metadata that is safe to store and to
// show: the last path element only (both / and \ separate), no control, format or bidi
// override characters, no characters Windows forbids, no leading dots or trailing dots and
// spaces, no Windows device names, valid UTF-8, at most MaxFilenameBytes (the extension
// survives shortening), and FallbackFilename when nothing is left. It is idempotent.
func SanitizeFilename(name string) string {
	name = strings.ToValidUTF8(name, "")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = trimDotsAndSpaces(strings.Map(filenameRune, name))
	if isReservedFilename(name) {
		name = "_" + name
	}
	if len(name) > MaxFilenameBytes {
		name = trimDotsAndSpaces(shortenFilename(name, MaxFilenameBytes))
	}
	if name == "" {
		return FallbackFilename
	}
	return name
}

// filenameRune drops invisible and control runes, replaces look-alike separators and
// characters that are illegal in Windows names with '_', and turns other spaces into ' '.
func filenameRune(r rune) rune {
	switch {
	case r == utf8.RuneError, unicode.IsControl(r), unicode.Is(unicode.Cf, r),
		unicode.Is(unicode.Zl, r), unicode.Is(unicode.Zp, r):
		return -1
	case strings.ContainsRune(`<>:"|?*`, r), strings.ContainsRune("\u2215\u2044\uff0f\uff3c\u29f8\u29f9", r):
		return '_'
	case unicode.IsSpace(r):
		return ' '
	}
	return r
}

func trimDotsAndSpaces(s string) string {
	return strings.TrimRight(strings.TrimLeft(s, ". "), ". ")
}

// isReservedFilename reports Windows device names, which stay reserved with any
// extension ("con.txt").
func isReservedFilename(name string) bool {
	stem, _, _ := strings.Cut(name, ".")
	stem = strings.ToUpper(strings.TrimRight(stem, " "))
	switch stem {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	if len(stem) == 4 && (strings.HasPrefix(stem, "COM") || strings.HasPrefix(stem, "LPT")) {
		return stem[3] >= '0' && stem[3] <= '9'
	}
	return false
}

// shortenFilename cuts name to at most limit bytes on a rune boundary, keeping a short
// extension.
func shortenFilename(name string, limit int) string {
	ext := ""
	if i := strings.LastIndexByte(name, '.'); i > 0 && len(name)-i <= maxKeptExtension {
		name, ext = name[:i], name[i:]
	}
	return truncateUTF8(name, limit-len(ext)) + ext
}

// truncateUTF8 returns the longest prefix of s of at most n bytes that ends on a rune
// boundary.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
