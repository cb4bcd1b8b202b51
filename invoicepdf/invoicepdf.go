package invoicepdf

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"
)

// Document is one invoice or credit note, every amount already written for people
// ("45.00 USD", "4.500 KWD").
type Document struct {
	Title     string    // "Invoice" or "Credit note"
	Number    string    // "INV-2026-000042"
	IssuedAt  time.Time // the issue date printed
	Reference string    // what it is about: "Order 1b2c…", "Credits INV-2026-000042"
	Issuer    Party     // the platform
	Customer  Party     // the buyer
	Lines     []Line
	Subtotal  string
	Tax       string
	Total     string
	Notes     []string // the reverse-charge note, payment terms
}

// Party is a name and address block; TaxID is printed when not empty.
type Party struct {
	Name    string
	Address []string
	TaxID   string
}

// Line is one row of the table: a description, its net amount, rate and tax.
type Line struct {
	Description, Net, Rate, Tax string
}

// Render writes the document as a PDF. Text outside Latin-1 is replaced by "?": the
// core fonts only carry Windows-1252. Compression is off when uncompressed is set,
// which tests use to read the text back.
func Render(d Document, uncompressed bool) ([]byte, error) {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCompression(!uncompressed)
	pdf.SetCreationDate(d.IssuedAt)
	pdf.SetModificationDate(d.IssuedAt)
	pdf.SetTitle(d.Title+" "+d.Number, true)
	tr := pdf.UnicodeTranslatorFromDescriptor("cp1252")
	pdf.AddPage()
	header(pdf, tr, d)
	parties(pdf, tr, d)
	table(pdf, tr, d)
	for _, n := range d.Notes {
		pdf.SetFont("Helvetica", "", 9)
		pdf.MultiCell(0, 5, tr(n), "", "L", false)
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("render %s %s: %w", d.Title, d.Number, err)
	}
	return buf.Bytes(), nil
}

// header prints the title, number, date and reference.
func header(pdf *fpdf.Fpdf, tr func(string) string, d Document) {
	pdf.SetFont("Helvetica", "B", 20)
	pdf.CellFormat(0, 10, tr(d.Title), "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 10)
	for _, l := range []string{"Number: " + d.Number, "Date: " + d.IssuedAt.UTC().Format("2006-01-02"), d.Reference} {
		pdf.CellFormat(0, 5, tr(l), "", 1, "L", false, 0, "")
	}
	pdf.Ln(6)
}

// parties prints the issuer on the left and the customer on the right.
func parties(pdf *fpdf.Fpdf, tr func(string) string, d Document) {
	y := pdf.GetY()
	left, right := block("From", d.Issuer), block("Bill to", d.Customer)
	pdf.SetFont("Helvetica", "", 10)
	for i, l := range left {
		pdf.SetXY(10, y+float64(i)*5)
		pdf.CellFormat(90, 5, tr(l), "", 0, "L", false, 0, "")
	}
	for i, l := range right {
		pdf.SetXY(110, y+float64(i)*5)
		pdf.CellFormat(90, 5, tr(l), "", 0, "L", false, 0, "")
	}
	pdf.SetXY(10, y+float64(max(len(left), len(right)))*5+8)
}

// block is a party's lines under a heading.
func block(heading string, p Party) []string {
	out := append([]string{heading + ":", p.Name}, p.Address...)
	if p.TaxID != "" {
		out = append(out, "Tax id: "+p.TaxID)
	}
	return out
}

// table prints the lines and the totals.
func table(pdf *fpdf.Fpdf, tr func(string) string, d Document) {
	widths := []float64{95, 35, 25, 35}
	pdf.SetFont("Helvetica", "B", 10)
	pdf.SetFillColor(235, 235, 235)
	for i, h := range []string{"Description", "Net", "Tax rate", "Tax"} {
		pdf.CellFormat(widths[i], 7, h, "1", 0, align(i), true, 0, "")
	}
	pdf.Ln(-1)
	pdf.SetFont("Helvetica", "", 10)
	for _, l := range d.Lines {
		for i, v := range []string{truncate(l.Description, 60), l.Net, l.Rate, l.Tax} {
			pdf.CellFormat(widths[i], 7, tr(v), "1", 0, align(i), false, 0, "")
		}
		pdf.Ln(-1)
	}
	pdf.Ln(3)
	for _, t := range [][2]string{{"Subtotal", d.Subtotal}, {"Tax", d.Tax}, {"Total", d.Total}} {
		if t[0] == "Total" {
			pdf.SetFont("Helvetica", "B", 11)
		}
		pdf.CellFormat(155, 6, t[0], "", 0, "R", false, 0, "")
		pdf.CellFormat(35, 6, tr(t[1]), "", 1, "R", false, 0, "")
	}
	pdf.Ln(6)
}

// align is left for the description and right for the numbers.
func align(col int) string {
	if col == 0 {
		return "L"
	}
	return "R"
}

// truncate shortens s to n characters with an ellipsis.
func truncate(s string, n int) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) <= n {
		return string(r)
	}
	return string(r[:n-1]) + "…"
}
