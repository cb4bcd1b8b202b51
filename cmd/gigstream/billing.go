package main

import (
	"strconv"
	"strings"

	"github.com/gigstream/hub/market"
)

// loadBillingConfig reads the buyer's service fee, the tax rates and the issuer of
// invoices.
func loadBillingConfig(e *envReader, c *config) {
	c.Billing = market.BillingConfig{
		ServiceFeeBPS: e.integer("SERVICE_FEE_BPS", 0, 0, 10_000),
		ServiceFeeMin: map[string]int64{},
		TaxRates:      map[string]int{},
		Issuer: market.Issuer{
			Name:    e.str("INVOICE_ISSUER_NAME", "GigStream"),
			Address: strings.ReplaceAll(e.str("INVOICE_ISSUER_ADDRESS", ""), ";", "\n"),
			Country: strings.ToUpper(e.str("INVOICE_ISSUER_COUNTRY", "")),
			TaxID:   e.str("INVOICE_ISSUER_TAX_ID", ""),
		},
	}
	if cc := c.Billing.Issuer.Country; cc != "" && !market.IsCountry(cc) {
		e.fail("INVOICE_ISSUER_COUNTRY", "an ISO 3166-1 alpha-2 country code", cc)
	}
	for _, kv := range e.list("SERVICE_FEE_MIN") {
		code, n, ok := keyedInt(kv)
		if !ok || !market.IsCurrency(code) || n < 0 {
			e.fail("SERVICE_FEE_MIN", "CUR:minor units pairs, such as USD:200,JPY:300", kv)
			continue
		}
		c.Billing.ServiceFeeMin[code] = n
	}
	for _, kv := range e.list("TAX_RATES") {
		code, n, ok := keyedInt(kv)
		if !ok || !market.IsCountry(code) || n < 0 || n > 10_000 {
			e.fail("TAX_RATES", "COUNTRY:basis points pairs (0…10000), such as DE:1900,FR:2000", kv)
			continue
		}
		c.Billing.TaxRates[code] = int(n)
	}
}

// keyedInt splits "KEY:123" into an upper-case key and its integer.
func keyedInt(kv string) (string, int64, bool) {
	k, v, ok := strings.Cut(kv, ":")
	if !ok {
		return "", 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	return strings.ToUpper(strings.TrimSpace(k)), n, err == nil
}
