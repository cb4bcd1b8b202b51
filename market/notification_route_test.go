package market

import (
	"slices"
	"strings"
	"testing"
)

const (
	routeOrderID = "11111111-1111-4111-8111-111111111111"
	routeBuyer   = "22222222-2222-4222-8222-222222222222"
	routeSeller  = "33333333-3333-4333-8333-333333333333"
)

func routedOrder(status OrderStatus) *Order {
	return &Order{ID: routeOrderID, BuyerID: routeBuyer, SellerID: routeSeller, GigTitle: "<b>Logo</b>",
		PriceMinor: 4500, SellerMinor: 4050, RefundedMinor: 4500, Currency: "USD", Status: status}
}

func TestRoutingTableSendsEachEventToTheRightPeople(t *testing.T) {
	cases := []struct {
		event  string
		status OrderStatus
		data   string
		kind   string
		want   []string
	}{
		{"order.placed", OrderPlaced, `{}`, "", nil},
		{"order.paid", OrderPaid, `{}`, KindOrderPaid, []string{routeSeller}},
		{"order.payment_failed", OrderPlaced, `{}`, KindPaymentFailed, []string{routeBuyer}},
		{"order.delivered", OrderDelivered, `{}`, KindOrderDelivered, []string{routeBuyer}},
		{"order.revision_requested", OrderRevisionRequested, `{"revision":{"note":"bigger"}}`, KindRevisionRequested, []string{routeSeller}},
		{"order.completed", OrderCompleted, `{}`, KindOrderCompleted, []string{routeSeller}},
		{"order.cancelled", OrderCancelled, `{}`, KindOrderCancelled, []string{routeBuyer, routeSeller}},
		{"order.refunded", OrderCancelled, `{"refund":{"amount_minor":4500,"reason":"cancelled by the seller"}}`, KindOrderRefunded, []string{routeBuyer}},
		{"order.refunded", OrderCancelled, `{"refund":{"amount_minor":500,"reason":"item not as described"}}`, KindOrderRefunded, []string{routeBuyer, routeSeller}},
		{"order.reviewed", OrderCompleted, `{"review":{"rating":5,"comment":"great"}}`, KindReviewReceived, []string{routeSeller}},
		{"order.review_answered", OrderCompleted, `{}`, KindReviewAnswered, []string{routeBuyer}},
		{"order.disputed", OrderDisputed, `{"dispute":{"reason":"not as agreed"}}`, KindOrderDisputed, []string{routeSeller}},
		{"order.dispute_answered", OrderDisputed, `{}`, KindDisputeAnswered, []string{routeBuyer}},
		{"order.dispute_withdrawn", OrderDelivered, `{}`, KindDisputeWithdrawn, []string{routeSeller}},
		{"order.dispute_resolved", OrderCancelled, `{}`, KindDisputeResolved, []string{routeBuyer, routeSeller}},
		{"order.something_new", OrderPaid, `{}`, "", nil},
		{"message.created", OrderPaid, `{}`, "", nil},
	}
	for _, c := range cases {
		got := RouteNotifications(RoutableEvent{Event: Event{Channel: OrderChannel(routeOrderID), Seq: 1, Type: c.event, Data: []byte(c.data)}, Order: routedOrder(c.status)})
		var users []string
		for _, n := range got {
			users = append(users, n.UserID)
			if n.Kind != c.kind || n.Link != "/orders/"+routeOrderID || n.OrderID == nil || *n.OrderID != routeOrderID || n.Title == "" || n.Body == "" {
				t.Errorf("%s (%s): notification %+v", c.event, c.status, n)
			}
		}
		if !slices.Equal(users, c.want) {
			t.Errorf("%s (%s): recipients %v, want %v", c.event, c.status, users, c.want)
		}
	}
}

func TestRoutingTableDetails(t *testing.T) {
	paid := RouteNotifications(RoutableEvent{Event: Event{Channel: OrderChannel(routeOrderID), Type: "order.paid", Data: []byte(`{}`)}, Order: routedOrder(OrderPaid)})
	if !strings.Contains(paid[0].Body, "45.00 USD") || !strings.Contains(paid[0].Title, "<b>Logo</b>") {
		t.Errorf("paid: %+v", paid[0])
	}
	rev := RouteNotifications(RoutableEvent{Event: Event{Channel: OrderChannel(routeOrderID), Type: "order.revision_requested", Data: []byte(`{"revision":{"note":"make it bigger"}}`)}, Order: routedOrder(OrderRevisionRequested)})
	if !strings.Contains(rev[0].Body, "make it bigger") {
		t.Errorf("revision note missing: %+v", rev[0])
	}
	if FormatMoney(5, "USD") != "0.05 USD" || FormatMoney(500, "JPY") != "500 JPY" {
		t.Errorf("FormatMoney: %q %q", FormatMoney(5, "USD"), FormatMoney(500, "JPY"))
	}
}

func TestRoutingTableWithdrawalsAndOthersOnUserChannels(t *testing.T) {
	user := UserChannel(routeSeller)
	got := RouteNotifications(RoutableEvent{Event: Event{Channel: user, Type: "balance.updated", Data: []byte(`{"currency":"USD","reason":"withdrawal"}`)}})
	if len(got) != 1 || got[0].UserID != routeSeller || got[0].Kind != KindWithdrawalPaid || got[0].OrderID != nil {
		t.Fatalf("withdrawal: %+v", got)
	}
	for _, ev := range []Event{
		{Channel: user, Type: "balance.updated", Data: []byte(`{"currency":"USD","reason":"order_settled"}`)},
		{Channel: user, Type: "notification", Data: []byte(`{}`)},
		{Channel: user, Type: "upload.status", Data: []byte(`{}`)},
		{Channel: "order:not-a-uuid", Type: "balance.updated", Data: []byte(`{"reason":"withdrawal"}`)},
	} {
		if got := RouteNotifications(RoutableEvent{Event: ev}); len(got) != 0 {
			t.Errorf("%s %s: %+v, want none", ev.Channel, ev.Type, got)
		}
	}
	// An order event whose order is gone concerns no one.
	if got := RouteNotifications(RoutableEvent{Event: Event{Channel: OrderChannel(routeOrderID), Type: "order.paid"}}); len(got) != 0 {
		t.Errorf("order gone: %+v", got)
	}
}

func TestSellerCancelReasonMatchesTheSettlementRules(t *testing.T) {
	d, err := decideCancel(*routedOrder(OrderPaid), true, 0)
	if err != nil || d.Reason != sellerCancelReason || !slices.Contains(d.EventTypes, "order.cancelled") {
		t.Fatalf("a seller's cancel decides %+v, %v: the refund notice would reach the seller twice", d, err)
	}
}
