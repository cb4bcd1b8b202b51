package market

import "math/big"

// The ledger accounts and transaction kinds of settlement.
const (
	PlatformFeesAccount = "platform:fees"
	// ServiceFeesAccount is the platform's revenue from the service fee buyers pay on
	// top of the price (BillingConfig.ServiceFee); refunds take their share back.
	ServiceFeesAccount = "platform:service_fees"

	ledgerKindCompletion = "order_completion"
	ledgerKindRefund     = "refund"
	ledgerKindClearing   = "clearing"
	ledgerKindWithdrawal = "withdrawal"
	ledgerKindPaid       = "withdrawal_paid"
	ledgerKindReturned   = "withdrawal_returned"
)

// TransitAccount holds a withdrawal's money between the seller's available balance
// and the outside world: from the moment the provider took the transfer or payout
// until it reports the payout paid (→ external) or failed (→ available again). Every
// finished withdrawal's transit account is zero.
func TransitAccount(withdrawalID string) string { return "transit:withdrawal:" + withdrawalID }

// SellerPendingAccount holds a seller's earnings during the clearing period.
func SellerPendingAccount(userID string) string { return "seller:" + userID + ":pending" }

// SellerAvailableAccount holds what a seller may withdraw.
func SellerAvailableAccount(userID string) string { return "seller:" + userID + ":available" }

// TaxPayableAccount holds the tax buyers paid for country (ISO 3166-1 alpha-2): owed
// to its tax office; refunds take their share back.
func TaxPayableAccount(country string) string { return "tax:payable:" + country }

// Split is how an order's escrow is released: Refund back to the buyer (through
// Stripe), Fee to the platform, Seller to the seller's pending balance. The three sum
// to the order's price. ServiceFeeRefund and TaxRefund are what also goes back to the
// buyer of the service fee and the tax they paid on top of the price (RefundShare);
// they leave platform:service_fees and tax:payable:{country}, not the escrow.
type Split struct {
	Refund           int64 `json:"refunded_minor"`
	Fee              int64 `json:"fee_minor"`
	Seller           int64 `json:"seller_minor"`
	ServiceFeeRefund int64 `json:"refunded_service_fee_minor"`
	TaxRefund        int64 `json:"refunded_tax_minor"`
}

// BuyerRefund is everything the buyer gets back: the refunded part of the price, of
// the service fee and of the tax; the amount the provider refunds.
func (s Split) BuyerRefund() int64 { return s.Refund + s.ServiceFeeRefund + s.TaxRefund }

// SplitEscrow is the rule of every release of an escrow of price: refund goes back to
// the buyer in full; the rest is the seller's, less the platform fee on that rest only
// (PlatformFee, half-up). refund must be within 0…price; accept is refund 0, a full
// refund is refund price (no fee at all).
func SplitEscrow(price, refund int64, feeBPS int) Split {
	rest := price - refund
	fee := PlatformFee(rest, feeBPS)
	return Split{Refund: refund, Fee: fee, Seller: rest - fee}
}

// SplitOrder is SplitEscrow for an order whose buyer paid a service fee and tax on
// top of the price: the refund of part of the price also returns RefundShare of them.
func SplitOrder(ord Order, refund int64, feeBPS int) Split {
	s := SplitEscrow(ord.PriceMinor, refund, feeBPS)
	s.ServiceFeeRefund, s.TaxRefund = RefundShare(ord, refund)
	return s
}

// RefundShare is the refund rule of the service fee and tax: refunding refund of the
// order's price returns the same fraction of its service fee (rounded half up in minor
// units) and the tax on both refunded parts, line by line with the order's rate as the
// quote computed it (Tax). A full refund returns exactly what was paid; because the
// rounding only grows with the amount, a partial one never returns more.
func RefundShare(ord Order, refund int64) (serviceFee, tax int64) {
	if refund <= 0 || ord.PriceMinor <= 0 {
		return 0, 0
	}
	if refund >= ord.PriceMinor {
		return ord.ServiceFeeMinor, ord.TaxMinor
	}
	serviceFee = proRata(ord.ServiceFeeMinor, refund, ord.PriceMinor)
	return serviceFee, min(Tax(refund, ord.TaxRateBPS)+Tax(serviceFee, ord.TaxRateBPS), ord.TaxMinor)
}

// proRata is amount × part / whole rounded half up, without overflow.
func proRata(amount, part, whole int64) int64 {
	n := new(big.Int).Mul(big.NewInt(amount), big.NewInt(part))
	n.Mul(n, big.NewInt(2)).Add(n, big.NewInt(whole))
	return n.Quo(n, big.NewInt(2*whole)).Int64()
}

