package payments

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Dispute is a chargeback (or an inquiry) on a charge, as charge.dispute.* events
// carry it: Stripe's dispute id, the disputed amount in Stripe's units, its status
// (warning_needs_response, warning_under_review, warning_closed, needs_response,
// under_review, won, lost) and the PaymentIntent it is about.
type Dispute struct {
	ID              string
	Amount          int64
	Currency        string // upper case
	Status          string
	Reason          string
	PaymentIntentID string
	ChargeID        string
}

// ChargeRefund is charge.refunded: AmountRefunded is everything refunded of the charge
// so far (in Stripe's units), whoever refunded it (our API call or the dashboard).
type ChargeRefund struct {
	ChargeID        string
	PaymentIntentID string
	AmountRefunded  int64
	Currency        string // upper case
}

// stripeObject is the part of a data.object every event shows: its id.
type stripeObject struct {
	ID string `json:"id"`
}

// decodeReversal reads charge.dispute.* and charge.refunded into out. It returns an
// error wrapping ErrBadSignature when the object is not what the type says.
func decodeReversal(out PaymentEvent, raw json.RawMessage) (PaymentEvent, error) {
	if strings.HasPrefix(out.Type, "charge.dispute.") {
		var d struct {
			ID, Currency, Status, Reason string
			Amount                       int64
			Charge                       json.RawMessage `json:"charge"`
			PaymentIntent                json.RawMessage `json:"payment_intent"`
		}
		if err := json.Unmarshal(raw, &d); err != nil || !strings.HasPrefix(d.ID, "dp_") && !strings.HasPrefix(d.ID, "du_") {
			return PaymentEvent{}, fmt.Errorf("%w: data.object of %s is not a dispute", ErrBadSignature, out.Type)
		}
		out.Dispute = &Dispute{ID: d.ID, Amount: d.Amount, Currency: strings.ToUpper(d.Currency), Status: d.Status,
			Reason: d.Reason, PaymentIntentID: idOf(d.PaymentIntent), ChargeID: idOf(d.Charge)}
		out.PaymentIntentID, out.Amount, out.Currency = out.Dispute.PaymentIntentID, d.Amount, out.Dispute.Currency
		return out, nil
	}
	var c struct {
		ID, Currency   string
		AmountRefunded int64           `json:"amount_refunded"`
		PaymentIntent  json.RawMessage `json:"payment_intent"`
	}
	if err := json.Unmarshal(raw, &c); err != nil || !strings.HasPrefix(c.ID, "ch_") && !strings.HasPrefix(c.ID, "py_") {
		return PaymentEvent{}, fmt.Errorf("%w: data.object of %s is not a charge", ErrBadSignature, out.Type)
	}
	out.Refund = &ChargeRefund{ChargeID: c.ID, PaymentIntentID: idOf(c.PaymentIntent), AmountRefunded: c.AmountRefunded,
		Currency: strings.ToUpper(c.Currency)}
	out.PaymentIntentID, out.Amount, out.Currency = out.Refund.PaymentIntentID, c.AmountRefunded, out.Refund.Currency
	return out, nil
}

// idOf reads an expandable field: an id string, or an object with an id.
func idOf(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var o stripeObject
	_ = json.Unmarshal(raw, &o)
	return o.ID
}
