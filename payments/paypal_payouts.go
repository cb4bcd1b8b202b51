package payments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// PayPalPayoutRequest pays Amount minor units of Currency to a PayPal account's
// e-mail for one withdrawal (its id names the batch and the item, so PayPal refuses a
// second batch for it).
type PayPalPayoutRequest struct {
	WithdrawalID string
	Email        string
	Amount       int64
	Currency     string
}

// PayPalPayoutItem is the one item of a withdrawal's payout batch: its id and
// transaction_status (SUCCESS, FAILED, PENDING, UNCLAIMED, RETURNED, ONHOLD, BLOCKED,
// REFUNDED, REVERSED), whom it paid and how much, the withdrawal (sender_item_id) and
// PayPal's error name when it failed.
type PayPalPayoutItem struct {
	ItemID, BatchID, Status string
	WithdrawalID, Receiver  string
	Amount                  int64
	Currency                string
	Failure                 string
}

// payPalPayoutItemBody is an item as PayPal writes it, in batches and webhooks.
type payPalPayoutItemBody struct {
	PayoutItemID      string `json:"payout_item_id"`
	TransactionStatus string `json:"transaction_status"`
	PayoutBatchID     string `json:"payout_batch_id"`
	PayoutItem        struct {
		Amount struct {
			Value    string `json:"value"`
			Currency string `json:"currency"`
		} `json:"amount"`
		Receiver     string `json:"receiver"`
		SenderItemID string `json:"sender_item_id"`
	} `json:"payout_item"`
	Errors *struct {
		Name    string `json:"name"`
		Message string `json:"message"`
	} `json:"errors"`
}

// item converts PayPal's item.
func (p *PayPal) item(b payPalPayoutItemBody) (PayPalPayoutItem, error) {
	amount, err := p.parseAmount(b.PayoutItem.Amount.Value, b.PayoutItem.Amount.Currency)
	if err != nil {
		return PayPalPayoutItem{}, err
	}
	it := PayPalPayoutItem{ItemID: b.PayoutItemID, BatchID: b.PayoutBatchID, Status: b.TransactionStatus,
		WithdrawalID: b.PayoutItem.SenderItemID, Receiver: b.PayoutItem.Receiver, Amount: amount, Currency: b.PayoutItem.Amount.Currency}
	if b.Errors != nil {
		it.Failure = b.Errors.Message
		if it.Failure == "" {
			it.Failure = b.Errors.Name
		}
	}
	return it, nil
}

// CreatePayout sends one payout batch of one item (POST /v1/payments/payouts) and
// returns the batch's id. sender_batch_id, sender_item_id and PayPal-Request-Id are the
// withdrawal's, so a retry returns the first batch rather than paying twice. It returns
// an error wrapping ErrAmount for an amount PayPal cannot take, ErrRefused (and
// ErrProvider) when PayPal refused the batch, and ErrProvider alone when it is not
// known whether PayPal made it.
func (p *PayPal) CreatePayout(ctx context.Context, in PayPalPayoutRequest) (string, error) {
	value, err := p.formatAmount(in.Amount, in.Currency)
	if err != nil {
		return "", err
	}
	body := map[string]any{
		"sender_batch_header": map[string]string{"sender_batch_id": in.WithdrawalID, "email_subject": "You have a payout from GigStream"},
		"items": []map[string]any{{
			"recipient_type": "EMAIL", "receiver": in.Email, "sender_item_id": in.WithdrawalID,
			"amount": map[string]string{"value": value, "currency": in.Currency}, "note": "GigStream withdrawal " + in.WithdrawalID,
		}},
	}
	var out struct {
		BatchHeader struct {
			PayoutBatchID string `json:"payout_batch_id"`
			BatchStatus   string `json:"batch_status"`
		} `json:"batch_header"`
	}
	err = p.call(ctx, http.MethodPost, "/v1/payments/payouts", "gigstream-payout-"+in.WithdrawalID, body, &out)
	var pe *PayPalError
	if errors.As(err, &pe) && pe.Status >= 400 && pe.Status < 500 && pe.Status != http.StatusConflict && pe.Status != http.StatusTooManyRequests {
		return "", fmt.Errorf("%w: payout of withdrawal %s: %w", ErrRefused, in.WithdrawalID, err)
	}
	if err != nil {
		return "", fmt.Errorf("payout of withdrawal %s: %w", in.WithdrawalID, err)
	}
	if !payPalID.MatchString(out.BatchHeader.PayoutBatchID) {
		return "", fmt.Errorf("%w: payout batch of withdrawal %s came back without an id", ErrProvider, in.WithdrawalID)
	}
	return out.BatchHeader.PayoutBatchID, nil
}

// PayoutItemOf reads a batch (GET /v1/payments/payouts/{id}) and returns its one item.
// It returns ErrProvider when PayPal fails or the batch has no item.
func (p *PayPal) PayoutItemOf(ctx context.Context, batchID string) (PayPalPayoutItem, error) {
	if !payPalID.MatchString(batchID) {
		return PayPalPayoutItem{}, fmt.Errorf("%w: %q is not a PayPal payout batch id", ErrProvider, batchID)
	}
	var out struct {
		Items []payPalPayoutItemBody `json:"items"`
	}
	if err := p.call(ctx, http.MethodGet, "/v1/payments/payouts/"+url.PathEscape(batchID), "", nil, &out); err != nil {
		return PayPalPayoutItem{}, fmt.Errorf("payout batch %s: %w", batchID, err)
	}
	if len(out.Items) == 0 {
		return PayPalPayoutItem{}, fmt.Errorf("%w: payout batch %s has no item", ErrProvider, batchID)
	}
	it, err := p.item(out.Items[0])
	if err != nil {
		return PayPalPayoutItem{}, fmt.Errorf("%w: payout batch %s: %w", ErrProvider, batchID, err)
	}
	if it.BatchID == "" {
		it.BatchID = batchID
	}
	return it, nil
}

// decodePayoutItem reads a PAYMENT.PAYOUTS-ITEM.* event's resource.
func (p *PayPal) decodePayoutItem(id string, raw json.RawMessage) (*PayPalPayoutItem, error) {
	var b payPalPayoutItemBody
	if err := json.Unmarshal(raw, &b); err != nil || !payPalID.MatchString(b.PayoutItemID) {
		return nil, fmt.Errorf("%w: event %s has no payout item resource", ErrBadSignature, id)
	}
	it, err := p.item(b)
	if err != nil {
		return nil, fmt.Errorf("%w: event %s: %w", ErrBadSignature, id, err)
	}
	return &it, nil
}
