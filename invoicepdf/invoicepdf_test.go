package invoicepdf

import (
	"bytes"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// sample is an invoice as the domain would hand it over.
func sample() Document {
	return Document{
		Title: "Invoice", Number: "INV-2026-000042", IssuedAt: time.Date(2026, 12, 3, 15, 0, 0, 0, time.UTC),
		Reference: "Order 0b9d2c61-5a7e-4c57-9a53-3c4a2f1e8d10",
		Issuer:    Party{Name: "GigStream Ltd", Address: []string{"1 Market Street", "10115 Berlin", "DE"}, TaxID: "DE123456789"},
		Customer:  Party{Name: "Zoë Müller", Address: []string{"5 rue de la Paix", "75002 Paris", "FR"}, TaxID: "FR98765432101"},
		Lines: []Line{
			{Description: "Logo design (Basic)", Net: "4.500 KWD", Rate: "0 %", Tax: "0.000 KWD"},
			{Description: "Service fee", Net: "0.500 KWD", Rate: "0 %", Tax: "0.000 KWD"},
		},
		Subtotal: "5.000 KWD", Tax: "0.000 KWD", Total: "5.000 KWD",
		Notes: []string{"Reverse charge: no tax charged; the customer accounts for the tax in their country."},
	}
}

func TestRenderWritesTheInvoiceTextInAWellFormedPDF(t *testing.T) {
	raw, err := Render(sample(), true)
	if err != nil {
		t.Fatal(err)
	}
	if p := os.Getenv("INVOICE_SAMPLE_PDF"); p != "" { // regenerates docs/invoice-sample.png's source
		if err := os.WriteFile(p, raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	checkPDF(t, raw)
	for _, want := range []string{"(Invoice)", "(Number: INV-2026-000042)", "(Date: 2026-12-03)", "(Logo design \\(Basic\\))",
		"(4.500 KWD)", "(5.000 KWD)", "(Tax id: FR98765432101)", "(Zo\xeb M\xfcller)", "(Reverse charge: no tax charged;"} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Errorf("the PDF does not show %q", want)
		}
	}
	compressed, err := Render(sample(), false)
	if err != nil {
		t.Fatal(err)
	}
	checkPDF(t, compressed)
	if bytes.Contains(compressed, []byte("(4.500 KWD)")) {
		t.Error("the compressed PDF holds plain text")
	}
}

// checkPDF parses the file's skeleton: the header, the trailer's startxref, the
// cross-reference table it points to, and that every object it lists starts at its
// offset ("n 0 obj"), which is what a reader relies on to open the file.
func checkPDF(t *testing.T, raw []byte) {
	t.Helper()
	if !bytes.HasPrefix(raw, []byte("%PDF-1.")) || !bytes.HasSuffix(bytes.TrimSpace(raw), []byte("%%EOF")) {
		t.Fatal("no PDF header or end-of-file marker")
	}
	m := regexp.MustCompile(`startxref\s+(\d+)\s+%%EOF\s*$`).FindSubmatch(raw)
	if m == nil {
		t.Fatal("no startxref")
	}
	at, _ := strconv.Atoi(string(m[1]))
	if at <= 0 || at >= len(raw) || !bytes.HasPrefix(raw[at:], []byte("xref")) {
		t.Fatalf("startxref %d does not point at the xref table", at)
	}
	sub := regexp.MustCompile(`^xref\s+(\d+) (\d+)\s+`).FindSubmatch(raw[at:])
	if sub == nil {
		t.Fatal("malformed xref header")
	}
	first, count := atoi(sub[1]), atoi(sub[2])
	entries := regexp.MustCompile(`(\d{10}) (\d{5}) ([nf])`).FindAllSubmatch(raw[at:], count)
	if len(entries) != count || count < 5 {
		t.Fatalf("xref lists %d of %d entries", len(entries), count)
	}
	for i, e := range entries {
		if string(e[3]) != "n" {
			continue
		}
		off, obj := atoi(e[1]), strconv.Itoa(first+i)+" 0 obj"
		if off >= len(raw) || !bytes.HasPrefix(raw[off:], []byte(obj)) {
			t.Fatalf("object %d is not at offset %d", first+i, off)
		}
	}
	if !bytes.Contains(raw, []byte("/Type /Page")) {
		t.Fatal("no page")
	}
}

func atoi(b []byte) int { n, _ := strconv.Atoi(string(b)); return n }
