package paypaltest

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// CaptureEvent is PayPal sending a PAYMENT.CAPTURE.COMPLETED webhook about the order's
// capture: the transmission headers and the body, signed so that verify-webhook-
// signature says SUCCESS for exactly this body and these headers. eventID "" makes a
// new event; a retried delivery of one event reuses its id. It fails for an order
// that is not captured. A PENDING capture completes first.
func (s *Server) CaptureEvent(eventID, orderID string) (http.Header, []byte, error) {
	return s.decideCapture(eventID, orderID, "COMPLETED", "PAYMENT.CAPTURE.COMPLETED")
}

// DeniedEvent is PayPal denying the order's PENDING capture (its review refused the
// payment: the capture becomes DECLINED) and sending PAYMENT.CAPTURE.DENIED, signed
// as CaptureEvent is. It fails for an order whose capture is not pending.
func (s *Server) DeniedEvent(orderID string) (http.Header, []byte, error) {
	return s.decideCapture("", orderID, "DECLINED", "PAYMENT.CAPTURE.DENIED")
}

// decideCapture moves a pending capture to status (a decided one keeps its status)
// and returns the signed event of eventType about it.
func (s *Server) decideCapture(eventID, orderID, status, eventType string) (http.Header, []byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[orderID]
	if !ok || o.CaptureID == "" {
		return nil, nil, fmt.Errorf("paypaltest: order %s is not captured", orderID)
	}
	c := s.captures[o.CaptureID]
	if status == "DECLINED" && c.Status != "PENDING" {
		return nil, nil, fmt.Errorf("paypaltest: capture %s is %s, not PENDING", c.ID, c.Status)
	}
	if c.Status == "PENDING" {
		c.Status = status
	}
	if eventID == "" {
		eventID = s.newID("WH-")
	}
	body, err := json.Marshal(map[string]any{
		"id": eventID, "event_version": "1.0", "create_time": time.Now().UTC().Format(time.RFC3339),
		"resource_type": "capture", "resource_version": "2.0", "event_type": eventType,
		"summary": "Payment completed for " + c.Value + " " + c.Currency,
		"resource": map[string]any{"id": c.ID, "status": c.Status, "amount": amount{c.Currency, c.Value},
			"custom_id": c.CustomID, "final_capture": true,
			"supplementary_data": map[string]any{"related_ids": map[string]string{"order_id": o.ID}}},
	})
	if err != nil {
		return nil, nil, err
	}
	return s.sign(body), body, nil
}

// sign makes the transmission headers of body; s.mu is held.
func (s *Server) sign(body []byte) http.Header {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	id := s.newID("TX-")
	sig := base64.StdEncoding.EncodeToString(raw)
	s.transmissions[id] = transmission{sig: sig, body: compact(body)}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("PAYPAL-AUTH-ALGO", "SHA256withRSA")
	h.Set("PAYPAL-CERT-URL", "https://api.paypal.com/v1/notifications/certs/CERT-PAYPALTEST")
	h.Set("PAYPAL-TRANSMISSION-ID", id)
	h.Set("PAYPAL-TRANSMISSION-SIG", sig)
	h.Set("PAYPAL-TRANSMISSION-TIME", time.Now().UTC().Format(time.RFC3339))
	return h
}

// handleVerify says SUCCESS only for a transmission this server signed, with its
// signature, the configured webhook id and the very event body it signed.
func (s *Server) handleVerify(_ *http.Request, body []byte) (int, any) {
	var req struct {
		AuthAlgo         string          `json:"auth_algo"`
		CertURL          string          `json:"cert_url"`
		TransmissionID   string          `json:"transmission_id"`
		TransmissionSig  string          `json:"transmission_sig"`
		TransmissionTime string          `json:"transmission_time"`
		WebhookID        string          `json:"webhook_id"`
		WebhookEvent     json.RawMessage `json:"webhook_event"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.AuthAlgo == "" || req.CertURL == "" || req.TransmissionTime == "" ||
		req.WebhookID == "" || len(req.WebhookEvent) == 0 {
		return invalid("MISSING_REQUIRED_PARAMETER", "auth_algo, cert_url, transmission_id, transmission_sig, transmission_time, webhook_id and webhook_event are required")
	}
	t, ok := s.transmissions[req.TransmissionID]
	status := "FAILURE"
	if ok && t.sig == req.TransmissionSig && req.WebhookID == WebhookID && bytes.Equal(t.body, compact(req.WebhookEvent)) {
		status = "SUCCESS"
	}
	return http.StatusOK, map[string]string{"verification_status": status}
}

func compact(raw []byte) []byte {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return nil
	}
	return b.Bytes()
}

// ProviderRefundEvent is a refund (eventType PAYMENT.CAPTURE.REFUNDED) or a reversal
// (PAYMENT.CAPTURE.REVERSED, a chargeback PayPal decided for the buyer) of value of
// the order's capture made at PayPal, not through the API: the refund is recorded as
// if made in PayPal's dashboard and the signed webhook about it returned, its resource
// the refund with an "up" link to the capture.
func (s *Server) ProviderRefundEvent(orderID, eventType, value string) (http.Header, []byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[orderID]
	if !ok || o.CaptureID == "" {
		return nil, nil, fmt.Errorf("paypaltest: order %s is not captured", orderID)
	}
	c := s.captures[o.CaptureID]
	if minor(value) <= 0 || minor(value)+s.refunded(c.ID) > minor(c.Value) {
		return nil, nil, fmt.Errorf("paypaltest: %s exceeds what is left of capture %s", value, c.ID)
	}
	ref := Refund{ID: s.newID("RF"), CaptureID: c.ID, Currency: c.Currency, Value: value, Created: time.Now().UTC()}
	s.refunds = append(s.refunds, ref)
	c.Status = "PARTIALLY_REFUNDED"
	if s.refunded(c.ID) == minor(c.Value) {
		c.Status = "REFUNDED"
	}
	if eventType == "PAYMENT.CAPTURE.REVERSED" {
		c.Status = "REVERSED"
	}
	body, err := json.Marshal(map[string]any{
		"id": s.newID("WH-"), "event_version": "1.0", "create_time": time.Now().UTC().Format(time.RFC3339),
		"resource_type": "refund", "resource_version": "2.0", "event_type": eventType,
		"summary": "A " + value + " " + c.Currency + " capture payment was refunded",
		"resource": map[string]any{"id": ref.ID, "status": "COMPLETED", "amount": amount{c.Currency, value},
			"links": []map[string]string{
				{"href": s.URL + "/v2/payments/refunds/" + ref.ID, "rel": "self", "method": "GET"},
				{"href": s.URL + "/v2/payments/captures/" + c.ID, "rel": "up", "method": "GET"}}},
	})
	if err != nil {
		return nil, nil, err
	}
	return s.sign(body), body, nil
}
