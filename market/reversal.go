package market

import (
	"context"
	"fmt"
)

// A reversal is money a payment provider takes back from an order's payment outside
// GigStream's own refunds: a chargeback (Stripe's charge.dispute.*, PayPal's
// PAYMENT.CAPTURE.REVERSED) or a refund made in the provider's dashboard (Stripe's
// charge.refunded, PayPal's PAYMENT.CAPTURE.REFUNDED). See ReversalRule.
const (
	ReversalChargeback = "chargeback"
	ReversalRefund     = "refund"

	ReversalOpen  = "open"  // a chargeback the provider has not decided: the money is held by the provider
	ReversalWon   = "won"   // the platform won the chargeback: the money came back
	ReversalLost  = "lost"  // the buyer won the chargeback: the money is gone
	ReversalFinal = "final" // a refund or reversal: the money is gone
)

// The ledger accounts and kinds of reversals.
const (
	// PlatformLossesAccount is what the platform lost to reversals the seller did not
	// owe (the platform's fee, or an order refunded already): a debt account, never
	// above zero.
	PlatformLossesAccount = "platform:losses"

	ledgerKindReversal    = "reversal"
	ledgerKindReversalWon = "reversal_won"
)

// SellerDebtAccount is what a seller owes the platform after a reversal of an order
// whose earnings were paid out already: a debt account, never above zero, repaid first
// from later earnings as they clear (ClearingSplit).
func SellerDebtAccount(userID string) string { return "seller:" + userID + ":debt" }

// ReversalEvent is what a provider event says about a reversal.
type ReversalEvent struct {
	Kind           string // ReversalChargeback or ReversalRefund
	Ref            string // the provider's id of it: a Stripe dispute, a PayPal refund; for a Stripe charge.refunded, "<charge>:<amount refunded>"
	Status         string // ReversalOpen, ReversalWon, ReversalLost or ReversalFinal
	ProviderStatus string // as the provider words it
	Reason         string
	// AmountMinor is the disputed or refunded amount; with Cumulative, everything the
	// provider refunded of the payment so far (our own refunds included).
	AmountMinor int64
	Cumulative  bool
	// Inquiry is a Stripe inquiry (warning_*): no money moves, nothing is recorded.
	Inquiry bool
}

// ReversalRecord is a reversal as it is stored: what it took from where.
type ReversalRecord struct {
	ID             string `json:"id" db:"id"`
	OrderID        string `json:"order_id" db:"order_id"`
	Provider       string `json:"provider" db:"provider"`
	Kind           string `json:"kind" db:"kind"`
	Ref            string `json:"provider_ref" db:"provider_ref"`
	Status         string `json:"status" db:"status"`
	ProviderStatus string `json:"provider_status" db:"provider_status"`
	Reason         string `json:"reason" db:"reason"`
	AmountMinor    int64  `json:"amount_minor" db:"amount_minor"`
	Currency       string `json:"currency" db:"currency"`
	FromEscrow     int64  `json:"from_escrow_minor" db:"from_escrow"`
	FromSeller     int64  `json:"from_seller_minor" db:"from_seller"`
	FromPlatform   int64  `json:"from_platform_minor" db:"from_platform"`
}

// ReversalFacts is what the rule needs, read under the order's lock: the order (its
// Payment set; zero when no order has the payment), the reversal already stored
// under the event's reference, what was refunded of the payment so far, whether the
// reference is one of our own refunds, the order's escrow, what earlier reversals
// took from its seller, and the seller's balances in the order's currency (Reserved:
// what pending and review withdrawals hold of Available; Debt ≤ 0). OtherOpen says
// a chargeback other than the event's own is open on the order (it holds the order);
// OtherFromPlatform is what the order's other reversals (not won) took from
// platform:losses.
type ReversalFacts struct {
	Order                        Order
	Prior                        *ReversalRecord
	Refunded                     int64
	OurRefund                    bool
	OtherOpen                    bool
	OtherFromPlatform            int64
	Escrow                       int64
	SellerTaken                  int64
	Pending, Available, Reserved int64
	Debt                         int64
}

