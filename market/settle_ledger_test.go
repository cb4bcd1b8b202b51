package market

import "testing"

const settleSeller = "9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f"

func TestSplitEscrowChargesTheFeeOnTheSellersPartOnly(t *testing.T) {
	for _, c := range []struct {
		price, refund int64
		want          Split
	}{
		{4500, 0, Split{Fee: 450, Seller: 4050}},
		{4500, 4500, Split{Refund: 4500}},
		{4500, 1000, Split{Refund: 1000, Fee: 350, Seller: 3150}},
		{4500, 4495, Split{Refund: 4495, Fee: 1, Seller: 4}}, // 0.5 rounds up
		{4500, 4496, Split{Refund: 4496, Fee: 0, Seller: 4}},
		{1, 0, Split{Seller: 1}},
	} {
		got := SplitEscrow(c.price, c.refund, 1000)
		if got != c.want || got.Refund+got.Fee+got.Seller != c.price {
			t.Errorf("SplitEscrow(%d, %d) = %+v, want %+v", c.price, c.refund, got, c.want)
		}
		ord := Order{ID: testOrder, SellerID: settleSeller, PriceMinor: c.price, Currency: "USD"}
		tx := ReleaseEscrow(ord, got)
		if err := tx.Validate(); err != nil {
			t.Errorf("ReleaseEscrow(%+v): %v", got, err)
		}
		for _, p := range tx.Postings {
			if p.Account == EscrowAccount(testOrder) && p.Amount != -c.price {
				t.Errorf("escrow leg %d, want %d", p.Amount, -c.price)
			}
		}
	}
}

func TestClearingAndPayoutBalance(t *testing.T) {
	for _, tx := range []LedgerTransaction{ClearEarnings(testOrder, settleSeller, 4050, "USD"),
		WithdrawalToTransit(testOrder, settleSeller, 100, "USD"), WithdrawalPaidOut(testOrder, "stripe", 100, "USD"),
		WithdrawalReturned(testOrder, settleSeller, 100, "USD")} {
		if err := tx.Validate(); err != nil {
			t.Errorf("%s: %v", tx.Kind, err)
		}
	}
}
