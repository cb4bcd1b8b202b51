package e2e

import (
	"encoding/json"
	"github.com/google/uuid"
	"strings"
	"testing"
	"time"
)

// apiExport is the part of GET /me/export these tests read.
type apiExport struct {
	User          struct{ ID, Email, Username string }
	Conversations []struct {
		Kind             string
		Participants     []string
		MessagesReceived int `json:"messages_received"`
	}
	MessagesSent []struct{ Body string } `json:"messages_sent"`
	Blocks       []struct{ Username string }
	DeviceTokens []struct {
		Platform    string
		TokenSuffix string `json:"token_suffix"`
	} `json:"device_tokens"`
	Notifications []struct{ Kind string }
	Uploads       []struct{ ID, Kind, Status string }
	Orders        []struct {
		ID, Role, Status, Counterparty string
		PriceMinor                     int64 `json:"price_minor"`
		Deliveries                     []struct {
			Note  string
			Files []struct{ Filename string }
		}
		Review *struct {
			Rating  int
			Comment string
		}
	}
	Withdrawals    []struct{ Status string }
	LedgerPostings []struct {
		Account     string
		AmountMinor int64 `json:"amount_minor"`
	} `json:"ledger_postings"`
	Complete bool
}

// exportAs downloads c's export, checks its headers and decodes it.
func exportAs(t *testing.T, c *client) (apiExport, string) {
	t.Helper()
	r := expect(t, c.do("GET", "/me/export", nil), 200, "export")
	if !strings.HasPrefix(r.header.Get("Content-Disposition"), "attachment") || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("export headers: %v", r.header)
	}
	var e apiExport
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("export is not JSON: %v\n%s", err, r.body)
	}
	if !e.Complete {
		t.Fatalf("export not complete: %s", r.body)
	}
	return e, string(r.body)
}

// TestExportOfAUserWhoChattedUploadedOrderedAndReviewed: each section holds the
// caller's rows, and neither object keys, nor full device tokens, nor the other side's
// e-mail or message text.
func TestExportOfAUserWhoChattedUploadedOrderedAndReviewed(t *testing.T) {
	o := startOrderNode(t, notificationEnv(nil), true)
	buyer := &client{t: t, base: o.n.URL, bearer: o.buyer}
	seller := &client{t: t, base: o.n.URL, bearer: o.seller}
	strangerID, _ := appUser(t, o.n, "blocked")
	var conv struct{ ID string }
	expect(t, buyer.do("POST", "/conversations", map[string]string{"participant_id": o.sellerID}), 201, "open conversation").json(t, &conv)
	send(t, buyer, conv.ID, "hello Maya")
	send(t, buyer, conv.ID, "a logo please")
	send(t, seller, conv.ID, "words only Maya may see exported")
	expect(t, buyer.do("PUT", "/blocks/"+strangerID, nil), 204, "block")
	expect(t, buyer.do("POST", "/me/devices", map[string]string{"platform": "ios", "token": "lena-phone-token-XYZ123"}), 204, "device")
	expect(t, uploadForm(t, o.n, o.buyer, map[string]string{"kind": "avatar"}, "me.png", pngBytes(t)), 201, "avatar")
	id := o.completedOrder(t)
	expect(t, buyer.do("POST", "/orders/"+id+"/review", map[string]any{"rating": 5, "comment": "great work"}), 201, "review")
	waitNotification(t, buyer, "order_delivered", id)

	e, raw := exportAs(t, buyer)
	kinds := map[string]int{}
	for _, c := range e.Conversations {
		kinds[c.Kind] += c.MessagesReceived
		if len(c.Participants) != 1 || c.Participants[0] != "maya_designs" {
			t.Fatalf("conversation with %v", c.Participants)
		}
	}
	// The direct conversation opened above, and the order's own thread.
	if e.User.ID != o.buyerID || len(e.Conversations) != 2 || kinds["direct"] != 1 || len(e.MessagesSent) != 2 {
		t.Fatalf("chat sections: %+v", e)
	}
	if len(e.Blocks) != 1 || len(e.DeviceTokens) != 1 || e.DeviceTokens[0].TokenSuffix != "XYZ123" || len(e.Notifications) == 0 {
		t.Fatalf("blocks %+v, devices %+v, notifications %+v", e.Blocks, e.DeviceTokens, e.Notifications)
	}
	if len(e.Uploads) != 1 || e.Uploads[0].Kind != "avatar" || len(e.Orders) != 1 {
		t.Fatalf("uploads %+v, orders %+v", e.Uploads, e.Orders)
	}
	ord := e.Orders[0]
	if ord.ID != id || ord.Role != "buyer" || ord.PriceMinor != o.price || len(ord.Deliveries) != 1 || ord.Deliveries[0].Note != "done" ||
		len(ord.Deliveries[0].Files) != 1 || ord.Review == nil || ord.Review.Comment != "great work" {
		t.Fatalf("order: %+v", ord)
	}
	for _, secret := range []string{"words only Maya", "lena-phone-token", "maya@demo.gigstream.test", "u/" + o.buyerID, "u/" + o.sellerID, "object_key"} {
		if strings.Contains(raw, secret) {
			t.Fatalf("the buyer's export contains %q", secret)
		}
	}

	s, raw := exportAs(t, seller)
	if len(s.Orders) != 1 || s.Orders[0].Role != "seller" || s.Orders[0].Review == nil || s.Orders[0].Review.Rating != 5 {
		t.Fatalf("seller's orders: %+v", s.Orders)
	}
	if len(s.LedgerPostings) != 1 || s.LedgerPostings[0].Account != "pending" || s.LedgerPostings[0].AmountMinor != o.price-450 {
		t.Fatalf("seller's postings: %+v", s.LedgerPostings)
	}
	if len(s.Uploads) == 0 || strings.Contains(raw, "lena@demo.gigstream.test") || strings.Contains(raw, "u/"+o.sellerID) || strings.Contains(raw, "hello Maya") {
		t.Fatalf("the seller's export leaks: %s", raw)
	}
}

