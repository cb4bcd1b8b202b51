package market

import (
	"testing"
	"time"
)

const settleBuyer = "22222222-2222-4222-8222-222222222222"

func settleOrder(status OrderStatus) Order {
	delivered := time.Now().Add(-time.Hour)
	return Order{ID: testOrder, BuyerID: settleBuyer, SellerID: settleSeller, PriceMinor: 4500, Currency: "USD", Status: status, DeliveredAt: &delivered}
}

func TestDecideSettlementWhoMayDoWhatWhen(t *testing.T) {
	admin := "33333333-3333-4333-8333-333333333333"
	for _, c := range []struct {
		name   string
		in     SettleRequest
		status OrderStatus
		code   Code
		want   OrderStatus
		split  Split
	}{
		{"buyer accepts", SettleRequest{UserID: settleBuyer, Action: SettleComplete}, OrderDelivered, "", OrderCompleted, Split{Fee: 450, Seller: 4050}},
		{"seller accepts", SettleRequest{UserID: settleSeller, Action: SettleComplete}, OrderDelivered, CodeForbidden, "", Split{}},
		{"accept before delivery", SettleRequest{UserID: settleBuyer, Action: SettleComplete}, OrderPaid, CodeConflict, "", Split{}},
		{"accept in revision", SettleRequest{UserID: settleBuyer, Action: SettleComplete}, OrderRevisionRequested, CodeConflict, "", Split{}},
		{"buyer cancels placed", SettleRequest{UserID: settleBuyer, Action: SettleCancel}, OrderPlaced, "", OrderCancelled, Split{}},
		{"seller cancels placed", SettleRequest{UserID: settleSeller, Action: SettleCancel}, OrderPlaced, "", OrderCancelled, Split{}},
		{"buyer cancels paid", SettleRequest{UserID: settleBuyer, Action: SettleCancel}, OrderPaid, CodeForbidden, "", Split{}},
		{"seller cancels paid", SettleRequest{UserID: settleSeller, Action: SettleCancel}, OrderPaid, "", OrderCancelled, Split{Refund: 4500}},
		{"seller cancels delivered", SettleRequest{UserID: settleSeller, Action: SettleCancel}, OrderDelivered, "", OrderCancelled, Split{Refund: 4500}},
		{"cancel completed", SettleRequest{UserID: settleSeller, Action: SettleCancel}, OrderCompleted, CodeConflict, "", Split{}},
		{"admin refunds part", SettleRequest{UserID: admin, Admin: true, Action: SettleRefund, RefundMinor: 1000}, OrderRevisionRequested, "", OrderCancelled, Split{Refund: 1000, Fee: 350, Seller: 3150}},
		{"admin refunds all", SettleRequest{UserID: admin, Admin: true, Action: SettleRefund, RefundMinor: 4500}, OrderDelivered, "", OrderCancelled, Split{Refund: 4500}},
		{"admin refunds too much", SettleRequest{UserID: admin, Admin: true, Action: SettleRefund, RefundMinor: 4501}, OrderDelivered, CodeInvalid, "", Split{}},
		{"admin refunds placed", SettleRequest{UserID: admin, Admin: true, Action: SettleRefund, RefundMinor: 1}, OrderPlaced, CodeConflict, "", Split{}},
		{"admin refunds completed", SettleRequest{UserID: admin, Admin: true, Action: SettleRefund, RefundMinor: 1}, OrderCompleted, CodeConflict, "", Split{}},
		{"party refunds", SettleRequest{UserID: settleSeller, Action: SettleRefund, RefundMinor: 1}, OrderDelivered, CodeForbidden, "", Split{}},
		{"auto-complete due", SettleRequest{Action: SettleAutoComplete, DeliveredBefore: time.Now()}, OrderDelivered, "", OrderCompleted, Split{Fee: 450, Seller: 4050}},
		{"auto-complete not yet", SettleRequest{Action: SettleAutoComplete, DeliveredBefore: time.Now().Add(-2 * time.Hour)}, OrderDelivered, CodeConflict, "", Split{}},
		{"auto-complete in revision", SettleRequest{Action: SettleAutoComplete, DeliveredBefore: time.Now()}, OrderRevisionRequested, CodeConflict, "", Split{}},
	} {
		d, err := decideSettlement(c.in, settleOrder(c.status), nil, DefaultPlatformFeeBPS)
		if ErrorCode(err) != c.code || d.Status != c.want || d.Split != c.split {
			t.Errorf("%s: %+v, %v; want %s %+v (%s)", c.name, d, err, c.want, c.split, c.code)
		}
	}
}

func TestDecideSettlementReplaysOnlyTheSameRequest(t *testing.T) {
	in := SettleRequest{UserID: settleBuyer, Action: SettleComplete, IdempotencyKey: "k"}
	in.RequestHash = settleRequestHash(in)
	buyer := settleBuyer
	prior := &PriorSettlement{Action: SettleComplete, UserID: &buyer, IdempotencyKey: "k", RequestHash: in.RequestHash}
	ord := settleOrder(OrderCompleted)
	if d, err := decideSettlement(in, ord, prior, 1000); err != nil || !d.Replay {
		t.Fatalf("retry: %+v %v", d, err)
	}
	other := in
	other.Action = SettleCancel
	other.RequestHash = settleRequestHash(other)
	if _, err := decideSettlement(other, ord, prior, 1000); ErrorCode(err) != CodeInvalid {
		t.Fatalf("same key, other request: %v", err)
	}
	other = in
	other.IdempotencyKey = "k2"
	if _, err := decideSettlement(other, ord, prior, 1000); ErrorCode(err) != CodeConflict {
		t.Fatalf("another key: %v", err)
	}
	if _, err := decideSettlement(SettleRequest{Action: SettleAutoComplete, DeliveredBefore: time.Now()}, settleOrder(OrderDelivered), prior, 1000); ErrorCode(err) != CodeConflict {
		t.Fatalf("auto-complete of a settled order: %v", err)
	}
}
