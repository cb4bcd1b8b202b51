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

// AccountAPI is the slice of stripe-go that creates connected accounts: a
// stripe.Client's V1Accounts.
type AccountAPI interface {
	Create(ctx context.Context, params *stripe.AccountCreateParams) (*stripe.Account, error)
}

// AccountLinkAPI makes onboarding links: a stripe.Client's V1AccountLinks.
type AccountLinkAPI interface {
	Create(ctx context.Context, params *stripe.AccountLinkCreateParams) (*stripe.AccountLink, error)
}

// TransferAPI moves money to connected accounts: a stripe.Client's V1Transfers.
type TransferAPI interface {
	Create(ctx context.Context, params *stripe.TransferCreateParams) (*stripe.Transfer, error)
}

// TransferReversalAPI takes a transfer back: a stripe.Client's V1TransferReversals.
type TransferReversalAPI interface {
	Create(ctx context.Context, params *stripe.TransferReversalCreateParams) (*stripe.TransferReversal, error)
}

// ConnectAPIs are the Stripe services Connect uses; a stripe.Client has them all.
type ConnectAPIs struct {
	Accounts  AccountAPI
	Links     AccountLinkAPI
	Transfers TransferAPI
	Reversals TransferReversalAPI
	Payouts   PayoutAPI
}

// ConnectConfig says where Stripe's hosted onboarding sends the seller back.
type ConnectConfig struct {
	ReturnURL  string // the seller finished (or left) onboarding
	RefreshURL string // the link expired or was used: the client asks for a new one
}

// Connect pays sellers through Stripe Connect Express accounts: the platform creates
// each seller's account, Stripe onboards them on its hosted pages, and a withdrawal
// is a transfer to the account plus a payout from it to the seller's bank (the
// accounts pay out manually, so each withdrawal is one payout and its payout.*
// events).
type Connect struct {
	api ConnectAPIs
	cfg ConnectConfig
}

// NewConnect returns the adapter over a stripe.Client's services.
func NewConnect(api ConnectAPIs, cfg ConnectConfig) *Connect { return &Connect{api: api, cfg: cfg} }

// ErrRefused is wrapped, with ErrProvider, when Stripe answered that it will not do
// what was asked (a 4xx other than 409 and 429): nothing was made, and retrying the
// same request cannot help.
var ErrRefused = errors.New("payments: the provider refused the request")

// providerError wraps a stripe-go error: ErrRefused too when Stripe refused for sure.
func providerError(what string, err error) error {
	var se *stripe.Error
	if errors.As(err, &se) && se.HTTPStatusCode >= 400 && se.HTTPStatusCode < 500 &&
		se.HTTPStatusCode != http.StatusConflict && se.HTTPStatusCode != http.StatusTooManyRequests {
		return fmt.Errorf("%w: %w: %s: %w", ErrProvider, ErrRefused, what, err)
	}
	return fmt.Errorf("%w: %s: %w", ErrProvider, what, err)
}

// CreateAccount creates a seller's Express account (transfers capability requested,
// manual payouts, the user's id in its metadata) and returns its id. idempotencyKey
// makes racing or retried calls return one account.
func (c *Connect) CreateAccount(ctx context.Context, userID, email, idempotencyKey string) (string, error) {
	params := &stripe.AccountCreateParams{
		Type:         stripe.String(string(stripe.AccountTypeExpress)),
		Capabilities: &stripe.AccountCreateCapabilitiesParams{Transfers: &stripe.AccountCreateCapabilitiesTransfersParams{Requested: stripe.Bool(true)}},
		Settings: &stripe.AccountCreateSettingsParams{Payouts: &stripe.AccountCreateSettingsPayoutsParams{
			Schedule: &stripe.AccountCreateSettingsPayoutsScheduleParams{Interval: stripe.String("manual")}}},
	}
	if email != "" {
		params.Email = stripe.String(email)
	}
	params.Context = ctx
	params.AddMetadata("user_id", userID)
	params.SetIdempotencyKey(idempotencyKey)
	a, err := c.api.Accounts.Create(ctx, params)
	if err != nil {
		return "", providerError("create connected account for user "+userID, err)
	}
	if a == nil || a.ID == "" {
		return "", fmt.Errorf("%w: connected account for user %s came back without an id", ErrProvider, userID)
	}
	return a.ID, nil
}

