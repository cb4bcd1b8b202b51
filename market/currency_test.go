package market

import (
	"math"
	"strings"
	"testing"
)

// TestCurrencyExponentsAreISO4217 checks the table against ISO 4217's "minor unit"
// column for every currency whose exponent is not 2, and a sample of those that are.
func TestCurrencyExponentsAreISO4217(t *testing.T) {
	want := map[string]int{
		"JPY": 0, "KRW": 0, "CLP": 0, "ISK": 0, "UGX": 0, "VND": 0, "VUV": 0, "PYG": 0, "RWF": 0,
		"BIF": 0, "DJF": 0, "GNF": 0, "KMF": 0, "XAF": 0, "XOF": 0, "XPF": 0,
		"KWD": 3, "BHD": 3, "OMR": 3, "JOD": 3, "TND": 3, "IQD": 3, "LYD": 3,
		"USD": 2, "EUR": 2, "GBP": 2, "CHF": 2, "HUF": 2, "TWD": 2, "MGA": 2, "IDR": 2, "MRU": 2,
		"INR": 2, "CNY": 2, "BRL": 2, "ZAR": 2, "CVE": 2, "XCG": 2, "ZWG": 2, "SLE": 2, "VES": 2,
	}
	for code, exp := range want {
		got, ok := CurrencyExponent(code)
		if !ok || got != exp {
			t.Errorf("CurrencyExponent(%s) = %d, %v; want %d", code, got, ok, exp)
		}
	}
	for _, c := range Currencies() {
		if e, listed := want[c.Code]; !listed && c.Exponent != 2 {
			t.Errorf("%s has exponent %d but is not among the known exceptions", c.Code, c.Exponent)
		} else if listed && e != c.Exponent {
			t.Errorf("Currencies lists %s with %d, want %d", c.Code, c.Exponent, e)
		}
	}
	for _, code := range []string{"usd", "US", "USDD", "XXX", "XTS", "XAU", "CLF", "UYI", "", "EURO"} {
		if _, ok := CurrencyExponent(code); ok || IsCurrency(code) {
			t.Errorf("%q counts as a currency", code)
		}
	}
	for _, code := range strings.Fields(zeroDecimal + " " + threeDecimal) {
		if !IsCurrency(code) {
			t.Errorf("exception %s is not in the list of active codes", code)
		}
	}
}

func TestFormatMoneyUsesEachCurrencysExponent(t *testing.T) {
	for _, c := range []struct {
		minor    int64
		currency string
		want     string
	}{
		{4500, "USD", "45.00 USD"}, {5, "USD", "0.05 USD"}, {0, "EUR", "0.00 EUR"}, {-5, "USD", "-0.05 USD"},
		{4500, "KWD", "4.500 KWD"}, {5, "BHD", "0.005 BHD"}, {1234567, "JOD", "1234.567 JOD"}, {-1, "OMR", "-0.001 OMR"},
		{4500, "TND", "4.500 TND"}, {4500, "JPY", "4500 JPY"}, {500, "CLP", "500 CLP"}, {7, "ISK", "7 ISK"},
		{4500, "HUF", "45.00 HUF"}, {4500, "MGA", "45.00 MGA"}, {-4500, "JPY", "-4500 JPY"},
		{9007199254740993, "USD", "90071992547409.93 USD"}, // past float64's exact integers
		{math.MinInt64, "KWD", "-9223372036854775.808 KWD"},
	} {
		if got := FormatMoney(c.minor, c.currency); got != c.want {
			t.Errorf("FormatMoney(%d, %s) = %q; want %q", c.minor, c.currency, got, c.want)
		}
	}
}

// TestNotificationsShowAmountsInTheirCurrencysUnits is the notification (and so the
// e-mail) text of orders in three-decimal and zero-decimal currencies: 4500 KWD was once
// shown as "45.00 KWD" and 4500 BHD as "45.00 BHD".
func TestNotificationsShowAmountsInTheirCurrencysUnits(t *testing.T) {
	for currency, want := range map[string]string{"KWD": "4.500 KWD", "BHD": "4.500 BHD", "JPY": "4500 JPY",
		"XOF": "4500 XOF", "USD": "45.00 USD"} {
		o := routedOrder(OrderPaid)
		o.Currency = currency
		paid := RouteNotifications(RoutableEvent{Event: Event{Channel: OrderChannel(o.ID), Type: "order.paid", Data: []byte(`{}`)}, Order: o})
		if len(paid) != 1 || !strings.Contains(paid[0].Body, "paid "+want+" for") {
			t.Errorf("%s: order.paid says %+v; want %q", currency, paid, want)
		}
		o.Status, o.RefundedMinor = OrderCancelled, 4500
		refunded := RouteNotifications(RoutableEvent{Event: Event{Channel: OrderChannel(o.ID), Type: "order.refunded",
			Data: []byte(`{"refund":{"amount_minor":4500,"reason":"x"}}`)}, Order: o})
		if len(refunded) == 0 || !strings.HasPrefix(refunded[0].Body, want+" was refunded") {
			t.Errorf("%s: order.refunded says %+v; want %q", currency, refunded, want)
		}
	}
}
