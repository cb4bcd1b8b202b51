package market

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// NewOrder is a buyer's request for one package (by tier) of a gig. IdempotencyKey
// (the client's Idempotency-Key header) makes a retried request return the first order.
type NewOrder struct {
	BuyerID, GigID, Tier string
	Provider             string // "stripe" (the default when empty) or "paypal"
	// QuoteTotalMinor, when set, is the total of the quote the buyer saw
	// (GET /gigs/{id}/quote); an order whose total differs now is refused.
	QuoteTotalMinor *int64
	IdempotencyKey  string
	// RequestHash fingerprints the request, so a key reused for a different request is
	// told apart from a retry; PlaceOrder sets it.
	RequestHash string
}

// GigOffer is the package being ordered as the store found it (under a share lock),
// for PlaceOrder's rules and price.
type GigOffer struct {
	GigID, SellerID, GigStatus string
	GigTitle, PackageTitle     string
	PriceMinor                 int64
	Currency                   string
}

// PlacedOrder is the outcome of storing an order: the order (new, or the one an earlier
// request with the same key made), whether this call created it, the fingerprint of the
// request that made it, and the events to publish.
type PlacedOrder struct {
	Order       Order
	Created     bool
	RequestHash string
	Events      []Event
}

// PaymentRequest asks the provider for a payment of an order.
type PaymentRequest struct {
	OrderID        string
	AmountMinor    int64
	Currency       string
	IdempotencyKey string
}

// PaymentGateway is the payment provider (Stripe) as the order use cases need it;
// cmd/ adapts payments/ to it. CreatePayment returns a CodeUnavailable Error when the
// provider fails; VerifyWebhook returns an error wrapping ErrBadWebhookSignature for a
// webhook that is not provably the provider's.
type PaymentGateway interface {
	CreatePayment(ctx context.Context, in PaymentRequest) (PaymentInfo, error)
	VerifyWebhook(payload []byte, signature string) (PaymentEvent, error)
}

// maxIdempotencyKey is the longest Idempotency-Key accepted.
const maxIdempotencyKey = 255

// PlaceOrder creates an order for a package of a published gig, in status placed, and
// a PaymentIntent for its total (or, with Provider "paypal", a PayPal order): the
// price, the service fee and the tax, as GET /gigs/{id}/quote shows them; the order
// carries the intent's client secret (or the PayPal approve link) for the buyer's
// client. A retry with the same key and request (provider included) returns the same
// order (created false); a key reused for another request is an invalid Error naming
// "Idempotency-Key". A QuoteTotalMinor that differs from the total now (the price or
// the fee and tax configuration changed) is a conflict Error naming
// "quote_total_minor", and nothing is stored. Errors: invalid for a bad key, ordering one's own gig, or a
// provider that is unknown or not configured (naming "provider"); not found
// for a gig that is not published or has no package of that tier; unavailable when the
// payment provider fails (retry with the same key: the order is kept and the intent is
// created then).
func (o *Orders) PlaceOrder(ctx context.Context, in NewOrder) (Order, bool, error) {
	if err := checkIdempotencyKey(in.IdempotencyKey); err != nil {
		return Order{}, false, err
	}
	if !uuidText.MatchString(in.GigID) {
		return Order{}, false, FieldError(CodeInvalid, "gig_id", "must be a UUID")
	}
	if in.Tier != "basic" && in.Tier != "standard" && in.Tier != "premium" {
		return Order{}, false, FieldError(CodeInvalid, "tier", "must be basic, standard or premium")
	}
	if err := o.checkProvider(&in); err != nil {
		return Order{}, false, err
	}
	in.GigID = strings.ToLower(in.GigID)
	in.RequestHash = orderRequestHash(in)
	price, err := o.pricer(ctx, in)
	if err != nil {
		return Order{}, false, err
	}
	placed, err := o.store.PlaceOrder(ctx, in, price)
	if err != nil {
		return Order{}, false, err
	}
	if !placed.Created && placed.RequestHash != in.RequestHash {
		return Order{}, false, FieldError(CodeInvalid, "Idempotency-Key", "was already used for a different order request; use a new key")
	}
	o.realtime.PublishCommitted(ctx, placed.Events...)
	ord := placed.Order
	if placed.Created && o.cfg.Threads != nil {
		if _, err := o.cfg.Threads.OpenOrderThread(ctx, ord.ID, ord.BuyerID, ord.SellerID); err != nil {
			o.log.WarnContext(ctx, "order thread not opened", "order_id", ord.ID, "err", err)
		}
	}
	if ord.Payment == nil {
		if ord.Payment, err = o.startPayment(ctx, ord, in.Provider); err != nil {
			return Order{}, false, err
		}
	}
	return ord, placed.Created, nil
}

