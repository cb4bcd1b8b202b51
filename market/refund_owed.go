package market

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The page sizes of the admins' list of refunds owed.
const (
	DefaultRefundOwedPage = 50
	MaxRefundOwedPage     = 100
	// MaxRefundOwedReference is the longest reference an admin may record, in bytes.
	MaxRefundOwedReference = 255
)

// OfflineAccount is the outside world's account for money the platform pays outside
// the payment providers (a bank transfer, a cheque): what it paid back of
// platform:refunds_owed goes there, so the providers' external accounts, which the
// reconciliation compares with the providers, never see it.
const OfflineAccount = "external:offline"

// ledgerKindRefundOwedPaid is the kind of the transaction that records a refund paid
// outside the provider.
const ledgerKindRefundOwedPaid = "refund_owed_paid"

// RefundOwedMethods are the ways an admin may record having paid a buyer back.
var RefundOwedMethods = []string{"bank_transfer", "paypal", "cheque", "other"}

// RefundOwed is what the platform still owes the buyer of one order outside the
// provider (LatePaymentRule): owed is what platform:refunds_owed holds for the order,
// paid what admins recorded as paid back of it so far.
type RefundOwed struct {
	OrderID   string    `json:"order_id" db:"order_id"`
	BuyerID   string    `json:"buyer_id" db:"buyer_id"`
	Currency  string    `json:"currency" db:"currency"`
	OwedMinor int64     `json:"owed_minor" db:"owed_minor"`
	PaidMinor int64     `json:"paid_minor" db:"paid_minor"`
	Since     time.Time `json:"since" db:"since"`
}

// RefundOwedPayment is an admin's record of paying a buyer back outside the provider.
type RefundOwedPayment struct {
	ID          string    `json:"id" db:"id"`
	OrderID     string    `json:"order_id" db:"order_id"`
	AdminID     string    `json:"admin_id" db:"admin_id"`
	AmountMinor int64     `json:"amount_minor" db:"amount_minor"`
	Currency    string    `json:"currency" db:"currency"`
	Method      string    `json:"method" db:"method"`
	Reference   string    `json:"reference" db:"reference"`
	CreatedAt   time.Time `json:"created_at" db:"created_at"`
}

// NewRefundOwedPayment is a payment as an admin records it, under an Idempotency-Key.
type NewRefundOwedPayment struct {
	OrderID     string
	AdminID     string
	AmountMinor int64
	Method      string
	Reference   string
	Key         string
}

// RefundOwedFacts are what the store read under the order's lock for a payment: the
// order's buyer and currency, what is owed for it now, and the new payment's id.
type RefundOwedFacts struct {
	OrderID   string
	BuyerID   string
	Currency  string
	OwedMinor int64
	PaymentID string
}

// RefundOwedStore is the storage of refunds owed; store/ implements it.
type RefundOwedStore interface {
	// RefundsOwed lists up to limit orders whose platform:refunds_owed share is above
	// zero, oldest first (by the first posting), after the key (since, order id).
	RefundsOwed(ctx context.Context, after *PageKey, limit int) ([]RefundOwed, error)
	// PayRefundOwed returns the payment recorded under in's key for the order if
	// there is one (replayed true). Otherwise it locks the order (ErrNotFound when
	// there is none), reads the facts, asks plan for the ledger transaction (or
	// returns plan's error), and posts it with the payment row and the buyer's
	// refund_owed.paid event, returned for publishing, in one transaction.
	PayRefundOwed(ctx context.Context, in NewRefundOwedPayment, plan func(RefundOwedFacts) (LedgerTransaction, error)) (p RefundOwedPayment, ev *Event, replayed bool, err error)
}

// RefundsOwed are the admins' view and settling of platform:refunds_owed: the money
// the platform owes buyers of cancelled orders and cannot refund through the provider
// (a charged-back charge; see LatePaymentRule). An admin pays the buyer outside the
// provider and records it here; the record moves that much from the order's share of
// platform:refunds_owed to external:offline, never more than is owed.
type RefundsOwed struct {
	store    RefundOwedStore
	realtime *Realtime // publishes refund_owed.paid at once; nil leaves it to the relay
	log      *slog.Logger
}

// NewRefundsOwed returns the refunds-owed use cases over their store.
func NewRefundsOwed(s RefundOwedStore, rt *Realtime, log *slog.Logger) *RefundsOwed {
	if log == nil {
		log = slog.Default()
	}
	return &RefundsOwed{store: s, realtime: rt, log: log}
}

