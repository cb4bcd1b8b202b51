package payments

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrAmount is returned, wrapped, for an amount that cannot be written or read exactly
// in its currency: negative, too large, an unknown currency code or a malformed value.
var ErrAmount = errors.New("payments: amount not representable")

// zeroDecimal and threeDecimal are the ISO 4217 currencies whose minor unit is not a
// hundredth (PayPal also writes HUF and TWD without decimals). Every other currency
// has two decimals.
var (
	zeroDecimal = map[string]bool{"BIF": true, "CLP": true, "DJF": true, "GNF": true, "HUF": true, "ISK": true,
		"JPY": true, "KMF": true, "KRW": true, "PYG": true, "RWF": true, "TWD": true, "UGX": true, "UYI": true,
		"VND": true, "VUV": true, "XAF": true, "XOF": true, "XPF": true}
	threeDecimal = map[string]bool{"BHD": true, "IQD": true, "JOD": true, "KWD": true, "LYD": true, "OMR": true, "TND": true}
)

// CurrencyDecimals is how many decimal places currency (ISO 4217, upper case) has in
// PayPal's amounts: 0, 2 or 3. It returns an error wrapping ErrAmount for a code that
// is not three upper-case letters.
func CurrencyDecimals(currency string) (int, error) {
	if len(currency) != 3 || strings.ToUpper(currency) != currency || strings.ContainsFunc(currency, func(r rune) bool { return r < 'A' || r > 'Z' }) {
		return 0, fmt.Errorf("%w: currency %q is not an ISO 4217 code", ErrAmount, currency)
	}
	switch {
	case zeroDecimal[currency]:
		return 0, nil
	case threeDecimal[currency]:
		return 3, nil
	}
	return 2, nil
}

// FormatAmount writes minor units of currency as PayPal's major-unit decimal string:
// 4500 USD is "45.00", 4500 JPY "4500", 4500 KWD "4.500". It uses integers only, so
// the string is exact. It returns an error wrapping ErrAmount for a negative amount or
// a bad currency.
func FormatAmount(minor int64, currency string) (string, error) {
	decimals, err := CurrencyDecimals(currency)
	if err != nil {
		return "", err
	}
	if minor < 0 {
		return "", fmt.Errorf("%w: negative amount %d", ErrAmount, minor)
	}
	digits := strconv.FormatInt(minor, 10)
	if decimals == 0 {
		return digits, nil
	}
	if len(digits) <= decimals {
		digits = strings.Repeat("0", decimals-len(digits)+1) + digits
	}
	cut := len(digits) - decimals
	return digits[:cut] + "." + digits[cut:], nil
}

// ParseAmount reads PayPal's decimal string of currency back into minor units: an
// integer part and, optionally, a fraction of at most the currency's decimals ("45",
// "45.5" and "45.50" are 4550 USD). Signs, exponents, spaces and excess digits are
// refused with an error wrapping ErrAmount, as is anything past int64.
func ParseAmount(value, currency string) (int64, error) {
	decimals, err := CurrencyDecimals(currency)
	if err != nil {
		return 0, err
	}
	whole, frac, hasFrac := strings.Cut(value, ".")
	if whole == "" || len(whole) > 18 || !allDigits(whole) || (hasFrac && (frac == "" || len(frac) > decimals || !allDigits(frac))) {
		return 0, fmt.Errorf("%w: %q is not a %s amount", ErrAmount, value, currency)
	}
	frac += strings.Repeat("0", decimals-len(frac))
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %q is too large", ErrAmount, value)
	}
	return n, nil
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