// ReleaseEscrow is the one balanced transaction that empties an order's escrow as
// split says: escrow −price; the paying provider's external account (external:stripe,
// external:paypal) +everything refunded; platform:service_fees and
// tax:payable:{country} −their refunded share; platform:fees +fee; the seller's
// pending +seller. Zero legs are left out.
func ReleaseEscrow(ord Order, s Split) LedgerTransaction {
	kind, ref := ledgerKindCompletion, "completion:order:"+ord.ID
	if s.Refund > 0 {
		kind, ref = ledgerKindRefund, "refund:order:"+ord.ID
	}
	t := LedgerTransaction{Kind: kind, OrderID: ord.ID, Reference: ref,
		Postings: []Posting{{Account: EscrowAccount(ord.ID), Amount: -(s.Refund + s.Fee + s.Seller), Currency: ord.Currency}}}
	for _, leg := range []Posting{
		{Account: refundAccount(ord), Amount: s.BuyerRefund()},
		{Account: ServiceFeesAccount, Amount: -s.ServiceFeeRefund},
		{Account: TaxPayableAccount(ord.TaxCountry), Amount: -s.TaxRefund},
		{Account: PlatformFeesAccount, Amount: s.Fee},
		{Account: SellerPendingAccount(ord.SellerID), Amount: s.Seller},
	} {
		if leg.Amount != 0 {
			leg.Currency = ord.Currency
			t.Postings = append(t.Postings, leg)
		}
	}
	return t
}

// ClearEarnings moves an order's seller share from pending to available, once per
// order (the reference is the order's).
func ClearEarnings(orderID, sellerID string, amount int64, currency string) LedgerTransaction {
	return LedgerTransaction{Kind: ledgerKindClearing, OrderID: orderID, Reference: "clearing:order:" + orderID,
		Postings: []Posting{
			{Account: SellerPendingAccount(sellerID), Amount: -amount, Currency: currency},
			{Account: SellerAvailableAccount(sellerID), Amount: amount, Currency: currency},
		}}
}

// WithdrawalToTransit moves a withdrawal out of the seller's available balance into
// its transit account, once per withdrawal: the provider has the money now.
func WithdrawalToTransit(withdrawalID, sellerID string, amount int64, currency string) LedgerTransaction {
	return LedgerTransaction{Kind: ledgerKindWithdrawal, Reference: "withdrawal:" + withdrawalID,
		Postings: []Posting{
			{Account: SellerAvailableAccount(sellerID), Amount: -amount, Currency: currency},
			{Account: TransitAccount(withdrawalID), Amount: amount, Currency: currency},
		}}
}

// WithdrawalPaidOut empties a withdrawal's transit account to the provider's external
// account once the payout reached the seller, once per withdrawal.
func WithdrawalPaidOut(withdrawalID, provider string, amount int64, currency string) LedgerTransaction {
	return LedgerTransaction{Kind: ledgerKindPaid, Reference: "withdrawal-paid:" + withdrawalID,
		Postings: []Posting{
			{Account: TransitAccount(withdrawalID), Amount: -amount, Currency: currency},
			{Account: ExternalAccount(provider), Amount: amount, Currency: currency},
		}}
}

// WithdrawalReturned gives a failed payout back to the seller's available balance,
// once per withdrawal.
func WithdrawalReturned(withdrawalID, sellerID string, amount int64, currency string) LedgerTransaction {
	return LedgerTransaction{Kind: ledgerKindReturned, Reference: "withdrawal-returned:" + withdrawalID,
		Postings: []Posting{
			{Account: TransitAccount(withdrawalID), Amount: -amount, Currency: currency},
			{Account: SellerAvailableAccount(sellerID), Amount: amount, Currency: currency},
		}}
}

// WithdrawalReversed gives a payout the provider paid and later took back (a PayPal
// item RETURNED, REFUNDED or REVERSED after SUCCESS) back to the seller's available
// balance, once per withdrawal: the money is in the platform's provider balance again.
func WithdrawalReversed(withdrawalID, provider, sellerID string, amount int64, currency string) LedgerTransaction {
	return LedgerTransaction{Kind: ledgerKindReturned, Reference: "withdrawal-reversed:" + withdrawalID,
		Postings: []Posting{
			{Account: ExternalAccount(provider), Amount: -amount, Currency: currency},
			{Account: SellerAvailableAccount(sellerID), Amount: amount, Currency: currency},
		}}
}

// refundAccount is where an order's refund goes: back to the provider that took the
// payment (Stripe when none is recorded).
func refundAccount(ord Order) string {
	if ord.Payment != nil && ord.Payment.Provider != "" {
		return ExternalAccount(ord.Payment.Provider)
	}
	return ExternalStripeAccount
}
