package media

import (
	"archive/zip"
	"bytes"
	"hash/crc32"
	"strings"
	"testing"
)

func zipWith(t testing.TB, names ...string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: n, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("<xml/>"))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rawZipWith writes entries with their sizes in the local headers, as office suites do.
func rawZipWith(t testing.TB, names ...string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		data := []byte("<xml/>")
		w, err := zw.CreateRaw(&zip.FileHeader{Name: n, Method: zip.Store,
			CRC32: crc32.ChecksumIEEE(data), CompressedSize64: uint64(len(data)), UncompressedSize64: uint64(len(data))})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	zw.Close()
	return buf.Bytes()
}

func odfWith(t testing.TB, mimetype string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.CreateHeader(&zip.FileHeader{Name: "mimetype", Method: zip.Store})
	w.Write([]byte(mimetype))
	zw.Close()
	return buf.Bytes()
}

func ftyp(major string, compatible ...string) []byte {
	body := major + "\x00\x00\x02\x00" + strings.Join(compatible, "")
	size := 8 + len(body)
	return append([]byte{0, 0, 0, byte(size)}, []byte("ftyp"+body+"\x00\x00\x00\x08free")...)
}

func TestSniff(t *testing.T) {
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"png", pngHeader, TypePNG},
		{"jpeg", []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), TypeJPEG},
		{"gif", []byte("GIF89a\x01\x00\x01\x00"), TypeGIF},
		{"webp", []byte("RIFF\x24\x00\x00\x00WEBPVP8 "), TypeWebP},
		{"mp4 isom", ftyp("isom", "isom", "iso2", "avc1", "mp41"), TypeMP4},
		{"mp4 mp42", ftyp("mp42", "mp42", "isom"), TypeMP4},
		{"quicktime", ftyp("qt  ", "qt  "), TypeQuickTime},
		{"avif", ftyp("avif", "mif1", "avif"), TypeAVIF},
		{"heic", ftyp("heic", "mif1", "heic"), TypeHEIC},
		{"3gp", ftyp("3gp5", "3gp5"), Type3GPP},
		{"m4a", ftyp("M4A ", "M4A "), TypeAudioMP4},
		{"webm", []byte("\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\x82\x84webm"), TypeWebM},
		{"matroska", []byte("\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\x82\x88matroska"), TypeMatroska},
		{"pdf", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), TypePDF},
		{"zip", zipWith(t, "a.txt", "b/c.txt"), TypeZip},
		{"docx", zipWith(t, "[Content_Types].xml", "_rels/.rels", "word/document.xml"), TypeDOCX},
		{"xlsx", zipWith(t, "[Content_Types].xml", "xl/workbook.xml"), TypeXLSX},
		{"pptx", zipWith(t, "[Content_Types].xml", "ppt/presentation.xml"), TypePPTX},
		{"docx, sizes in headers", rawZipWith(t, "[Content_Types].xml", "_rels/.rels", "word/document.xml"), TypeDOCX},
		{"xlsx, sizes in headers", rawZipWith(t, "[Content_Types].xml", "xl/workbook.xml"), TypeXLSX},
		{"odt", odfWith(t, TypeODT), TypeODT},
		{"epub is a zip", odfWith(t, "application/epub+zip"), TypeZip},
		{"ole", []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00"), TypeOLE},
		{"rtf", []byte(`{\rtf1\ansi hello}`), TypeRTF},
		{"7z", []byte("7z\xbc\xaf\x27\x1c\x00\x04"), Type7z},
		{"elf", []byte("\x7fELF\x02\x01\x01\x00"), TypeELF},
		{"pe", []byte("MZ\x90\x00\x03\x00\x00\x00"), TypePE},
		{"mach-o", []byte("\xcf\xfa\xed\xfe\x07\x00\x00\x01"), TypeMachO},
		{"shell", []byte("#!/bin/sh\nrm -rf /\n"), TypeShell},
		{"html", []byte("<!DOCTYPE html><html><body>hi</body></html>"), TypeHTML},
		{"html late tag", []byte("<p>hello</p>\n<script>alert(1)</script>"), TypeHTML},
		{"html bom", []byte("\xef\xbb\xbf  <html>"), TypeHTML},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), TypeSVG},
		{"svg after prolog", []byte("<?xml version=\"1.0\"?>\n<!-- x -->\n<svg width=\"1\"/>"), TypeSVG},
		{"xml", []byte("<?xml version=\"1.0\"?><note>hi</note>"), TypeXML},
		{"text", []byte("just some notes\nline two\n"), TypeText},
		{"binary", []byte{0, 1, 2, 3, 4, 5, 0xff}, TypeOctetStream},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Sniff(c.data); got != c.want {
				t.Errorf("Sniff = %q, want %q", got, c.want)
			}
		})
	}
}

// FuzzSniff checks that Sniff never panics, always names a bare type, and never calls an
// executable or markup an image.
func FuzzSniff(f *testing.F) {
	for _, seed := range [][]byte{
		pngHeader, ftyp("isom", "isom"), []byte("\x7fELF"), []byte("MZ"), []byte("<svg>"),
		[]byte("PK\x03\x04\x14\x00\x00\x00\x00\x00"), zipWith(f, "word/document.xml"),
		[]byte("\x1a\x45\xdf\xa3"), []byte("\x00\x00\x00\xffftypqt  "), []byte{},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got := Sniff(data)
		if got == "" || strings.ContainsAny(got, "; ") {
			t.Fatalf("Sniff = %q, want a bare media type", got)
		}
		if got != Sniff(data) {
			t.Fatal("Sniff is not deterministic")
		}
		if strings.HasPrefix(got, "image/") && got != TypeSVG {
			for _, bad := range []string{"\x7fELF", "MZ", "#!"} {
				if bytes.HasPrefix(data, []byte(bad)) {
					t.Fatalf("Sniff(%q...) = %q, an image", bad, got)
				}
			}
		}
	})
}
