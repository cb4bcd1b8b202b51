package stripetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/stripe/stripe-go/v82"
	"github.com/stripe/stripe-go/v82/webhook"
)

// Event is a webhook event the server queued, as Stripe would send it: Account is the
// connected account of a Connect event (sent to the Connect endpoint), "" for the
// platform's own events.
type Event struct {
	ID, Type, Account string
	Created           int64
	Object            map[string]any
}

// errChargeDisputed is a refund of a charged-back charge (Stripe's charge_disputed).
var errChargeDisputed = errors.New("stripetest: charge disputed")

// TakeEvents returns the events queued since the last call, oldest first, and
// forgets them: the caller delivers them (in any order, as often as it likes).
func (s *Server) TakeEvents() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.events
	s.events = nil
	return out
}

// Signed renders the event as Stripe posts it and signs it with secret (whsec_…),
// timestamped now; it returns the body and its Stripe-Signature header.
func (e Event) Signed(secret string) ([]byte, string) {
	ev := map[string]any{"id": e.ID, "object": "event", "type": e.Type, "api_version": stripe.APIVersion,
		"created": e.Created, "livemode": false, "data": map[string]any{"object": e.Object}}
	if e.Account != "" {
		ev["account"] = e.Account
	}
	body, _ := json.Marshal(ev)
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: time.Now()})
	return body, signed.Header
}

// emit queues an event about object; s.mu is held.
func (s *Server) emit(typ, account string, object map[string]any) {
	s.events = append(s.events, Event{ID: s.id("evt"), Type: typ, Account: account, Created: time.Now().Unix(), Object: object})
}

// EnablePayouts queues account.updated for a connected account that finished
// onboarding: details submitted, payouts enabled, nothing outstanding.
func (s *Server) EnablePayouts(account string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.emit("account.updated", account, map[string]any{"id": account, "object": "account", "details_submitted": true,
		"payouts_enabled": true, "charges_enabled": true, "requirements": map[string]any{"currently_due": []string{}, "past_due": []string{}}})
}

// PendingPayouts lists the payouts on connected accounts that are neither paid nor
// failed yet.
func (s *Server) PendingPayouts() []Payout {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Payout
	for _, p := range s.payouts {
		if p.Status == "pending" {
			out = append(out, *p)
		}
	}
	return out
}

// FinishPayout has the bank pay a pending payout (paid) or return it (failed, with
// Stripe's failure code account_closed), and queues payout.paid or payout.failed.
func (s *Server) FinishPayout(id string, paid bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.payouts[id]
	if !ok || p.Status != "pending" {
		return fmt.Errorf("stripetest: payout %s is not pending", id)
	}
	typ, failure := "payout.paid", ""
	p.Status = "paid"
	if !paid {
		p.Status, typ, failure = "failed", "payout.failed", "account_closed"
	}
	s.emit(typ, p.Account, payoutJSON(p, failure))
	return nil
}

// Balance is the platform's balance in currency (lower case, as Stripe writes it):
// the sum of its balance transactions.
func (s *Server) Balance(currency string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var sum int64
	for _, l := range s.lines {
		if l.currency == currency {
			sum += l.amount
		}
	}
	return sum
}

func payoutJSON(p *Payout, failure string) map[string]any {
	out := map[string]any{"id": p.ID, "object": "payout", "amount": p.Amount, "currency": p.Currency, "status": p.Status,
		"metadata": map[string]string{"withdrawal_id": p.WithdrawalID}}
	if failure != "" {
		out["failure_code"], out["failure_message"] = failure, "The bank account has been closed."
	}
	return out
}
