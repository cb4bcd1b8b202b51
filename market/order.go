package market

import (
	"context"
	"log/slog"
	"time"
)

// Orders holds the order use cases: place an order, fund its escrow from a verified
// payment webhook, deliver versions of the work, ask for revisions, and show orders and
// deliveries to their buyer and seller only.
type Orders struct {
	store    OrderStore
	gateway  PaymentGateway
	realtime *Realtime
	cfg      OrdersConfig
	log      *slog.Logger
}

// NewOrders returns the order use cases over their collaborators.
func NewOrders(s OrderStore, g PaymentGateway, rt *Realtime, cfg OrdersConfig, log *slog.Logger) *Orders {
	if cfg.MaxNoteLength <= 0 || cfg.MaxNoteLength > 5000 {
		cfg.MaxNoteLength = 5000 // the schema's limit too
	}
	if cfg.MaxFiles <= 0 {
		cfg.MaxFiles = 20
	}
	if log == nil {
		log = slog.Default()
	}
	return &Orders{store: s, gateway: g, realtime: rt, cfg: cfg, log: log}
}

// OrdersConfig tunes the order use cases and names their optional collaborators. The
// zero value means the defaults and no collaborators.
type OrdersConfig struct {
	MaxNoteLength int // characters of a delivery or revision note; default and most 5000
	MaxFiles      int // files per delivery; default 20

	// Billing prices orders: the buyer pays the price plus the service fee and tax of
	// its quote. Nil charges the price alone.
	Billing *Billing
	// PayPal lets buyers pay with PayPal; nil refuses provider "paypal".
	PayPal PayPalGateway
	// Threads opens the order's conversation between buyer and seller once the order
	// is placed; a failure is only logged (the thread opens on a retry). Nil opens none.
	Threads OrderThreads
	// LateRefunds refunds at once a payment that succeeded for an order cancelled
	// before it was paid; a failure is only logged: the escrow stays funded and the
	// settlement job retries. Nil leaves it to the settlement job.
	LateRefunds LatePaymentRefunder
	// Payouts finishes withdrawals paid through PayPal Payouts when their payout item
	// events arrive at the PayPal webhook. Nil ignores them.
	Payouts PayoutOutcomes
	// Reversals applies chargebacks and refunds made at the providers; nil stores
	// them as unhandled.
	Reversals ReversalApplier
}

// OrderThreads opens an order's conversation between its buyer and seller and returns
// its id; *Chat is one.
type OrderThreads interface {
	OpenOrderThread(ctx context.Context, orderID, buyerID, sellerID string) (string, error)
}

// LatePaymentRefunder refunds the payment that arrived for a cancelled order;
// *Settlement is one.
type LatePaymentRefunder interface {
	RefundCancelledPayment(ctx context.Context, orderID string) error
}

// Order is what a buyer bought: a snapshot of the gig package at the time of ordering
// (later edits to the gig do not change it), its price in minor units, and where it
// stands. Payment is set for the buyer only.
type Order struct {
	ID           string  `json:"id" db:"id"`
	BuyerID      string  `json:"buyer_id" db:"buyer_id"`
	SellerID     string  `json:"seller_id" db:"seller_id"`
	GigID        string  `json:"gig_id" db:"gig_id"`
	PackageID    *string `json:"package_id" db:"package_id"`
	GigTitle     string  `json:"gig_title" db:"gig_title"`
	PackageTier  string  `json:"package_tier" db:"package_tier"`
	PackageTitle string  `json:"package_title" db:"package_title"`
	PriceMinor   int64   `json:"price_minor" db:"price_minor"`
	Currency     string  `json:"currency" db:"currency"`
	// ServiceFeeMinor and TaxMinor are what the buyer paid on top of the price (the
	// quote's service fee and tax, at TaxRateBPS for TaxCountry; ReverseCharge when a
	// business buyer accounts for the tax); TotalMinor is the sum, the payment's amount.
	ServiceFeeMinor  int64        `json:"service_fee_minor" db:"service_fee_minor"`
	TaxMinor         int64        `json:"tax_minor" db:"tax_minor"`
	TotalMinor       int64        `json:"total_minor" db:"total_minor"`
	TaxRateBPS       int          `json:"tax_rate_bps" db:"tax_rate_bps"`
	TaxCountry       string       `json:"tax_country" db:"tax_country"`
	ReverseCharge    bool         `json:"reverse_charge" db:"reverse_charge"`
	RevisionsAllowed int          `json:"revisions_allowed" db:"revisions_allowed"`
	RevisionsUsed    int          `json:"revisions_used" db:"revisions_used"`
	DeliveryDays     int          `json:"delivery_days" db:"delivery_days"`
	Status           OrderStatus  `json:"status" db:"status"`
	DueAt            *time.Time   `json:"due_at" db:"due_at"`
	PaidAt           *time.Time   `json:"paid_at" db:"paid_at"`
	DeliveredAt      *time.Time   `json:"delivered_at" db:"delivered_at"`
	RefundedMinor    int64        `json:"refunded_minor" db:"refunded_minor"`                 // escrow back to the buyer
	FeeMinor         int64        `json:"fee_minor" db:"fee_minor"`                           // escrow to the platform
	SellerMinor      int64        `json:"seller_minor" db:"seller_minor"`                     // escrow to the seller
	RefundedFeeMinor int64        `json:"refunded_service_fee_minor" db:"refunded_fee_minor"` // service fee back to the buyer
	RefundedTaxMinor int64        `json:"refunded_tax_minor" db:"refunded_tax_minor"`         // tax back to the buyer
	SettledAt        *time.Time   `json:"settled_at" db:"settled_at"`                         // completed or cancelled
	ClearedAt        *time.Time   `json:"cleared_at" db:"cleared_at"`                         // the seller's share became available
	CreatedAt        time.Time    `json:"created_at" db:"created_at"`
	UpdatedAt        time.Time    `json:"updated_at" db:"updated_at"`
	Payment          *PaymentInfo `json:"payment,omitempty" db:"-"`
}

