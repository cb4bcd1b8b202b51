package media

import (
	"bytes"
)

// sniffMarkup catches text that a browser could run: SVG anywhere in view (it carries
// script), and HTML tags that net/http only notices at the very start. Text that merely
// starts with '<' and is XML stays text/xml.
func sniffMarkup(b []byte) string {
	t := bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	t = bytes.TrimLeft(t, "\t\n\x0c\r ")
	if len(t) == 0 || t[0] != '<' {
		return ""
	}
	lower := bytes.ToLower(t)
	if bytes.Contains(lower, []byte("<svg")) {
		return TypeSVG
	}
	for _, tag := range htmlTags {
		if bytes.Contains(lower, []byte(tag)) {
			return TypeHTML
		}
	}
	if bytes.HasPrefix(lower, []byte("<?xml")) {
		return TypeXML
	}
	return ""
}

var htmlTags = []string{
	"<!doctype html", "<html", "<head", "<body", "<script", "<iframe", "<object",
	"<embed", "<meta", "<a ", "<img", "<style", "<div", "<form", "<title",
}