// AccountLink returns a fresh onboarding link of the account and when it expires.
// Links are single-use and short-lived, so none is cached.
func (c *Connect) AccountLink(ctx context.Context, accountID string) (string, time.Time, error) {
	params := &stripe.AccountLinkCreateParams{
		Account: stripe.String(accountID), Type: stripe.String("account_onboarding"),
		ReturnURL: stripe.String(c.cfg.ReturnURL), RefreshURL: stripe.String(c.cfg.RefreshURL),
	}
	params.Context = ctx
	l, err := c.api.Links.Create(ctx, params)
	if err != nil {
		return "", time.Time{}, providerError("account link for "+accountID, err)
	}
	if l == nil || l.URL == "" {
		return "", time.Time{}, fmt.Errorf("%w: account link for %s came back without a URL", ErrProvider, accountID)
	}
	return l.URL, time.Unix(l.ExpiresAt, 0), nil
}

// ConnectPayoutRequest pays Amount (Stripe's units) of Currency to a connected
// account's bank for one withdrawal.
type ConnectPayoutRequest struct {
	WithdrawalID, UserID, AccountID string
	Amount                          int64
	Currency                        string
	IdempotencyKey                  string // prefix of both calls' keys
}

// Payout transfers the amount to the connected account (transfer_group and metadata
// name the withdrawal) and then pays it out from there to the seller's bank (the
// payout's metadata names the withdrawal, which is how payout.* webhooks find it).
// It returns the transfer's and the payout's ids. When the transfer was made but the
// payout was not, the transfer's id comes back with the error, so the caller knows
// money moved; a retry under the same key returns the same transfer and tries the
// payout again.
func (c *Connect) Payout(ctx context.Context, in ConnectPayoutRequest) (transferID, payoutID string, err error) {
	tp := &stripe.TransferCreateParams{
		Amount: stripe.Int64(in.Amount), Currency: stripe.String(strings.ToLower(in.Currency)),
		Destination: stripe.String(in.AccountID), TransferGroup: stripe.String("withdrawal_" + in.WithdrawalID),
	}
	tp.Context = ctx
	tp.AddMetadata("withdrawal_id", in.WithdrawalID)
	tp.AddMetadata("user_id", in.UserID)
	tp.SetIdempotencyKey(in.IdempotencyKey + "-transfer")
	tr, err := c.api.Transfers.Create(ctx, tp)
	if err != nil {
		return "", "", providerError("transfer of withdrawal "+in.WithdrawalID, err)
	}
	if tr == nil || tr.ID == "" {
		return "", "", fmt.Errorf("%w: transfer of withdrawal %s came back without an id", ErrProvider, in.WithdrawalID)
	}
	pp := &stripe.PayoutCreateParams{Amount: stripe.Int64(in.Amount), Currency: stripe.String(strings.ToLower(in.Currency))}
	pp.Context = ctx
	pp.SetStripeAccount(in.AccountID)
	pp.AddMetadata("withdrawal_id", in.WithdrawalID)
	pp.AddMetadata("user_id", in.UserID)
	pp.SetIdempotencyKey(in.IdempotencyKey + "-payout")
	po, err := c.api.Payouts.Create(ctx, pp)
	if err != nil {
		return tr.ID, "", fmt.Errorf("%w: payout of withdrawal %s from %s: %w", ErrProvider, in.WithdrawalID, in.AccountID, err)
	}
	if po == nil || po.ID == "" {
		return tr.ID, "", fmt.Errorf("%w: payout of withdrawal %s came back without an id", ErrProvider, in.WithdrawalID)
	}
	return tr.ID, po.ID, nil
}

// ReverseTransfer takes a whole transfer back from the connected account (its payout
// failed, so the money sits there), under idempotencyKey so a repeated call reverses
// once.
func (c *Connect) ReverseTransfer(ctx context.Context, transferID, withdrawalID, idempotencyKey string) error {
	params := &stripe.TransferReversalCreateParams{ID: stripe.String(transferID)}
	params.Context = ctx
	params.AddMetadata("withdrawal_id", withdrawalID)
	params.SetIdempotencyKey(idempotencyKey)
	r, err := c.api.Reversals.Create(ctx, params)
	if err != nil {
		return providerError("reverse transfer "+transferID, err)
	}
	if r == nil || r.ID == "" {
		return fmt.Errorf("%w: reversal of %s came back without an id", ErrProvider, transferID)
	}
	return nil
}