// ReversalPlan is what a reversal event does: its outcome; the record to write (an
// insert, or an update of Prior); the ledger transaction; Settle when the order
// becomes final with it (cancelled, escrow released as the split says), with Release,
// the transaction that releases what the escrow still holds when Ledger does not; the
// order event to store; Seller when the seller's balances moved.
type ReversalPlan struct {
	Outcome string
	Record  *ReversalRecord
	Ledger  *LedgerTransaction
	Release *LedgerTransaction
	Settle  *SettleDecision
	// RepayLosses is what the plan's ledger repays, from the escrow, of what the
	// order's other reversals took from platform:losses: they are recorded as taken
	// from the escrow instead (a chargeback won, ReversalRule).
	RepayLosses int64
	// RepayLossesFromSeller is the same from what a chargeback won gives back to the
	// seller of a settled order: the other reversals are recorded as taken from the
	// seller instead.
	RepayLossesFromSeller int64
	EventType             string
	Seller                bool
	// Invoices are the documents the reversal issues (InvoiceRule): a credit note when
	// it becomes final, after the invoice when it settles the order.
	Invoices []InvoiceDocument
}

// ReversalRule is the rule of a reversal of amount on an order:
//
//   - From the order's escrow first, while it holds money (an order not yet settled is
//     frozen while a chargeback is open: nothing settles it but the chargeback's end).
//   - Then from the seller, up to what the seller earned on the order less what
//     earlier reversals took: their pending balance, then what of their available
//     balance no withdrawal reserves, then their debt account (below zero).
//   - The rest is the platform's loss (platform:losses): its fee, or money the buyer
//     got back twice.
//   - A chargeback won gives everything back where it came from, except that what the
//     seller lost repays their debt first, then returns to their available balance,
//     and what it gives back to the escrow of an order not settled, or to the seller
//     (up to what they earned on the order), repays first what the order's other
//     reversals took from platform:losses while it held that money (a refund at the
//     provider applied while the chargeback was open), as if they had been applied
//     before it.
//   - A refund made at the provider, or a chargeback lost, on an order not yet settled
//     settles it: cancelled, the amount refunded, the rest released as SplitEscrow.
//     While another chargeback holds the order it waits for that one's end: the order
//     settles when no chargeback is open any more and reversals took part of its
//     escrow for good (settleTaken), so an order that is not settled and not held
//     always has its whole price in escrow.
//   - A chargeback that closes (won or lost) on an order cancelled before it was paid
//     moves what its escrow still holds to platform:refunds_owed: the provider
//     refuses refunds of a charged-back charge (LatePaymentRule).
const ReversalRule = "escrow, then the seller (pending, unreserved available, debt), then platform:losses"

// ReversalApplier applies reversal events; *Settlement is one.
type ReversalApplier interface {
	ApplyReversal(ctx context.Context, ev PaymentEvent) (PaymentOutcome, error)
}

// ApplyReversal applies a verified reversal event at most once (by event id, and by
// the reversal's reference whatever event carries it) under the order's lock, and
// publishes what it stored. It returns storage errors (the provider retries).
func (s *Settlement) ApplyReversal(ctx context.Context, ev PaymentEvent) (PaymentOutcome, error) {
	issuer := BillingConfig{Issuer: s.cfg.Issuer}.withDefaults().Issuer
	out, err := s.store.ApplyReversal(ctx, ev, func(f ReversalFacts) ReversalPlan {
		plan := decideReversal(ev, f, s.cfg.FeeBPS)
		plan.Invoices = reversalInvoices(f, plan, issuer)
		return plan
	})
	if err != nil {
		return PaymentOutcome{}, fmt.Errorf("apply %s %s: %w", ev.Type, ev.ID, err)
	}
	s.publish(ctx, out.Events)
	level := s.log.InfoContext
	if out.Outcome == OutcomeUnknownOrder || out.Outcome == OutcomeMismatch {
		level = s.log.WarnContext
	}
	r := ev.Reversal
	level(ctx, "reversal event", "provider", ev.Provider, "event_id", ev.ID, "type", ev.Type, "outcome", out.Outcome,
		"order_id", out.OrderID, "kind", r.Kind, "ref", r.Ref, "status", r.Status, "amount_minor", r.AmountMinor, "currency", ev.Currency)
	return out, nil
}

// decideReversal is the pure rule of a reversal event on the facts (ReversalRule).
func decideReversal(ev PaymentEvent, f ReversalFacts, feeBPS int) ReversalPlan {
	plan := decideReversalOf(ev, f, feeBPS)
	oweUnrefundable(&plan, ev, f)
	return plan
}

