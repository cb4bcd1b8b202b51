package main

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gigstream/hub/market"
)

// scriptedLedger answers the ledger check with each audit in turn, then fails.
type scriptedLedger struct {
	audits []market.LedgerAudit
	calls  atomic.Int32
}

func (s *scriptedLedger) LedgerAudit(context.Context) (market.LedgerAudit, error) {
	i := int(s.calls.Add(1)) - 1
	if i < len(s.audits) {
		return s.audits[i], nil
	}
	return market.LedgerAudit{}, errors.New("database gone")
}

// TestLedgerCheckExportsDrift: a sound ledger shows zeros and the time of the check;
// drift shows as the number of unbalanced currencies, overdrawn accounts and balances
// off their postings, and the imbalance per currency; a check that fails counts as a
// failure and leaves the last findings in place.
func TestLedgerCheckExportsDrift(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := newLedgerMetrics(reg)
	audits := &scriptedLedger{audits: []market.LedgerAudit{
		{OK: true, Currencies: []market.CurrencyTotal{{Currency: "USD"}}},
		{Currencies: []market.CurrencyTotal{{Currency: "USD", SumMinor: -250}, {Currency: "EUR"}},
			Overdrawn:  []market.AccountBalance{{Account: "seller:x:available", Currency: "USD", BalanceMinor: -250}},
			Mismatched: []market.AccountBalance{{}, {}}},
	}}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		runLedgerCheck(ctx, audits, m, 20*time.Millisecond, time.Second, slog.New(slog.DiscardHandler))
		close(done)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for testutil.ToFloat64(m.failures) < 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	got := map[string]float64{
		"unbalanced": testutil.ToFloat64(m.unbalanced), "overdrawn": testutil.ToFloat64(m.overdrawn),
		"mismatched": testutil.ToFloat64(m.mismatched), "usd": testutil.ToFloat64(m.imbalance.WithLabelValues("USD")),
		"eur": testutil.ToFloat64(m.imbalance.WithLabelValues("EUR")), "failures": testutil.ToFloat64(m.failures),
	}
	want := map[string]float64{"unbalanced": 1, "overdrawn": 1, "mismatched": 2, "usd": -250, "eur": 0, "failures": 1}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if last := testutil.ToFloat64(m.lastSuccess); time.Since(time.Unix(int64(last), 0)) > time.Minute {
		t.Errorf("last success %v is not the check's time", last)
	}
}
