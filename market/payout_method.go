package market

import (
	"context"
	"fmt"
)

// PayoutMethod returns where the user's withdrawals go, with Ready and
// WithdrawableFrom filled in.
func (p *Payouts) PayoutMethod(ctx context.Context, userID string) (PayoutMethod, error) {
	m, err := p.store.PayoutMethod(ctx, userID)
	if err != nil {
		return PayoutMethod{}, err
	}
	return m.withDerived(p.cfg.DestinationLock), nil
}

// UseStripe makes Stripe Connect the seller's payout method: the first time, Stripe
// is asked for an Express connected account (under a key derived from the user, so
// racing calls get the same account); its payouts are enabled once the seller has
// onboarded (OnboardingLink) and account.updated says so. It returns forbidden naming
// is_seller for a user who does not sell and unavailable when Stripe fails (nothing
// changed then).
func (p *Payouts) UseStripe(ctx context.Context, u User) (PayoutMethod, error) {
	if !u.IsSeller {
		return PayoutMethod{}, FieldError(CodeForbidden, "is_seller", "only sellers have payout methods")
	}
	m, err := p.store.PayoutMethod(ctx, u.ID)
	if err != nil {
		return PayoutMethod{}, err
	}
	account := m.StripeAccountID
	if account == "" {
		account, err = p.gateway.CreateConnectedAccount(ctx, ConnectedAccountRequest{
			UserID: u.ID, Email: u.Email, IdempotencyKey: "gigstream-connect-" + u.ID,
		})
		if err != nil {
			p.log.WarnContext(ctx, "stripe connected account failed", "user_id", u.ID, "err", err)
			return PayoutMethod{}, Errorf(CodeUnavailable, "Stripe could not create your payout account; try again later")
		}
	}
	return p.set(ctx, PayoutMethodChange{UserID: u.ID, Method: PayoutStripe, StripeAccountID: account})
}

// UsePayPal makes PayPal the seller's payout method, paid to email. It returns
// forbidden naming is_seller for a user who does not sell, invalid naming method when
// PayPal is not configured and invalid naming paypal_email for a bad address.
func (p *Payouts) UsePayPal(ctx context.Context, u User, email string) (PayoutMethod, error) {
	if !u.IsSeller {
		return PayoutMethod{}, FieldError(CodeForbidden, "is_seller", "only sellers have payout methods")
	}
	if !p.cfg.PayPal {
		return PayoutMethod{}, FieldError(CodeInvalid, "method", "PayPal payouts are not available on this server")
	}
	email = NormalizeEmail(email)
	if err := CheckEmail("paypal_email", email); err != nil {
		return PayoutMethod{}, err
	}
	return p.set(ctx, PayoutMethodChange{UserID: u.ID, Method: PayoutPayPal, PayPalEmail: email})
}

// set stores a change and announces it.
func (p *Payouts) set(ctx context.Context, in PayoutMethodChange) (PayoutMethod, error) {
	m, events, err := p.store.SetPayoutMethod(ctx, in)
	if err != nil {
		return PayoutMethod{}, fmt.Errorf("set payout method: %w", err)
	}
	p.publish(ctx, events)
	p.log.InfoContext(ctx, "payout method set", "user_id", in.UserID, "method", in.Method)
	return m.withDerived(p.cfg.DestinationLock), nil
}

// OnboardingLink returns a fresh single-use link to Stripe's hosted onboarding of the
// seller's connected account (where they give Stripe their identity and bank). It
// returns conflict naming method when the seller has no connected account yet
// (UseStripe first) and unavailable when Stripe fails.
func (p *Payouts) OnboardingLink(ctx context.Context, userID string) (OnboardingLink, error) {
	m, err := p.store.PayoutMethod(ctx, userID)
	if err != nil {
		return OnboardingLink{}, err
	}
	if m.StripeAccountID == "" {
		return OnboardingLink{}, FieldError(CodeConflict, "method", "choose Stripe as your payout method first (PUT /me/payout-method)")
	}
	link, err := p.gateway.OnboardingLink(ctx, m.StripeAccountID)
	if err != nil {
		p.log.WarnContext(ctx, "stripe account link failed", "user_id", userID, "err", err)
		return OnboardingLink{}, Errorf(CodeUnavailable, "Stripe could not make an onboarding link; try again later")
	}
	return link, nil
}
