package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/gigstream/hub/payments/paypaltest"
)

// paypalOrder is an order paid with PayPal as the API shows it to its buyer.
type paypalOrder struct {
	ID, Status string
	Payment    struct {
		Provider      string
		PayPalOrderID string `json:"paypal_order_id"`
		ApproveURL    string `json:"approve_url"`
		ClientSecret  string `json:"client_secret"`
		Status        string
		AmountMinor   int64 `json:"amount_minor"`
	}
}

// startPayPalNode starts a node on a seeded database with PayPal pointed at a fresh
// paypaltest server.
func startPayPalNode(t *testing.T) (*orderNode, *paypaltest.Server) {
	t.Helper()
	pp := paypaltest.New(t)
	o := startOrderNode(t, map[string]string{
		"PAYPAL_API_BASE": pp.URL, "PAYPAL_CLIENT_ID": paypaltest.ClientID,
		"PAYPAL_CLIENT_SECRET": paypaltest.ClientSecret, "PAYPAL_WEBHOOK_ID": paypaltest.WebhookID,
	}, true)
	return o, pp
}

// placePayPal orders the basic package with PayPal under key.
func (o *orderNode) placePayPal(t *testing.T, key string) (response, paypalOrder) {
	t.Helper()
	c := &client{t: t, base: o.n.URL, bearer: o.buyer}
	r := c.do("POST", "/orders", map[string]string{"gig_id": o.gigID, "tier": "basic", "provider": "paypal"}, "Idempotency-Key", key)
	var ord paypalOrder
	if r.status < 300 {
		r.json(t, &ord)
	}
	return r, ord
}

// approvedPayPalOrder places a PayPal order and approves it at PayPal, as the buyer.
func (o *orderNode) approvedPayPalOrder(t *testing.T, pp *paypaltest.Server) paypalOrder {
	t.Helper()
	r, ord := o.placePayPal(t, uuid.NewString())
	expect(t, r, 201, "place with paypal")
	if err := pp.Approve(ord.Payment.PayPalOrderID); err != nil {
		t.Fatal(err)
	}
	return ord
}

