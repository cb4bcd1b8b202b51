package market

import (
	"strconv"
	"strings"
)

// Currency is an active ISO 4217 currency as GigStream uses it: its code and its
// exponent, the number of decimal places of its minor unit (USD 2: 4500 is 45.00;
// JPY 0: 4500 is 4500; KWD 3: 4500 is 4.500). Every amount in GigStream (prices, fees,
// taxes, the ledger, the API's *_minor fields) is an integer count of minor units with
// this exponent; payment providers that write a currency otherwise convert at their
// adapter (see payments).
type Currency struct {
	Code     string `json:"code"`
	Exponent int    `json:"exponent"`
}

// isoCurrencies are the active ISO 4217 currency codes (funds, metals and test codes
// left out): a price is only ever in one of them. Their exponent is 2 unless
// zeroDecimal or threeDecimal lists them.
const isoCurrencies = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL " +
	"BSD BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD " +
	"FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS " +
	"KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK " +
	"MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD " +
	"SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX " +
	"USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG"

// The ISO 4217 exponents other than 2 (list one, "Current currency & funds code list",
// column "Minor unit"). HUF, TWD and MGA have 2 in ISO 4217 although some providers
// write them without decimals; ISK and UGX have 0.
const (
	zeroDecimal  = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF"
	threeDecimal = "BHD IQD JOD KWD LYD OMR TND"
)

// currencyExponents maps every active code to its exponent.
var currencyExponents = func() map[string]int {
	m := map[string]int{}
	for _, c := range strings.Fields(isoCurrencies) {
		m[c] = 2
	}
	for _, c := range strings.Fields(zeroDecimal) {
		m[c] = 0
	}
	for _, c := range strings.Fields(threeDecimal) {
		m[c] = 3
	}
	return m
}()

// IsCurrency reports whether code is an active ISO 4217 currency code, in upper case.
func IsCurrency(code string) bool {
	_, ok := currencyExponents[code]
	return ok
}

// CurrencyExponent is the ISO 4217 exponent of code (upper case), and false for a code
// that is not an active currency. It is the one table of exponents: cmd/ hands it to
// the payment adapters, and every amount shown to a person goes through FormatMoney.
func CurrencyExponent(code string) (int, bool) {
	e, ok := currencyExponents[code]
	return e, ok
}

// Currencies lists every active currency with its exponent, sorted by code.
func Currencies() []Currency {
	codes := strings.Fields(isoCurrencies)
	out := make([]Currency, len(codes))
	for i, c := range codes {
		out[i] = Currency{Code: c, Exponent: currencyExponents[c]}
	}
	return out
}

// FormatAmount writes minor units of currency as a plain decimal in major units, with
// exactly the currency's exponent of decimals and no grouping: 4500 USD "45.00", 4500
// JPY "4500", 4500 KWD "4.500", -5 USD "-0.05". It uses integers only, so it is exact
// for every int64. A code that is not an active currency is written with 2 decimals.
func FormatAmount(minor int64, currency string) string {
	exp, ok := currencyExponents[currency]
	if !ok {
		exp = 2
	}
	sign := ""
	digits := strconv.FormatInt(minor, 10)
	if minor < 0 {
		sign, digits = "-", digits[1:] // also right for math.MinInt64
	}
	if exp == 0 {
		return sign + digits
	}
	if len(digits) <= exp {
		digits = strings.Repeat("0", exp-len(digits)+1) + digits
	}
	cut := len(digits) - exp
	return sign + digits[:cut] + "." + digits[cut:]
}

// FormatMoney writes an amount for people, in e-mails, notifications and invoices: the
// decimal of FormatAmount, a space, the code: "45.00 USD", "4500 JPY", "4.500 KWD".
func FormatMoney(minor int64, currency string) string {
	return FormatAmount(minor, currency) + " " + currency
}

// currencySymbols are the symbols written instead of the code by FormatMoneyIn; a
// currency without one is written with its code.
var currencySymbols = map[string]string{"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}

// FormatMoneyIn writes an amount for a person who reads lang (one of Languages; any
// other is DefaultLanguage): in English the symbol (or code and a space) before the
// grouped amount, "€1,234.50", "CHF 1,234.50"; in German the amount with German
// separators, a space and the symbol or code, "1.234,50 €", "1.234,50 CHF". The digits
// and the number of decimals are FormatAmount's, so it is exact for every int64.
func FormatMoneyIn(minor int64, currency, lang string) string {
	plain := FormatAmount(minor, currency)
	sign := ""
	if strings.HasPrefix(plain, "-") {
		sign, plain = "-", plain[1:]
	}
	whole, frac, hasFrac := strings.Cut(plain, ".")
	group, point := ",", "."
	if lang == "de" {
		group, point = ".", ","
	}
	var b strings.Builder
	for i, d := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteString(group)
		}
		b.WriteRune(d)
	}
	if hasFrac {
		b.WriteString(point + frac)
	}
	symbol, ok := currencySymbols[currency]
	if lang == "de" {
		if !ok {
			symbol = currency
		}
		return sign + b.String() + " " + symbol
	}
	if !ok {
		symbol = currency + " "
	}
	return sign + symbol + b.String()
}
