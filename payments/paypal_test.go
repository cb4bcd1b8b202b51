package payments

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gigstream/hub/payments/paypaltest"
)

func newTestPayPal(t *testing.T) (*PayPal, *paypaltest.Server) {
	t.Helper()
	srv := paypaltest.New(t)
	p, err := NewPayPal(PayPalConfig{APIBase: srv.URL, ClientID: paypaltest.ClientID, ClientSecret: paypaltest.ClientSecret,
		WebhookID: paypaltest.WebhookID, Exponents: testExponents}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p, srv
}

func createTestOrder(t *testing.T, p *PayPal, orderID string, amount int64, currency string) PayPalOrder {
	t.Helper()
	o, err := p.CreateOrder(context.Background(), PayPalOrderRequest{OrderID: orderID, Amount: amount, Currency: currency, IdempotencyKey: "key-" + orderID})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestPayPalTokenIsCachedUntilShortlyBeforeItExpires(t *testing.T) {
	p, srv := newTestPayPal(t)
	srv.SetTokenLifetime(100 * time.Second)
	clock := time.Now()
	p.now = func() time.Time { return clock }
	for i := range 3 {
		createTestOrder(t, p, "order-a"+string(rune('0'+i)), 100, "USD")
	}
	if n := srv.TokenRequests(); n != 1 {
		t.Fatalf("token requests after 3 calls = %d, want 1", n)
	}
	clock = clock.Add(89 * time.Second) // inside the lifetime less its tenth
	createTestOrder(t, p, "order-b", 100, "USD")
	if n := srv.TokenRequests(); n != 1 {
		t.Fatalf("token requests at 89 s = %d, want 1", n)
	}
	clock = clock.Add(2 * time.Second)
	createTestOrder(t, p, "order-c", 100, "USD")
	if n := srv.TokenRequests(); n != 2 {
		t.Fatalf("token requests at 91 s = %d, want 2", n)
	}
}

func TestPayPalRefusedCredentialsAreAProviderError(t *testing.T) {
	srv := paypaltest.New(t)
	p, err := NewPayPal(PayPalConfig{APIBase: srv.URL, ClientID: paypaltest.ClientID, ClientSecret: "wrong", Exponents: testExponents}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.CreateOrder(context.Background(), PayPalOrderRequest{OrderID: "o", Amount: 1, Currency: "USD"})
	var pe *PayPalError
	if !errors.Is(err, ErrProvider) || !errors.As(err, &pe) || pe.Status != http.StatusUnauthorized {
		t.Fatalf("err = %v; want a 401 PayPalError", err)
	}
}

func TestPayPalCreateOrderSendsAnExactCaptureRequest(t *testing.T) {
	p, srv := newTestPayPal(t)
	usd := createTestOrder(t, p, "order-usd", 4500, "USD")
	createTestOrder(t, p, "order-jpy", 4500, "JPY")
	if usd.Status != "CREATED" || !strings.HasPrefix(usd.ApproveURL, srv.URL) {
		t.Fatalf("order = %+v", usd)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 || reqs[0].Method != "POST" || reqs[0].Path != "/v2/checkout/orders" || reqs[0].RequestID != "key-order-usd" {
		t.Fatalf("requests = %+v", reqs)
	}
	for i, want := range []string{`"value":"45.00"`, `"value":"4500"`} {
		var body struct {
			Intent        string `json:"intent"`
			PurchaseUnits []struct {
				CustomID string          `json:"custom_id"`
				Amount   json.RawMessage `json:"amount"`
			} `json:"purchase_units"`
		}
		if err := json.Unmarshal(reqs[i].Body, &body); err != nil || body.Intent != "CAPTURE" || len(body.PurchaseUnits) != 1 ||
			!strings.Contains(string(body.PurchaseUnits[0].Amount), want) || !strings.HasPrefix(body.PurchaseUnits[0].CustomID, "order-") {
			t.Errorf("request %d body = %s (%v); want intent CAPTURE, custom_id and %s", i, reqs[i].Body, err, want)
		}
	}
	// A retry under the same PayPal-Request-Id is the same order.
	again := createTestOrder(t, p, "order-usd", 4500, "USD")
	if again.ID != usd.ID {
		t.Fatalf("retried create = %s, want %s", again.ID, usd.ID)
	}
}

func TestPayPalCaptureOnlyAfterApprovalAndOnce(t *testing.T) {
	p, srv := newTestPayPal(t)
	ctx := context.Background()
	o := createTestOrder(t, p, "order-1", 4500, "USD")
	if _, err := p.Capture(ctx, o.ID, "cap-1"); !errors.Is(err, ErrNotApproved) {
		t.Fatalf("capture before approval: %v; want ErrNotApproved", err)
	}
	if err := srv.Approve(o.ID); err != nil {
		t.Fatal(err)
	}
	c, err := p.Capture(ctx, o.ID, "cap-1")
	if err != nil || c.Status != "COMPLETED" || c.Amount != 4500 || c.Currency != "USD" || c.CustomID != "order-1" || c.OrderID != o.ID {
		t.Fatalf("capture = %+v, %v", c, err)
	}
	for _, key := range []string{"cap-1", "another-key"} {
		again, err := p.Capture(ctx, o.ID, key)
		if err != nil || again.CaptureID != c.CaptureID {
			t.Fatalf("capture again under %s = %+v, %v; want capture %s", key, again, err, c.CaptureID)
		}
	}
	if _, err := p.Capture(ctx, "../../v1/x", "k"); !errors.Is(err, ErrProvider) {
		t.Fatalf("capture of a path-shaped id: %v", err)
	}
}

func TestPayPalRefundCapture(t *testing.T) {
	p, srv := newTestPayPal(t)
	ctx := context.Background()
	o := createTestOrder(t, p, "order-r", 4500, "USD")
	_ = srv.Approve(o.ID)
	c, err := p.Capture(ctx, o.ID, "cap")
	if err != nil {
		t.Fatal(err)
	}
	id, err := p.RefundCapture(ctx, PayPalRefundRequest{OrderID: "order-r", CaptureID: c.CaptureID, Amount: 1500, Currency: "USD", IdempotencyKey: "refund-r"})
	if err != nil || id == "" {
		t.Fatalf("refund = %q, %v", id, err)
	}
	again, err := p.RefundCapture(ctx, PayPalRefundRequest{OrderID: "order-r", CaptureID: c.CaptureID, Amount: 1500, Currency: "USD", IdempotencyKey: "refund-r"})
	if err != nil || again != id {
		t.Fatalf("retried refund = %q, %v; want %q", again, err, id)
	}
	refunds := srv.Refunds()
	if len(refunds) != 1 || refunds[0].Value != "15.00" || refunds[0].RequestID != "refund-r" || refunds[0].CustomID != "order-r" {
		t.Fatalf("refunds = %+v", refunds)
	}
	if _, err := p.RefundCapture(ctx, PayPalRefundRequest{OrderID: "order-r", CaptureID: c.CaptureID, Amount: 3001, Currency: "USD", IdempotencyKey: "more"}); !errors.Is(err, ErrProvider) {
		t.Fatalf("refund past the capture: %v; want ErrProvider", err)
	}
}

func TestPayPalVerifyWebhook(t *testing.T) {
	p, srv := newTestPayPal(t)
	ctx := context.Background()
	o := createTestOrder(t, p, "order-w", 4500, "USD")
	_ = srv.Approve(o.ID)
	capID, _ := srv.CaptureNow(o.ID)
	h, body, err := srv.CaptureEvent("", o.ID)
	if err != nil {
		t.Fatal(err)
	}
	headers := PayPalWebhookHeadersFrom(h.Get)
	ev, err := p.VerifyWebhook(ctx, headers, body)
	if err != nil || ev.Type != "PAYMENT.CAPTURE.COMPLETED" || ev.CaptureID != capID || ev.OrderID != o.ID ||
		ev.CustomID != "order-w" || ev.Amount != 4500 || ev.Currency != "USD" || ev.Status != "COMPLETED" {
		t.Fatalf("event = %+v, %v", ev, err)
	}
	forged := []byte(strings.Replace(string(body), `"45.00"`, `"0.01"`, 1))
	if _, err := p.VerifyWebhook(ctx, headers, forged); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("altered body: %v; want ErrBadSignature", err)
	}
	calls := len(srv.Requests())
	missing := headers
	missing.TransmissionSig = ""
	if _, err := p.VerifyWebhook(ctx, missing, body); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("missing signature: %v", err)
	}
	if _, err := p.VerifyWebhook(ctx, headers, append(body, make([]byte, MaxPayPalWebhook)...)); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("oversized body: %v", err)
	}
	if n := len(srv.Requests()); n != calls {
		t.Fatalf("refused input reached PayPal: %d calls, want %d", n, calls)
	}
}

func TestPayPalVerifyRefusedOrUnreachable(t *testing.T) {
	status := http.StatusBadRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/oauth2/token" {
			_, _ = w.Write([]byte(`{"access_token":"t","expires_in":3600}`))
			return
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"name":"VALIDATION_ERROR","details":[{"issue":"INVALID_PARAMETER"}]}`))
	}))
	t.Cleanup(srv.Close)
	p, err := NewPayPal(PayPalConfig{APIBase: srv.URL, ClientID: "id", ClientSecret: "s", WebhookID: "WH-1", Exponents: testExponents}, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := PayPalWebhookHeaders{AuthAlgo: "SHA256withRSA", CertURL: "https://api.paypal.com/certs/x", TransmissionID: "tx",
		TransmissionSig: "sig", TransmissionTime: "2026-11-25T00:00:00Z"}
	if _, err := p.VerifyWebhook(context.Background(), h, []byte(`{"id":"WH-1","event_type":"X"}`)); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("PayPal refuses to verify: %v; want ErrBadSignature", err)
	}
	status = http.StatusServiceUnavailable
	_, err = p.VerifyWebhook(context.Background(), h, []byte(`{"id":"WH-1","event_type":"X"}`))
	if errors.Is(err, ErrBadSignature) || !errors.Is(err, ErrProvider) {
		t.Fatalf("PayPal down: %v; want ErrProvider, not a bad signature", err)
	}
}

func TestPayPalVerifyDecodesRefundsAndReversalsMadeAtPayPal(t *testing.T) {
	p, srv := newTestPayPal(t)
	ctx := context.Background()
	o := createTestOrder(t, p, "order-r", 4500, "USD")
	_ = srv.Approve(o.ID)
	capID, _ := srv.CaptureNow(o.ID)
	for _, typ := range []string{"PAYMENT.CAPTURE.REFUNDED", "PAYMENT.CAPTURE.REVERSED"} {
		h, body, err := srv.ProviderRefundEvent(o.ID, typ, "10.00")
		if err != nil {
			t.Fatal(err)
		}
		ev, err := p.VerifyWebhook(ctx, PayPalWebhookHeadersFrom(h.Get), body)
		if err != nil || ev.Type != typ || ev.CaptureID != capID || ev.RefundID == "" || ev.Amount != 1000 || ev.Currency != "USD" {
			t.Fatalf("%s: %+v, %v", typ, ev, err)
		}
	}
	// A refund resource that names no capture is not an event we can use.
	_, body, _ := srv.ProviderRefundEvent(o.ID, "PAYMENT.CAPTURE.REFUNDED", "1.00")
	var raw map[string]any
	_ = json.Unmarshal(body, &raw)
	raw["resource"].(map[string]any)["links"] = []any{}
	if _, err := p.decodeEvent(mustJSON(t, raw)); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("a refund without its capture: %v", err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
