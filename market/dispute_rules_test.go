package market

import (
	"testing"
	"time"
)

const disputeAdmin = "33333333-3333-4333-8333-333333333333"

func TestDecideSettlementOnADisputedOrder(t *testing.T) {
	admin := SettleRequest{UserID: disputeAdmin, Admin: true, Action: SettleResolve}
	for _, c := range []struct {
		name   string
		in     SettleRequest
		status OrderStatus
		code   Code
		want   OrderStatus
		split  Split
	}{
		{"buyer accepts", SettleRequest{UserID: settleBuyer, Action: SettleComplete}, OrderDisputed, CodeConflict, "", Split{}},
		{"seller cancels", SettleRequest{UserID: settleSeller, Action: SettleCancel}, OrderDisputed, CodeConflict, "", Split{}},
		{"admin refunds", SettleRequest{UserID: disputeAdmin, Admin: true, Action: SettleRefund, RefundMinor: 1}, OrderDisputed, CodeConflict, "", Split{}},
		{"auto-complete", SettleRequest{Action: SettleAutoComplete, DeliveredBefore: time.Now()}, OrderDisputed, CodeConflict, "", Split{}},
		{"resolve for the seller", admin, OrderDisputed, "", OrderCompleted, Split{Fee: 450, Seller: 4050}},
		{"resolve with a partial refund", withRefund(admin, 1000), OrderDisputed, "", OrderCancelled, Split{Refund: 1000, Fee: 350, Seller: 3150}},
		{"resolve with a full refund", withRefund(admin, 4500), OrderDisputed, "", OrderCancelled, Split{Refund: 4500}},
		{"resolve above the price", withRefund(admin, 4501), OrderDisputed, CodeInvalid, "", Split{}},
		{"resolve an undisputed order", admin, OrderDelivered, CodeConflict, "", Split{}},
		{"a party resolves", SettleRequest{UserID: settleBuyer, Action: SettleResolve}, OrderDisputed, CodeForbidden, "", Split{}},
	} {
		d, err := decideSettlement(c.in, settleOrder(c.status), nil, DefaultPlatformFeeBPS)
		if ErrorCode(err) != c.code || d.Status != c.want || d.Split != c.split {
			t.Errorf("%s: %+v, %v; want %s %+v (%s)", c.name, d, err, c.want, c.split, c.code)
		}
	}
}

func withRefund(in SettleRequest, refund int64) SettleRequest {
	in.RefundMinor = refund
	return in
}

