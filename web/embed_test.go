package web

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// The hub's CSP (default-src 'self', no 'unsafe-inline', no 'unsafe-eval') blocks inline
// scripts, inline styles and style attributes: a page that relies on them looks fine in
// a lax dev server and breaks in production. These checks keep the files honest.
func TestStaticFilesObeyTheCSP(t *testing.T) {
	index, err := fs.ReadFile(Static, "static/index.html")
	if err != nil {
		t.Fatal(err)
	}
	html := string(index)
	for _, bad := range []*regexp.Regexp{
		regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>\s*[^<\s]`), // a script with a body
		regexp.MustCompile(`(?i)<style`),
		regexp.MustCompile(`(?i)\sstyle\s*=`),
		regexp.MustCompile(`(?i)\son[a-z]+\s*=`), // onclick= and friends
	} {
		if m := bad.FindString(html); m != "" {
			t.Errorf("index.html has %q, which the CSP blocks", m)
		}
	}
	for _, m := range regexp.MustCompile(`(?:src|href)="/app/([^"]+)"`).FindAllStringSubmatch(html, -1) {
		if _, err := fs.Stat(Static, "static/"+m[1]); err != nil {
			t.Errorf("index.html refers to /app/%s, which is not embedded", m[1])
		}
	}
	for _, name := range []string{"chat.js", "gigstream.js"} {
		src, err := fs.ReadFile(Static, "static/"+name)
		if err != nil {
			t.Fatal(err)
		}
		for _, banned := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"} {
			if strings.Contains(string(src), banned) {
				t.Errorf("%s uses %s: chat text must only ever be set as text, and the CSP forbids eval", name, banned)
			}
		}
	}
}