// PaymentInfo is the order's payment as its buyer's client needs it: a Stripe
// PaymentIntent to confirm with Stripe.js, or a PayPal order to approve at ApproveURL
// (PaymentIntentID then holds the PayPal order id; see MarshalJSON).
type PaymentInfo struct {
	Provider        string `json:"provider" db:"provider"`
	PaymentIntentID string `json:"payment_intent_id" db:"provider_ref"`
	ClientSecret    string `json:"client_secret" db:"client_secret"`
	Status          string `json:"status" db:"status"`
	AmountMinor     int64  `json:"amount_minor" db:"amount_minor"`
	Currency        string `json:"currency" db:"currency"`
	ApproveURL      string `json:"approve_url,omitempty" db:"approve_url"` // PayPal only
	CaptureID       string `json:"-" db:"capture_ref"`                     // PayPal only, once paid
	// Reversed is what reversals of the payment did before the payment itself was
	// recorded (a late payment of a cancelled order, a payment of a placed order after
	// its own chargeback); read with the order's lock.
	Reversed PaymentReversed `json:"-" db:"-"`
}

// PaymentReversed is what the reversals of a payment did before the payment was
// recorded: what they took from platform:losses (open, lost and final ones; the
// escrow was empty), and whether a chargeback of it is closed (won or lost), after
// which the provider refuses to refund the charge.
type PaymentReversed struct {
	FromPlatform     int64
	ChargebackClosed bool
}

// OrderChannel is the live channel of an order: its buyer and seller may follow it.
func OrderChannel(orderID string) string { return "order:" + orderID }

// visibleTo is the order as userID sees it: the payment's client secret is the
// buyer's alone.
func (o Order) visibleTo(userID string) Order {
	if o.BuyerID != userID {
		o.Payment = nil
	}
	return o
}

// OrderStore keeps orders, payments, deliveries and the ledger; store/ implements it.
// Every method that changes an order locks its row (SELECT … FOR UPDATE) for the whole
// transaction, so concurrent requests on one order serialize; it calls the decision
// function it is given with the locked row, and writes nothing when that returns an
// error. The events it returns were stored in the same transaction, for the caller to
// publish after commit. Orders the caller is not a party to are not found (wrapping
// ErrNotFound).
type OrderStore interface {
	PlaceOrder(ctx context.Context, in NewOrder, price func(GigOffer) (Quote, error)) (PlacedOrder, error)
	RecordPayment(ctx context.Context, orderID string, p PaymentInfo) (PaymentInfo, error)
	ApplyPaymentEvent(ctx context.Context, ev PaymentEvent, decide func(Order, *PaymentInfo) PaymentDecision) (PaymentOutcome, error)
	// RecordUnhandledEvent stores a verified event we do not act on, once; false when
	// it was stored before.
	RecordUnhandledEvent(ctx context.Context, provider, eventID, eventType, objectRef string) (bool, error)
	Order(ctx context.Context, orderID, userID string) (Order, error)
	// Orders lists up to limit of userID's orders as role ("" either), newest first,
	// after the key (created_at, id) of the last one seen (nil from the newest).
	Orders(ctx context.Context, userID string, role string, after *PageKey, limit int) ([]Order, error)
	IsOrderParty(ctx context.Context, orderID, userID string) (bool, error)
	CreateDelivery(ctx context.Context, in NewDelivery, check func(Order, []DeliveryCandidate) error) (Delivery, Order, Event, error)
	RequestRevision(ctx context.Context, in NewRevision, check func(Order) error) (Order, Event, error)
	Deliveries(ctx context.Context, orderID, userID string) ([]Delivery, error)
}

// Order returns one order to its buyer or seller; anyone else gets a not-found Error.
func (o *Orders) Order(ctx context.Context, orderID, userID string) (Order, error) {
	ord, err := o.store.Order(ctx, orderID, userID)
	if err != nil {
		return Order{}, err
	}
	return ord.visibleTo(userID), nil
}

// The roles a user can list their orders in.
const (
	RoleBuyer  = "buyer"
	RoleSeller = "seller"
)

// Orders lists userID's orders, newest first: as buyer, as seller, or both when role
// is empty. It returns an invalid Error naming "role" for any other role.
func (o *Orders) Orders(ctx context.Context, userID, role string, after *PageKey, limit int) ([]Order, error) {
	if role != "" && role != RoleBuyer && role != RoleSeller {
		return nil, FieldError(CodeInvalid, "role", "must be buyer or seller")
	}
	list, err := o.store.Orders(ctx, userID, role, after, limit)
	if err != nil {
		return nil, err
	}
	for i := range list {
		list[i] = list[i].visibleTo(userID)
	}
	return list, nil
}
