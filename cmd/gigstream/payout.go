package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/payments"
	"github.com/gigstream/hub/store"
)

// payoutConfig is how sellers get paid: Stripe Connect's webhook secret and onboarding
// return pages, and the withdrawal rules.
type payoutConfig struct {
	ConnectWebhookSecret secret        // STRIPE_CONNECT_WEBHOOK_SECRET: the Connect endpoint's signing secret; unset turns it off
	ConnectReturnURL     string        // STRIPE_CONNECT_RETURN_URL: where Stripe's onboarding sends the seller back
	ConnectRefreshURL    string        // STRIPE_CONNECT_REFRESH_URL: where an expired onboarding link sends them
	PayPalPollAfter      time.Duration // PAYPAL_PAYOUT_POLL_AFTER: a PayPal payout in transit this long is polled
	Rules                market.WithdrawalRules
}

// loadPayoutConfig reads the payout settings; the rules default to what a marketplace
// would start with (WITHDRAWAL_*; 0 turns a rule off).
func loadPayoutConfig(e *envReader, c *config) {
	c.Payout = payoutConfig{
		ConnectWebhookSecret: secret(e.str("STRIPE_CONNECT_WEBHOOK_SECRET", "")),
		ConnectReturnURL:     e.str("STRIPE_CONNECT_RETURN_URL", c.PublicURL+"/app/?payouts=done"),
		ConnectRefreshURL:    e.str("STRIPE_CONNECT_REFRESH_URL", c.PublicURL+"/app/?payouts=refresh"),
		PayPalPollAfter:      e.duration("PAYPAL_PAYOUT_POLL_AFTER", 10*time.Minute, time.Second, 7*24*time.Hour),
		Rules: market.WithdrawalRules{
			MinMinor:           int64(e.integer("WITHDRAWAL_MIN_MINOR", 1000, 0, 1<<40)),
			DailyLimitMinor:    int64(e.integer("WITHDRAWAL_DAILY_LIMIT_MINOR", 1_000_000, 0, 1<<50)),
			NewSellerHold:      e.duration("WITHDRAWAL_NEW_SELLER_HOLD", 14*24*time.Hour, 0, 365*24*time.Hour),
			DestinationLock:    e.duration("WITHDRAWAL_DESTINATION_LOCK", 24*time.Hour, 0, 30*24*time.Hour),
			ApprovalAboveMinor: int64(e.integer("WITHDRAWAL_APPROVAL_ABOVE_MINOR", 500_000, 0, 1<<50)),
		},
	}
	if k := string(c.Payout.ConnectWebhookSecret); k != "" && !strings.HasPrefix(k, "whsec_") {
		e.fail("STRIPE_CONNECT_WEBHOOK_SECRET", "a signing secret starting whsec_ (value not shown)", "")
	}
	for name, v := range map[string]string{"STRIPE_CONNECT_RETURN_URL": c.Payout.ConnectReturnURL, "STRIPE_CONNECT_REFRESH_URL": c.Payout.ConnectRefreshURL} {
		if !strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "https://") {
			e.fail(name, "an http:// or https:// URL", v)
		}
	}
}

// connectGateway adapts payments' Stripe Connect adapter, Connect webhook
// verification and PayPal payout reads to market's payouts.
type connectGateway struct {
	connect  *payments.Connect
	verifier *payments.WebhookVerifier // nil when STRIPE_CONNECT_WEBHOOK_SECRET is unset
	paypal   *payments.PayPal          // nil when PayPal is not configured
}

// PayPalPayout reads a PayPal withdrawal's payout item.
func (g connectGateway) PayPalPayout(ctx context.Context, w market.Withdrawal) (market.PayoutOutcome, bool, error) {
	if g.paypal == nil || w.ProviderRef == nil {
		return market.PayoutOutcome{}, false, fmt.Errorf("withdrawal %s: no PayPal payout to read", w.ID)
	}
	item, err := g.paypal.PayoutItemOf(ctx, *w.ProviderRef)
	if err != nil {
		return market.PayoutOutcome{}, false, err
	}
	out, final := payPalPayoutOutcome(item)
	return out, final, nil
}

// payPalPayoutOutcome reads a payout item's transaction_status: SUCCESS is paid;
// a returned item (payments.PayPalPayoutItem.Returned: FAILED, RETURNED, BLOCKED…)
// failed, its money back in the platform's PayPal balance (taken back after it was
// paid when RETURNED, REFUNDED or REVERSED: Reversed); anything else (PENDING,
// UNCLAIMED, ONHOLD) is not final yet.
func payPalPayoutOutcome(it payments.PayPalPayoutItem) (market.PayoutOutcome, bool) {
	out := market.PayoutOutcome{WithdrawalID: it.WithdrawalID, Destination: it.Receiver, PayoutRef: it.BatchID,
		AmountMinor: it.Amount, Currency: it.Currency, Paid: it.Status == "SUCCESS", Failure: it.Failure}
	if it.Returned() && out.Failure == "" {
		out.Failure = "PayPal: " + it.Status
	}
	out.Reversed = it.TakenBack()
	return out, it.Final()
}

func (g connectGateway) CreateConnectedAccount(ctx context.Context, in market.ConnectedAccountRequest) (string, error) {
	return g.connect.CreateAccount(ctx, in.UserID, in.Email, in.IdempotencyKey)
}

func (g connectGateway) OnboardingLink(ctx context.Context, accountID string) (market.OnboardingLink, error) {
	url, exp, err := g.connect.AccountLink(ctx, accountID)
	return market.OnboardingLink{URL: url, ExpiresAt: exp}, err
}

