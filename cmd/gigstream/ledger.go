package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gigstream/hub/market"
)

// ledgerAuditor is the live ledger check (store.DB.LedgerAudit).
type ledgerAuditor interface {
	LedgerAudit(ctx context.Context) (market.LedgerAudit, error)
}

// ledgerMetrics are the results of the last ledger check, as gauges: reconciliation
// drift for Prometheus to alert on. Each is 0 when the ledger is sound (and before the
// first check), so a node that cannot check raises no false drift; the last success's
// time shows a check that stopped running.
type ledgerMetrics struct {
	overdrawn, mismatched, unbalanced, lastSuccess prometheus.Gauge
	imbalance                                      *prometheus.GaugeVec
	failures                                       prometheus.Counter
}

func newLedgerMetrics(reg prometheus.Registerer) *ledgerMetrics {
	gauge := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	}
	m := &ledgerMetrics{
		overdrawn:   gauge("gigstream_ledger_overdrawn_accounts", "Accounts other than the outside world's with a negative balance at the last check."),
		mismatched:  gauge("gigstream_ledger_mismatched_balances", "Kept balances that differ from the sum of their postings at the last check."),
		unbalanced:  gauge("gigstream_ledger_unbalanced_currencies", "Currencies whose postings do not sum to zero at the last check."),
		lastSuccess: gauge("gigstream_ledger_check_last_success_timestamp_seconds", "When the ledger check last ran to the end (Unix time)."),
		imbalance: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "gigstream_ledger_imbalance_minor",
			Help: "Sum of all postings per currency, in minor units, at the last check; anything but 0 is drift."}, []string{"currency"}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{Name: "gigstream_ledger_check_failures_total",
			Help: "Ledger checks that could not run (the database failed or timed out)."}),
	}
	reg.MustRegister(m.overdrawn, m.mismatched, m.unbalanced, m.lastSuccess, m.imbalance, m.failures)
	return m
}

// record sets the gauges from one check's result.
func (m *ledgerMetrics) record(a market.LedgerAudit, now time.Time) {
	unbalanced := 0
	m.imbalance.Reset()
	for _, c := range a.Currencies {
		m.imbalance.WithLabelValues(c.Currency).Set(float64(c.SumMinor))
		if c.SumMinor != 0 {
			unbalanced++
		}
	}
	m.unbalanced.Set(float64(unbalanced))
	m.overdrawn.Set(float64(len(a.Overdrawn)))
	m.mismatched.Set(float64(len(a.Mismatched)))
	m.lastSuccess.Set(float64(now.Unix()))
}

// runLedgerCheck checks the ledger at once and then every interval until ctx ends,
// each check within timeout. Every node runs it: the check is three aggregate queries
// over the postings, and a gauge per node keeps working whichever nodes are up.
func runLedgerCheck(ctx context.Context, audit ledgerAuditor, m *ledgerMetrics, interval, timeout time.Duration, log *slog.Logger) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		checkCtx, cancel := context.WithTimeout(ctx, timeout)
		a, err := audit.LedgerAudit(checkCtx)
		cancel()
		switch {
		case err != nil && ctx.Err() == nil:
			m.failures.Inc()
			log.WarnContext(ctx, "ledger check failed", "err", err)
		case err == nil:
			m.record(a, time.Now())
			if !a.OK {
				log.ErrorContext(ctx, "ledger check found drift", "currencies", a.Currencies, "overdrawn", len(a.Overdrawn), "mismatched", len(a.Mismatched))
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// ledgerCheckConfig is how often each node checks the ledger (LEDGER_CHECK_INTERVAL;
// 0 turns the check off) and how long one check may take (LEDGER_CHECK_TIMEOUT).
type ledgerCheckConfig struct{ Interval, Timeout time.Duration }

// loadLedgerCheckConfig reads the ledger check's settings.
func loadLedgerCheckConfig(e *envReader, c *config) {
	c.LedgerCheck = ledgerCheckConfig{
		Interval: e.duration("LEDGER_CHECK_INTERVAL", 10*time.Minute, 0, 24*time.Hour),
		Timeout:  e.duration("LEDGER_CHECK_TIMEOUT", time.Minute, time.Second, time.Hour),
	}
	if i := c.LedgerCheck.Interval; i != 0 && i < 10*time.Second {
		e.fail("LEDGER_CHECK_INTERVAL", "0 (off) or at least 10s", i.String())
	}
}

// startLedgerCheck exports the ledger check's results to reg and runs it until ctx
// ends; nothing when the check is off.
func startLedgerCheck(ctx context.Context, cfg config, audit ledgerAuditor, reg prometheus.Registerer, log *slog.Logger) {
	if cfg.LedgerCheck.Interval == 0 {
		return
	}
	go runLedgerCheck(ctx, audit, newLedgerMetrics(reg), cfg.LedgerCheck.Interval, cfg.LedgerCheck.Timeout, log)
}