// List pages the orders whose buyer is still owed money, oldest first, for an admin;
// anyone else gets ErrNotFound.
func (r *RefundsOwed) List(ctx context.Context, admin User, after *PageKey, limit int) ([]RefundOwed, error) {
	if !admin.IsAdmin {
		return nil, ErrNotFound
	}
	return r.store.RefundsOwed(ctx, after, limit)
}

// Pay records that an admin paid the buyer of orderID back outside the provider:
// amount (1…what is owed for the order) by method with the admin's reference (their
// bank's transfer id, say), and tells the buyer (refund_owed.paid on user:{id}). A
// retry under the same Idempotency-Key answers the first record (replayed true); the
// key with another amount, method or reference is invalid, naming it. Errors: ErrNotFound for a non-admin or an unknown order; invalid naming
// Idempotency-Key, amount_minor, method or reference; conflict when nothing is owed
// for the order.
func (r *RefundsOwed) Pay(ctx context.Context, admin User, orderID string, amount int64, method, reference, key string) (RefundOwedPayment, bool, error) {
	if !admin.IsAdmin || !uuidText.MatchString(orderID) {
		return RefundOwedPayment{}, false, ErrNotFound
	}
	if err := checkIdempotencyKey(key); err != nil {
		return RefundOwedPayment{}, false, err
	}
	if amount <= 0 {
		return RefundOwedPayment{}, false, FieldError(CodeInvalid, "amount_minor", "must be a positive number of minor units")
	}
	if !slices.Contains(RefundOwedMethods, method) {
		return RefundOwedPayment{}, false, FieldError(CodeInvalid, "method", "one of "+strings.Join(RefundOwedMethods, ", "))
	}
	reference = strings.TrimSpace(reference)
	if reference == "" || len(reference) > MaxRefundOwedReference || !utf8.ValidString(reference) {
		return RefundOwedPayment{}, false, FieldError(CodeInvalid, "reference", "is required: at most 255 bytes of UTF-8 text naming the payment (a bank transfer id)")
	}
	in := NewRefundOwedPayment{OrderID: orderID, AdminID: admin.ID, AmountMinor: amount, Method: method, Reference: reference, Key: key}
	p, ev, replayed, err := r.store.PayRefundOwed(ctx, in, func(f RefundOwedFacts) (LedgerTransaction, error) {
		return RefundOwedPaid(f, amount)
	})
	if err != nil {
		return RefundOwedPayment{}, false, err
	}
	if replayed && (p.AmountMinor != amount || p.Method != method || p.Reference != reference) {
		return RefundOwedPayment{}, false, FieldError(CodeInvalid, "Idempotency-Key", "was already used for a different payment of this order; use a new key")
	}
	if ev != nil {
		r.log.InfoContext(ctx, "refund owed paid", "order_id", orderID, "admin_id", admin.ID, "amount_minor", amount, "currency", p.Currency, "method", method)
		r.realtime.PublishCommitted(ctx, *ev)
	}
	return p, replayed, nil
}

// RefundOwedPaid is the ledger transaction of paying amount of what f says is owed
// back outside the provider: platform:refunds_owed → external:offline. Nothing owed
// is a conflict; more than is owed is invalid, naming amount_minor.
func RefundOwedPaid(f RefundOwedFacts, amount int64) (LedgerTransaction, error) {
	if f.OwedMinor <= 0 {
		return LedgerTransaction{}, Errorf(CodeConflict, "nothing is owed to the buyer of this order")
	}
	if amount > f.OwedMinor {
		return LedgerTransaction{}, FieldError(CodeInvalid, "amount_minor", "must be at most what is owed, "+strconv.FormatInt(f.OwedMinor, 10))
	}
	return LedgerTransaction{Kind: ledgerKindRefundOwedPaid, OrderID: f.OrderID, Reference: "refund-owed-paid:" + f.PaymentID,
		Postings: legs(f.Currency,
			Posting{Account: PlatformRefundsOwedAccount, Amount: -amount},
			Posting{Account: OfflineAccount, Amount: amount})}, nil
}

// RefundOwedNotice is the data of refund_owed.paid on the buyer's channel: what was
// paid back for which order, how, and the admin's reference to look for.
type RefundOwedNotice struct {
	OrderID     string `json:"order_id"`
	AmountMinor int64  `json:"amount_minor"`
	Currency    string `json:"currency"`
	Method      string `json:"method"`
	Reference   string `json:"reference"`
}
