package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gigstream/hub/market"
)

// exportDoc is the part of an export these tests read.
type exportDoc struct {
	User struct {
		ID    string `json:"id"`
		Email string `json:"email"`
	} `json:"user"`
	NotificationPreferences struct {
		Channels map[string]map[string]bool `json:"channels"`
		Language string                     `json:"language"`
	} `json:"notification_preferences"`
	Conversations []struct {
		Participants     []string `json:"participants"`
		MessagesReceived int      `json:"messages_received"`
	} `json:"conversations"`
	MessagesSent []struct {
		Body    string `json:"body"`
		Deleted bool   `json:"deleted"`
	} `json:"messages_sent"`
	Blocks       []struct{ Username string } `json:"blocks"`
	DeviceTokens []struct {
		Platform    string `json:"platform"`
		TokenSuffix string `json:"token_suffix"`
	} `json:"device_tokens"`
	Notifications []struct{ Title string } `json:"notifications"`
	Uploads       []struct{ Kind, Status string }
	Orders        []struct {
		Role         string `json:"role"`
		Counterparty string `json:"counterparty"`
		PriceMinor   int64  `json:"price_minor"`
		Deliveries   []struct {
			Note  string
			Files []struct{ Filename string }
		}
		RevisionRequests []struct{ Note string } `json:"revision_requests"`
		Disputes         []struct{ Reason string }
		Review           *struct{ Rating int }
	} `json:"orders"`
	Invoices []struct {
		Role, Kind, Number string
		OrderID            string          `json:"order_id"`
		CreditsNumber      *string         `json:"credits_number"`
		TotalMinor         int64           `json:"total_minor"`
		Customer           json.RawMessage `json:"customer"`
		PDFURL             *string         `json:"pdf_url"`
	} `json:"invoices"`
	Withdrawals    []struct{ Status string }
	LedgerPostings []struct {
		Account     string `json:"account"`
		AmountMinor int64  `json:"amount_minor"`
	} `json:"ledger_postings"`
	Complete bool `json:"complete"`
}

// exportOf writes userID's whole export and decodes it.
func exportOf(t *testing.T, f orderFixture, userID string) (exportDoc, string) {
	t.Helper()
	ctx := context.Background()
	a := market.NewAccounts(f.db, nil, nil, market.AccountsConfig{}, nil)
	head, err := a.Export(ctx, userID)
	must(t, err)
	var buf bytes.Buffer
	must(t, a.WriteExport(ctx, head, &buf))
	var doc exportDoc
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("export is not JSON: %v\n%s", err, buf.String())
	}
	return doc, buf.String()
}

// chatted gives the buyer a conversation with the seller: two messages sent (one
// deleted), one received, a block, a device token and a notification.
func (f orderFixture) chatted(t *testing.T) {
	t.Helper()
	var conv string
	must(t, f.raw.QueryRow(`INSERT INTO conversations (kind, direct_key) VALUES ('direct', $1) RETURNING id`, f.buyer+":"+f.seller).Scan(&conv))
	_, err := f.raw.Exec(`INSERT INTO conversation_members (conversation_id, user_id) VALUES ($1, $2), ($1, $3)`, conv, f.buyer, f.seller)
	must(t, err)
	_, err = f.raw.Exec(`INSERT INTO messages (conversation_id, seq, sender_id, client_id, text, deleted_at) VALUES
		($1, 1, $2, gen_random_uuid(), 'hello from the buyer', NULL),
		($1, 2, $3, gen_random_uuid(), 'private words of the seller', NULL),
		($1, 3, $2, gen_random_uuid(), 'taken back', now())`, conv, f.buyer, f.seller)
	must(t, err)
	_, err = f.raw.Exec(`INSERT INTO blocks (blocker_id, blocked_id) VALUES ($1, $2)`, f.buyer, f.seller)
	must(t, err)
	_, err = f.raw.Exec(`INSERT INTO device_tokens (token, user_id, platform) VALUES ('fcm-secret-token-ABCDEF', $1, 'ios')`, f.buyer)
	must(t, err)
	_, err = f.raw.Exec(`INSERT INTO notifications (user_id, kind, title, body, link, source_channel, source_seq)
		VALUES ($1, 'order.paid', 'Your order is paid', 'b', '/orders', 'x', 1)`, f.buyer)
	must(t, err)
}

