package market

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// OrderInvoices lists an order's invoice and credit notes, oldest first, to its buyer,
// its seller and admins; anyone else gets a not-found Error, as for the order itself.
func (iv *Invoices) OrderInvoices(ctx context.Context, orderID string, u User) ([]Invoice, error) {
	if err := iv.authorizeOrder(ctx, orderID, u); err != nil {
		return nil, err
	}
	return iv.store.OrderInvoices(ctx, orderID)
}

// InvoicePDF opens the stored PDF of an invoice or credit note for its buyer, its
// seller or an admin; the caller closes it. Errors: not found for anyone else (and an
// unknown id); conflict while the PDF is still being rendered (retry shortly).
func (iv *Invoices) InvoicePDF(ctx context.Context, id string, u User) (io.ReadCloser, Invoice, error) {
	inv, err := iv.store.Invoice(ctx, id)
	if err != nil {
		return nil, Invoice{}, notFoundInvoice(err)
	}
	if !u.IsAdmin && u.ID != inv.BuyerID && u.ID != inv.SellerID {
		return nil, Invoice{}, FieldError(CodeNotFound, "id", "no such invoice")
	}
	if !inv.Ready {
		return nil, Invoice{}, Errorf(CodeConflict, "the PDF of %s is being prepared; retry shortly", inv.Number)
	}
	body, err := iv.files.OpenInvoice(ctx, inv.ObjectKey)
	if err != nil {
		return nil, Invoice{}, fmt.Errorf("open %s: %w", inv.Number, err)
	}
	return body, inv, nil
}

// authorizeOrder lets an order's parties and admins through; others get not found.
func (iv *Invoices) authorizeOrder(ctx context.Context, orderID string, u User) error {
	if !uuidText.MatchString(orderID) {
		return FieldError(CodeNotFound, "id", "no such order")
	}
	if u.IsAdmin {
		return nil
	}
	ok, err := iv.store.IsOrderParty(ctx, orderID, u.ID)
	if err != nil {
		return err
	}
	if !ok {
		return FieldError(CodeNotFound, "id", "no such order")
	}
	return nil
}

// notFoundInvoice turns a storage not-found into the domain's.
func notFoundInvoice(err error) error {
	if ErrorCode(err) == CodeNotFound || errors.Is(err, ErrNotFound) {
		return FieldError(CodeNotFound, "id", "no such invoice")
	}
	return err
}

// Deliver renders an issued invoice or credit note to PDF, stores it under its
// order in the private object store and e-mails the buyer a download link; each step
// is recorded, so a retry (the background job's) does only what is left, and a PDF is
// never rendered twice once stored. It returns the error of the step that failed.
func (iv *Invoices) Deliver(ctx context.Context, id string) error {
	inv, err := iv.store.Invoice(ctx, id)
	if err != nil {
		return fmt.Errorf("invoice %s: %w", id, err)
	}
	if !inv.Ready {
		pdf, err := iv.renderer.RenderInvoice(inv.Document.Print())
		if err != nil {
			return fmt.Errorf("render %s: %w", inv.Number, err)
		}
		key := "invoices/" + inv.OrderID + "/" + inv.Number + ".pdf"
		if err := iv.files.PutInvoice(ctx, key, pdf); err != nil {
			return fmt.Errorf("store %s: %w", inv.Number, err)
		}
		if err := iv.store.MarkInvoiceRendered(ctx, inv.ID, key); err != nil {
			return err
		}
	}
	if inv.Emailed || iv.mailer == nil {
		return nil
	}
	to, name, err := iv.store.InvoiceRecipient(ctx, inv.ID)
	if err != nil {
		return err
	}
	link := iv.cfg.PublicURL + "/invoices/" + inv.ID + "/pdf"
	if err := iv.mailer.SendInvoice(ctx, to, name, inv, link); err != nil {
		return fmt.Errorf("e-mail %s: %w", inv.Number, err)
	}
	iv.log.InfoContext(ctx, "invoice delivered", "invoice_id", inv.ID, "number", inv.Number, "order_id", inv.OrderID)
	return iv.store.MarkInvoiceEmailed(ctx, inv.ID)
}
