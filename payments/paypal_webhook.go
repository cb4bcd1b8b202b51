package payments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

// PayPalWebhookHeaders are the transmission headers PayPal signs a webhook with.
type PayPalWebhookHeaders struct {
	AuthAlgo, CertURL, TransmissionID, TransmissionSig, TransmissionTime string
}

// PayPalWebhookHeadersFrom reads the transmission headers from get (a header lookup).
func PayPalWebhookHeadersFrom(get func(string) string) PayPalWebhookHeaders {
	return PayPalWebhookHeaders{
		AuthAlgo: get("PAYPAL-AUTH-ALGO"), CertURL: get("PAYPAL-CERT-URL"), TransmissionID: get("PAYPAL-TRANSMISSION-ID"),
		TransmissionSig: get("PAYPAL-TRANSMISSION-SIG"), TransmissionTime: get("PAYPAL-TRANSMISSION-TIME"),
	}
}

// PayPalEvent is a verified PayPal webhook. For PAYMENT.CAPTURE.* events the capture's
// fields are set: its id and status, its PayPal order (supplementary_data), its
// custom_id (the GigStream order) and amount; for others only ID and Type.
type PayPalEvent struct {
	ID, Type          string
	CaptureID, Status string
	OrderID, CustomID string
	Amount            int64
	Currency          string
	// PayoutItem is set for PAYMENT.PAYOUTS-ITEM.* events.
	PayoutItem *PayPalPayoutItem
	// RefundID is set for PAYMENT.CAPTURE.REFUNDED and .REVERSED, whose resource is
	// the refund (or reversal): CaptureID is then the capture it is up from (its
	// "up" link), Amount and Currency the refund's.
	RefundID string
}

// MaxPayPalWebhook is the largest webhook body verified; PayPal's capture events are a
// few kilobytes.
const MaxPayPalWebhook = 64 << 10

var payPalEventType = regexp.MustCompile(`^[A-Z][A-Z0-9._-]{0,99}$`)

// VerifyWebhook asks PayPal whether body with headers is a webhook it sent to the
// configured webhook id (POST /v1/notifications/verify-webhook-signature) and decodes
// it. It returns an error wrapping ErrBadSignature when a header is missing or
// oversized, the body is too large or not an event, or PayPal refuses the request
// (400, 422) or answers anything but SUCCESS; ErrProvider when PayPal cannot be asked.
func (p *PayPal) VerifyWebhook(ctx context.Context, h PayPalWebhookHeaders, body []byte) (PayPalEvent, error) {
	if err := checkWebhookInput(h, body); err != nil {
		return PayPalEvent{}, err
	}
	if p.cfg.WebhookID == "" {
		return PayPalEvent{}, fmt.Errorf("%w: no PayPal webhook id is configured", ErrBadSignature)
	}
	req := map[string]any{
		"auth_algo": h.AuthAlgo, "cert_url": h.CertURL, "transmission_id": h.TransmissionID,
		"transmission_sig": h.TransmissionSig, "transmission_time": h.TransmissionTime,
		"webhook_id": p.cfg.WebhookID, "webhook_event": json.RawMessage(body),
	}
	var out struct {
		VerificationStatus string `json:"verification_status"`
	}
	err := p.call(ctx, http.MethodPost, "/v1/notifications/verify-webhook-signature", "", req, &out)
	var pe *PayPalError
	if errors.As(err, &pe) && (pe.Status == http.StatusBadRequest || pe.Status == http.StatusUnprocessableEntity) {
		return PayPalEvent{}, fmt.Errorf("%w: PayPal refused to verify transmission %s: %w", ErrBadSignature, h.TransmissionID, err)
	}
	if err != nil {
		return PayPalEvent{}, fmt.Errorf("verify PayPal webhook %s: %w", h.TransmissionID, err)
	}
	if out.VerificationStatus != "SUCCESS" {
		return PayPalEvent{}, fmt.Errorf("%w: PayPal says %q for transmission %s", ErrBadSignature, out.VerificationStatus, h.TransmissionID)
	}
	return p.decodeEvent(body)
}

