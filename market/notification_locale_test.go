package market

import (
	"testing"
	"time"
)

func TestFormatMoneyInWritesEachLanguagesSeparatorsAndSymbol(t *testing.T) {
	cases := []struct {
		minor         int64
		currency      string
		en, de, plain string
	}{
		{123450, "EUR", "€1,234.50", "1.234,50 €", "1234.50 EUR"},
		{123450, "USD", "$1,234.50", "1.234,50 $", "1234.50 USD"},
		{4500, "USD", "$45.00", "45,00 $", "45.00 USD"},
		{1234567, "JPY", "¥1,234,567", "1.234.567 ¥", "1234567 JPY"},
		{1234567, "KWD", "KWD 1,234.567", "1.234,567 KWD", "1234.567 KWD"},
		{100000, "CHF", "CHF 1,000.00", "1.000,00 CHF", "1000.00 CHF"},
		{-5, "EUR", "-€0.05", "-0,05 €", "-0.05 EUR"},
	}
	for _, c := range cases {
		if got := FormatMoneyIn(c.minor, c.currency, "en"); got != c.en {
			t.Errorf("en %d %s = %q, want %q", c.minor, c.currency, got, c.en)
		}
		if got := FormatMoneyIn(c.minor, c.currency, "de"); got != c.de {
			t.Errorf("de %d %s = %q, want %q", c.minor, c.currency, got, c.de)
		}
		if got := FormatMoney(c.minor, c.currency); got != c.plain {
			t.Errorf("FormatMoney %d %s = %q, want %q (unchanged)", c.minor, c.currency, got, c.plain)
		}
	}
}

func TestFormatDateInWritesEachLanguagesMonthsInTheUsersZone(t *testing.T) {
	at := time.Date(2026, 3, 4, 23, 30, 0, 0, time.UTC)
	if got, want := FormatDateIn(at, "en", "UTC"), "4 March 2026, 23:30 UTC"; got != want {
		t.Errorf("en = %q, want %q", got, want)
	}
	if got, want := FormatDateIn(at, "de", "Europe/Berlin"), "5. März 2026, 00:30 CET"; got != want {
		t.Errorf("de = %q, want %q", got, want)
	}
	if got, want := FormatDateIn(at, "xx", "Mars/Olympus"), "4 March 2026, 23:30 UTC"; got != want {
		t.Errorf("unknown language and zone = %q, want %q", got, want)
	}
}
