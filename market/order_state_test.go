package market

import (
	"errors"
	"testing"
)

func TestNextStatusFollowsTheLifecycle(t *testing.T) {
	path := []struct {
		action OrderAction
		want   OrderStatus
	}{
		{ActionPay, OrderPaid},
		{ActionDeliver, OrderDelivered},
		{ActionRequestRevision, OrderRevisionRequested},
		{ActionDeliver, OrderDelivered},
		{ActionDeliver, OrderDelivered},
		{ActionComplete, OrderCompleted},
	}
	s := OrderPlaced
	for _, step := range path {
		next, err := NextStatus(s, step.action)
		if err != nil || next != step.want {
			t.Fatalf("%s --%s--> %s, %v; want %s", s, step.action, next, err, step.want)
		}
		s = next
	}
}

func TestNextStatusRefusesEverythingElse(t *testing.T) {
	allowed := map[OrderStatus][]OrderAction{
		OrderPlaced:            {ActionPay, ActionCancel},
		OrderPaid:              {ActionDeliver, ActionRefund, ActionDispute},
		OrderDelivered:         {ActionDeliver, ActionRequestRevision, ActionComplete, ActionRefund, ActionDispute},
		OrderRevisionRequested: {ActionDeliver, ActionRefund, ActionDispute},
		OrderDisputed:          {ActionResolveSeller, ActionResolveRefund},
	}
	statuses := []OrderStatus{OrderPlaced, OrderPaid, OrderDelivered, OrderRevisionRequested, OrderDisputed, OrderCompleted, OrderCancelled}
	actions := []OrderAction{ActionPay, ActionDeliver, ActionRequestRevision, ActionComplete, ActionCancel, ActionRefund,
		ActionDispute, ActionResolveSeller, ActionResolveRefund}
	for _, s := range statuses {
		for _, a := range actions {
			ok := false
			for _, x := range allowed[s] {
				ok = ok || x == a
			}
			_, err := NextStatus(s, a)
			if ok != (err == nil) {
				t.Errorf("%s --%s--> err %v; allowed %v", s, a, err, ok)
			}
			if err != nil && ErrorCode(err) != CodeConflict {
				t.Errorf("%s --%s--> %v, want a conflict", s, a, err)
			}
		}
	}
}

func TestPayingTwiceIsAConflict(t *testing.T) {
	_, err := NextStatus(OrderPaid, ActionPay)
	var de *Error
	if !errors.As(err, &de) || de.Code != CodeConflict {
		t.Fatalf("pay a paid order: %v", err)
	}
}
