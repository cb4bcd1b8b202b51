package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/gigstream/hub/invoicepdf"
	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/media"
	"github.com/gigstream/hub/push"
	"github.com/gigstream/hub/store"
)

// newInvoices builds the invoice use cases: PDFs rendered by invoicepdf, kept in the
// private bucket, e-mailed to the buyer through SMTP with a link to the download route.
func newInvoices(cfg config, db *store.DB, objects *media.ObjectStore, log *slog.Logger) *market.Invoices {
	return market.NewInvoices(db, invoiceFiles{objects: objects}, invoiceRenderer{},
		invoiceMail{smtp: newSMTPMailer(cfg, log)}, market.InvoicesConfig{PublicURL: cfg.PublicURL}, log)
}

// invoiceFiles keeps invoice PDFs in the object store, which is private: only the
// download route, after authorization, reads them.
type invoiceFiles struct{ objects *media.ObjectStore }

func (f invoiceFiles) PutInvoice(ctx context.Context, key string, pdf []byte) error {
	_, err := f.objects.Put(ctx, key, bytes.NewReader(pdf), media.PutOptions{ContentType: "application/pdf"})
	return err
}

func (f invoiceFiles) OpenInvoice(ctx context.Context, key string) (io.ReadCloser, error) {
	body, _, err := f.objects.Open(ctx, key)
	return body, err
}

// invoiceRenderer adapts invoicepdf to the domain's printed document.
type invoiceRenderer struct{}

func (invoiceRenderer) RenderInvoice(p market.PrintedInvoice) ([]byte, error) {
	return invoicepdf.Render(invoicePDFDocument(p), false)
}

// invoicePDFDocument copies a printed document into invoicepdf's.
func invoicePDFDocument(p market.PrintedInvoice) invoicepdf.Document {
	d := invoicepdf.Document{Title: p.Title, Number: p.Number, IssuedAt: p.IssuedAt, Reference: p.Reference,
		Issuer:   invoicepdf.Party{Name: p.Issuer.Name, Address: p.Issuer.Address, TaxID: p.Issuer.TaxID},
		Customer: invoicepdf.Party{Name: p.Customer.Name, Address: p.Customer.Address, TaxID: p.Customer.TaxID},
		Subtotal: p.Subtotal, Tax: p.Tax, Total: p.Total, Notes: p.Notes}
	for _, l := range p.Lines {
		d.Lines = append(d.Lines, invoicepdf.Line{Description: l.Description, Net: l.Net, Rate: l.Rate, Tax: l.Tax})
	}
	return d
}

// invoiceMail tells the buyer their invoice or credit note is ready, with the link to
// download it (signed in).
type invoiceMail struct{ smtp *push.SMTPMailer }

func (m invoiceMail) SendInvoice(ctx context.Context, to, name string, inv market.Invoice, link string) error {
	title := "Your invoice "
	if inv.Kind == market.InvoiceKindCreditNote {
		title = "Your credit note "
	}
	text := fmt.Sprintf("Hello %s,\n\n%s%s for order %s (%s) is ready:\n%s\n\nSign in to download it.\n",
		name, title, inv.Number, inv.OrderID, market.FormatMoney(inv.TotalMinor, inv.Currency), link)
	return m.smtp.Send(ctx, push.Email{To: to, Subject: title + inv.Number, Text: text})
}

// invoiceDeliverWorker runs store.InvoiceDeliverJob; an error makes river retry it
// with backoff, and the recorded steps are not repeated.
type invoiceDeliverWorker struct {
	river.WorkerDefaults[store.InvoiceDeliverJob]
	invoices *market.Invoices
}

// Work renders, stores and e-mails one document.
func (w *invoiceDeliverWorker) Work(ctx context.Context, job *river.Job[store.InvoiceDeliverJob]) error {
	return w.invoices.Deliver(ctx, job.Args.InvoiceID)
}

// Timeout bounds a render, an upload and an SMTP conversation.
func (w *invoiceDeliverWorker) Timeout(*river.Job[store.InvoiceDeliverJob]) time.Duration {
	return 2 * time.Minute
}
