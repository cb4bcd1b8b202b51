package handlers

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCurrenciesListsEachExponent(t *testing.T) {
	resp, body := do(t, newTestApp(t, Config{}), httptest.NewRequest("GET", "/currencies", nil))
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	for _, want := range []string{`{"code":"KWD","exponent":3}`, `{"code":"JPY","exponent":0}`, `{"code":"USD","exponent":2}`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("GET /currencies lacks %s", want)
		}
	}
}