func TestDecideDisputeWhoMayDoWhatWhen(t *testing.T) {
	open := &Dispute{Status: DisputeOpen, OpenedBy: settleBuyer, OpenKey: "k-open", PriorStatus: OrderDelivered}
	answered := *open
	answer, hash := "k-answer", disputeRequestHash(DisputeChange{Step: DisputeAnswerStep, Text: "we delivered"})
	answered.Response, answered.ResponseKey, answered.ResponseHash = &answer, &answer, &hash
	withdrawn := *open
	withdrawn.Status = DisputeWithdrawn
	step := func(user, step, text, key string) DisputeChange {
		in := DisputeChange{UserID: user, Step: step, Text: text, IdempotencyKey: key}
		in.RequestHash = disputeRequestHash(in)
		return in
	}
	for _, c := range []struct {
		name   string
		in     DisputeChange
		status OrderStatus
		latest *Dispute
		code   Code
		want   DisputeDecision
	}{
		{"buyer opens on delivered", step(settleBuyer, DisputeOpenStep, "not what I ordered", "k1"), OrderDelivered, nil, "", DisputeDecision{Status: OrderDisputed, EventType: "order.disputed"}},
		{"buyer opens on paid", step(settleBuyer, DisputeOpenStep, "late and silent", "k1"), OrderPaid, nil, "", DisputeDecision{Status: OrderDisputed, EventType: "order.disputed"}},
		{"buyer opens again after a withdrawal", step(settleBuyer, DisputeOpenStep, "still wrong!!", "k2"), OrderDelivered, &withdrawn, "", DisputeDecision{Status: OrderDisputed, EventType: "order.disputed"}},
		{"buyer opens on placed", step(settleBuyer, DisputeOpenStep, "never paid it", "k1"), OrderPlaced, nil, CodeConflict, DisputeDecision{}},
		{"buyer opens on completed", step(settleBuyer, DisputeOpenStep, "too late now", "k1"), OrderCompleted, nil, CodeConflict, DisputeDecision{}},
		{"buyer opens twice", step(settleBuyer, DisputeOpenStep, "another reason", "k2"), OrderDisputed, open, CodeConflict, DisputeDecision{}},
		{"seller opens", step(settleSeller, DisputeOpenStep, "buyer is rude", "k1"), OrderDelivered, nil, CodeForbidden, DisputeDecision{}},
		{"open replayed", step(settleBuyer, DisputeOpenStep, "x", "k-open"), OrderDisputed, &Dispute{Status: DisputeOpen, OpenedBy: settleBuyer, OpenKey: "k-open", OpenHash: disputeRequestHash(DisputeChange{Step: DisputeOpenStep, Text: "x"})}, "", DisputeDecision{Replay: true}},
		{"open key reused", step(settleBuyer, DisputeOpenStep, "other text", "k-open"), OrderDisputed, open, CodeInvalid, DisputeDecision{}},
		{"seller answers", step(settleSeller, DisputeAnswerStep, "we delivered", "k-answer"), OrderDisputed, open, "", DisputeDecision{Status: OrderDisputed, EventType: "order.dispute_answered"}},
		{"seller answers twice", step(settleSeller, DisputeAnswerStep, "and again", "k3"), OrderDisputed, &answered, CodeConflict, DisputeDecision{}},
		{"answer replayed", step(settleSeller, DisputeAnswerStep, "we delivered", "k-answer"), OrderDisputed, &answered, "", DisputeDecision{Replay: true}},
		{"buyer answers", step(settleBuyer, DisputeAnswerStep, "me too", "k3"), OrderDisputed, open, CodeForbidden, DisputeDecision{}},
		{"answer without a dispute", step(settleSeller, DisputeAnswerStep, "hello", "k3"), OrderDelivered, nil, CodeConflict, DisputeDecision{}},
		{"answer a withdrawn dispute", step(settleSeller, DisputeAnswerStep, "hello", "k3"), OrderDelivered, &withdrawn, CodeConflict, DisputeDecision{}},
		{"buyer withdraws", step(settleBuyer, DisputeWithdrawStep, "", "k4"), OrderDisputed, open, "", DisputeDecision{Status: OrderDelivered, EventType: "order.dispute_withdrawn"}},
		{"seller withdraws", step(settleSeller, DisputeWithdrawStep, "", "k4"), OrderDisputed, open, CodeForbidden, DisputeDecision{}},
		{"withdraw twice", step(settleBuyer, DisputeWithdrawStep, "", "k5"), OrderDelivered, &withdrawn, CodeConflict, DisputeDecision{}},
	} {
		d, err := decideDispute(c.in, settleOrder(c.status), c.latest)
		if ErrorCode(err) != c.code || d != c.want {
			t.Errorf("%s: %+v, %v; want %+v (%s)", c.name, d, err, c.want, c.code)
		}
	}
}

func TestDisputeTextIsHeldToItsLength(t *testing.T) {
	for _, c := range []struct {
		text  string
		least int
		ok    bool
	}{{"too short", 10, false}, {"  ninechars  ", 10, false}, {"long enough", 10, true}, {"x", 1, true}, {"   ", 1, false}, {string(make([]byte, 2001)), 1, false}} {
		_, err := checkDisputeText(c.text, "reason", c.least)
		if (err == nil) != c.ok || (err != nil && ErrorCode(err) != CodeInvalid) {
			t.Errorf("%q (at least %d): %v", c.text, c.least, err)
		}
	}
}
