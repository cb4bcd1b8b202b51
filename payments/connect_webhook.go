package payments

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"
)

// ConnectEvent is a verified Stripe Connect webhook (an event on a connected account:
// Account names it). Account is set for account.updated, Payout for payout.*; for
// other types only ID, Type, Account and Created.
type ConnectEvent struct {
	ID, Type  string
	ObjectRef string // data.object.id
	Account   string
	Created   time.Time
	State     *AccountState
	Payout    *ConnectPayout
}

// AccountState is what account.updated says about a connected account's payouts.
type AccountState struct {
	DetailsSubmitted, PayoutsEnabled bool
	Requirements                     []string // currently due, then past due
	DisabledReason                   string
}

// ConnectPayout is a payout on a connected account, as payout.* events carry it.
type ConnectPayout struct {
	ID           string
	Amount       int64  // Stripe's units
	Currency     string // upper case
	Status       string
	WithdrawalID string // metadata.withdrawal_id
	Failure      string // failure_message, else failure_code
}

// VerifyConnect checks a Connect webhook's Stripe-Signature (with this verifier's
// secret: Connect endpoints have their own) and decodes it. It returns an error
// wrapping ErrBadSignature when the signature does not hold or the body is not an
// event, or when account.updated or payout.* has no account or a body of another kind.
func (v *WebhookVerifier) VerifyConnect(payload []byte, header string) (ConnectEvent, error) {
	ev, err := webhook.ConstructEventWithOptions(payload, header, v.secret, webhook.ConstructEventOptions{
		Tolerance: v.tolerance, IgnoreAPIVersionMismatch: true,
	})
	if err != nil {
		return ConnectEvent{}, fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	out := ConnectEvent{ID: ev.ID, Type: string(ev.Type), Account: ev.Account, Created: time.Unix(ev.Created, 0)}
	if out.ID == "" || out.Type == "" {
		return ConnectEvent{}, fmt.Errorf("%w: the event has no id or type", ErrBadSignature)
	}
	if ev.Data != nil {
		var obj stripeObject
		_ = json.Unmarshal(ev.Data.Raw, &obj)
		out.ObjectRef = obj.ID
	}
	isAccount, isPayout := out.Type == "account.updated", strings.HasPrefix(out.Type, "payout.")
	if !isAccount && !isPayout {
		return out, nil
	}
	if ev.Data == nil {
		return ConnectEvent{}, fmt.Errorf("%w: %s without data", ErrBadSignature, out.Type)
	}
	if isAccount {
		return decodeAccount(out, ev.Data.Raw)
	}
	return decodePayout(out, ev.Data.Raw)
}

func decodeAccount(out ConnectEvent, raw json.RawMessage) (ConnectEvent, error) {
	var a stripe.Account
	if err := json.Unmarshal(raw, &a); err != nil || a.ID == "" {
		return ConnectEvent{}, fmt.Errorf("%w: data.object is not an account: %v", ErrBadSignature, err)
	}
	out.Account = a.ID
	st := &AccountState{DetailsSubmitted: a.DetailsSubmitted, PayoutsEnabled: a.PayoutsEnabled, Requirements: []string{}}
	if a.Requirements != nil {
		st.Requirements = append(append(st.Requirements, a.Requirements.CurrentlyDue...), a.Requirements.PastDue...)
		st.DisabledReason = string(a.Requirements.DisabledReason)
	}
	out.State = st
	return out, nil
}

func decodePayout(out ConnectEvent, raw json.RawMessage) (ConnectEvent, error) {
	if out.Account == "" {
		return ConnectEvent{}, fmt.Errorf("%w: %s is not about a connected account", ErrBadSignature, out.Type)
	}
	var p stripe.Payout
	if err := json.Unmarshal(raw, &p); err != nil || p.ID == "" {
		return ConnectEvent{}, fmt.Errorf("%w: data.object is not a payout: %v", ErrBadSignature, err)
	}
	out.Payout = &ConnectPayout{ID: p.ID, Amount: p.Amount, Currency: strings.ToUpper(string(p.Currency)),
		Status: string(p.Status), WithdrawalID: p.Metadata["withdrawal_id"], Failure: p.FailureMessage}
	if out.Payout.Failure == "" && p.FailureCode != "" {
		out.Payout.Failure = string(p.FailureCode)
	}
	return out, nil
}