// moneyRows sums what deletion must leave alone.
func moneyRows(t *testing.T, o *orderNode) [4]int64 {
	return [4]int64{
		o.sqlInt64(t, `SELECT count(*) FROM orders`),
		o.sqlInt64(t, `SELECT COALESCE(sum(abs(amount_minor)), 0) FROM ledger_postings`),
		o.sqlInt64(t, `SELECT COALESCE(sum(rating), 0) FROM reviews`),
		o.sqlInt64(t, `SELECT COALESCE(sum(amount_minor), 0) FROM withdrawals`),
	}
}

// TestDeleteRefusedWhileMoneyIsOpen: deletion is 409 naming orders while one is open,
// balance while earnings are pending or available, and allowed once all is paid out;
// the seller's gigs leave the catalogue, sign-in fails, money rows stay as they were.
func TestDeleteRefusedWhileMoneyIsOpen(t *testing.T) {
	o := startOrderNode(t, map[string]string{"ORDER_CLEARING_PERIOD": "2s", "SETTLEMENT_JOB_INTERVAL": "1s"}, true)
	buyer := &client{t: t, base: o.n.URL, bearer: o.buyer}
	seller := &client{t: t, base: o.n.URL, bearer: o.seller}
	pw := map[string]string{"password": demoPassword}
	id := o.deliveredOrder(t)
	expectField(t, buyer.do("DELETE", "/me", pw), 409, "orders", "buyer with a delivered order")
	expectField(t, seller.do("DELETE", "/me", pw), 409, "orders", "seller with a delivered order")

	expect(t, buyer.do("POST", "/orders/"+id+"/accept", nil, key()...), 200, "accept")
	expect(t, buyer.do("POST", "/orders/"+id+"/review", map[string]any{"rating": 4}), 201, "review")
	expectField(t, seller.do("DELETE", "/me", pw), 409, "balance", "seller with pending earnings")
	earned := o.price - 450
	deadline := time.Now().Add(30 * time.Second)
	for balanceOf(t, seller, o.currency).Available != earned {
		if time.Now().After(deadline) {
			t.Fatalf("earnings never cleared: %+v", balanceOf(t, seller, o.currency))
		}
		time.Sleep(200 * time.Millisecond)
	}
	expectField(t, seller.do("DELETE", "/me", pw), 409, "balance", "seller with available earnings")
	o.connectSeller(t, seller)
	var w apiWithdrawal
	expect(t, seller.do("POST", "/me/withdrawals", map[string]any{"amount_minor": earned, "currency": o.currency}, key()...), 201, "withdraw all").json(t, &w)
	expectField(t, seller.do("DELETE", "/me", pw), 409, "withdrawals", "seller with a payout in transit")
	expect(t, o.sendConnect(t, payoutEvent("evt_"+uuid.NewString(), "payout.paid", w, w.AmountMinor, ""), connectSecret), 200, "payout.paid")

	if n := o.sqlInt64(t, `SELECT count(*) FROM gigs WHERE seller_id = $1 AND status = 'published'`, o.sellerID); n == 0 {
		t.Fatal("the seeded seller has no published gig to hide")
	}
	before := moneyRows(t, o)
	expect(t, buyer.do("DELETE", "/me", pw), 204, "delete the buyer")
	expect(t, seller.do("DELETE", "/me", pw), 204, "delete the seller")
	if after := moneyRows(t, o); after != before {
		t.Fatalf("money rows changed: %v → %v", before, after)
	}
	for _, email := range []string{"maya@demo.gigstream.test", "lena@demo.gigstream.test"} {
		expect(t, (&client{t: t, base: o.n.URL}).do("POST", "/auth/tokens", map[string]string{"email": email, "password": demoPassword}), 401, "sign in after delete")
	}
	var page gigPage
	expect(t, as(t, o.n, "", "GET", "/gigs?limit=100"), 200, "catalogue").json(t, &page)
	for _, g := range page.Gigs {
		if g.Seller.ID == o.sellerID {
			t.Fatalf("a deleted seller's gig is listed: %+v", g)
		}
	}
	if n := o.sqlInt64(t, `SELECT count(*) FROM gigs WHERE seller_id = $1 AND status = 'published'`, o.sellerID); n != 0 {
		t.Fatalf("%d gigs of the deleted seller still published", n)
	}
	o.assertLedgerConserved(t)
}