// workedOn makes the order delivered once (with the seller's file), revised and disputed.
func (f orderFixture) workedOn(t *testing.T, orderID string) {
	t.Helper()
	upload := f.cleanDeliverable(t, orderID)
	_, err := f.raw.Exec(`WITH d AS (INSERT INTO deliveries (order_id, version, note) VALUES ($1, 1, 'first cut') RETURNING id)
		INSERT INTO delivery_files (delivery_id, upload_id, position) SELECT id, $2, 0 FROM d`, orderID, upload)
	must(t, err)
	_, err = f.raw.Exec(`INSERT INTO revision_requests (order_id, after_version, note) VALUES ($1, 1, 'bigger please')`, orderID)
	must(t, err)
	_, err = f.raw.Exec(`INSERT INTO disputes (order_id, opened_by, reason, prior_status, status, open_key, open_hash, withdrawn_at)
		VALUES ($1, $2, 'the logo is not what we agreed', 'delivered', 'withdrawn', 'k', 'h', now())`, orderID, f.buyer)
	must(t, err)
}

func TestExportHoldsEverySectionOfTheBuyer(t *testing.T) {
	f := newOrderFixture(t)
	f.chatted(t)
	o := f.completedOrder(t)
	f.workedOn(t, o.ID)
	_, _, err := f.db.CreateReview(context.Background(), market.NewReview{OrderID: o.ID, BuyerID: f.buyer, Rating: 4}, allow)
	must(t, err)

	doc, raw := exportOf(t, f, f.buyer)
	if !doc.Complete || doc.User.ID != f.buyer || len(doc.NotificationPreferences.Channels) != 8 || doc.NotificationPreferences.Language != "en" {
		t.Fatalf("head: %+v", doc)
	}
	if len(doc.Conversations) != 1 || doc.Conversations[0].MessagesReceived != 1 || len(doc.Conversations[0].Participants) != 1 {
		t.Fatalf("conversations: %+v", doc.Conversations)
	}
	if len(doc.MessagesSent) != 2 || strings.Contains(raw, "private words of the seller") {
		t.Fatalf("messages: %+v (received text exported: %v)", doc.MessagesSent, strings.Contains(raw, "private words"))
	}
	if len(doc.Blocks) != 1 || doc.Blocks[0].Username != doc.Conversations[0].Participants[0] {
		t.Fatalf("blocks: %+v", doc.Blocks)
	}
	if len(doc.DeviceTokens) != 1 || doc.DeviceTokens[0].TokenSuffix != "ABCDEF" || strings.Contains(raw, "fcm-secret-token") {
		t.Fatalf("device tokens: %+v", doc.DeviceTokens)
	}
	if len(doc.Notifications) != 1 || len(doc.Orders) != 1 {
		t.Fatalf("notifications %+v, orders %+v", doc.Notifications, doc.Orders)
	}
	ord := doc.Orders[0]
	if ord.Role != "buyer" || ord.PriceMinor != f.price || len(ord.Deliveries) != 1 || ord.Deliveries[0].Note != "first cut" ||
		len(ord.Deliveries[0].Files) != 1 || len(ord.RevisionRequests) != 1 || len(ord.Disputes) != 1 || ord.Review == nil || ord.Review.Rating != 4 {
		t.Fatalf("order: %+v", ord)
	}
	var sellerEmail string
	must(t, f.raw.QueryRow(`SELECT email FROM users WHERE id = $1`, f.seller).Scan(&sellerEmail))
	if len(doc.Uploads) != 0 || len(doc.LedgerPostings) != 0 || strings.Contains(raw, sellerEmail) {
		t.Fatalf("the buyer's export holds the seller's data: %s", raw)
	}
}

func TestExportOfTheSellerHasUploadsWithoutKeysAndTheirPostings(t *testing.T) {
	f := newOrderFixture(t)
	o := f.deliveredOrder(t, time.Now())
	f.workedOn(t, o.ID)
	s := f.settlement(&fakeMoney{}, market.SettlementConfig{ClearingPeriod: time.Hour})
	_, _, err := s.Accept(context.Background(), o.ID, f.buyer, "k1")
	must(t, err)

	doc, raw := exportOf(t, f, f.seller)
	if len(doc.Uploads) != 1 || doc.Uploads[0].Kind != "deliverable" || strings.Contains(raw, "k/") || strings.Contains(raw, "object_key") {
		t.Fatalf("uploads: %+v\n%s", doc.Uploads, raw)
	}
	if len(doc.Orders) != 1 || doc.Orders[0].Role != "seller" || doc.Orders[0].Counterparty != "buyer_one" {
		t.Fatalf("orders: %+v", doc.Orders)
	}
	if len(doc.LedgerPostings) != 1 || doc.LedgerPostings[0].Account != "pending" || doc.LedgerPostings[0].AmountMinor != 900 {
		t.Fatalf("postings: %+v", doc.LedgerPostings)
	}
	if strings.Contains(raw, "buyer@x.test") {
		t.Fatal("the seller's export holds the buyer's e-mail")
	}
}