// decideReversalOf is decideReversal before oweUnrefundable.
func decideReversalOf(ev PaymentEvent, f ReversalFacts, feeBPS int) ReversalPlan {
	r, ord := ev.Reversal, f.Order
	switch {
	case ord.ID == "":
		return ReversalPlan{Outcome: OutcomeUnknownOrder}
	case ord.Payment == nil || ord.Payment.Provider != ev.Provider || ev.Currency != ord.Currency || r.AmountMinor <= 0:
		return ReversalPlan{Outcome: OutcomeMismatch}
	case r.Inquiry:
		return ReversalPlan{Outcome: OutcomeIgnored}
	}
	if r.Kind == ReversalRefund {
		amount := r.AmountMinor
		if r.Cumulative {
			amount -= f.Refunded
		}
		if f.Prior != nil || f.OurRefund || amount <= 0 {
			return ReversalPlan{Outcome: OutcomeIgnored} // seen, or our own refund
		}
		if amount > ord.TotalMinor-f.Refunded {
			return ReversalPlan{Outcome: OutcomeMismatch}
		}
		return takeReversal(ev, f, amount, ReversalFinal, feeBPS)
	}
	if amount := r.AmountMinor; amount > ord.TotalMinor {
		return ReversalPlan{Outcome: OutcomeMismatch}
	}
	p := f.Prior
	switch {
	case p == nil && r.Status == ReversalWon:
		// closed before we heard it open: nothing moved for good
		return ReversalPlan{Outcome: OutcomeApplied, Record: newRecord(ev, ord, r.AmountMinor, ReversalWon), EventType: "order.chargeback"}
	case p == nil:
		return takeReversal(ev, f, r.AmountMinor, r.Status, feeBPS)
	case p.Status != ReversalOpen:
		return ReversalPlan{Outcome: OutcomeIgnored} // closed already; a late update
	case r.Status == ReversalOpen:
		rec := *p
		rec.ProviderStatus, rec.Reason = r.ProviderStatus, r.Reason
		return ReversalPlan{Outcome: OutcomeApplied, Record: &rec}
	case r.Status == ReversalWon:
		return giveBack(ev, f, *p, feeBPS)
	}
	rec := *p
	rec.Status, rec.ProviderStatus, rec.Reason = ReversalLost, r.ProviderStatus, r.Reason
	plan := ReversalPlan{Outcome: OutcomeApplied, Record: &rec, EventType: "order.chargeback"}
	settleTaken(&plan, f, f.Escrow, feeBPS, "chargeback lost")
	return plan
}

// reversalInvoices is what a reversal plan issues (InvoiceRule): the invoice when the
// plan settles the order, then a credit note of the whole amount when the buyer's
// money is gone for good with it (a refund at the provider, a chargeback lost, now
// and not before).
func reversalInvoices(f ReversalFacts, plan ReversalPlan, issuer Issuer) []InvoiceDocument {
	var out []InvoiceDocument
	if plan.Settle != nil {
		out = append(out, chargeInvoice(f.Order, issuer))
	}
	rec := plan.Record
	if rec != nil && (rec.Status == ReversalFinal || rec.Status == ReversalLost) && (f.Prior == nil || f.Prior.Status == ReversalOpen) {
		out = append(out, ReversalCreditNote(f.Order, rec.AmountMinor, issuer))
	}
	return out
}

// oweUnrefundable moves what the escrow of an order cancelled before it was paid
// still holds after a chargeback of its late payment closes (won or lost) to
// platform:refunds_owed: the provider refuses refunds of a charged-back charge, so
// the refund sweep could never return it (LatePaymentRule).
func oweUnrefundable(plan *ReversalPlan, ev PaymentEvent, f ReversalFacts) {
	ord, r := f.Order, ev.Reversal
	closed := r.Kind == ReversalChargeback && (r.Status == ReversalWon || r.Status == ReversalLost)
	// (plan.Release, settleTaken's, is only ever set for an order not settled yet)
	if !closed || plan.Outcome != OutcomeApplied || ord.Status != OrderCancelled || ord.PaidAt != nil || plan.Release != nil {
		return
	}
	left := f.Escrow
	if plan.Ledger != nil {
		for _, p := range plan.Ledger.Postings {
			if p.Account == EscrowAccount(ord.ID) {
				left += p.Amount
			}
		}
	}
	if left <= 0 {
		return
	}
	plan.Release = &LedgerTransaction{Kind: ledgerKindReversal, OrderID: ord.ID, Reference: "refunds-owed:" + ev.Provider + ":" + r.Ref,
		Postings: legs(ord.Currency,
			Posting{Account: EscrowAccount(ord.ID), Amount: -left},
			Posting{Account: PlatformRefundsOwedAccount, Amount: left})}
}

// newRecord is a reversal record of the event that took nothing yet.
func newRecord(ev PaymentEvent, ord Order, amount int64, status string) *ReversalRecord {
	r := ev.Reversal
	return &ReversalRecord{OrderID: ord.ID, Provider: ev.Provider, Kind: r.Kind, Ref: r.Ref, Status: status,
		ProviderStatus: r.ProviderStatus, Reason: r.Reason, AmountMinor: amount, Currency: ord.Currency}
}

