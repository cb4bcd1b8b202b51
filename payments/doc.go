// Package payments holds the adapters of the payment providers: Stripe (PaymentIntents
// to fund an order, refunds and payouts in money.go, the verification of Stripe's
// webhooks) and PayPal (Orders v2, capture refunds and webhook verification over
// net/http). Each takes its SDK or HTTP client in its constructor. It imports nothing
// of GigStream; cmd/ adapts it to the domain's interfaces.
package payments
