package payments

import (
	"errors"
	"testing"
)

// testExponents stands in for market's ISO 4217 table (adapters import nothing of
// ours): the exponents of the currencies these tests use.
func testExponents(currency string) (int, bool) {
	e, ok := map[string]int{"USD": 2, "EUR": 2, "GBP": 2, "HUF": 2, "TWD": 2, "JPY": 0, "KWD": 3, "BHD": 3, "JOD": 3}[currency]
	return e, ok
}

func TestFormatAmountIsExactForEveryMinorUnit(t *testing.T) {
	for _, c := range []struct {
		minor    int64
		currency string
		want     string
	}{
		{4500, "USD", "45.00"}, {1, "USD", "0.01"}, {10, "EUR", "0.10"}, {0, "USD", "0.00"}, {100, "GBP", "1.00"},
		{9007199254740993, "USD", "90071992547409.93"}, // past float64's exact integers
		{4500, "JPY", "4500"}, {0, "JPY", "0"},
		{700, "HUF", "7"}, {450000, "TWD", "4500"}, // ISO 4217 gives them 2 decimals, PayPal none
		{4500, "KWD", "4.500"}, {5, "BHD", "0.005"}, {1234567, "JOD", "1234.567"},
	} {
		exp, _ := testExponents(c.currency)
		got, err := FormatAmount(c.minor, c.currency, exp)
		if err != nil || got != c.want {
			t.Errorf("FormatAmount(%d, %s) = %q, %v; want %q", c.minor, c.currency, got, err, c.want)
		}
		back, err := ParseAmount(got, c.currency, exp)
		if err != nil || back != c.minor {
			t.Errorf("ParseAmount(%q, %s) = %d, %v; want %d", got, c.currency, back, err, c.minor)
		}
	}
}

func TestFormatAmountRefusesWhatItCannotWrite(t *testing.T) {
	for _, c := range []struct {
		minor    int64
		currency string
		exponent int
	}{{-1, "USD", 2}, {1, "usd", 2}, {1, "US", 2}, {1, "U$D", 2}, {1, "", 2}, {1, "USD", -1}, {1, "USD", 5},
		{4550, "HUF", 2}, {1, "TWD", 2}} {
		if got, err := FormatAmount(c.minor, c.currency, c.exponent); !errors.Is(err, ErrAmount) {
			t.Errorf("FormatAmount(%d, %q, %d) = %q, %v; want ErrAmount", c.minor, c.currency, c.exponent, got, err)
		}
	}
}

func TestParseAmountIsStrict(t *testing.T) {
	ok := map[string]int64{"45": 4500, "45.5": 4550, "45.50": 4550, "0.01": 1}
	for v, want := range ok {
		if got, err := ParseAmount(v, "USD", 2); err != nil || got != want {
			t.Errorf("ParseAmount(%q) = %d, %v; want %d", v, got, err, want)
		}
	}
	for _, v := range []string{"", "-1.00", "+1.00", "1.001", "1.", ".5", "1e3", " 1.00", "1,00", "0x10", "99999999999999999999.00", "١.٠٠"} {
		if got, err := ParseAmount(v, "USD", 2); !errors.Is(err, ErrAmount) {
			t.Errorf("ParseAmount(%q, USD) = %d, %v; want ErrAmount", v, got, err)
		}
	}
	if got, err := ParseAmount("45.0", "JPY", 0); !errors.Is(err, ErrAmount) {
		t.Errorf("a fraction of yen = %d, %v; want ErrAmount", got, err)
	}
	if got, err := ParseAmount("45.5", "HUF", 2); !errors.Is(err, ErrAmount) {
		t.Errorf("a fraction of forint from PayPal = %d, %v; want ErrAmount", got, err)
	}
	if got, err := ParseAmount("4.5", "KWD", 3); err != nil || got != 4500 {
		t.Errorf("4.5 KWD = %d, %v; want 4500", got, err)
	}
}

func TestPayPalClientNeedsTheExponentTable(t *testing.T) {
	if _, err := NewPayPal(PayPalConfig{ClientID: "id", ClientSecret: "s"}, nil); err == nil {
		t.Fatal("a PayPal client without the exponent table was made")
	}
}
