package payments

import (
	"errors"
	"testing"
)

func TestStripeAmountsFollowStripesUnits(t *testing.T) {
	for _, c := range []struct {
		minor    int64
		currency string
		exponent int
		stripe   int64
	}{
		{4500, "USD", 2, 4500}, {4500, "JPY", 0, 4500}, {4500, "HUF", 2, 4500}, {4500, "KWD", 3, 4500},
		{45, "ISK", 0, 4500}, // ISO: no decimals; Stripe: two, always 00
		{4500, "MGA", 2, 45}, // ISO: two decimals; Stripe: none
		{4500, "UGX", 0, 4500}, {4500, "XOF", 0, 4500},
	} {
		got, err := ToStripeAmount(c.minor, c.currency, c.exponent)
		if err != nil || got != c.stripe {
			t.Errorf("ToStripeAmount(%d %s) = %d, %v; want %d", c.minor, c.currency, got, err, c.stripe)
		}
		back, err := FromStripeAmount(got, c.currency, c.exponent)
		if err != nil || back != c.minor {
			t.Errorf("FromStripeAmount(%d %s) = %d, %v; want %d", got, c.currency, back, err, c.minor)
		}
	}
	for _, c := range []struct {
		minor    int64
		currency string
		exponent int
	}{{4550, "MGA", 2}, {4505, "KWD", 3}, {-1, "USD", 2}, {1, "usd", 2}, {1 << 62, "ISK", 0}} {
		if got, err := ToStripeAmount(c.minor, c.currency, c.exponent); !errors.Is(err, ErrAmount) {
			t.Errorf("ToStripeAmount(%d %s) = %d, %v; want ErrAmount", c.minor, c.currency, got, err)
		}
	}
	if got, err := FromStripeAmount(4550, "ISK", 0); !errors.Is(err, ErrAmount) {
		t.Errorf("FromStripeAmount(4550 ISK) = %d, %v; want ErrAmount (a fraction of a krona)", got, err)
	}
}
