package payments

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// PayPalLine is one movement of money PayPal records for an object GigStream made
// there, for reconciliation: a capture (+) or a refund or reversal (−) of a PayPal
// order, or a payout item (+) and its return (−). Amount is in GigStream's minor
// units of Currency (ISO 4217, upper case), signed from the platform's point of view
// of the object, as BalanceLine's is.
type PayPalLine struct {
	Kind, ObjectRef, LineRef string
	Amount                   int64
	Currency                 string
	Created                  time.Time
}

// LinePayout is a PayPalLine of a payout batch: ObjectRef is the batch's id.
const LinePayout = "payout"

// payPalMoneyBody is a capture or refund as an order's payments list it.
type payPalMoneyBody struct {
	ID         string       `json:"id"`
	Status     string       `json:"status"`
	Amount     payPalAmount `json:"amount"`
	CreateTime string       `json:"create_time"`
}

// OrderLines reads the PayPal order orderID (GET /v2/checkout/orders/{id}) and
// returns the money its payments hold: each capture that took money (not PENDING,
// DECLINED or FAILED) as +, each refund that is not FAILED or CANCELLED as −.
// PayPal writes a reversal (a chargeback it decided for the buyer) as a refund
// resource too, so reversals are among the refunds. An order PayPal does not know
// holds nothing: no lines and no error. It returns ErrProvider when PayPal fails or
// an amount cannot be read.
func (p *PayPal) OrderLines(ctx context.Context, orderID string) ([]PayPalLine, error) {
	if !payPalID.MatchString(orderID) {
		return nil, fmt.Errorf("%w: %q is not a PayPal order id", ErrProvider, orderID)
	}
	var out struct {
		PurchaseUnits []struct {
			Payments struct {
				Captures []payPalMoneyBody `json:"captures"`
				Refunds  []payPalMoneyBody `json:"refunds"`
			} `json:"payments"`
		} `json:"purchase_units"`
	}
	err := p.call(ctx, http.MethodGet, "/v2/checkout/orders/"+orderID, "", nil, &out)
	var pe *PayPalError
	if errors.As(err, &pe) && pe.Status == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read PayPal order %s: %w", orderID, err)
	}
	var lines []PayPalLine
	for _, pu := range out.PurchaseUnits {
		for _, c := range pu.Payments.Captures {
			if c.Status == "PENDING" || c.Status == "DECLINED" || c.Status == "FAILED" {
				continue
			}
			l, err := p.orderLine(orderID, c, 1)
			if err != nil {
				return nil, err
			}
			lines = append(lines, l)
		}
		for _, r := range pu.Payments.Refunds {
			if r.Status == "FAILED" || r.Status == "CANCELLED" {
				continue
			}
			l, err := p.orderLine(orderID, r, -1)
			if err != nil {
				return nil, err
			}
			lines = append(lines, l)
		}
	}
	return lines, nil
}

// orderLine is a capture (sign 1) or refund (−1) of orderID as a line.
func (p *PayPal) orderLine(orderID string, b payPalMoneyBody, sign int64) (PayPalLine, error) {
	amount, err := p.parseAmount(b.Amount.Value, b.Amount.CurrencyCode)
	if err != nil {
		return PayPalLine{}, fmt.Errorf("%w: PayPal order %s, %s: %w", ErrProvider, orderID, b.ID, err)
	}
	created, _ := time.Parse(time.RFC3339, b.CreateTime) // informative only
	return PayPalLine{Kind: LinePayment, ObjectRef: orderID, LineRef: b.ID, Amount: sign * amount,
		Currency: b.Amount.CurrencyCode, Created: created}, nil
}

// PayoutLines reads the payout batch batchID's item (PayoutItemOf) and returns what
// it holds: the item's amount (+) while it is pending or paid, and that amount back
// (−) once PayPal returned it to the platform (Returned). It returns ErrProvider when
// PayPal fails or the batch has no item.
func (p *PayPal) PayoutLines(ctx context.Context, batchID string) ([]PayPalLine, error) {
	it, err := p.PayoutItemOf(ctx, batchID)
	if err != nil {
		return nil, err
	}
	lines := []PayPalLine{{Kind: LinePayout, ObjectRef: batchID, LineRef: it.ItemID, Amount: it.Amount, Currency: it.Currency}}
	if it.Returned() {
		lines = append(lines, PayPalLine{Kind: LinePayout, ObjectRef: batchID, LineRef: it.ItemID + ":" + it.Status,
			Amount: -it.Amount, Currency: it.Currency})
	}
	return lines, nil
}

// Returned says whether the item's money is back in the platform's PayPal balance:
// its transaction_status is FAILED, RETURNED (unclaimed for 30 days), BLOCKED,
// REFUNDED, REVERSED, DENIED or CANCELED.
func (it PayPalPayoutItem) Returned() bool {
	switch it.Status {
	case "FAILED", "RETURNED", "BLOCKED", "REFUNDED", "REVERSED", "DENIED", "CANCELED":
		return true
	}
	return false
}

// TakenBack says whether the item's money can come back after PayPal paid it:
// RETURNED (unclaimed, returned), REFUNDED (the receiver refunded it) or REVERSED
// (PayPal reversed it), per PayPal's Payouts item statuses.
func (it PayPalPayoutItem) TakenBack() bool {
	switch it.Status {
	case "RETURNED", "REFUNDED", "REVERSED":
		return true
	}
	return false
}

// Final says whether PayPal decided the item: SUCCESS, or Returned. PENDING,
// UNCLAIMED (the receiver has no account yet), ONHOLD and NEW are not final.
func (it PayPalPayoutItem) Final() bool { return it.Status == "SUCCESS" || it.Returned() }
