package handlers

import (
	"net/url"
	"strings"
	"testing"
	"unicode"
)

func TestSafeReturnToKeepsOnlyPlainSameSitePaths(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/inbox", "/inbox"},
		{"/orders/42?tab=files", "/orders/42?tab=files"},
		{"/app/#conversation", "/app/#conversation"},
		{"/a%20b", "/a%20b"},
		{"/%2F%2Fevil.example", "/%2F%2Fevil.example"}, // encoded slashes stay a path
		{"", "/"},
		{"inbox", "/"},
		{"//evil.example", "/"},
		{"/\t/evil.example", "/"}, // what ?return_to=/%09/evil.example decodes to
		{"/\n/evil.example", "/"},
		{"/\r\n/evil.example", "/"},
		{"/\\evil.example", "/"},
		{"/\\/evil.example", "/"},
		{"\\\\evil.example", "/"},
		{"/ /evil.example", "/"},
		{"/\u00a0/evil.example", "/"},
		{"/\u200b/evil.example", "/"}, // zero-width space
		{"/\x00x", "/"},
		{"/\x7fx", "/"},
		{"/\xff", "/"},
		{"https://evil.example/", "/"},
		{"http:/evil.example", "/"},
		{"javascript:alert(1)", "/"},
		{"/" + strings.Repeat("a", maxReturnTo), "/"},
	} {
		if got := safeReturnTo(tc.in); got != tc.want {
			t.Errorf("safeReturnTo(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzSafeReturnTo checks that whatever comes in, what goes out resolves to our own
// host, also as a browser reads it (tabs and newlines removed, backslashes as slashes),
// and is stable when passed through again.
func FuzzSafeReturnTo(f *testing.F) {
	for _, s := range []string{"/inbox", "//x", "/\t/x", "/\\x", "/a?b=c#d", "/%2F/x", "https://x/", "/.././/x"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://gigstream.example/app/")
	f.Fuzz(func(t *testing.T, in string) {
		out := safeReturnTo(in)
		if out == "/" {
			return
		}
		if !strings.HasPrefix(out, "/") || strings.HasPrefix(out, "//") {
			t.Fatalf("safeReturnTo(%q) = %q: not a single-slash path", in, out)
		}
		for _, r := range out {
			if r == '\\' || !unicode.IsPrint(r) || unicode.IsSpace(r) {
				t.Fatalf("safeReturnTo(%q) = %q holds %q", in, out, r)
			}
		}
		browser := strings.NewReplacer("\t", "", "\n", "", "\r", "", "\\", "/").Replace(out)
		ref, err := url.Parse(browser)
		if err != nil {
			t.Fatalf("safeReturnTo(%q) = %q does not parse: %v", in, out, err)
		}
		if got := base.ResolveReference(ref); got.Host != base.Host || got.Scheme != base.Scheme {
			t.Fatalf("safeReturnTo(%q) = %q leads to %s", in, out, got)
		}
		if again := safeReturnTo(out); again != out {
			t.Fatalf("safeReturnTo not stable: %q → %q → %q", in, out, again)
		}
	})
}
