package payments

import (
	"fmt"
	"strings"
)

// Stripe counts amounts in its own unit per currency (docs.stripe.com/currencies):
// none for its zero-decimal currencies, thousandths for its three-decimal ones, and
// hundredths for every other, including ISK, which ISO 4217 gives no decimals (Stripe
// keeps two "for backwards compatibility"), while MGA, which ISO gives two, has none.
const (
	stripeZeroDecimal  = "BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF"
	stripeThreeDecimal = "BHD JOD KWD OMR TND"
)

// stripeDecimals is how many decimals Stripe's unit of currency has.
func stripeDecimals(currency string) int {
	switch {
	case strings.Contains(stripeZeroDecimal, currency):
		return 0
	case strings.Contains(stripeThreeDecimal, currency):
		return 3
	}
	return 2
}

// ToStripeAmount converts minor units of currency (ISO 4217 exponent exponent, as
// GigStream counts) to Stripe's unit: the same for most currencies, ×100 for ISK, ÷100
// for MGA. Stripe also takes three-decimal currencies only in multiples of ten. It
// returns an error wrapping ErrAmount for a negative amount, a bad currency, an
// amount Stripe's unit cannot hold exactly, or one past int64.
func ToStripeAmount(minor int64, currency string, exponent int) (int64, error) {
	if err := checkCurrency(currency, exponent); err != nil {
		return 0, err
	}
	if minor < 0 {
		return 0, fmt.Errorf("%w: negative amount %d", ErrAmount, minor)
	}
	diff := stripeDecimals(currency) - exponent
	var out int64
	switch {
	case diff >= 0:
		out = minor * pow10(diff)
		if out/pow10(diff) != minor {
			return 0, fmt.Errorf("%w: %d %s is too large for Stripe", ErrAmount, minor, currency)
		}
	case minor%pow10(-diff) != 0:
		return 0, fmt.Errorf("%w: Stripe cannot charge %d minor units of %s exactly", ErrAmount, minor, currency)
	default:
		out = minor / pow10(-diff)
	}
	if stripeDecimals(currency) == 3 && out%10 != 0 {
		return 0, fmt.Errorf("%w: Stripe takes %s only in multiples of 10 (%d)", ErrAmount, currency, minor)
	}
	return out, nil
}

// FromStripeAmount converts an amount in Stripe's unit of currency (a webhook's) to
// minor units of its ISO 4217 exponent. It returns an error wrapping ErrAmount for a
// bad currency or an amount the ISO unit cannot hold exactly.
func FromStripeAmount(amount int64, currency string, exponent int) (int64, error) {
	if err := checkCurrency(currency, exponent); err != nil {
		return 0, err
	}
	diff := exponent - stripeDecimals(currency)
	if diff >= 0 {
		out := amount * pow10(diff)
		if out/pow10(diff) != amount {
			return 0, fmt.Errorf("%w: %d %s from Stripe is too large", ErrAmount, amount, currency)
		}
		return out, nil
	}
	if amount%pow10(-diff) != 0 {
		return 0, fmt.Errorf("%w: %d %s from Stripe is not a whole number of minor units", ErrAmount, amount, currency)
	}
	return amount / pow10(-diff), nil
}