// sendPayPalWebhook posts a webhook as PayPal would.
func sendPayPalWebhook(n *Node, h http.Header, body []byte) (int, error) {
	req, err := http.NewRequest("POST", n.URL+"/webhooks/paypal", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header = h.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// capturePayPal posts the buyer's capture without a testing.T, for goroutines.
func (o *orderNode) capturePayPal(id string) (int, error) {
	req, err := http.NewRequest("POST", o.n.URL+"/orders/"+id+"/paypal/capture", nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+o.buyer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// assertFundedOnce checks the order's ledger by SQL: one escrow funding from
// external:paypal of exactly the price, and the whole ledger conserved.
func (o *orderNode) assertFundedOnce(t *testing.T, id string) {
	t.Helper()
	if txs, escrow := o.ledger(t, id); txs != 1 || escrow != o.price {
		t.Fatalf("ledger of %s: %d transactions, escrow %d; want 1 and %d", id, txs, escrow, o.price)
	}
	paypal := o.sqlInt64(t, `SELECT COALESCE(sum(p.amount_minor), 0) FROM ledger_postings p JOIN ledger_transactions x ON x.id = p.transaction_id
		WHERE x.order_id = $1 AND p.account = 'external:paypal'`, id)
	if paypal != -o.price {
		t.Fatalf("external:paypal for %s = %d, want %d", id, paypal, -o.price)
	}
	o.assertLedgerConserved(t)
}

func TestPayPalPlaceApproveCaptureFundsEscrowOnce(t *testing.T) {
	o, pp := startPayPalNode(t)
	buyer := &client{t: t, base: o.n.URL, bearer: o.buyer}
	k := uuid.NewString()
	r, ord := o.placePayPal(t, k)
	expect(t, r, 201, "place with paypal")
	if ord.Status != "placed" || ord.Payment.Provider != "paypal" || ord.Payment.PayPalOrderID == "" ||
		!strings.HasPrefix(ord.Payment.ApproveURL, pp.URL) || ord.Payment.ClientSecret != "" {
		t.Fatalf("placed PayPal order = %+v", ord)
	}
	if pal, ok := pp.Order(ord.Payment.PayPalOrderID); !ok || pal.Value != "45.00" || pal.Currency != "USD" || pal.CustomID != ord.ID {
		t.Fatalf("PayPal holds %+v", pal)
	}
	r, again := o.placePayPal(t, k)
	if expect(t, r, 200, "retry"); again.ID != ord.ID || again.Payment.PayPalOrderID != ord.Payment.PayPalOrderID {
		t.Fatalf("retry made %+v, want %+v", again, ord)
	}
	expectField(t, buyer.do("POST", "/orders", map[string]string{"gig_id": o.gigID, "tier": "basic"}, "Idempotency-Key", k),
		422, "Idempotency-Key", "the key again for a Stripe order")
	expectField(t, buyer.do("POST", "/orders", map[string]string{"gig_id": o.gigID, "tier": "basic", "provider": "bitcoin"}, key()...),
		422, "provider", "an unknown provider")

	path := "/orders/" + ord.ID + "/paypal/capture"
	expect(t, buyer.do("POST", path, nil), 409, "capture before approval")
	if txs, _ := o.ledger(t, ord.ID); txs != 0 {
		t.Fatalf("capture before approval posted %d transactions", txs)
	}
	_, strangerToken := appUser(t, o.n, "paypeeker")
	expect(t, (&client{t: t, base: o.n.URL, bearer: strangerToken}).do("POST", path, nil), 404, "a stranger captures")
	expect(t, (&client{t: t, base: o.n.URL, bearer: o.seller}).do("POST", path, nil), 403, "the seller captures")

	if err := pp.Approve(ord.Payment.PayPalOrderID); err != nil {
		t.Fatal(err)
	}
	var paid paypalOrder
	expect(t, buyer.do("POST", path, nil), 200, "capture").json(t, &paid)
	if paid.Status != "paid" || paid.Payment.Status != "succeeded" {
		t.Fatalf("captured order = %+v", paid)
	}
	expect(t, buyer.do("POST", path, nil), 200, "capture again").json(t, &paid)
	if paid.Status != "paid" {
		t.Fatalf("captured again = %+v", paid)
	}
	h, body, err := pp.CaptureEvent("", ord.Payment.PayPalOrderID)
	if err != nil {
		t.Fatal(err)
	}
	if code, err := sendPayPalWebhook(o.n, h, body); err != nil || code != 200 {
		t.Fatalf("webhook after capture: %d, %v", code, err)
	}
	o.assertFundedOnce(t, ord.ID)
}

func TestPayPalCaptureAndWebhookRacingPayOnce(t *testing.T) {
	o, pp := startPayPalNode(t)
	ord := o.approvedPayPalOrder(t, pp)
	// The capture happened at PayPal (say, a call whose answer was lost); now the
	// buyer's retries and PayPal's webhooks (two events, each delivered repeatedly) race.
	if _, err := pp.CaptureNow(ord.Payment.PayPalOrderID); err != nil {
		t.Fatal(err)
	}
	type hook struct {
		h    http.Header
		body []byte
	}
	var hooks []hook
	for i := range 10 {
		h, body, err := pp.CaptureEvent(fmt.Sprintf("WH-RACE-%d", i%2), ord.Payment.PayPalOrderID)
		if err != nil {
			t.Fatal(err)
		}
		hooks = append(hooks, hook{h, body})
	}
	var wg sync.WaitGroup
	codes := make(chan string, 20)
	for i := range 10 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			code, err := o.capturePayPal(ord.ID)
			codes <- fmt.Sprintf("capture %d %v", code, err)
		}()
		go func() {
			defer wg.Done()
			code, err := sendPayPalWebhook(o.n, hooks[i].h, hooks[i].body)
			codes <- fmt.Sprintf("webhook %d %v", code, err)
		}()
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if !strings.HasSuffix(c, " 200 <nil>") {
			t.Errorf("racing call answered %s", c)
		}
	}
	o.assertFundedOnce(t, ord.ID)
	if n := o.sqlInt64(t, `SELECT count(*) FROM provider_events WHERE provider = 'paypal' AND order_id = $1 AND outcome = 'applied'`, ord.ID); n != 1 {
		t.Fatalf("%d applied PayPal events, want 1", n)
	}
}

func TestPayPalForgedWebhookChangesNothing(t *testing.T) {
	o, pp := startPayPalNode(t)
	ord := o.approvedPayPalOrder(t, pp)
	if _, err := pp.CaptureNow(ord.Payment.PayPalOrderID); err != nil {
		t.Fatal(err)
	}
	h, body, err := pp.CaptureEvent("", ord.Payment.PayPalOrderID)
	if err != nil {
		t.Fatal(err)
	}
	forged := bytes.Replace(body, []byte(`"45.00"`), []byte(`"0.01"`), 1)
	noSig := h.Clone()
	noSig.Del("PAYPAL-TRANSMISSION-SIG")
	for what, c := range map[string]struct {
		h    http.Header
		body []byte
	}{"verify says FAILURE": {h, forged}, "no signature header": {noSig, body}, "not JSON": {h, []byte("{")}} {
		if code, err := sendPayPalWebhook(o.n, c.h, c.body); err != nil || code != 400 {
			t.Errorf("%s: %d, %v; want 400", what, code, err)
		}
	}
	if txs, escrow := o.ledger(t, ord.ID); txs != 0 || escrow != 0 {
		t.Fatalf("forged webhooks moved money: %d transactions, escrow %d", txs, escrow)
	}
	if n := o.sqlInt64(t, `SELECT count(*) FROM provider_events WHERE provider = 'paypal'`); n != 0 {
		t.Fatalf("forged webhooks were recorded: %d", n)
	}
	var got paypalOrder
	expect(t, (&client{t: t, base: o.n.URL, bearer: o.buyer}).do("GET", "/orders/"+ord.ID, nil), 200, "order").json(t, &got)
	if got.Status != "placed" {
		t.Fatalf("after forged webhooks the order is %s", got.Status)
	}
	// The genuine webhook alone pays it.
	if code, err := sendPayPalWebhook(o.n, h, body); err != nil || code != 200 {
		t.Fatalf("genuine webhook: %d, %v", code, err)
	}
	o.assertFundedOnce(t, ord.ID)
}

func TestPayPalSellerCancelRefundsThroughPayPal(t *testing.T) {
	o, pp := startPayPalNode(t)
	ord := o.approvedPayPalOrder(t, pp)
	buyer := &client{t: t, base: o.n.URL, bearer: o.buyer}
	expect(t, buyer.do("POST", "/orders/"+ord.ID+"/paypal/capture", nil), 200, "capture")
	seller := &client{t: t, base: o.n.URL, bearer: o.seller}
	var cancelled paypalOrder
	expect(t, seller.do("POST", "/orders/"+ord.ID+"/cancel", nil, key()...), 200, "seller cancels").json(t, &cancelled)
	if cancelled.Status != "cancelled" {
		t.Fatalf("cancelled order = %+v", cancelled)
	}
	pal, _ := pp.Order(ord.Payment.PayPalOrderID)
	refunds := pp.Refunds()
	if len(refunds) != 1 || refunds[0].CaptureID != pal.CaptureID || refunds[0].Value != "45.00" || refunds[0].Currency != "USD" ||
		refunds[0].CustomID != ord.ID || refunds[0].RequestID == "" {
		t.Fatalf("PayPal refunds = %+v; want one of 45.00 USD of capture %s", refunds, pal.CaptureID)
	}
	if _, escrow := o.ledger(t, ord.ID); escrow != 0 {
		t.Fatalf("escrow after the refund = %d, want 0", escrow)
	}
	net := o.sqlInt64(t, `SELECT COALESCE(sum(p.amount_minor), 0) FROM ledger_postings p JOIN ledger_transactions x ON x.id = p.transaction_id
		WHERE x.order_id = $1 AND p.account = 'external:paypal'`, ord.ID)
	if net != 0 {
		t.Fatalf("external:paypal nets %d for a fully refunded order, want 0", net)
	}
	if n := o.sqlInt64(t, `SELECT count(*) FROM refunds WHERE order_id = $1 AND provider_ref = $2 AND amount_minor = $3`, ord.ID, refunds[0].ID, o.price); n != 1 {
		t.Fatalf("refund rows naming PayPal's refund: %d", n)
	}
	o.assertLedgerConserved(t)
}

func TestPayPalUnconfiguredIsRefusedNamingProvider(t *testing.T) {
	o := startOrderNode(t, map[string]string{"PAYPAL_CLIENT_ID": "", "PAYPAL_CLIENT_SECRET": "", "PAYPAL_WEBHOOK_ID": ""}, true)
	r, _ := o.placePayPal(t, uuid.NewString())
	expectField(t, r, 422, "provider", "PayPal without configuration")
	if n := o.sqlInt64(t, `SELECT count(*) FROM orders`); n != 0 {
		t.Fatalf("%d orders stored for a refused provider", n)
	}
	if code, err := sendPayPalWebhook(o.n, http.Header{"Content-Type": {"application/json"}}, []byte(`{}`)); err != nil || code != 404 {
		t.Fatalf("PayPal webhook without PayPal: %d, %v; want 404", code, err)
	}
	r, _ = o.placeOrder(t, uuid.NewString())
	expect(t, r, 201, "a Stripe order still works")
}
