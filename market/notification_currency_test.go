package market

import (
	"strings"
	"testing"
)

// The notification bodies, which the e-mails carry, write amounts with the ISO 4217
// exponent of the order's currency: 4500 minor units of KWD are 4.500 KWD, not the
// 45.00 KWD that a fixed two decimals gave.
func TestNotificationsWriteAmountsWithTheCurrencysExponent(t *testing.T) {
	for _, tc := range []struct{ currency, paid, completed string }{
		{"KWD", "4.500 KWD", "4.050 KWD"},
		{"BHD", "4.500 BHD", "4.050 BHD"},
		{"JPY", "4500 JPY", "4050 JPY"},
		{"KRW", "4500 KRW", "4050 KRW"},
		{"USD", "45.00 USD", "40.50 USD"},
	} {
		o := routedOrder(OrderPaid)
		o.Currency = tc.currency
		paid := RouteNotifications(RoutableEvent{Event: Event{Channel: OrderChannel(o.ID), Seq: 1, Type: "order.paid", Data: []byte(`{}`)}, Order: o})
		o.Status = OrderCompleted
		done := RouteNotifications(RoutableEvent{Event: Event{Channel: OrderChannel(o.ID), Seq: 2, Type: "order.completed", Data: []byte(`{}`)}, Order: o})
		if len(paid) != 1 || !strings.Contains(paid[0].Body, " "+tc.paid+" ") {
			t.Errorf("%s paid: %+v, want %q", tc.currency, paid, tc.paid)
		}
		if len(done) != 1 || !strings.Contains(done[0].Body, " "+tc.completed+" ") {
			t.Errorf("%s completed: %+v, want %q", tc.currency, done, tc.completed)
		}
	}
}
