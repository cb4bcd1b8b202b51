package payments

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrAmount is returned, wrapped, for an amount that cannot be written or read exactly
// in its currency: negative, too large, a currency the exponent table does not know, a
// fraction PayPal does not accept, or a malformed value.
var ErrAmount = errors.New("payments: amount not representable")

// Exponents is the table of ISO 4217 exponents amounts are counted in: the number of
// decimals of a currency's minor unit (USD 2, JPY 0, KWD 3), false for an unknown code.
// The domain owns it (cmd/ passes market.CurrencyExponent); the adapters only convert
// from it to what each provider writes.
type Exponents func(currency string) (int, bool)

// payPalWholeUnits are the currencies PayPal writes without decimals whatever their
// ISO 4217 exponent (HUF and TWD have 2): an amount in them must be whole major units.
var payPalWholeUnits = map[string]bool{"HUF": true, "JPY": true, "TWD": true}

// payPalDecimals is how many decimals PayPal writes currency with, given its ISO 4217
// exponent.
func payPalDecimals(currency string, exponent int) int {
	if payPalWholeUnits[currency] {
		return 0
	}
	return exponent
}

// checkCurrency refuses a code that is not three upper-case letters or an exponent
// outside ISO 4217's 0…4.
func checkCurrency(currency string, exponent int) error {
	if len(currency) != 3 || strings.ContainsFunc(currency, func(r rune) bool { return r < 'A' || r > 'Z' }) {
		return fmt.Errorf("%w: currency %q is not an ISO 4217 code", ErrAmount, currency)
	}
	if exponent < 0 || exponent > 4 {
		return fmt.Errorf("%w: exponent %d of %s", ErrAmount, exponent, currency)
	}
	return nil
}

// FormatAmount writes minor units of currency (ISO 4217 exponent exponent) as
// PayPal's major-unit decimal string: 4500 USD is "45.00", 4500 JPY "4500", 4500 KWD
// "4.500", 450000 HUF "4500" (PayPal writes forints whole). It uses integers only, so
// the string is exact. It returns an error wrapping ErrAmount for a negative amount, a
// bad currency, or a fraction PayPal cannot take (4550 HUF, 45.50 Ft).
func FormatAmount(minor int64, currency string, exponent int) (string, error) {
	if err := checkCurrency(currency, exponent); err != nil {
		return "", err
	}
	if minor < 0 {
		return "", fmt.Errorf("%w: negative amount %d", ErrAmount, minor)
	}
	drop := exponent - payPalDecimals(currency, exponent)
	unit := pow10(drop)
	if minor%unit != 0 {
		return "", fmt.Errorf("%w: PayPal takes %s only in whole units, not %d minor units", ErrAmount, currency, minor)
	}
	digits := strconv.FormatInt(minor/unit, 10)
	decimals := exponent - drop
	if decimals == 0 {
		return digits, nil
	}
	if len(digits) <= decimals {
		digits = strings.Repeat("0", decimals-len(digits)+1) + digits
	}
	cut := len(digits) - decimals
	return digits[:cut] + "." + digits[cut:], nil
}

// ParseAmount reads PayPal's decimal string of currency back into minor units of its
// ISO 4217 exponent: an integer part and, optionally, a fraction of at most the
// decimals PayPal writes ("45", "45.5" and "45.50" are 4550 USD; "4500" HUF is
// 450000). Signs, exponents, spaces and excess digits are refused with an error
// wrapping ErrAmount, as is anything past int64.
func ParseAmount(value, currency string, exponent int) (int64, error) {
	if err := checkCurrency(currency, exponent); err != nil {
		return 0, err
	}
	decimals := payPalDecimals(currency, exponent)
	whole, frac, hasFrac := strings.Cut(value, ".")
	if whole == "" || len(whole) > 18 || !allDigits(whole) || (hasFrac && (frac == "" || len(frac) > decimals || !allDigits(frac))) {
		return 0, fmt.Errorf("%w: %q is not a %s amount", ErrAmount, value, currency)
	}
	frac += strings.Repeat("0", exponent-len(frac))
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %q is too large", ErrAmount, value)
	}
	return n, nil
}

// pow10 is 10^n for the small n of currency exponents.
func pow10(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// exponent looks currency up in the client's table; an unknown code is ErrAmount.
func (p *PayPal) exponent(currency string) (int, error) {
	e, ok := p.cfg.Exponents(currency)
	if !ok {
		return 0, fmt.Errorf("%w: %q is not a currency GigStream knows", ErrAmount, currency)
	}
	return e, nil
}

// formatAmount is FormatAmount with the client's table.
func (p *PayPal) formatAmount(minor int64, currency string) (string, error) {
	e, err := p.exponent(currency)
	if err != nil {
		return "", err
	}
	return FormatAmount(minor, currency, e)
}

// parseAmount is ParseAmount with the client's table.
func (p *PayPal) parseAmount(value, currency string) (int64, error) {
	e, err := p.exponent(currency)
	if err != nil {
		return 0, err
	}
	return ParseAmount(value, currency, e)
}
