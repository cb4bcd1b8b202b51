package e2e

import (
	"bytes"
	"compress/zlib"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// billingEnv charges a 5 % service fee and 19 % German tax, issued from Germany.
func billingEnv() map[string]string {
	return notificationEnv(map[string]string{"SERVICE_FEE_BPS": "500", "TAX_RATES": "DE:1900", "INVOICE_ISSUER_COUNTRY": "DE",
		"INVOICE_ISSUER_NAME": "GigStream GmbH", "INVOICE_ISSUER_ADDRESS": "Hauptstr. 1;10115 Berlin"})
}

// apiInvoice is an invoice or credit note as the API lists it.
type apiInvoice struct {
	ID, Kind, Number, Currency string
	CreditsNumber              string `json:"credits_number"`
	NetMinor                   int64  `json:"net_minor"`
	TaxMinor                   int64  `json:"tax_minor"`
	TotalMinor                 int64  `json:"total_minor"`
	Ready                      bool
}

// waitInvoices polls the order's invoices as c until n of them are rendered.
func waitInvoices(t *testing.T, c *client, orderID string, n int) []apiInvoice {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var list struct{ Invoices []apiInvoice }
		expect(t, c.do("GET", "/orders/"+orderID+"/invoices", nil), 200, "invoices").json(t, &list)
		ready := 0
		for _, inv := range list.Invoices {
			if inv.Ready {
				ready++
			}
		}
		if ready == n && len(list.Invoices) == n {
			return list.Invoices
		}
		if time.Now().After(deadline) {
			t.Fatalf("invoices of %s after 30 s: %+v", orderID, list.Invoices)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// pdfText is the text a PDF shows: the literal strings of its (Flate-compressed)
// content streams, "(…)" with escapes kept.
func pdfText(t *testing.T, raw []byte) string {
	t.Helper()
	if !bytes.HasPrefix(raw, []byte("%PDF-1.")) {
		t.Fatalf("not a PDF: %.20q", raw)
	}
	var text strings.Builder
	for _, m := range regexp.MustCompile(`(?s)stream\r?\n(.*?)\r?\nendstream`).FindAllSubmatch(raw, -1) {
		zr, err := zlib.NewReader(bytes.NewReader(m[1]))
		if err != nil {
			continue // not compressed: a font or image
		}
		plain, err := io.ReadAll(zr)
		if err == nil {
			text.Write(plain)
		}
	}
	return text.String()
}

func TestOrderChargesTheQuoteAndIssuesInvoiceAndCreditNote(t *testing.T) {
	o := startOrderNode(t, billingEnv(), true)
	buyer := &client{t: t, base: o.n.URL, bearer: o.buyer}
	seller := &client{t: t, base: o.n.URL, bearer: o.seller}
	expect(t, buyer.do("PUT", "/me/billing-profile", map[string]any{"name": "Lena Buyer", "address_line1": "Gartenweg 5",
		"city": "Hamburg", "postal_code": "20095", "country": "DE"}), 200, "billing profile")
	// 45.00 + 2.25 fee + 19 % on both (8.55 + 0.4275 → 0.43) = 56.23
	var q struct {
		TotalMinor int64 `json:"total_minor"`
	}
	expect(t, buyer.do("GET", "/gigs/"+o.gigID+"/quote?tier=basic", nil), 200, "quote").json(t, &q)
	if q.TotalMinor != 5623 {
		t.Fatalf("quote total %d, want 5623", q.TotalMinor)
	}
	stale := buyer.do("POST", "/orders", map[string]any{"gig_id": o.gigID, "tier": "basic", "quote_total_minor": 4500}, key()...)
	expectField(t, stale, 409, "quote_total_minor", "a stale quote")
	var ord struct {
		apiOrder
		Total int64 `json:"total_minor"`
		Fee   int64 `json:"service_fee_minor"`
		Tax   int64 `json:"tax_minor"`
	}
	expect(t, buyer.do("POST", "/orders", map[string]any{"gig_id": o.gigID, "tier": "basic", "quote_total_minor": 5623}, key()...),
		201, "order at the quoted total").json(t, &ord)
	if ord.Total != 5623 || ord.Fee != 225 || ord.Tax != 898 || ord.PriceMinor != 4500 {
		t.Fatalf("order charges %+v", ord)
	}
	short := paymentWebhook("evt_"+uuid.NewString(), "payment_intent.succeeded", ord.apiOrder, 4500, "USD")
	expect(t, o.sendWebhook(t, short, stripeSignature(short, webhookSecret, time.Now())), 200, "the price alone")
	if n, _ := o.ledger(t, ord.ID); n != 0 {
		t.Fatal("a payment of the price alone funded the order")
	}
	full := paymentWebhook("evt_"+uuid.NewString(), "payment_intent.succeeded", ord.apiOrder, 5623, "USD")
	expect(t, o.sendWebhook(t, full, stripeSignature(full, webhookSecret, time.Now())), 200, "the total")
	if _, escrow := o.ledger(t, ord.ID); escrow != 4500 || o.accountBalance(t, "platform:service_fees") != 225 ||
		o.accountBalance(t, "tax:payable:DE") != 898 || o.accountBalance(t, "external:stripe") != -5623 {
		t.Fatalf("escrow %d, service fees %d, tax %d", escrow, o.accountBalance(t, "platform:service_fees"), o.accountBalance(t, "tax:payable:DE"))
	}

	// The seller cancels: the buyer gets everything back; an invoice and its credit note.
	expect(t, seller.do("POST", "/orders/"+ord.ID+"/cancel", nil, key()...), 200, "the seller cancels")
	if o.accountBalance(t, "platform:service_fees") != 0 || o.accountBalance(t, "tax:payable:DE") != 0 || o.accountBalance(t, "external:stripe") != 0 {
		t.Fatal("a full refund kept part of the fee or tax")
	}
	o.assertLedgerConserved(t)
	list := waitInvoices(t, buyer, ord.ID, 2)
	inv, cn := list[0], list[1]
	if inv.Kind != "invoice" || !strings.HasPrefix(inv.Number, "INV-") || inv.TotalMinor != 5623 || inv.TaxMinor != 898 ||
		cn.Kind != "credit_note" || !strings.HasPrefix(cn.Number, "CN-") || cn.CreditsNumber != inv.Number || cn.TotalMinor != 5623 {
		t.Fatalf("documents %+v", list)
	}
	r := expect(t, buyer.do("GET", "/invoices/"+inv.ID+"/pdf", nil), 200, "the buyer's invoice PDF")
	if r.header.Get("Content-Type") != "application/pdf" || !strings.Contains(r.header.Get("Content-Disposition"), inv.Number+".pdf") {
		t.Fatalf("headers %v", r.header)
	}
	text := pdfText(t, r.body)
	for _, want := range []string{"(Invoice)", "(Number: " + inv.Number + ")", "(Lena Buyer)", "(GigStream GmbH)", "(Service fee)",
		"(45.00 USD)", "(2.25 USD)", "(19 %)", "(8.98 USD)", "(56.23 USD)"} {
		if !strings.Contains(text, want) {
			t.Errorf("the invoice PDF does not show %s", want)
		}
	}
	cnText := pdfText(t, expect(t, seller.do("GET", "/invoices/"+cn.ID+"/pdf", nil), 200, "the seller's credit note PDF").body)
	if !strings.Contains(cnText, "(Credit note)") || !strings.Contains(cnText, "Credits "+inv.Number) {
		t.Errorf("the credit note PDF:\n%s", cnText)
	}
	admin := &client{t: t, base: o.n.URL, bearer: o.adminToken(t)}
	expect(t, admin.do("GET", "/invoices/"+inv.ID+"/pdf", nil), 200, "an admin")
	_, strangerToken := appUser(t, o.n, "nosy")
	stranger := &client{t: t, base: o.n.URL, bearer: strangerToken}
	expect(t, stranger.do("GET", "/orders/"+ord.ID+"/invoices", nil), 404, "a stranger's list")
	expect(t, stranger.do("GET", "/invoices/"+inv.ID+"/pdf", nil), 404, "a stranger's PDF")
	expect(t, stranger.do("GET", "/invoices/"+uuid.NewString()+"/pdf", nil), 404, "no such invoice")
	waitInvoiceMail(t, "lena@demo.gigstream.test", inv.Number, "/invoices/"+inv.ID+"/pdf")
}

// waitInvoiceMail waits for the plain-text mail to addr about number with the link.
func waitInvoiceMail(t *testing.T, addr, number, link string) {
	t.Helper()
	base := os.Getenv("MAILPIT_URL")
	if base == "" {
		t.Fatal("MAILPIT_URL is not set: run tests with `make test`")
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if id := findMail(t, base, addr, number); id != "" {
			if text := mailText(t, base, id); !strings.Contains(text, link) {
				t.Fatalf("the mail about %s has no link %s:\n%s", number, link, text)
			}
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("no mail to %s about %s within 30 s", addr, number)
}

// billedOrder is an order as placed under billingEnv, with what it charges in all.
type billedOrder struct {
	apiOrder
	Total int64 `json:"total_minor"`
}

// paidBilledOrder places an order of the basic package as buyer and pays its total
// (price, service fee and tax) by a signed payment_intent.succeeded.
func (o *orderNode) paidBilledOrder(t *testing.T, buyer *client) billedOrder {
	t.Helper()
	var ord billedOrder
	expect(t, buyer.do("POST", "/orders", map[string]any{"gig_id": o.gigID, "tier": "basic"}, key()...), 201, "order").json(t, &ord)
	o.signedStripe(t, paymentWebhook("evt_"+uuid.NewString(), "payment_intent.succeeded", ord.apiOrder, ord.Total, "USD"), "paid")
	return ord
}

func TestPartialRefundReturnsFeeAndTaxProRata(t *testing.T) {
	o := startOrderNode(t, billingEnv(), true)
	buyer := &client{t: t, base: o.n.URL, bearer: o.buyer}
	ord := o.paidBilledOrder(t, buyer)
	admin := &client{t: t, base: o.n.URL, bearer: o.adminToken(t)}
	// 15.00 of 45.00 back: a third of the 2.25 fee (0.75) and 19 % of each (2.85 + 0.1425 → 0.14)
	expect(t, admin.do("POST", "/orders/"+ord.ID+"/refund", map[string]any{"amount_minor": 1500, "reason": "partly late"}, key()...), 200, "refund")
	if fees, tax := o.accountBalance(t, "platform:service_fees"), o.accountBalance(t, "tax:payable:DE"); fees != 225-75 || tax != 898-299 {
		t.Fatalf("after the refund: service fees %d, tax %d", fees, tax)
	}
	if back := o.accountBalance(t, "external:stripe"); back != -5623+1500+75+299 {
		t.Fatalf("external:stripe %d", back)
	}
	o.assertLedgerConserved(t)
	list := waitInvoices(t, buyer, ord.ID, 2)
	if list[1].Kind != "credit_note" || list[1].TotalMinor != 1500+75+299 || list[1].TaxMinor != 299 || list[1].CreditsNumber != list[0].Number {
		t.Fatalf("credit note %+v", list[1])
	}
}

// TestRefundsAtTheProviderGetCreditNotes: a refund made in Stripe's dashboard of an
// order in escrow (signed charge.refunded) settles it with an invoice for what the
// buyer paid and a credit note for what they got back, shared over the charged lines;
// a second dashboard refund of the settled order gets a second credit note; repeated
// events issue nothing more. The buyer is mailed the credit note.
func TestRefundsAtTheProviderGetCreditNotes(t *testing.T) {
	o := startOrderNode(t, billingEnv(), true)
	buyer := &client{t: t, base: o.n.URL, bearer: o.buyer}
	ord := o.paidBilledOrder(t, buyer)

	// 10.00 of 56.23: net 8.40 (8.00 of the package, 0.40 of the fee) and 1.60 tax (1.52 + 0.08).
	refunded := chargeRefundedWebhook(ord.apiOrder, 1000)
	o.signedStripe(t, refunded, "charge.refunded from the dashboard")
	o.signedStripe(t, refunded, "the same event again")
	if got := o.orderOf(t, ord.ID); got.Status != "cancelled" {
		t.Fatalf("order after a dashboard refund: %+v", got)
	}
	list := waitInvoices(t, buyer, ord.ID, 2)
	inv, cn := list[0], list[1]
	if inv.Kind != "invoice" || inv.TotalMinor != 5623 || cn.Kind != "credit_note" || cn.CreditsNumber != inv.Number ||
		cn.TotalMinor != 1000 || cn.NetMinor != 840 || cn.TaxMinor != 160 {
		t.Fatalf("documents after the dashboard refund: %+v", list)
	}
	text := pdfText(t, expect(t, buyer.do("GET", "/invoices/"+cn.ID+"/pdf", nil), 200, "the credit note PDF").body)
	for _, want := range []string{"(Credit note)", "Credits " + inv.Number, "(8.00 USD)", "(0.40 USD)", "(10.00 USD)"} {
		if !strings.Contains(text, want) {
			t.Errorf("the credit note PDF does not show %s", want)
		}
	}
	waitInvoiceMail(t, "lena@demo.gigstream.test", cn.Number, "/invoices/"+cn.ID+"/pdf")

	// 5.00 more, now that the order is settled: a second credit note.
	o.signedStripe(t, chargeRefundedWebhook(ord.apiOrder, 1500), "a second dashboard refund")
	o.signedStripe(t, chargeRefundedWebhook(ord.apiOrder, 1500), "the second refund's event again")
	list = waitInvoices(t, buyer, ord.ID, 3)
	if second := list[2]; second.Kind != "credit_note" || second.CreditsNumber != inv.Number || second.TotalMinor != 500 || second.TaxMinor != 80 ||
		second.Number == cn.Number {
		t.Fatalf("documents after the second dashboard refund: %+v", list)
	}
	o.assertLedgerConserved(t)
}
