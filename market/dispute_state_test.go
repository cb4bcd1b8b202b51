package market

import (
	"strings"
	"testing"
)

func TestDisputeResolutionEndsTheOrder(t *testing.T) {
	for action, want := range map[OrderAction]OrderStatus{ActionResolveSeller: OrderCompleted, ActionResolveRefund: OrderCancelled} {
		if got, err := NextStatus(OrderDisputed, action); err != nil || got != want {
			t.Errorf("disputed --%s--> %s, %v; want %s", action, got, err, want)
		}
	}
}

func TestADisputedOrderRefusesTheNormalPathNamingTheDispute(t *testing.T) {
	for _, a := range []OrderAction{ActionComplete, ActionDeliver, ActionRefund, ActionRequestRevision, ActionDispute} {
		_, err := NextStatus(OrderDisputed, a)
		if ErrorCode(err) != CodeConflict || !strings.Contains(err.Error(), "disputed") {
			t.Errorf("disputed --%s--> %v, want a conflict naming the dispute", a, err)
		}
	}
}

func TestWithdrawnStatusReturnsThePriorStatus(t *testing.T) {
	for _, prior := range []OrderStatus{OrderPaid, OrderDelivered, OrderRevisionRequested} {
		if got, err := WithdrawnStatus(OrderDisputed, prior); err != nil || got != prior {
			t.Errorf("withdraw back to %s: %s, %v", prior, got, err)
		}
	}
	if _, err := WithdrawnStatus(OrderDelivered, OrderPaid); ErrorCode(err) != CodeConflict {
		t.Errorf("withdraw on an undisputed order: %v", err)
	}
	for _, prior := range []OrderStatus{OrderPlaced, OrderCompleted, OrderCancelled, OrderDisputed} {
		if _, err := WithdrawnStatus(OrderDisputed, prior); ErrorCode(err) != CodeInvalid {
			t.Errorf("withdraw back to %s: %v, want invalid", prior, err)
		}
	}
}
