// Package invoicepdf renders invoices and credit notes as PDF (A4, one page per
// document for the lines an order has), with codeberg.org/go-pdf/fpdf. It imports
// nothing of ours: cmd/ hands it a Document whose amounts are already written as
// text by the domain's one currency table, so this package never formats money.
package invoicepdf
