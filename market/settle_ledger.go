package market

// The ledger accounts and transaction kinds of settlement.
const (
	PlatformFeesAccount = "platform:fees"

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

// Split is how an order's escrow is released: Refund back to the buyer (through
// Stripe), Fee to the platform, Seller to the seller's pending balance. The three sum
// to the order's price.
type Split struct {
	Refund int64 `json:"refunded_minor"`
	Fee    int64 `json:"fee_minor"`
	Seller int64 `json:"seller_minor"`
}

// SplitEscrow is the rule of every release of an escrow of price: refund goes back to
// the buyer in full; the rest is the seller's, less the platform fee on that rest only
// (PlatformFee, half-up). refund must be within 0…price; accept is refund 0, a full
// refund is refund price (no fee at all).
func SplitEscrow(price, refund int64, feeBPS int) Split {
	rest := price - refund
	fee := PlatformFee(rest, feeBPS)
	return Split{Refund: refund, Fee: fee, Seller: rest - fee}
}

// ReleaseEscrow is the one balanced transaction that empties an order's escrow as
// split says: escrow −price; the paying provider's external account (external:stripe,
// external:paypal) +refund; platform:fees +fee; the seller's pending +seller. Zero
// legs are left out.
func ReleaseEscrow(ord Order, s Split) LedgerTransaction {
	kind, ref := ledgerKindCompletion, "completion:order:"+ord.ID
	if s.Refund > 0 {
		kind, ref = ledgerKindRefund, "refund:order:"+ord.ID
	}
	t := LedgerTransaction{Kind: kind, OrderID: ord.ID, Reference: ref,
		Postings: []Posting{{Account: EscrowAccount(ord.ID), Amount: -(s.Refund + s.Fee + s.Seller), Currency: ord.Currency}}}
	for _, leg := range []Posting{
		{Account: refundAccount(ord), Amount: s.Refund},
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

// refundAccount is where an order's refund goes: back to the provider that took the
// payment (Stripe when none is recorded).
func refundAccount(ord Order) string {
	if ord.Payment != nil && ord.Payment.Provider != "" {
		return ExternalAccount(ord.Payment.Provider)
	}
	return ExternalStripeAccount
}
