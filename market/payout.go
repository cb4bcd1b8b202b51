package market

import (
	"context"
	"log/slog"
	"time"
)

// Payouts is where sellers' money goes: their payout method (a Stripe Connect Express
// account, onboarded on Stripe's hosted pages, or a PayPal e-mail), the Connect
// webhooks that say when such an account may receive payouts, and the provider's
// verdict on each withdrawal's payout (paid, or failed and returned to the seller's
// available balance). Withdrawals themselves are Settlement's (settle_withdrawal.go).
type Payouts struct {
	store       PayoutStore
	gateway     PayoutGateway
	events      ConnectWebhooks
	withdrawals WithdrawalConfirmer
	realtime    *Realtime
	cfg         PayoutConfig
	log         *slog.Logger
	now         func() time.Time
}

// PayoutConfig tunes payouts. The zero value means PayPal off and the default lock.
type PayoutConfig struct {
	PayPal bool // PayPal Payouts is configured, so sellers may choose it
	// DestinationLock is how long withdrawals wait after the payout method changes;
	// it is shown with the method (withdrawable_from). Settlement enforces it.
	DestinationLock time.Duration
	// PollAfter is how long a PayPal payout may stay in transit before it is polled
	// (webhooks can be lost); default 10 minutes.
	PollAfter time.Duration
}

// NewPayouts returns the payout use cases over their collaborators; wc confirms a
// withdrawal still pending when its payout's verdict arrives (Settlement is one; nil
// leaves such a verdict unapplied, as ignored).
func NewPayouts(s PayoutStore, g PayoutGateway, ev ConnectWebhooks, wc WithdrawalConfirmer, rt *Realtime, cfg PayoutConfig, log *slog.Logger) *Payouts {
	if log == nil {
		log = slog.Default()
	}
	if cfg.PollAfter <= 0 {
		cfg.PollAfter = 10 * time.Minute
	}
	return &Payouts{store: s, gateway: g, events: ev, withdrawals: wc, realtime: rt, cfg: cfg, log: log, now: time.Now}
}

// The payout methods a seller may choose, and the providers of a withdrawal.
const (
	PayoutStripe = "stripe"
	PayoutPayPal = "paypal"
)

// PayoutMethod is where a seller's withdrawals go, as stored: the method in use, the
// Stripe connected account and what Stripe last said about it, the PayPal e-mail, and
// when the method or its destination last changed.
type PayoutMethod struct {
	Method                 string     `json:"method"` // "", stripe or paypal
	StripeAccountID        string     `json:"stripe_account_id,omitempty"`
	StripeDetailsSubmitted bool       `json:"stripe_details_submitted"`
	StripePayoutsEnabled   bool       `json:"stripe_payouts_enabled"`
	StripeRequirements     []string   `json:"stripe_requirements"`
	StripeDisabledReason   string     `json:"stripe_disabled_reason,omitempty"`
	PayPalEmail            string     `json:"paypal_email,omitempty"`
	ChangedAt              *time.Time `json:"changed_at"`
	// Ready and WithdrawableFrom are derived: the method can receive payouts now
	// (PayPal always; Stripe once payouts are enabled), and withdrawals may start at
	// WithdrawableFrom (the destination lock after a change).
	Ready            bool       `json:"ready"`
	WithdrawableFrom *time.Time `json:"withdrawable_from"`
}

// Destination is the provider and the address a withdrawal is paid to under this
// method (the connected account, or the PayPal e-mail); ok is false when the method
// cannot receive payouts now.
func (m PayoutMethod) Destination() (provider, destination string, ok bool) {
	switch {
	case m.Method == PayoutStripe && m.StripeAccountID != "" && m.StripePayoutsEnabled:
		return PayoutStripe, m.StripeAccountID, true
	case m.Method == PayoutPayPal && m.PayPalEmail != "":
		return PayoutPayPal, m.PayPalEmail, true
	}
	return "", "", false
}

// withDerived fills Ready and WithdrawableFrom.
func (m PayoutMethod) withDerived(lock time.Duration) PayoutMethod {
	_, _, m.Ready = m.Destination()
	if m.ChangedAt != nil && m.Method != "" {
		from := m.ChangedAt.Add(lock)
		m.WithdrawableFrom = &from
	}
	if m.StripeRequirements == nil {
		m.StripeRequirements = []string{}
	}
	return m
}

// PayoutMethodChange chooses a method: stripe with the seller's connected account
// (kept if one is stored already), or paypal with an e-mail.
type PayoutMethodChange struct {
	UserID          string
	Method          string
	StripeAccountID string
	PayPalEmail     string
}

// StripeAccountState is what an account.updated webhook says about a connected account.
type StripeAccountState struct {
	AccountID        string
	DetailsSubmitted bool
	PayoutsEnabled   bool
	Requirements     []string // currently due and past due
	DisabledReason   string
	At               time.Time // the event's creation: older news never overwrites newer
}