// startPayment creates the order's PaymentIntent (or PayPal order) and records it. The
// provider's idempotency key is derived from the order, so a retry after a lost answer
// gets the same payment from the provider; if two calls race, the first recorded wins.
func (o *Orders) startPayment(ctx context.Context, ord Order, provider string) (*PaymentInfo, error) {
	create := o.gateway.CreatePayment
	if provider == ProviderPayPal {
		create = o.cfg.PayPal.CreatePayment
	}
	p, err := create(ctx, PaymentRequest{
		OrderID: ord.ID, AmountMinor: ord.TotalMinor, Currency: ord.Currency,
		IdempotencyKey: "gigstream-order-" + ord.ID + "-payment",
	})
	if err != nil {
		o.log.WarnContext(ctx, "payment intent not created", "order_id", ord.ID, "err", err)
		return nil, Errorf(CodeUnavailable, "the payment provider is not reachable; retry with the same Idempotency-Key")
	}
	p, err = o.store.RecordPayment(ctx, ord.ID, p)
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// checkOffer applies who may order what: a published gig, not one's own.
func checkOffer(g GigOffer, buyerID string) error {
	if g.GigStatus != "published" {
		return FieldError(CodeNotFound, "gig_id", "no such published gig")
	}
	if g.SellerID == buyerID {
		return FieldError(CodeInvalid, "gig_id", "you cannot order your own gig")
	}
	return nil
}

// checkIdempotencyKey accepts 1 to 255 printable ASCII characters.
func checkIdempotencyKey(key string) error {
	if key == "" {
		return FieldError(CodeInvalid, "Idempotency-Key", "is required: a unique value per order request, reused on retries")
	}
	if len(key) > maxIdempotencyKey {
		return FieldError(CodeInvalid, "Idempotency-Key", "must be at most 255 characters")
	}
	for _, r := range key {
		if r < 0x21 || r > 0x7e {
			return FieldError(CodeInvalid, "Idempotency-Key", "must be printable ASCII without spaces")
		}
	}
	return nil
}

// pricer reads the buyer's billing profile (before the order's transaction, which
// then holds no second connection) and returns the rule that checks the offer and
// prices it under the store's lock: the quote for that profile, refused as a
// conflict when it is not the total the buyer saw.
func (o *Orders) pricer(ctx context.Context, in NewOrder) (func(GigOffer) (Quote, error), error) {
	var cfg BillingConfig
	var buyer *BillingProfile
	if b := o.cfg.Billing; b != nil {
		p, err := b.buyerProfile(ctx, in.BuyerID)
		if err != nil {
			return nil, err
		}
		cfg, buyer = b.cfg, p
	}
	return func(g GigOffer) (Quote, error) {
		if err := checkOffer(g, in.BuyerID); err != nil {
			return Quote{}, err
		}
		q, err := cfg.QuoteFor(g.GigTitle+" ("+g.PackageTitle+")", g.PriceMinor, g.Currency, buyer)
		if err != nil {
			return Quote{}, err
		}
		if in.QuoteTotalMinor != nil && *in.QuoteTotalMinor != q.TotalMinor {
			return Quote{}, FieldError(CodeConflict, "quote_total_minor", fmt.Sprintf(
				"the total is now %d (%s), not the quoted %d: the price or the fee and tax changed; get a new quote",
				q.TotalMinor, FormatMoney(q.TotalMinor, q.Currency), *in.QuoteTotalMinor))
		}
		return q, nil
	}, nil
}

// orderRequestHash fingerprints what decides the order, so that a retry matches and a
// different request under the same key does not.
func orderRequestHash(in NewOrder) string {
	fingerprint := in.GigID + "\n" + in.Tier
	if in.Provider != "" && in.Provider != ProviderStripe {
		fingerprint += "\n" + in.Provider // Stripe orders keep the hashes stored before PayPal
	}
	if in.QuoteTotalMinor != nil {
		fingerprint += "\nquote:" + strconv.FormatInt(*in.QuoteTotalMinor, 10)
	}
	sum := sha256.Sum256([]byte(fingerprint))
	return hex.EncodeToString(sum[:])
}
