package e2e

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// webhookSecret is the Stripe signing secret the order tests give their nodes and sign
// webhooks with, as Stripe would.
const webhookSecret = "whsec_e2e_orders"

// demoPassword signs in every seeded demo user (README).
const demoPassword = "gigstream-demo-2026"

// orderNode is a node on a seeded database: Maya sells "minimalist-logo-design" (basic:
// 4500 USD, one revision), Lena buys.
type orderNode struct {
	n                     *Node
	dbURL                 string
	env                   []string
	seller, buyer         string // bearer tokens
	sellerID, buyerID     string
	gigID                 string
	price                 int64
	currency              string
	allowedRevisionsBasic int
}

// startOrderNode migrates and seeds a private database and starts a node on it. With
// ready false it only waits for /healthz (a dependency may be down on purpose).
func startOrderNode(t *testing.T, overrides map[string]string, ready bool) *orderNode {
	t.Helper()
	env := migratedEnv(t, realtimeEnv(merge(map[string]string{
		"STRIPE_WEBHOOK_SECRET": webhookSecret, "TWO_FACTOR_KEY": twoFactorKey, "STRIPE_CONNECT_WEBHOOK_SECRET": connectSecret,
		// The withdrawal rules that need time to pass are off; payout_test.go turns them on.
		"WITHDRAWAL_NEW_SELLER_HOLD": "0s", "WITHDRAWAL_DESTINATION_LOCK": "0s", "WITHDRAWAL_MIN_MINOR": "1",
	}, overrides)))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if code, out := Run(ctx, bin, env, "seed"); code != 0 {
		t.Fatalf("seed: exit %d\n%s", code, out)
	}
	o := &orderNode{n: StartNode(t, bin, env), env: env, price: 4500, currency: "USD", allowedRevisionsBasic: 1}
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "DATABASE_URL="); ok {
			o.dbURL = v
		}
	}
	if ready {
		o.n.WaitReady(t)
	} else {
		waitHealthy(t, o.n)
	}
	o.sellerID, o.seller = demoToken(t, o.n, "maya@demo.gigstream.test")
	o.buyerID, o.buyer = demoToken(t, o.n, "lena@demo.gigstream.test")
	var gig struct{ ID string }
	expect(t, as(t, o.n, "", "GET", "/gigs/minimalist-logo-design"), 200, "seeded gig").json(t, &gig)
	o.gigID = gig.ID
	return o
}

func waitHealthy(t *testing.T, n *Node) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(n.URL + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("node never healthy")
}

// demoToken signs a demo user in as an app and returns their id and bearer token.
func demoToken(t *testing.T, n *Node, email string) (string, string) {
	t.Helper()
	c := &client{t: t, base: n.URL}
	var tok struct{ Token string }
	expect(t, c.do("POST", "/auth/tokens", map[string]string{"email": email, "password": demoPassword}), 201, "token of "+email).json(t, &tok)
	c.bearer = tok.Token
	var me struct{ ID string }
	expect(t, c.do("GET", "/me", nil), 200, "me").json(t, &me)
	return me.ID, tok.Token
}

// apiOrder is an order as the API shows it.
type apiOrder struct {
	ID, Status, Currency string
	BuyerID              string `json:"buyer_id"`
	SellerID             string `json:"seller_id"`
	PriceMinor           int64  `json:"price_minor"`
	RevisionsUsed        int    `json:"revisions_used"`
	RevisionsAllowed     int    `json:"revisions_allowed"`
	Refunded             int64  `json:"refunded_minor"`
	Seller               int64  `json:"seller_minor"`
	Payment              *struct {
		PaymentIntentID string `json:"payment_intent_id"`
		ClientSecret    string `json:"client_secret"`
		Status          string
	}
}

// placeOrder orders the basic package as the buyer under key.
func (o *orderNode) placeOrder(t *testing.T, key string) (response, apiOrder) {
	t.Helper()
	c := &client{t: t, base: o.n.URL, bearer: o.buyer}
	r := c.do("POST", "/orders", map[string]string{"gig_id": o.gigID, "tier": "basic"}, "Idempotency-Key", key)
	var ord apiOrder
	if r.status < 300 {
		r.json(t, &ord)
	}
	return r, ord
}

// paymentWebhook is a Stripe event about the order's PaymentIntent, as Stripe sends it.
func paymentWebhook(eventID, eventType string, ord apiOrder, amount int64, currency string) []byte {
	return fmt.Appendf(nil, `{"id":%q,"object":"event","type":%q,"api_version":"2025-03-31.basil","created":%d,
 "data":{"object":{"id":%q,"object":"payment_intent","amount":%d,"currency":%q,"status":"succeeded",
 "metadata":{"order_id":%q}}}}`, eventID, eventType, time.Now().Unix(), ord.Payment.PaymentIntentID, amount, strings.ToLower(currency), ord.ID)
}

// stripeSignature is Stripe's Stripe-Signature header: t=<unix>,v1=HMAC-SHA256(secret, "<t>.<body>").
func stripeSignature(body []byte, secret string, at time.Time) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "%d.", at.Unix())
	mac.Write(body)
	return fmt.Sprintf("t=%d,v1=%s", at.Unix(), hex.EncodeToString(mac.Sum(nil)))
}

