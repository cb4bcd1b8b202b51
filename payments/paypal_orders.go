package payments

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

// ErrNotApproved is returned, wrapped, when a PayPal order is captured before its
// buyer approved it at PayPal.
var ErrNotApproved = errors.New("payments: the PayPal order is not approved by the buyer yet")

// payPalID is the shape of PayPal's order and capture ids; anything else never
// reaches a URL path.
var payPalID = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)

// PayPalOrderRequest asks for a PayPal order of Amount minor units of Currency (ISO
// 4217, upper case) for one GigStream order, whose id goes in custom_id and
// reference_id. IdempotencyKey becomes the PayPal-Request-Id.
type PayPalOrderRequest struct {
	OrderID        string
	Amount         int64
	Currency       string
	IdempotencyKey string
}

// PayPalOrder is a created PayPal order: its id and the link where the buyer approves it.
type PayPalOrder struct {
	ID, Status, ApproveURL string
}

type payPalAmount struct {
	CurrencyCode string `json:"currency_code"`
	Value        string `json:"value"`
}

type payPalCaptureBody struct {
	ID       string       `json:"id"`
	Status   string       `json:"status"`
	Amount   payPalAmount `json:"amount"`
	CustomID string       `json:"custom_id"`
}

type payPalOrderBody struct {
	ID            string `json:"id"`
	Status        string `json:"status"`
	Links         []struct{ Href, Rel, Method string }
	PurchaseUnits []struct {
		CustomID string `json:"custom_id"`
		Payments struct {
			Captures []payPalCaptureBody `json:"captures"`
		} `json:"payments"`
	} `json:"purchase_units"`
}

// CreateOrder creates a PayPal order with intent CAPTURE for in and returns its id and
// approve link. It returns an error wrapping ErrAmount for an amount it cannot write,
// or ErrProvider when PayPal fails or answers without an id or approve link.
func (p *PayPal) CreateOrder(ctx context.Context, in PayPalOrderRequest) (PayPalOrder, error) {
	value, err := p.formatAmount(in.Amount, in.Currency)
	if err != nil {
		return PayPalOrder{}, err
	}
	body := map[string]any{
		"intent": "CAPTURE",
		"purchase_units": []map[string]any{{
			"reference_id": in.OrderID, "custom_id": in.OrderID,
			"amount": payPalAmount{CurrencyCode: in.Currency, Value: value},
		}},
	}
	var out payPalOrderBody
	if err := p.call(ctx, http.MethodPost, "/v2/checkout/orders", in.IdempotencyKey, body, &out); err != nil {
		return PayPalOrder{}, fmt.Errorf("create PayPal order for order %s: %w", in.OrderID, err)
	}
	ord := PayPalOrder{ID: out.ID, Status: out.Status}
	for _, l := range out.Links {
		if (l.Rel == "approve" || l.Rel == "payer-action") && (strings.HasPrefix(l.Href, "https://") || strings.HasPrefix(l.Href, "http://")) {
			ord.ApproveURL = l.Href
		}
	}
	if !payPalID.MatchString(ord.ID) || ord.ApproveURL == "" {
		return PayPalOrder{}, fmt.Errorf("%w: PayPal order for order %s came back without an id or approve link", ErrProvider, in.OrderID)
	}
	return ord, nil
}

// PayPalCapture is the capture of a PayPal order's payment: the order, the capture's
// id and status (COMPLETED, PENDING, DECLINED, …), its amount in minor units and the
// custom_id it carries.
type PayPalCapture struct {
	OrderID, CaptureID, Status string
	Amount                     int64
	Currency                   string
	CustomID                   string
}

// Capture captures the approved PayPal order orderID; idempotencyKey is the
// PayPal-Request-Id, so a retry gets the first capture. An order captured already (by
// an earlier call whose answer was lost) is read back instead. It returns an error
// wrapping ErrNotApproved when the buyer has not approved it, ErrAmount for an amount
// it cannot read, or ErrProvider for any other failure.
func (p *PayPal) Capture(ctx context.Context, orderID, idempotencyKey string) (PayPalCapture, error) {
	if !payPalID.MatchString(orderID) {
		return PayPalCapture{}, fmt.Errorf("%w: %q is not a PayPal order id", ErrProvider, orderID)
	}
	var out payPalOrderBody
	err := p.call(ctx, http.MethodPost, "/v2/checkout/orders/"+orderID+"/capture", idempotencyKey, struct{}{}, &out)
	var pe *PayPalError
	switch {
	case errors.As(err, &pe) && (pe.Issue == "ORDER_NOT_APPROVED" || pe.Issue == "PAYER_ACTION_REQUIRED"):
		return PayPalCapture{}, fmt.Errorf("%w: %w", ErrNotApproved, err)
	case errors.As(err, &pe) && pe.Issue == "ORDER_ALREADY_CAPTURED":
		return p.CapturedOrder(ctx, orderID)
	case err != nil:
		return PayPalCapture{}, fmt.Errorf("capture PayPal order %s: %w", orderID, err)
	}
	return p.captureOf(out)
}

