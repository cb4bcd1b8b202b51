package paypaltest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// call does one API request with a fresh token and decodes the JSON answer.
func call(t *testing.T, s *Server, method, path string, body any, out any) int {
	t.Helper()
	form := strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode())
	req, _ := http.NewRequest("POST", s.URL+"/v1/oauth2/token", form)
	req.SetBasicAuth(ClientID, ClientSecret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	raw, _ := json.Marshal(body)
	req, _ = http.NewRequest(method, s.URL+path, bytes.NewReader(raw))
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_ = json.NewDecoder(resp.Body).Decode(out)
	return resp.StatusCode
}

func TestVerifySaysSuccessOnlyForWhatItSigned(t *testing.T) {
	s := New(t)
	var ord struct{ ID string }
	create := map[string]any{"intent": "CAPTURE", "purchase_units": []any{map[string]any{"custom_id": "o1",
		"amount": map[string]string{"currency_code": "USD", "value": "45.00"}}}}
	if code := call(t, s, "POST", "/v2/checkout/orders", create, &ord); code != 201 {
		t.Fatalf("create: %d", code)
	}
	_ = s.Approve(ord.ID)
	if _, err := s.CaptureNow(ord.ID); err != nil {
		t.Fatal(err)
	}
	h, body, err := s.CaptureEvent("", ord.ID)
	if err != nil {
		t.Fatal(err)
	}
	verify := func(webhookID string, event []byte) string {
		var out struct {
			VerificationStatus string `json:"verification_status"`
		}
		call(t, s, "POST", "/v1/notifications/verify-webhook-signature", map[string]any{
			"auth_algo": h.Get("PAYPAL-AUTH-ALGO"), "cert_url": h.Get("PAYPAL-CERT-URL"),
			"transmission_id": h.Get("PAYPAL-TRANSMISSION-ID"), "transmission_sig": h.Get("PAYPAL-TRANSMISSION-SIG"),
			"transmission_time": h.Get("PAYPAL-TRANSMISSION-TIME"), "webhook_id": webhookID, "webhook_event": json.RawMessage(event),
		}, &out)
		return out.VerificationStatus
	}
	if got := verify(WebhookID, body); got != "SUCCESS" {
		t.Fatalf("signed event: %q", got)
	}
	if got := verify("WH-OTHER", body); got != "FAILURE" {
		t.Fatalf("another webhook id: %q", got)
	}
	if got := verify(WebhookID, bytes.Replace(body, []byte("45.00"), []byte("45.01"), 1)); got != "FAILURE" {
		t.Fatalf("altered event: %q", got)
	}
	bad := map[string]any{"intent": "CAPTURE", "purchase_units": []any{map[string]any{
		"amount": map[string]string{"currency_code": "JPY", "value": "45.00"}}}}
	var e struct{ Name string }
	if code := call(t, s, "POST", "/v2/checkout/orders", bad, &e); code != 400 {
		t.Fatalf("yen with decimals: %d %+v; want 400", code, e)
	}
}