// takeReversal takes amount of the order's money as ReversalRule says.
func takeReversal(ev PaymentEvent, f ReversalFacts, amount int64, status string, feeBPS int) ReversalPlan {
	ord := f.Order
	rec := newRecord(ev, ord, amount, status)
	plan := ReversalPlan{Outcome: OutcomeApplied, Record: rec, EventType: "order.chargeback"}
	if ev.Reversal.Kind == ReversalRefund {
		plan.EventType = "order.refunded"
	}
	final := status == ReversalFinal || status == ReversalLost
	if final && ord.SettledAt == nil && f.Escrow == ord.PriceMinor {
		// a refund (or a chargeback lost) on an order not yet settled settles it; what
		// exceeds the price (the service fee and tax the buyer paid) is the platform's
		// loss: the fee and tax accounts keep what they took
		rec.FromEscrow = min(amount, ord.PriceMinor)
		rec.FromPlatform = amount - rec.FromEscrow
		split := SplitEscrow(ord.PriceMinor, rec.FromEscrow, feeBPS)
		tx := ReleaseEscrow(ord, split)
		tx.Kind, tx.Reference = ledgerKindReversal, reversalReference(ev)
		if rec.FromPlatform > 0 {
			tx.Postings[1].Amount += rec.FromPlatform // the external leg: the refund comes first after escrow
			tx.Postings = append(tx.Postings, Posting{Account: PlatformLossesAccount, Amount: -rec.FromPlatform, Currency: ord.Currency})
		}
		plan.Ledger, plan.Seller = &tx, split.Seller > 0
		plan.Settle = &SettleDecision{Status: OrderCancelled, Paid: true, Split: split, Reason: reversalReason(ev)}
		return plan
	}
	rec.FromEscrow = min(amount, max(f.Escrow, 0))
	rest := amount - rec.FromEscrow
	rec.FromSeller = min(rest, max(ord.SellerMinor-f.SellerTaken, 0))
	rec.FromPlatform = rest - rec.FromSeller
	fromPending := min(rec.FromSeller, max(f.Pending, 0))
	fromAvailable := min(rec.FromSeller-fromPending, max(f.Available-f.Reserved, 0))
	toDebt := rec.FromSeller - fromPending - fromAvailable
	tx := LedgerTransaction{Kind: ledgerKindReversal, OrderID: ord.ID, Reference: reversalReference(ev)}
	tx.Postings = legs(ord.Currency,
		Posting{Account: ExternalAccount(ev.Provider), Amount: amount},
		Posting{Account: EscrowAccount(ord.ID), Amount: -rec.FromEscrow},
		Posting{Account: SellerPendingAccount(ord.SellerID), Amount: -fromPending},
		Posting{Account: SellerAvailableAccount(ord.SellerID), Amount: -fromAvailable},
		Posting{Account: SellerDebtAccount(ord.SellerID), Amount: -toDebt},
		Posting{Account: PlatformLossesAccount, Amount: -rec.FromPlatform})
	plan.Ledger, plan.Seller = &tx, rec.FromSeller > 0
	if final {
		settleTaken(&plan, f, f.Escrow-rec.FromEscrow, feeBPS, reversalReason(ev))
	}
	return plan
}

// settleTaken makes an order that is not settled final once reversals took part of
// its escrow for good and no chargeback holds it any more (ReversalRule): escrowLeft
// is what its escrow holds after the plan's ledger. It is cancelled as if the missing
// part had been refunded, and what is left is released by SplitEscrow (the refund
// legs left the ledger with the reversals). An order whose escrow is whole, or that a
// chargeback still holds, is left as it is.
func settleTaken(plan *ReversalPlan, f ReversalFacts, escrowLeft int64, feeBPS int, reason string) {
	ord := f.Order
	if ord.SettledAt != nil || f.OtherOpen || escrowLeft >= ord.PriceMinor || escrowLeft < 0 {
		return
	}
	split := SplitEscrow(ord.PriceMinor, ord.PriceMinor-escrowLeft, feeBPS)
	plan.Settle = &SettleDecision{Status: OrderCancelled, Paid: true, Split: split, Reason: reason}
	release := legs(ord.Currency,
		Posting{Account: EscrowAccount(ord.ID), Amount: -(split.Fee + split.Seller)},
		Posting{Account: PlatformFeesAccount, Amount: split.Fee},
		Posting{Account: SellerPendingAccount(ord.SellerID), Amount: split.Seller})
	if len(release) < 2 {
		return // the reversals took the whole escrow
	}
	plan.Seller = plan.Seller || split.Seller > 0
	plan.Release = &LedgerTransaction{Kind: ledgerKindReversal, OrderID: ord.ID, Reference: "reversal-settle:order:" + ord.ID, Postings: release}
}

