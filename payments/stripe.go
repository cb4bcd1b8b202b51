package payments

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v82"
)

// PaymentIntentAPI is the slice of stripe-go the adapter uses: the client's
// V1PaymentIntents service satisfies it.
type PaymentIntentAPI interface {
	Create(ctx context.Context, params *stripe.PaymentIntentCreateParams) (*stripe.PaymentIntent, error)
}

// StripeConfig points the adapter at Stripe. The zero value of each field but
// SecretKey means the default.
type StripeConfig struct {
	SecretKey  string        // sk_live_… or sk_test_…; required
	APIBase    string        // default https://api.stripe.com (the devstack: stripe-mock)
	Timeout    time.Duration // per request; default 15 s
	MaxRetries int64         // network retries of one call; default 2 (the SDK's)
	// Transport carries the calls (a traced one, say); nil means http.DefaultTransport.
	Transport http.RoundTripper
}

// NewStripeClient builds the stripe-go client the adapter wraps, talking to
// cfg.APIBase with its own HTTP client (no SDK globals are touched). It returns an
// error when the secret key is missing or the base URL is not http(s).
func NewStripeClient(cfg StripeConfig) (*stripe.Client, error) {
	if cfg.SecretKey == "" {
		return nil, errors.New("payments: a Stripe secret key is required")
	}
	if cfg.APIBase == "" {
		cfg.APIBase = stripe.APIURL
	}
	if !strings.HasPrefix(cfg.APIBase, "http://") && !strings.HasPrefix(cfg.APIBase, "https://") {
		return nil, fmt.Errorf("payments: Stripe API base %q is not an http(s) URL", cfg.APIBase)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}
	if cfg.MaxRetries <= 0 {
		cfg.MaxRetries = 2
	}
	backend := stripe.GetBackendWithConfig(stripe.APIBackend, &stripe.BackendConfig{
		URL:               stripe.String(strings.TrimRight(cfg.APIBase, "/")),
		HTTPClient:        &http.Client{Timeout: cfg.Timeout, Transport: cfg.Transport},
		MaxNetworkRetries: stripe.Int64(cfg.MaxRetries),
		LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelNull},
	})
	return stripe.NewClient(cfg.SecretKey, stripe.WithBackends(&stripe.Backends{API: backend, Connect: backend, Uploads: backend})), nil
}

// Stripe creates PaymentIntents that fund orders.
type Stripe struct {
	intents PaymentIntentAPI
}

// NewStripe returns the adapter over intents (a stripe.Client's V1PaymentIntents).
func NewStripe(intents PaymentIntentAPI) *Stripe { return &Stripe{intents: intents} }

// IntentRequest asks for a PaymentIntent of Amount minor units of Currency (ISO 4217,
// any case) for one order. IdempotencyKey makes a retried call return the first
// PaymentIntent instead of creating another.
type IntentRequest struct {
	OrderID        string
	Amount         int64
	Currency       string
	IdempotencyKey string
}

// Intent is what the buyer's client needs to confirm the payment, and the id the
// webhooks will name.
type Intent struct {
	ID           string
	ClientSecret string
	Status       string
}

// ErrProvider is returned, wrapped, when Stripe cannot be reached or refuses a call;
// the caller may retry with the same idempotency key.
var ErrProvider = errors.New("payments: provider call failed")

// CreateIntent creates the PaymentIntent of an order, with the order id in its
// metadata so that webhooks can name the order. It returns an error wrapping
// ErrProvider when Stripe fails or answers without an id.
func (s *Stripe) CreateIntent(ctx context.Context, in IntentRequest) (Intent, error) {
	params := &stripe.PaymentIntentCreateParams{
		Amount:   stripe.Int64(in.Amount),
		Currency: stripe.String(strings.ToLower(in.Currency)),
	}
	params.Context = ctx
	params.AddMetadata("order_id", in.OrderID)
	params.SetIdempotencyKey(in.IdempotencyKey)
	pi, err := s.intents.Create(ctx, params)
	if err != nil {
		return Intent{}, fmt.Errorf("%w: create PaymentIntent for order %s: %w", ErrProvider, in.OrderID, err)
	}
	if pi == nil || pi.ID == "" {
		return Intent{}, fmt.Errorf("%w: PaymentIntent for order %s came back without an id", ErrProvider, in.OrderID)
	}
	return Intent{ID: pi.ID, ClientSecret: pi.ClientSecret, Status: string(pi.Status)}, nil
}
