package market

import (
	"errors"
	"testing"
)

func TestDeletionBlockersNameTheFirstReason(t *testing.T) {
	cases := []struct {
		b     DeletionBlockers
		field string
	}{
		{DeletionBlockers{}, ""},
		{DeletionBlockers{OpenOrders: 1, BalanceMinor: 5, PendingWithdrawals: 1}, "orders"},
		{DeletionBlockers{BalanceMinor: 5, PendingWithdrawals: 1}, "withdrawals"},
		{DeletionBlockers{BalanceMinor: 1}, "balance"},
	}
	for _, c := range cases {
		err := c.b.Refusal()
		var e *Error
		switch {
		case c.field == "" && err != nil:
			t.Errorf("%+v: %v, want nil", c.b, err)
		case c.field != "" && (!errors.As(err, &e) || e.Code != CodeConflict || e.Field != c.field):
			t.Errorf("%+v: %v, want a conflict naming %s", c.b, err, c.field)
		}
	}
}
