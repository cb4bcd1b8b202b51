package payments_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gigstream/hub/payments"
	"github.com/gigstream/hub/payments/stripetest"
)

// BalanceLines attributes every balance transaction to its payment or transfer with
// the right sign, over pages (more than 100 lines), through stripe-go against the
// recording fake: charges +, refunds (ours and the dashboard's) −, a dispute −,
// transfers +, their reversals −.
func TestBalanceLinesAttributeEveryMovement(t *testing.T) {
	ctx := context.Background()
	fake := stripetest.New(t)
	client, err := payments.NewStripeClient(payments.StripeConfig{SecretKey: "sk_test_balance", APIBase: fake.URL})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-time.Second)
	intents := payments.NewStripe(client.V1PaymentIntents)
	money := payments.NewMoney(client.V1Refunds, client.V1Payouts)
	connect := payments.NewConnect(payments.ConnectAPIs{Accounts: client.V1Accounts, Links: client.V1AccountLinks,
		Transfers: client.V1Transfers, Reversals: client.V1TransferReversals, Payouts: client.V1Payouts}, payments.ConnectConfig{})

	want := map[string]int64{}
	var pis []string
	for i := range 60 {
		in, err := intents.CreateIntent(ctx, payments.IntentRequest{OrderID: fmt.Sprintf("order-%d", i), Amount: 5000, Currency: "USD",
			IdempotencyKey: fmt.Sprintf("intent-%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		if err := fake.Succeed(in.ID); err != nil {
			t.Fatal(err)
		}
		pis = append(pis, in.ID)
		want[in.ID] = 5000
	}
	for i, pi := range pis[:40] {
		if _, err := money.Refund(ctx, payments.RefundRequest{OrderID: "o", PaymentIntentID: pi, Amount: 700, IdempotencyKey: fmt.Sprintf("refund-%d", i)}); err != nil {
			t.Fatal(err)
		}
		want[pi] -= 700
	}
	// A retried refund under the same key refunds once.
	if _, err := money.Refund(ctx, payments.RefundRequest{OrderID: "o", PaymentIntentID: pis[0], Amount: 700, IdempotencyKey: "refund-0"}); err != nil {
		t.Fatal(err)
	}
	if _, err := fake.RefundOutside(pis[1], 300); err != nil {
		t.Fatal(err)
	}
	want[pis[1]] -= 300
	if _, err := fake.Dispute(pis[2], 4300); err != nil {
		t.Fatal(err)
	}
	want[pis[2]] -= 4300
	var transfers []string
	for i := range 5 {
		tr, _, err := connect.Payout(ctx, payments.ConnectPayoutRequest{WithdrawalID: fmt.Sprintf("w%d", i), UserID: "u", AccountID: "acct_1",
			Amount: 1200, Currency: "EUR", IdempotencyKey: fmt.Sprintf("payout-%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		transfers = append(transfers, tr)
		want[tr] = 1200
	}
	if err := connect.ReverseTransfer(ctx, transfers[0], "w0", "reverse-0"); err != nil {
		t.Fatal(err)
	}
	want[transfers[0]] = 0

	lines, err := payments.NewBalanceLines(client.V1BalanceTransactions, 0).Lines(ctx, start)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 60+40+1+1+5+1 {
		t.Fatalf("%d lines, want 108 (more than one page of 100)", len(lines))
	}
	got := map[string]int64{}
	for _, l := range lines {
		got[l.ObjectRef] += l.Amount
		switch {
		case l.Kind == payments.LinePayment && l.Currency != "usd", l.Kind == payments.LineTransfer && l.Currency != "eur":
			t.Fatalf("line %+v in the wrong currency", l)
		}
	}
	for ref, w := range want {
		if got[ref] != w {
			t.Errorf("%s: lines sum to %d, want %d", ref, got[ref], w)
		}
	}

	// Nothing before since; a listing past the maximum is refused, not cut short.
	if later, err := payments.NewBalanceLines(client.V1BalanceTransactions, 0).Lines(ctx, time.Now().Add(time.Hour)); err != nil || len(later) != 0 {
		t.Fatalf("lines from an hour ahead: %d, %v", len(later), err)
	}
	if _, err := payments.NewBalanceLines(client.V1BalanceTransactions, 50).Lines(ctx, start); err == nil {
		t.Fatal("a listing of 108 lines with a maximum of 50 succeeded")
	}
}