// checkWebhookInput refuses what need not be sent to PayPal at all.
func checkWebhookInput(h PayPalWebhookHeaders, body []byte) error {
	for name, v := range map[string]string{"PAYPAL-AUTH-ALGO": h.AuthAlgo, "PAYPAL-CERT-URL": h.CertURL,
		"PAYPAL-TRANSMISSION-ID": h.TransmissionID, "PAYPAL-TRANSMISSION-SIG": h.TransmissionSig, "PAYPAL-TRANSMISSION-TIME": h.TransmissionTime} {
		if v == "" || len(v) > 2048 {
			return fmt.Errorf("%w: header %s is missing or longer than 2048 bytes", ErrBadSignature, name)
		}
	}
	if !strings.HasPrefix(h.CertURL, "https://") {
		return fmt.Errorf("%w: PAYPAL-CERT-URL is not an https URL", ErrBadSignature)
	}
	if len(body) == 0 || len(body) > MaxPayPalWebhook || !json.Valid(body) {
		return fmt.Errorf("%w: the body is empty, larger than %d bytes or not JSON", ErrBadSignature, MaxPayPalWebhook)
	}
	return nil
}

// decodeEvent reads a verified event; it returns an error wrapping
// ErrBadSignature when it is not a well-formed event.
func (p *PayPal) decodeEvent(body []byte) (PayPalEvent, error) {
	var ev struct {
		ID        string          `json:"id"`
		EventType string          `json:"event_type"`
		Resource  json.RawMessage `json:"resource"`
	}
	if err := json.Unmarshal(body, &ev); err != nil || !payPalID.MatchString(ev.ID) || !payPalEventType.MatchString(ev.EventType) {
		return PayPalEvent{}, fmt.Errorf("%w: not a PayPal event (id, event_type)", ErrBadSignature)
	}
	out := PayPalEvent{ID: ev.ID, Type: ev.EventType}
	if strings.HasPrefix(ev.EventType, "PAYMENT.PAYOUTS-ITEM.") {
		item, err := p.decodePayoutItem(ev.ID, ev.Resource)
		out.PayoutItem = item
		return out, err
	}
	if !strings.HasPrefix(ev.EventType, "PAYMENT.CAPTURE.") {
		return out, nil
	}
	if ev.EventType == "PAYMENT.CAPTURE.REFUNDED" || ev.EventType == "PAYMENT.CAPTURE.REVERSED" {
		return p.decodeRefund(out, ev.Resource)
	}
	var c struct {
		payPalCaptureBody
		SupplementaryData struct {
			RelatedIDs struct {
				OrderID string `json:"order_id"`
			} `json:"related_ids"`
		} `json:"supplementary_data"`
	}
	if err := json.Unmarshal(ev.Resource, &c); err != nil || !payPalID.MatchString(c.ID) {
		return PayPalEvent{}, fmt.Errorf("%w: event %s has no capture resource", ErrBadSignature, ev.ID)
	}
	amount, err := p.parseAmount(c.Amount.Value, c.Amount.CurrencyCode)
	if err != nil {
		return PayPalEvent{}, fmt.Errorf("%w: event %s: %w", ErrBadSignature, ev.ID, err)
	}
	out.CaptureID, out.Status, out.CustomID = c.ID, c.Status, c.CustomID
	out.OrderID, out.Amount, out.Currency = c.SupplementaryData.RelatedIDs.OrderID, amount, c.Amount.CurrencyCode
	return out, nil
}

// decodeRefund reads the refund resource of PAYMENT.CAPTURE.REFUNDED and .REVERSED:
// its id, amount, and the capture named by its "up" link. It returns an error wrapping
// ErrBadSignature when the resource is not such a refund.
func (p *PayPal) decodeRefund(out PayPalEvent, raw json.RawMessage) (PayPalEvent, error) {
	var r struct {
		ID     string       `json:"id"`
		Status string       `json:"status"`
		Amount payPalAmount `json:"amount"`
		Links  []struct{ Href, Rel string }
	}
	if err := json.Unmarshal(raw, &r); err != nil || !payPalID.MatchString(r.ID) {
		return PayPalEvent{}, fmt.Errorf("%w: event %s has no refund resource", ErrBadSignature, out.ID)
	}
	for _, l := range r.Links {
		if l.Rel == "up" {
			i := strings.LastIndex(l.Href, "/captures/")
			if i >= 0 && payPalID.MatchString(l.Href[i+len("/captures/"):]) {
				out.CaptureID = l.Href[i+len("/captures/"):]
			}
		}
	}
	if out.CaptureID == "" {
		return PayPalEvent{}, fmt.Errorf("%w: refund %s names no capture", ErrBadSignature, r.ID)
	}
	amount, err := p.parseAmount(r.Amount.Value, r.Amount.CurrencyCode)
	if err != nil {
		return PayPalEvent{}, fmt.Errorf("%w: event %s: %w", ErrBadSignature, out.ID, err)
	}
	out.RefundID, out.Status, out.Amount, out.Currency = r.ID, r.Status, amount, r.Amount.CurrencyCode
	return out, nil
}
