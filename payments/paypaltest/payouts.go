package paypaltest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// Payout is one payout batch of one item, as the server holds it (PayPal Payouts API
// v1: POST /v1/payments/payouts, GET /v1/payments/payouts/{id}).
type Payout struct {
	BatchID, ItemID       string
	SenderBatchID         string
	SenderItemID          string
	Receiver              string
	Currency, Value       string
	Status                string // the item's transaction_status: PENDING until SetPayoutStatus
	ErrorName, ErrorIssue string
}

// Payouts returns the payout batches made so far, oldest first.
func (s *Server) Payouts() []Payout {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Payout, 0, len(s.payoutOrder))
	for _, id := range s.payoutOrder {
		out = append(out, *s.payouts[id])
	}
	return out
}

// SetPayoutStatus is PayPal finishing a batch's item: SUCCESS, or FAILED, RETURNED,
// BLOCKED… with an error name (e.g. RECEIVER_UNREGISTERED). It fails for an unknown
// batch.
func (s *Server) SetPayoutStatus(batchID, status, errorName string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.payouts[batchID]
	if !ok {
		return fmt.Errorf("paypaltest: no payout batch %s", batchID)
	}
	p.Status, p.ErrorName = status, errorName
	return nil
}

// PayoutEvent is PayPal sending PAYMENT.PAYOUTS-ITEM.<kind> (SUCCEEDED, FAILED,
// RETURNED, BLOCKED, …) about a batch's item, signed as CaptureEvent is. eventID ""
// makes a new event.
func (s *Server) PayoutEvent(eventID, batchID, kind string) (http.Header, []byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.payouts[batchID]
	if !ok {
		return nil, nil, fmt.Errorf("paypaltest: no payout batch %s", batchID)
	}
	if eventID == "" {
		eventID = s.newID("WH-")
	}
	body, err := json.Marshal(map[string]any{
		"id": eventID, "event_version": "1.0", "create_time": time.Now().UTC().Format(time.RFC3339),
		"resource_type": "payouts_item", "event_type": "PAYMENT.PAYOUTS-ITEM." + kind,
		"summary": "A payout item is " + p.Status, "resource": itemBody(p),
	})
	if err != nil {
		return nil, nil, err
	}
	return s.sign(body), body, nil
}

// itemBody is a payout item as PayPal writes it.
func itemBody(p *Payout) map[string]any {
	item := map[string]any{
		"payout_item_id": p.ItemID, "transaction_status": p.Status, "payout_batch_id": p.BatchID,
		"payout_item_fee": map[string]string{"currency": p.Currency, "value": "0.00"},
		"payout_item": map[string]any{"recipient_type": "EMAIL", "receiver": p.Receiver, "sender_item_id": p.SenderItemID,
			"amount": map[string]string{"currency": p.Currency, "value": p.Value}},
	}
	if p.ErrorName != "" {
		item["errors"] = map[string]string{"name": p.ErrorName, "message": "Payout failed: " + p.ErrorName}
	}
	return item
}

// handleCreatePayout creates a batch of exactly one EMAIL item, refusing a
// sender_batch_id used before (400 DUPLICATE_REQUEST_ID, as PayPal does within 30
// days) and amounts not written to their currency's decimals.
func (s *Server) handleCreatePayout(_ *http.Request, body []byte) (int, any) {
	var req struct {
		SenderBatchHeader struct {
			SenderBatchID string `json:"sender_batch_id"`
		} `json:"sender_batch_header"`
		Items []struct {
			RecipientType string `json:"recipient_type"`
			Receiver      string `json:"receiver"`
			SenderItemID  string `json:"sender_item_id"`
			Amount        struct {
				Value    string `json:"value"`
				Currency string `json:"currency"`
			} `json:"amount"`
		} `json:"items"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.SenderBatchHeader.SenderBatchID == "" || len(req.Items) != 1 {
		return invalid("VALIDATION_ERROR", "sender_batch_header.sender_batch_id and exactly one item are required")
	}
	it := req.Items[0]
	if it.RecipientType != "EMAIL" || it.Receiver == "" || !validAmount(amount{CurrencyCode: it.Amount.Currency, Value: it.Amount.Value}) {
		return invalid("VALIDATION_ERROR", "items[0] needs recipient_type EMAIL, a receiver and an amount")
	}
	for _, p := range s.payouts {
		if p.SenderBatchID == req.SenderBatchHeader.SenderBatchID {
			return invalid("DUPLICATE_REQUEST_ID", "sender_batch_id was used before")
		}
	}
	p := &Payout{BatchID: s.newID("PB"), ItemID: s.newID("PI"), SenderBatchID: req.SenderBatchHeader.SenderBatchID,
		SenderItemID: it.SenderItemID, Receiver: it.Receiver, Currency: it.Amount.Currency, Value: it.Amount.Value, Status: "PENDING"}
	s.payouts[p.BatchID] = p
	s.payoutOrder = append(s.payoutOrder, p.BatchID)
	return http.StatusCreated, map[string]any{"batch_header": map[string]any{
		"payout_batch_id": p.BatchID, "batch_status": "PENDING",
		"sender_batch_header": map[string]string{"sender_batch_id": p.SenderBatchID}}}
}

// handleGetPayout shows a batch with its item.
func (s *Server) handleGetPayout(r *http.Request, _ []byte) (int, any) {
	p, ok := s.payouts[r.PathValue("id")]
	if !ok {
		return http.StatusNotFound, map[string]string{"name": "RESOURCE_NOT_FOUND", "message": "The requested resource was not found.", "debug_id": "paypaltest"}
	}
	status := "PROCESSING"
	if p.Status != "PENDING" {
		status = "SUCCESS"
	}
	return http.StatusOK, map[string]any{
		"batch_header": map[string]any{"payout_batch_id": p.BatchID, "batch_status": status,
			"sender_batch_header": map[string]string{"sender_batch_id": p.SenderBatchID}},
		"items": []any{itemBody(p)},
	}
}