// sendWebhook posts a Stripe webhook with the given signature header.
func (o *orderNode) sendWebhook(t *testing.T, body []byte, signature string) response {
	t.Helper()
	req, _ := http.NewRequest("POST", o.n.URL+"/webhooks/stripe", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Stripe-Signature", signature)
	return sendAs(t, req, "")
}

// pay sends the order's signed payment_intent.succeeded webhook.
func (o *orderNode) pay(t *testing.T, ord apiOrder) {
	t.Helper()
	body := paymentWebhook("evt_"+uuid.NewString(), "payment_intent.succeeded", ord, o.price, o.currency)
	expect(t, o.sendWebhook(t, body, stripeSignature(body, webhookSecret, time.Now())), 200, "payment webhook")
}

// paidOrder places and pays an order; the seller can then upload deliverables for it.
func (o *orderNode) paidOrder(t *testing.T) string {
	t.Helper()
	r, ord := o.placeOrder(t, uuid.NewString())
	expect(t, r, 201, "place order")
	o.pay(t, ord)
	return ord.ID
}

// ledger reads the order's ledger from Postgres, as the S3 checks read the bucket: the
// API has no ledger route yet.
func (o *orderNode) ledger(t *testing.T, orderID string) (transactions int, escrow int64) {
	t.Helper()
	db, err := sql.Open("postgres", o.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.QueryRow(`SELECT (SELECT count(*) FROM ledger_transactions WHERE order_id = $1),
		COALESCE((SELECT sum(amount_minor) FROM ledger_postings WHERE account = 'escrow:order:' || $1::text), 0)`, orderID).
		Scan(&transactions, &escrow)
	if err != nil {
		t.Fatal(err)
	}
	return transactions, escrow
}

// deliveredOrder places, pays and delivers an order (one small deliverable).
func (o *orderNode) deliveredOrder(t *testing.T) string {
	t.Helper()
	id := o.paidOrder(t)
	var up struct{ ID string }
	expect(t, uploadForm(t, o.n, o.seller, map[string]string{"kind": "deliverable", "order_id": id}, "work.zip", randomBytes(t, 200)), 201, "deliverable").json(t, &up)
	seller := &client{t: t, base: o.n.URL, bearer: o.seller}
	expect(t, seller.do("POST", "/orders/"+id+"/deliveries", map[string]any{"upload_ids": []string{up.ID}}), 201, "deliver")
	return id
}

// adminToken registers a user, makes them an admin with `gigstream admin grant` and
// returns their bearer token.
func (o *orderNode) adminToken(t *testing.T) string {
	t.Helper()
	c := &client{t: t, base: o.n.URL}
	email := uniqueEmail(t, "refunder")
	c.register(email, fmt.Sprintf("refunder_%d", time.Now().UnixNano()%1e9), "long enough password")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if code, out := Run(ctx, bin, o.env, "admin", "grant", email); code != 0 {
		t.Fatalf("admin grant: exit %d\n%s", code, out)
	}
	var tok struct{ Token string }
	expect(t, c.do("POST", "/auth/tokens", map[string]string{"email": email, "password": "long enough password"}), 201, "admin token").json(t, &tok)
	return tok.Token
}

// sqlInt64 runs a query of one integer on the node's database.
func (o *orderNode) sqlInt64(t *testing.T, query string, args ...any) int64 {
	t.Helper()
	db, err := sql.Open("postgres", o.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v int64
	if err := db.QueryRow(query, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return v
}

// accountBalance is an account's balance in the fixture's currency, from the postings.
func (o *orderNode) accountBalance(t *testing.T, account string) int64 {
	t.Helper()
	return o.sqlInt64(t, `SELECT COALESCE(sum(amount_minor), 0) FROM ledger_postings WHERE account = $1 AND currency = $2`, account, o.currency)
}

// assertLedgerConserved fails unless every currency's postings sum to zero, every
// balance (its row plus its deferred postings) matches its postings, no account but external:* and the debt accounts
// is negative, and no debt account is positive.
func (o *orderNode) assertLedgerConserved(t *testing.T) {
	t.Helper()
	if n := o.sqlInt64(t, `SELECT count(*) FROM (SELECT currency FROM ledger_postings GROUP BY currency HAVING sum(amount_minor) <> 0) x`); n != 0 {
		t.Fatalf("%d currencies whose postings do not sum to zero", n)
	}
	if n := o.sqlInt64(t, `SELECT count(*) FROM ledger_account_balances b WHERE balance_minor <>
		(SELECT COALESCE(sum(amount_minor), 0) FROM ledger_postings p WHERE p.account = b.account AND p.currency = b.currency)`); n != 0 {
		t.Fatalf("%d balances differ from their postings", n)
	}
	if n := o.sqlInt64(t, `SELECT count(*) FROM ledger_account_balances WHERE CASE WHEN account LIKE 'external:%' THEN false
		WHEN account LIKE 'seller:%:debt' OR account = 'platform:losses' THEN balance_minor > 0 ELSE balance_minor < 0 END`); n != 0 {
		t.Fatalf("%d accounts out of bounds (overdrawn, or a debt account above zero)", n)
	}
}
