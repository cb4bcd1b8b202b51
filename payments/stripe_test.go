package payments

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/stripe/stripe-go/v82"
)

// recordingIntents is a PaymentIntentAPI that keeps the params it was given.
type recordingIntents struct {
	got *stripe.PaymentIntentCreateParams
	err error
}

func (r *recordingIntents) Create(_ context.Context, p *stripe.PaymentIntentCreateParams) (*stripe.PaymentIntent, error) {
	r.got = p
	if r.err != nil {
		return nil, r.err
	}
	return &stripe.PaymentIntent{ID: "pi_x", ClientSecret: "pi_x_secret", Status: "requires_payment_method"}, nil
}

func TestCreateIntentSendsAmountMetadataAndIdempotencyKey(t *testing.T) {
	api := &recordingIntents{}
	in, err := NewStripe(api).CreateIntent(context.Background(), IntentRequest{OrderID: "o1", Amount: 4500, Currency: "USD", IdempotencyKey: "k1"})
	if err != nil || in.ID != "pi_x" || in.ClientSecret != "pi_x_secret" {
		t.Fatalf("%+v, %v", in, err)
	}
	p := api.got
	if *p.Amount != 4500 || *p.Currency != "usd" || p.Metadata["order_id"] != "o1" || *p.IdempotencyKey != "k1" {
		t.Fatalf("params: amount %d currency %s metadata %v key %s", *p.Amount, *p.Currency, p.Metadata, *p.IdempotencyKey)
	}
	api.err = errors.New("boom")
	if _, err := NewStripe(api).CreateIntent(context.Background(), IntentRequest{OrderID: "o1", Amount: 1, Currency: "USD"}); !errors.Is(err, ErrProvider) {
		t.Fatalf("a failing call: %v", err)
	}
}

// TestCreateIntentAgainstStripeMock talks to the devstack's stripe-mock, which checks
// the request against Stripe's OpenAPI description and answers a canned PaymentIntent.
func TestCreateIntentAgainstStripeMock(t *testing.T) {
	base := os.Getenv("STRIPE_API_BASE")
	if base == "" {
		t.Fatal("STRIPE_API_BASE is not set: run tests with `make test`, or `eval \"$(scripts/devstack env)\"` first")
	}
	client, err := NewStripeClient(StripeConfig{SecretKey: os.Getenv("STRIPE_SECRET_KEY"), APIBase: base})
	if err != nil {
		t.Fatal(err)
	}
	in, err := NewStripe(client.V1PaymentIntents).CreateIntent(context.Background(), IntentRequest{
		OrderID: "0b4a3f8e-6c7d-4e21-9a55-1f2e3d4c5b6a", Amount: 4500, Currency: "EUR", IdempotencyKey: "gigstream-test",
	})
	if err != nil || in.ID == "" || in.ClientSecret == "" {
		t.Fatalf("%+v, %v", in, err)
	}
	if _, err := NewStripeClient(StripeConfig{}); err == nil {
		t.Fatal("a client without a secret key")
	}
	if _, err := NewStripeClient(StripeConfig{SecretKey: "sk", APIBase: "ftp://x"}); err == nil {
		t.Fatal("a client with an ftp base")
	}
}
