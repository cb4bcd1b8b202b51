package market

import (
	"math"
	"testing"
)

const testOrder = "0b4a3f8e-6c7d-4e21-9a55-1f2e3d4c5b6a"

func TestFundEscrowBalances(t *testing.T) {
	tx := FundEscrow(testOrder, 4500, "USD", "stripe:evt_1")
	if err := tx.Validate(); err != nil {
		t.Fatal(err)
	}
	var escrow int64
	for _, p := range tx.Postings {
		if p.Account == EscrowAccount(testOrder) {
			escrow += p.Amount
		}
	}
	if escrow != 4500 {
		t.Fatalf("escrow gets %d, want 4500", escrow)
	}
}

func TestLedgerValidateRefusesBrokenTransactions(t *testing.T) {
	escrow := EscrowAccount(testOrder)
	cases := map[string][]Posting{
		"one posting":     {{ExternalStripeAccount, -10, "USD"}},
		"unbalanced":      {{ExternalStripeAccount, -10, "USD"}, {escrow, 9, "USD"}},
		"mixed currency":  {{ExternalStripeAccount, -10, "USD"}, {escrow, 10, "EUR"}},
		"zero amount":     {{ExternalStripeAccount, 0, "USD"}, {escrow, 0, "USD"}},
		"unknown account": {{ExternalStripeAccount, -10, "USD"}, {"wallet:me", 10, "USD"}},
		"bad currency":    {{ExternalStripeAccount, -10, "usd"}, {escrow, 10, "usd"}},
		"overflow": {
			{ExternalStripeAccount, math.MaxInt64, "USD"}, {escrow, math.MaxInt64, "USD"},
			{ExternalStripeAccount, -math.MaxInt64, "USD"}, {escrow, -math.MaxInt64, "USD"},
		},
	}
	for name, postings := range cases {
		tx := LedgerTransaction{Kind: ledgerKindEscrow, OrderID: testOrder, Reference: "r", Postings: postings}
		if err := tx.Validate(); ErrorCode(err) != CodeInvalid {
			t.Errorf("%s: Validate = %v, want an invalid Error", name, err)
		}
	}
	ok := LedgerTransaction{Reference: "r", Postings: []Posting{
		{ExternalStripeAccount, -10, "USD"}, {ExternalStripeAccount, -5, "EUR"}, {escrow, 10, "USD"}, {escrow, 5, "EUR"},
	}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("balanced in two currencies: %v", err)
	}
	if err := (LedgerTransaction{Postings: ok.Postings}).Validate(); err == nil {
		t.Fatal("a transaction without a reference passed")
	}
}