// PayoutOutcome is a provider's verdict on a withdrawal's payout, from a webhook or a
// poll: paid, or failed with the reason. EventID and Provider make it apply once.
type PayoutOutcome struct {
	EventID, EventType string
	Provider           string
	WithdrawalID       string
	Destination        string // the account or e-mail the event is about; must be the withdrawal's
	PayoutRef          string
	AmountMinor        int64
	Currency           string
	Paid               bool
	Failure            string
	// Pending is an event about a payout the provider has not decided yet (PayPal's
	// UNCLAIMED, ONHOLD, PENDING items): it is recorded and changes nothing.
	Pending bool
	// Reversed is a payout the provider paid and then took back (PayPal's RETURNED,
	// REFUNDED and REVERSED items): on a paid withdrawal it gives the money back to
	// the seller's available balance (WithdrawalReversed); Paid is false.
	Reversed bool
}

// PayoutStore keeps payout methods and finishes withdrawals' payouts; store/
// implements it.
type PayoutStore interface {
	// PayoutMethod returns the user's method; a user who never chose one gets the zero
	// PayoutMethod and no error.
	PayoutMethod(ctx context.Context, userID string) (PayoutMethod, error)
	// SetPayoutMethod chooses in.Method under the user's lock; changed_at moves to now
	// when the method or its destination differs from the stored one. It stores
	// payout_method.updated on the user's channel.
	SetPayoutMethod(ctx context.Context, in PayoutMethodChange) (PayoutMethod, []Event, error)
	// UpdateStripeAccount applies an account.updated event once (its id), unless a
	// newer one was applied; it returns the owner's id ("" for an unknown account).
	UpdateStripeAccount(ctx context.Context, eventID string, st StripeAccountState) (string, []Event, error)
	// Withdrawal returns one withdrawal by id, not found when there is none.
	Withdrawal(ctx context.Context, id string) (Withdrawal, error)
	// WithdrawalsInTransit lists up to limit provider's withdrawals in transit since
	// before (last changed then), oldest first: those whose payout is polled.
	WithdrawalsInTransit(ctx context.Context, provider string, before time.Time, limit int) ([]Withdrawal, error)
	// FinishPayout applies a payout's outcome once (its event id) to an in_transit
	// withdrawal under its row lock: paid posts transit → external, failed posts
	// transit → available and records the reason. It returns the withdrawal, the
	// webhook's outcome and the events stored.
	FinishPayout(ctx context.Context, out PayoutOutcome) (Withdrawal, string, []Event, error)
	// RecordProviderEvent stores a verified event nothing else applies, once; false
	// when it was seen before.
	RecordProviderEvent(ctx context.Context, provider, eventID, eventType, outcome string) (bool, error)
	// RecordUnhandledEvent stores a verified event we do not act on, once.
	RecordUnhandledEvent(ctx context.Context, provider, eventID, eventType, objectRef string) (bool, error)
}

// WithdrawalConfirmer confirms a pending withdrawal with its provider: asked again
// under the withdrawal's idempotency key, the provider returns the payout it made, and
// the withdrawal moves in_transit (or failed when the provider refused). It returns
// the withdrawal as stored after, still pending when the provider did not answer, and
// storage errors. *Settlement is one.
type WithdrawalConfirmer interface {
	ConfirmWithdrawal(ctx context.Context, w Withdrawal) (Withdrawal, error)
}

// PayoutOutcomes applies a provider's verdict on a withdrawal's payout; Payouts is one.
type PayoutOutcomes interface {
	ApplyPayoutOutcome(ctx context.Context, out PayoutOutcome) (string, error)
}

// ConnectedAccountRequest asks the provider for a seller's connected account.
type ConnectedAccountRequest struct {
	UserID, Email  string
	IdempotencyKey string
}

// OnboardingLink is a single-use URL to the provider's hosted onboarding.
type OnboardingLink struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// PayoutGateway is Stripe Connect as payouts need it; cmd/ adapts payments/ to it.
// Each returns an error when the provider failed or refused; a retry with the same
// idempotency key is safe.
type PayoutGateway interface {
	CreateConnectedAccount(ctx context.Context, in ConnectedAccountRequest) (string, error)
	OnboardingLink(ctx context.Context, accountID string) (OnboardingLink, error)
	// ReverseTransfer takes a withdrawal's transfer back from the connected account
	// (the payout failed, so the money sits there) under the withdrawal's key.
	ReverseTransfer(ctx context.Context, w Withdrawal) error
	// PayPalPayout reads a PayPal withdrawal's payout item: final is false while
	// PayPal has not decided (PENDING, UNCLAIMED, ONHOLD…).
	PayPalPayout(ctx context.Context, w Withdrawal) (out PayoutOutcome, final bool, err error)
}

// ConnectEvent is a verified Stripe Connect webhook: an account.updated (Account set)
// or a payout.* about a connected account's payout (Payout set), or another type (only
// ID and Type).
type ConnectEvent struct {
	ID, Type  string
	ObjectRef string // what the event is about, kept when it is not handled
	Account   *StripeAccountState
	Payout    *PayoutOutcome
}

// ConnectWebhooks verifies Connect webhooks: an error wrapping ErrBadWebhookSignature
// when the signature does not hold.
type ConnectWebhooks interface {
	VerifyConnect(payload []byte, signature string) (ConnectEvent, error)
}

// publish hands committed events to the hub, when there is one.
func (p *Payouts) publish(ctx context.Context, events []Event) {
	if p.realtime != nil && len(events) > 0 {
		p.realtime.PublishCommitted(ctx, events...)
	}
}
