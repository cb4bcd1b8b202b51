package media

import (
	"mime"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestSanitizeFilename(t *testing.T) {
	long := strings.Repeat("é", 150) + ".pdf"
	cases := []struct{ in, want string }{
		{"report.pdf", "report.pdf"},
		{"../../etc/passwd", "passwd"},
		{`..\..\windows\system32\cmd.exe`, "cmd.exe"},
		{"/absolute/path/file.txt", "file.txt"},
		{"dir/", FallbackFilename},
		{"..", FallbackFilename},
		{"", FallbackFilename},
		{".htaccess", "htaccess"},
		{"...hidden..", "hidden"},
		{"trailing. . ", "trailing"},
		{"a\x00b\nc\rd\te\u00a0f", "abcde f"},
		{"invoice\u202Efdp.exe", "invoicefdp.exe"},
		{"zero\u200Bwidth\uFEFF.txt", "zerowidth.txt"},
		{"CON", "_CON"},
		{"con.txt", "_con.txt"},
		{"LPT1.tar.gz", "_LPT1.tar.gz"},
		{"console.txt", "console.txt"},
		{`what?<>:"|*.txt`, "what_______.txt"},
		{"fake\u2215slash.txt", "fake_slash.txt"},
		{"bad\xffutf8.txt", "badutf8.txt"},
		{"Résumé 日本語.docx", "Résumé 日本語.docx"},
		{long, strings.Repeat("é", (MaxFilenameBytes-4)/2) + ".pdf"},
	}
	for _, c := range cases {
		if got := SanitizeFilename(c.in); got != c.want {
			t.Errorf("SanitizeFilename(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func FuzzSanitizeFilename(f *testing.F) {
	for _, s := range []string{"../../x", `a\b`, "\u202Eexe.txt", "con.txt", strings.Repeat("ü", 300), "...", "a\x00b", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := SanitizeFilename(in)
		switch {
		case out == "":
			t.Fatal("empty result")
		case !utf8.ValidString(out):
			t.Fatalf("invalid UTF-8: %q", out)
		case len(out) > MaxFilenameBytes:
			t.Fatalf("%d bytes: %q", len(out), out)
		case strings.ContainsAny(out, `/\`):
			t.Fatalf("separator in %q", out)
		case strings.HasPrefix(out, "."):
			t.Fatalf("leading dot in %q", out)
		case isReservedFilename(out):
			t.Fatalf("reserved name %q", out)
		case SanitizeFilename(out) != out:
			t.Fatalf("not idempotent: %q -> %q", out, SanitizeFilename(out))
		}
		for _, r := range out {
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
				t.Fatalf("control or format rune %U in %q", r, out)
			}
		}
	})
}

func TestContentDisposition(t *testing.T) {
	for _, name := range []string{"report.pdf", "Résumé 日本語.docx", `quote"back\slash%.txt`, "../../etc/passwd", ""} {
		got := ContentDisposition(name)
		for _, r := range got {
			if r < 0x20 || r > 0x7e {
				t.Fatalf("ContentDisposition(%q) = %q: not printable ASCII", name, got)
			}
		}
		disp, params, err := mime.ParseMediaType(got)
		if err != nil {
			t.Fatalf("ContentDisposition(%q) = %q: %v", name, got, err)
		}
		if disp != "attachment" || params["filename"] != SanitizeFilename(name) {
			t.Errorf("ContentDisposition(%q) = %q, parsed as %q %q", name, got, disp, params)
		}
	}
	want := `attachment; filename="R_sum_.pdf"; filename*=UTF-8''R%C3%A9sum%C3%A9.pdf`
	if got := ContentDisposition("Résumé.pdf"); got != want {
		t.Errorf("ContentDisposition = %s, want %s", got, want)
	}
}
