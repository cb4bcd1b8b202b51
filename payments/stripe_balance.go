package payments

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v82"
)

// BalanceTransactionAPI lists the platform balance's transactions: a stripe.Client's
// V1BalanceTransactions.
type BalanceTransactionAPI interface {
	List(ctx context.Context, params *stripe.BalanceTransactionListParams) stripe.Seq2[*stripe.BalanceTransaction, error]
}

// BalanceLines reads Stripe's own record of what moved through the platform's
// balance, for reconciliation.
type BalanceLines struct {
	api BalanceTransactionAPI
	max int
}

// NewBalanceLines returns the reader over api, refusing to read more than max lines
// in one listing (100,000 when ≤ 0): a window that large is a configuration mistake,
// and an unbounded listing would hold a run for hours.
func NewBalanceLines(api BalanceTransactionAPI, max int) *BalanceLines {
	if max <= 0 {
		max = 100_000
	}
	return &BalanceLines{api: api, max: max}
}

// Line kinds a BalanceLine is attributed to.
const (
	LinePayment  = "payment"  // ObjectRef is a PaymentIntent's id (PayPal: an order's)
	LineTransfer = "transfer" // ObjectRef is a transfer's id
)

// BalanceLine is one balance transaction attributed to the object it belongs to.
// Amount is in Stripe's unit of Currency (lower case, as Stripe writes it), taken
// from the source object rather than the balance transaction, whose amount is in the
// balance's currency after any conversion. It is signed from the platform's point of
// view of the object: + money a payment brought in or a transfer sent, − money given
// back (a refund, a dispute's withdrawal) or a transfer reversed.
type BalanceLine struct {
	Kind, ObjectRef, LineRef string
	Amount                   int64
	Currency                 string
	Created                  time.Time
}

// Lines lists every balance transaction created at or after since, expanding each
// one's source, and returns those about payments and transfers. Balance transactions
// of other kinds (Stripe's fees, the platform's own payouts to its bank, top-ups)
// move nothing GigStream's ledger records and are skipped. It returns an error
// wrapping ErrProvider when a page cannot be read, a source is missing the object
// it must name, or the listing passes the maximum.
func (b *BalanceLines) Lines(ctx context.Context, since time.Time) ([]BalanceLine, error) {
	params := &stripe.BalanceTransactionListParams{CreatedRange: &stripe.RangeQueryParams{GreaterThanOrEqual: since.Unix()}}
	params.Context = ctx
	params.Limit = stripe.Int64(100)
	params.AddExpand("data.source")
	var out []BalanceLine
	n := 0
	for bt, err := range b.api.List(ctx, params) {
		if err != nil {
			return nil, fmt.Errorf("%w: list balance transactions since %s: %w", ErrProvider, since.Format(time.RFC3339), err)
		}
		if n++; n > b.max {
			return nil, fmt.Errorf("%w: more than %d balance transactions since %s; shorten the window", ErrProvider, b.max, since.Format(time.RFC3339))
		}
		l, ok, err := balanceLine(bt)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, l)
		}
	}
	return out, nil
}

// balanceLine attributes bt to its payment or transfer; ok is false for kinds
// GigStream does not record.
func balanceLine(bt *stripe.BalanceTransaction) (BalanceLine, bool, error) {
	if bt == nil || bt.Source == nil {
		return BalanceLine{}, false, nil
	}
	l := BalanceLine{LineRef: bt.ID, Created: time.Unix(bt.Created, 0).UTC()}
	missing := func(what string) (BalanceLine, bool, error) {
		return BalanceLine{}, false, fmt.Errorf("%w: balance transaction %s (%s) names no %s", ErrProvider, bt.ID, bt.Type, what)
	}
	src := bt.Source
	if src.Type == "" { // an id only: the listing did not expand it, so it cannot be attributed
		return missing("expanded source")
	}
	switch {
	case src.Charge != nil:
		if src.Charge.PaymentIntent == nil || src.Charge.PaymentIntent.ID == "" {
			return BalanceLine{}, false, nil // a charge made outside PaymentIntents: not ours
		}
		l.Kind, l.ObjectRef, l.Amount, l.Currency = LinePayment, src.Charge.PaymentIntent.ID, src.Charge.Amount, string(src.Charge.Currency)
	case src.Refund != nil:
		if src.Refund.PaymentIntent == nil || src.Refund.PaymentIntent.ID == "" {
			return missing("payment intent")
		}
		l.Kind, l.ObjectRef, l.Amount, l.Currency = LinePayment, src.Refund.PaymentIntent.ID, -src.Refund.Amount, string(src.Refund.Currency)
	case src.Dispute != nil:
		if src.Dispute.PaymentIntent == nil || src.Dispute.PaymentIntent.ID == "" {
			return missing("payment intent")
		}
		// A dispute withdraws the amount when it opens (bt.Amount < 0) and reinstates it
		// when it is won (bt.Amount > 0); the fee is Stripe's, in bt.Fee.
		amount := src.Dispute.Amount
		if bt.Amount < 0 {
			amount = -amount
		}
		l.Kind, l.ObjectRef, l.Amount, l.Currency = LinePayment, src.Dispute.PaymentIntent.ID, amount, string(src.Dispute.Currency)
	case src.Transfer != nil:
		l.Kind, l.ObjectRef, l.Amount, l.Currency = LineTransfer, src.Transfer.ID, src.Transfer.Amount, string(src.Transfer.Currency)
	case src.TransferReversal != nil:
		if src.TransferReversal.Transfer == nil || src.TransferReversal.Transfer.ID == "" {
			return missing("transfer")
		}
		l.Kind, l.ObjectRef, l.Amount, l.Currency = LineTransfer, src.TransferReversal.Transfer.ID, -src.TransferReversal.Amount, string(src.TransferReversal.Currency)
	default:
		return BalanceLine{}, false, nil
	}
	l.Currency = strings.ToLower(l.Currency)
	return l, true, nil
}