// TestExportHoldsThePartiesInvoicesOnly: the buyer's export holds their order's
// invoice and credit note with the buyer's details and the PDF's download path once
// rendered, and not another buyer's invoice; the seller's holds the documents of both
// their sales without the buyers' details; the other buyer's holds only theirs.
func TestExportHoldsThePartiesInvoicesOnly(t *testing.T) {
	f := newOrderFixture(t)
	ctx := context.Background()
	s := f.settlement(&fakeMoney{}, market.SettlementConfig{Issuer: market.Issuer{Name: "GigStream GmbH", Country: "DE"}})
	theirs := f.deliveredOrder(t, time.Now())
	_, _, err := s.Refund(ctx, theirs.ID, market.User{ID: f.seller, IsAdmin: true}, 400, "late", "k-refund")
	must(t, err)
	other, err := f.db.CreateUser(ctx, market.NewUser{Email: "other@x.test", Username: "buyer_two", DisplayName: "Other", IsBuyer: true})
	must(t, err)
	stranger := f
	stranger.buyer = other.ID
	strangers := stranger.deliveredOrder(t, time.Now())
	if _, _, err := s.Accept(ctx, strangers.ID, other.ID, "k-accept"); err != nil {
		t.Fatal(err)
	}
	invs, err := f.db.OrderInvoices(ctx, theirs.ID)
	must(t, err)
	if len(invs) != 2 {
		t.Fatalf("the refunded order has %d documents, want 2", len(invs))
	}
	must(t, f.db.MarkInvoiceRendered(ctx, invs[0].ID, "invoices/"+invs[0].ID+".pdf"))

	for _, c := range []struct {
		user, role string
		orders     map[string]int
	}{{f.buyer, "buyer", map[string]int{theirs.ID: 2}}, {f.seller, "seller", map[string]int{theirs.ID: 2, strangers.ID: 1}}} {
		doc, raw := exportOf(t, f, c.user)
		got := map[string]int{}
		for _, d := range doc.Invoices {
			got[d.OrderID]++
		}
		if fmt.Sprint(got) != fmt.Sprint(c.orders) {
			t.Fatalf("the %s's export holds documents of orders %v, want %v: %s", c.role, got, c.orders, raw)
		}
		for _, d := range doc.Invoices {
			rendered := d.Number == invs[0].Number
			if d.Role != c.role || (d.PDFURL != nil) != rendered ||
				(rendered && *d.PDFURL != "/invoices/"+invs[0].ID+"/pdf") || (string(d.Customer) != "null") != (c.role == "buyer") {
				t.Fatalf("the %s's export: document %+v", c.role, d)
			}
		}
		if strings.Contains(raw, "invoices/"+invs[0].ID+".pdf") {
			t.Fatalf("the %s's export holds the object key", c.role)
		}
	}
	doc, _ := exportOf(t, f, other.ID)
	if len(doc.Invoices) != 1 || doc.Invoices[0].OrderID != strangers.ID || doc.Invoices[0].Kind != "invoice" {
		t.Fatalf("the other buyer's export: %+v", doc.Invoices)
	}
}

// TestExportPagesFollowTheirKeys reads messages one at a time: every message comes once.
func TestExportPagesFollowTheirKeys(t *testing.T) {
	f := newOrderFixture(t)
	f.chatted(t)
	ctx := context.Background()
	seen, after := map[string]bool{}, ""
	for range 5 {
		rows, err := f.db.ExportPage(ctx, market.ExportMessagesSent, f.buyer, after, 1)
		must(t, err)
		if len(rows) == 0 {
			break
		}
		seen[string(rows[0].Data)] = true
		after = rows[0].Key
	}
	if len(seen) != 2 {
		t.Fatalf("%d distinct messages paged, want 2", len(seen))
	}
	if _, err := f.db.ExportPage(ctx, "passwords", f.buyer, "", 1); market.ErrorCode(err) != market.CodeInvalid {
		t.Fatalf("unknown section: %v", err)
	}
}

// TestExportStreamsPastOnePage writes more messages than one page holds: every one is
// exported once and the document stays valid JSON across the page boundary.
func TestExportStreamsPastOnePage(t *testing.T) {
	f := newOrderFixture(t)
	f.chatted(t)
	_, err := f.raw.Exec(`INSERT INTO messages (conversation_id, seq, sender_id, client_id, text)
		SELECT conversation_id, 100 + n, sender_id, gen_random_uuid(), 'bulk ' || n
		FROM (SELECT conversation_id, sender_id FROM messages WHERE sender_id = $1 LIMIT 1) m, generate_series(1, 1001) n`, f.buyer)
	must(t, err)
	doc, _ := exportOf(t, f, f.buyer)
	bodies := map[string]bool{}
	for _, m := range doc.MessagesSent {
		bodies[m.Body] = true
	}
	if len(doc.MessagesSent) != 1003 || len(bodies) != 1003 || !doc.Complete {
		t.Fatalf("%d messages (%d distinct) exported, want 1003", len(doc.MessagesSent), len(bodies))
	}
}
