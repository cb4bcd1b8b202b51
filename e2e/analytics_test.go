package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/gigstream/hub/analytics/ga4test"
)

const analyticsIDKey = "e2e-analytics-id-key-0123456789abcdef"

// clientIDOf is the pseudonymous client_id GA4 must see for a user: the keyed hash
// the README documents, computed here on its own.
func clientIDOf(userID string) string {
	mac := hmac.New(sha256.New, []byte(analyticsIDKey))
	mac.Write([]byte(userID))
	return hex.EncodeToString(mac.Sum(nil)[:16])
}

// TestConversionsReachGA4 runs a node with GA4 configured against a local
// Measurement Protocol endpoint: a sign-up, a gig view, an order placed, paid (by
// webhook) and completed (accepted) each arrive once as GA4 events under the user's
// pseudonymous client_id, with the order's value and id; no user id, e-mail or name
// is ever sent.
func TestConversionsReachGA4(t *testing.T) {
	ga := ga4test.New(t, "G-E2ETEST", "e2e-mp-secret")
	o := startOrderNode(t, map[string]string{
		"GA4_MEASUREMENT_ID": "G-E2ETEST", "GA4_API_SECRET": "e2e-mp-secret", "GA4_ENDPOINT": ga.URL,
		"ANALYTICS_ID_KEY": analyticsIDKey, "ANALYTICS_FLUSH_INTERVAL": "200ms",
	}, true)
	email := uniqueEmail(t, "convert")
	newID := (&client{t: t, base: o.n.URL}).register(email, fmt.Sprintf("convert_%d", time.Now().UnixNano()%1e9), "long enough password")
	expect(t, as(t, o.n, o.buyer, "GET", "/gigs/minimalist-logo-design"), 200, "view gig")
	orderID := o.deliveredOrder(t)
	buyer := &client{t: t, base: o.n.URL, bearer: o.buyer}
	expect(t, buyer.do("POST", "/orders/"+orderID+"/accept", nil, "Idempotency-Key", uuid.NewString()), 200, "accept")

	ga.WaitEvents(t, 5, 20*time.Second)
	time.Sleep(500 * time.Millisecond) // a duplicate would arrive within the next flushes
	events := ga.Events()
	got := map[string]int{}
	for _, ev := range events {
		got[ev.Name]++
		switch ev.Name {
		case "sign_up":
			if ev.ClientID != clientIDOf(newID) {
				t.Errorf("sign_up under client %s, want the new user's", ev.ClientID)
			}
		case "view_item", "begin_checkout", "purchase", "order_completed":
			if ev.ClientID != clientIDOf(o.buyerID) {
				t.Errorf("%s under client %s, want the buyer's", ev.Name, ev.ClientID)
			}
		}
		if ev.Name == "purchase" && (ev.Params["transaction_id"] != orderID || ev.Params["value"] != 45.0 || ev.Params["currency"] != "USD") {
			t.Errorf("purchase params %v", ev.Params)
		}
	}
	for _, name := range []string{"sign_up", "view_item", "begin_checkout", "purchase", "order_completed"} {
		if got[name] != 1 {
			t.Errorf("%s arrived %d times, want once (events: %v)", name, got[name], got)
		}
	}
	for _, r := range ga.Requests() {
		raw := fmt.Sprintf("%+v", r)
		for _, secret := range []string{newID, o.buyerID, email, "lena@demo"} {
			if r.UserID != "" || strings.Contains(raw, secret) {
				t.Fatalf("a request carries %q: %s", secret, raw)
			}
		}
	}
}