func (g connectGateway) ReverseTransfer(ctx context.Context, w market.Withdrawal) error {
	if w.TransferRef == nil {
		return fmt.Errorf("withdrawal %s has no transfer to reverse", w.ID)
	}
	return g.connect.ReverseTransfer(ctx, *w.TransferRef, w.ID, "gigstream-withdrawal-"+w.ID+"-reversal")
}

// VerifyConnect checks and decodes a Connect webhook, converting Stripe's units of
// the payout's currency to ISO minor units.
func (g connectGateway) VerifyConnect(payload []byte, signature string) (market.ConnectEvent, error) {
	if g.verifier == nil {
		return market.ConnectEvent{}, fmt.Errorf("%w: STRIPE_CONNECT_WEBHOOK_SECRET is not set", market.ErrBadWebhookSignature)
	}
	ev, err := g.verifier.VerifyConnect(payload, signature)
	if errors.Is(err, payments.ErrBadSignature) {
		return market.ConnectEvent{}, fmt.Errorf("%w: %w", market.ErrBadWebhookSignature, err)
	}
	if err != nil {
		return market.ConnectEvent{}, err
	}
	out := market.ConnectEvent{ID: ev.ID, Type: ev.Type, ObjectRef: ev.ObjectRef}
	if ev.State != nil {
		out.Account = &market.StripeAccountState{AccountID: ev.Account, DetailsSubmitted: ev.State.DetailsSubmitted,
			PayoutsEnabled: ev.State.PayoutsEnabled, Requirements: ev.State.Requirements, DisabledReason: ev.State.DisabledReason, At: ev.Created}
	}
	if p := ev.Payout; p != nil {
		amount := int64(-1) // matches no withdrawal unless converted
		if exp, ok := market.CurrencyExponent(p.Currency); ok {
			if a, err := payments.FromStripeAmount(p.Amount, p.Currency, exp); err == nil {
				amount = a
			}
		}
		out.Payout = &market.PayoutOutcome{WithdrawalID: p.WithdrawalID, Destination: ev.Account, PayoutRef: p.ID,
			AmountMinor: amount, Currency: p.Currency, Failure: p.Failure}
	}
	return out, nil
}

// payoutRefused marks a refusal the provider is sure of for market.
func payoutRefused(err error) error {
	if errors.Is(err, payments.ErrRefused) || errors.Is(err, payments.ErrAmount) {
		return fmt.Errorf("%w: %w", market.ErrPayoutRefused, err)
	}
	return err
}

// payOutStripe is a withdrawal through Stripe Connect: a transfer to the seller's
// connected account and a payout from it.
func payOutStripe(ctx context.Context, c *payments.Connect, in market.PayoutRequest) (market.PayoutResult, error) {
	amount, err := toStripe(in.AmountMinor, in.Currency)
	if err != nil {
		return market.PayoutResult{}, payoutRefused(err)
	}
	tr, po, err := c.Payout(ctx, payments.ConnectPayoutRequest{
		WithdrawalID: in.WithdrawalID, UserID: in.UserID, AccountID: in.Destination, Amount: amount,
		Currency: in.Currency, IdempotencyKey: in.IdempotencyKey,
	})
	if err != nil && tr == "" {
		return market.PayoutResult{}, payoutRefused(err)
	}
	return market.PayoutResult{TransferRef: tr, PayoutRef: po}, err
}

// payOutPayPal is a withdrawal through PayPal Payouts: one batch of one item to the
// seller's PayPal e-mail.
func payOutPayPal(ctx context.Context, pp *payments.PayPal, in market.PayoutRequest) (market.PayoutResult, error) {
	if pp == nil {
		return market.PayoutResult{}, fmt.Errorf("%w: PayPal is not configured", market.ErrPayoutRefused)
	}
	batch, err := pp.CreatePayout(ctx, payments.PayPalPayoutRequest{WithdrawalID: in.WithdrawalID, Email: in.Destination,
		Amount: in.AmountMinor, Currency: in.Currency})
	if err != nil {
		return market.PayoutResult{}, payoutRefused(err)
	}
	return market.PayoutResult{PayoutRef: batch}, nil
}

// newPayouts builds the payout use cases on the database, Stripe Connect and (when
// configured) PayPal Payouts; settlement confirms a withdrawal whose payout's verdict
// arrives while it is still pending.
func newPayouts(cfg config, db *store.DB, rt *market.Realtime, connect *payments.Connect, settlement *market.Settlement, log *slog.Logger) (*market.Payouts, error) {
	pp, err := newPayPal(cfg.PayPal, providerHTTP(cfg, "paypal", 15*time.Second))
	if err != nil {
		return nil, err
	}
	g := connectGateway{connect: connect, paypal: pp}
	if s := string(cfg.Payout.ConnectWebhookSecret); s != "" {
		g.verifier = payments.NewWebhookVerifier(s, 0)
	}
	return market.NewPayouts(db, g, g, settlement, rt, market.PayoutConfig{
		PayPal: pp != nil, DestinationLock: cfg.Payout.Rules.DestinationLock, PollAfter: cfg.Payout.PayPalPollAfter,
	}, log), nil
}

// newConnect builds the Stripe Connect adapter on the configured Stripe.
func newConnect(cfg config) (*payments.Connect, error) {
	client, err := payments.NewStripeClient(payments.StripeConfig{SecretKey: string(cfg.Stripe.SecretKey), APIBase: cfg.Stripe.APIBase,
		Transport: providerTransport(cfg, "stripe")})
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return payments.NewConnect(payments.ConnectAPIs{
		Accounts: client.V1Accounts, Links: client.V1AccountLinks, Transfers: client.V1Transfers,
		Reversals: client.V1TransferReversals, Payouts: client.V1Payouts,
	}, payments.ConnectConfig{ReturnURL: cfg.Payout.ConnectReturnURL, RefreshURL: cfg.Payout.ConnectRefreshURL}), nil
}
