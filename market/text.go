package market

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// plainText makes user text plain: valid UTF-8, line breaks as \n, no control
// characters but newlines and tabs, trimmed, at most limit characters. Clients render
// it as text, never as markup. It returns an invalid Error naming field.
func plainText(field, text string, limit int) (string, error) {
	if !utf8.ValidString(text) {
		return "", FieldError(CodeInvalid, field, "must be valid UTF-8 text")
	}
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || !unicode.IsControl(r) {
			return r
		}
		return -1
	}, text)
	text = strings.TrimSpace(text)
	if utf8.RuneCountInString(text) > limit {
		return "", FieldError(CodeInvalid, field, "must be at most "+strconv.Itoa(limit)+" characters")
	}
	return text, nil
}
