package market

import (
	"regexp"
	"strconv"
	"strings"
)

// Posting moves Amount minor units of Currency into (positive) or out of (negative)
// one ledger account.
type Posting struct {
	Account  string `json:"account" db:"account"`
	Amount   int64  `json:"amount_minor" db:"amount_minor"`
	Currency string `json:"currency" db:"currency"`
}

// LedgerTransaction is one balanced movement of money: its postings sum to zero in
// every currency. Reference names what caused it (a provider event), so the same cause
// can never post twice.
type LedgerTransaction struct {
	Kind      string
	OrderID   string
	Reference string
	Postings  []Posting
}

// The ledger accounts. The outside world's accounts (money at the provider) may go
// negative; the debt accounts (seller:{id}:debt, platform:losses; see ReversalRule)
// may only be zero or negative; every other account may never go negative.
const (
	ExternalStripeAccount = "external:stripe"
	ledgerKindEscrow      = "escrow_funding"
)

// EscrowAccount is the account that holds an order's money until it is released.
func EscrowAccount(orderID string) string { return "escrow:order:" + orderID }

var (
	accountPattern  = regexp.MustCompile(`^(external:[a-z]+|escrow:order:[0-9a-f-]{36}|seller:[0-9a-f-]{36}:(pending|available|debt)|platform:(fees|losses|service_fees|refunds_owed)|tax:payable:[A-Z]{2}|transit:withdrawal:[0-9a-f-]{36})$`)
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
)

// FundEscrow is the transaction of a confirmed payment: the money leaves Stripe (the
// outside world) and lands in the order's escrow.
func FundEscrow(orderID string, amount int64, currency, reference string) LedgerTransaction {
	return FundEscrowFrom(ExternalStripeAccount, orderID, amount, currency, reference)
}

// FundOrder is the transaction of an order's confirmed payment of its total through
// provider: the total leaves the provider's external account; the price lands in the
// order's escrow, the service fee in platform:service_fees and the tax in
// tax:payable:{country}. Zero legs are left out.
func FundOrder(ord Order, provider string) LedgerTransaction {
	return fundOrder(ord, provider, 0)
}

// fundOrder is FundOrder with repay of the price going to platform:losses instead of
// the escrow (FundOrderRepaying); a zero repay leaves that leg out.
func fundOrder(ord Order, provider string, repay int64) LedgerTransaction {
	return LedgerTransaction{Kind: ledgerKindEscrow, OrderID: ord.ID, Reference: "escrow_funding:order:" + ord.ID,
		Postings: legs(ord.Currency,
			Posting{Account: ExternalAccount(provider), Amount: -ord.TotalMinor},
			Posting{Account: EscrowAccount(ord.ID), Amount: ord.PriceMinor - repay},
			Posting{Account: ServiceFeesAccount, Amount: ord.ServiceFeeMinor},
			Posting{Account: TaxPayableAccount(ord.TaxCountry), Amount: ord.TaxMinor},
			Posting{Account: PlatformLossesAccount, Amount: repay})}
}

// ExternalAccount is the outside world's account at a payment provider: external:stripe,
// external:paypal.
func ExternalAccount(provider string) string { return "external:" + provider }

// FundEscrowFrom is FundEscrow for money that comes from the external account (the
// provider that took the payment).
func FundEscrowFrom(external, orderID string, amount int64, currency, reference string) LedgerTransaction {
	return LedgerTransaction{
		Kind: ledgerKindEscrow, OrderID: orderID, Reference: reference,
		Postings: []Posting{
			{Account: external, Amount: -amount, Currency: currency},
			{Account: EscrowAccount(orderID), Amount: amount, Currency: currency},
		},
	}
}

// Validate checks the double-entry rules before anything is written: at least two
// postings, none zero, known accounts, ISO currencies, and a zero sum per currency
// (without overflowing). It returns an invalid Error saying which rule broke; the
// database enforces the same rules again.
func (t LedgerTransaction) Validate() error {
	if len(t.Postings) < 2 {
		return Errorf(CodeInvalid, "a ledger transaction needs at least two postings")
	}
	if t.Reference == "" {
		return Errorf(CodeInvalid, "a ledger transaction needs a reference")
	}
	sums := map[string]int64{}
	for i, p := range t.Postings {
		if err := p.validate(); err != nil {
			return Errorf(CodeInvalid, "posting %d: %s", i, err.Message)
		}
		s, ok := addChecked(sums[p.Currency], p.Amount)
		if !ok {
			return Errorf(CodeInvalid, "posting %d overflows the %s total", i, p.Currency)
		}
		sums[p.Currency] = s
	}
	for cur, s := range sums {
		if s != 0 {
			return Errorf(CodeInvalid, "the postings in %s sum to %s, not zero", cur, strconv.FormatInt(s, 10))
		}
	}
	return nil
}

func (p Posting) validate() *Error {
	switch {
	case p.Amount == 0:
		return Errorf(CodeInvalid, "the amount is zero")
	case !accountPattern.MatchString(p.Account):
		return Errorf(CodeInvalid, "unknown account %q", p.Account)
	case !currencyPattern.MatchString(p.Currency):
		return Errorf(CodeInvalid, "currency %q is not ISO 4217", p.Currency)
	}
	return nil
}

// addChecked adds two int64s, reporting false on overflow.
func addChecked(a, b int64) (int64, bool) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return 0, false
	}
	return s, true
}

// IsDebtAccount says whether an account is a debt account: never above zero.
func IsDebtAccount(account string) bool {
	return account == PlatformLossesAccount || (strings.HasPrefix(account, "seller:") && strings.HasSuffix(account, ":debt"))
}