// giveBack undoes what an open chargeback took, once it is won.
func giveBack(ev PaymentEvent, f ReversalFacts, p ReversalRecord, feeBPS int) ReversalPlan {
	ord := f.Order
	rec := p
	rec.Status, rec.ProviderStatus, rec.Reason = ReversalWon, ev.Reversal.ProviderStatus, ev.Reversal.Reason
	plan := ReversalPlan{Outcome: OutcomeApplied, Record: &rec, EventType: "order.chargeback", Seller: p.FromSeller > 0}
	taken := p.FromEscrow + p.FromSeller + p.FromPlatform
	if taken == 0 {
		return plan
	}
	// what comes back to the escrow of an order not settled, then what comes back to
	// the seller up to what they earned on the order, repays the other reversals'
	// platform part first (ReversalRule)
	var losses, sellerLosses int64
	if ord.SettledAt == nil {
		losses = min(max(f.OtherFromPlatform, 0), max(f.Escrow+p.FromEscrow, 0))
	}
	if others := f.OtherFromPlatform - losses; others > 0 && p.FromSeller > 0 {
		earned := max(ord.SellerMinor-(f.SellerTaken-p.FromSeller), 0) // what the other reversals left of the seller's share
		sellerLosses = min(others, p.FromSeller, earned)
	}
	back := p.FromSeller - sellerLosses
	repay := min(back, max(-f.Debt, 0))
	tx := LedgerTransaction{Kind: ledgerKindReversalWon, OrderID: ord.ID, Reference: "reversal-won:" + ev.Provider + ":" + p.Ref}
	tx.Postings = legs(ord.Currency,
		Posting{Account: ExternalAccount(ev.Provider), Amount: -taken},
		Posting{Account: EscrowAccount(ord.ID), Amount: p.FromEscrow - losses},
		Posting{Account: SellerDebtAccount(ord.SellerID), Amount: repay},
		Posting{Account: SellerAvailableAccount(ord.SellerID), Amount: back - repay},
		Posting{Account: PlatformLossesAccount, Amount: p.FromPlatform + losses + sellerLosses})
	plan.Ledger, plan.RepayLosses, plan.RepayLossesFromSeller = &tx, losses, sellerLosses
	settleTaken(&plan, f, f.Escrow+p.FromEscrow-losses, feeBPS, "refunded at "+ev.Provider)
	return plan
}

// legs keeps the postings that move money, in currency.
func legs(currency string, ps ...Posting) []Posting {
	out := make([]Posting, 0, len(ps))
	for _, p := range ps {
		if p.Amount != 0 {
			p.Currency = currency
			out = append(out, p)
		}
	}
	return out
}

// reversalReference is the ledger reference of a reversal: one per provider reference.
func reversalReference(ev PaymentEvent) string {
	return "reversal:" + ev.Provider + ":" + ev.Reversal.Ref
}

// reversalReason says why a provider settled the order.
func reversalReason(ev PaymentEvent) string {
	if ev.Reversal.Kind == ReversalRefund {
		return "refunded at " + ev.Provider
	}
	return "chargeback lost"
}

// ClearingSplit is how an order's earnings clear: what its seller's pending balance
// still holds of them (reversals may have taken some) repays the seller's debt first,
// and the rest becomes available.
func ClearingSplit(earned, pending, debt int64) (toDebt, toAvailable int64) {
	amount := min(earned, max(pending, 0))
	toDebt = min(amount, max(-debt, 0))
	return toDebt, amount - toDebt
}

// ClearEarningsOf is the clearing transaction of an order whose seller's share moves
// from pending, toDebt repaying their debt and toAvailable to their available
// balance; nil when nothing is left to move.
func ClearEarningsOf(orderID, sellerID string, toDebt, toAvailable int64, currency string) *LedgerTransaction {
	if toDebt+toAvailable == 0 {
		return nil
	}
	t := LedgerTransaction{Kind: ledgerKindClearing, OrderID: orderID, Reference: "clearing:order:" + orderID,
		Postings: legs(currency,
			Posting{Account: SellerPendingAccount(sellerID), Amount: -(toDebt + toAvailable)},
			Posting{Account: SellerDebtAccount(sellerID), Amount: toDebt},
			Posting{Account: SellerAvailableAccount(sellerID), Amount: toAvailable})}
	return &t
}