// CapturedOrder reads the PayPal order orderID and returns its capture. It returns an
// error wrapping ErrNotApproved when it has none yet, or ErrProvider when PayPal fails.
func (p *PayPal) CapturedOrder(ctx context.Context, orderID string) (PayPalCapture, error) {
	if !payPalID.MatchString(orderID) {
		return PayPalCapture{}, fmt.Errorf("%w: %q is not a PayPal order id", ErrProvider, orderID)
	}
	var out payPalOrderBody
	if err := p.call(ctx, http.MethodGet, "/v2/checkout/orders/"+orderID, "", nil, &out); err != nil {
		return PayPalCapture{}, fmt.Errorf("read PayPal order %s: %w", orderID, err)
	}
	return p.captureOf(out)
}

// captureOf takes the first capture of the order's first purchase unit.
func (p *PayPal) captureOf(o payPalOrderBody) (PayPalCapture, error) {
	if len(o.PurchaseUnits) == 0 || len(o.PurchaseUnits[0].Payments.Captures) == 0 {
		return PayPalCapture{}, fmt.Errorf("%w: PayPal order %s (%s) has no capture", ErrNotApproved, o.ID, o.Status)
	}
	c := o.PurchaseUnits[0].Payments.Captures[0]
	amount, err := p.parseAmount(c.Amount.Value, c.Amount.CurrencyCode)
	if err != nil {
		return PayPalCapture{}, fmt.Errorf("capture %s: %w", c.ID, err)
	}
	custom := c.CustomID
	if custom == "" {
		custom = o.PurchaseUnits[0].CustomID
	}
	if !payPalID.MatchString(c.ID) {
		return PayPalCapture{}, fmt.Errorf("%w: PayPal order %s has a capture without an id", ErrProvider, o.ID)
	}
	return PayPalCapture{OrderID: o.ID, CaptureID: c.ID, Status: c.Status, Amount: amount,
		Currency: c.Amount.CurrencyCode, CustomID: custom}, nil
}

// PayPalRefundRequest asks for Amount minor units of Currency of a capture back, for
// one GigStream order (its custom_id). IdempotencyKey is the PayPal-Request-Id, so a
// retry returns the first refund rather than refunding twice.
type PayPalRefundRequest struct {
	OrderID, CaptureID string
	Amount             int64
	Currency           string
	IdempotencyKey     string
}

// RefundCapture refunds part or all of a capture and returns the refund's id. It
// returns an error wrapping ErrAmount for an amount it cannot write, or ErrProvider
// when PayPal fails, refuses, or reports the refund FAILED or CANCELLED.
func (p *PayPal) RefundCapture(ctx context.Context, in PayPalRefundRequest) (string, error) {
	if !payPalID.MatchString(in.CaptureID) {
		return "", fmt.Errorf("%w: %q is not a PayPal capture id", ErrProvider, in.CaptureID)
	}
	value, err := p.formatAmount(in.Amount, in.Currency)
	if err != nil {
		return "", err
	}
	body := map[string]any{"amount": payPalAmount{CurrencyCode: in.Currency, Value: value}, "custom_id": in.OrderID}
	var out struct{ ID, Status string }
	if err := p.call(ctx, http.MethodPost, "/v2/payments/captures/"+in.CaptureID+"/refund", in.IdempotencyKey, body, &out); err != nil {
		return "", fmt.Errorf("refund capture %s of order %s: %w", in.CaptureID, in.OrderID, err)
	}
	if out.ID == "" || out.Status == "FAILED" || out.Status == "CANCELLED" {
		return "", fmt.Errorf("%w: refund of order %s came back %q without success", ErrProvider, in.OrderID, out.Status)
	}
	return out.ID, nil
}
