package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"golang.org/x/sync/errgroup"

	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/payments"
	"github.com/gigstream/hub/store"
)

// reconciliationConfig is the reconciliation with Stripe and PayPal: how often it runs
// (RECONCILE_INTERVAL; 0 turns the periodic run off, admins can still run it),
// which objects it compares (RECONCILE_WINDOW: those created this long ago at most)
// and how long one run may take (RECONCILE_TIMEOUT).
type reconciliationConfig struct{ Interval, Window, Timeout time.Duration }

// loadReconciliationConfig reads the reconciliation's settings.
func loadReconciliationConfig(e *envReader, c *config) {
	c.Reconciliation = reconciliationConfig{
		Interval: e.duration("RECONCILE_INTERVAL", time.Hour, 0, 7*24*time.Hour),
		Window:   e.duration("RECONCILE_WINDOW", 30*24*time.Hour, time.Hour, 400*24*time.Hour),
		Timeout:  e.duration("RECONCILE_TIMEOUT", 10*time.Minute, time.Second, 2*time.Hour),
	}
	if i := c.Reconciliation.Interval; i != 0 && i < time.Minute {
		e.fail("RECONCILE_INTERVAL", "0 (off) or at least 1m", i.String())
	}
}

// newReconciliation builds the reconciliation of the ledger with Stripe's balance
// transactions and, when PayPal is configured, with PayPal's orders and payout
// batches.
func newReconciliation(cfg config, db *store.DB) (*market.Reconciliation, error) {
	client, err := payments.NewStripeClient(payments.StripeConfig{SecretKey: string(cfg.Stripe.SecretKey), APIBase: cfg.Stripe.APIBase,
		Timeout: time.Minute, Transport: providerTransport(cfg, "stripe")})
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	listed := []market.ProviderLedger{stripeLedger{payments.NewBalanceLines(client.V1BalanceTransactions, 0)}}
	pp, err := newPayPal(cfg.PayPal, providerHTTP(cfg, "paypal", time.Minute))
	if err != nil {
		return nil, err
	}
	var byObject []market.ObjectLedger
	if pp != nil {
		byObject = append(byObject, paypalLedger{client: pp, max: 20_000, parallel: 4})
	}
	return market.NewReconciliation(db, cfg.Reconciliation.Window, listed, byObject), nil
}

// stripeLedger adapts Stripe's balance lines to the domain: currencies in upper case
// and amounts in GigStream's minor units (ISO 4217 exponents).
type stripeLedger struct{ lines *payments.BalanceLines }

// Provider names Stripe.
func (stripeLedger) Provider() string { return market.ProviderStripe }

// Lines lists Stripe's lines since since in GigStream's units. A line in a currency
// GigStream does not know, or in an amount Stripe's unit cannot express in it, is an
// error: the run records nothing rather than a wrong figure.
func (s stripeLedger) Lines(ctx context.Context, since time.Time) ([]market.ProviderLine, error) {
	lines, err := s.lines.Lines(ctx, since)
	if err != nil {
		return nil, err
	}
	out := make([]market.ProviderLine, 0, len(lines))
	for _, l := range lines {
		cur := strings.ToUpper(l.Currency)
		exp, ok := market.CurrencyExponent(cur)
		if !ok {
			return nil, fmt.Errorf("stripe balance transaction %s: unknown currency %q", l.LineRef, l.Currency)
		}
		sign, amount := int64(1), l.Amount
		if amount < 0 {
			sign, amount = -1, -amount
		}
		minor, err := payments.FromStripeAmount(amount, cur, exp)
		if err != nil {
			return nil, fmt.Errorf("stripe balance transaction %s: %w", l.LineRef, err)
		}
		out = append(out, market.ProviderLine{Kind: l.Kind, ObjectRef: l.ObjectRef, LineRef: l.LineRef,
			AmountMinor: sign * minor, Currency: cur, At: l.Created})
	}
	return out, nil
}

// paypalLedger reads PayPal's records of the objects GigStream made there: each
// PayPal order (GET /v2/checkout/orders/{id}: its captures and refunds) and each
// payout batch (GET /v1/payments/payouts/{id}: its item), parallel at a time. One
// GET per object keeps the attribution exact and current; PayPal's Transaction
// Search lists by date but lags up to three hours and names our objects only through
// event codes and custom fields (README, Money).
type paypalLedger struct {
	client   *payments.PayPal
	max      int // objects per run; more is a configuration mistake (shorten RECONCILE_WINDOW)
	parallel int
}

// Provider names PayPal.
func (paypalLedger) Provider() string { return market.ProviderPayPal }

// LinesOf reads every payment and payout object of objects at PayPal. It fails when
// there are more than max, or when any read fails (the run records nothing then).
func (l paypalLedger) LinesOf(ctx context.Context, objects []market.ReconcileObject) ([]market.ProviderLine, error) {
	if len(objects) > l.max {
		return nil, fmt.Errorf("%d PayPal objects in the window, more than %d; shorten RECONCILE_WINDOW", len(objects), l.max)
	}
	results := make([][]payments.PayPalLine, len(objects))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(l.parallel)
	for i, o := range objects {
		g.Go(func() error {
			var err error
			switch o.Kind {
			case market.ReconcilePayment:
				results[i], err = l.client.OrderLines(gctx, o.ObjectRef)
			case market.ReconcilePayout:
				results[i], err = l.client.PayoutLines(gctx, o.ObjectRef)
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var out []market.ProviderLine
	for _, lines := range results {
		for _, pl := range lines {
			out = append(out, market.ProviderLine{Kind: pl.Kind, ObjectRef: pl.ObjectRef, LineRef: pl.LineRef,
				AmountMinor: pl.Amount, Currency: strings.ToUpper(pl.Currency), At: pl.Created})
		}
	}
	return out, nil
}

// reconciliationArgs is the periodic reconciliation; River's leader inserts it once
// per interval for the whole cluster.
type reconciliationArgs struct{}

// Kind names the job in river.
func (reconciliationArgs) Kind() string { return "reconciliation" }

// reconciliationWorker runs reconciliationArgs within its timeout.
type reconciliationWorker struct {
	river.WorkerDefaults[reconciliationArgs]
	rec     *market.Reconciliation
	timeout time.Duration
	log     *slog.Logger
}

// Timeout bounds one run.
func (w *reconciliationWorker) Timeout(*river.Job[reconciliationArgs]) time.Duration {
	return w.timeout
}

// Work reconciles every provider and logs what differs; an error (a provider that
// could not be read) makes river retry it.
func (w *reconciliationWorker) Work(ctx context.Context, _ *river.Job[reconciliationArgs]) error {
	runs, err := w.rec.Run(ctx, "")
	for _, run := range runs {
		level := slog.LevelInfo
		if len(run.Differences) > 0 {
			level = slog.LevelWarn
		}
		w.log.Log(ctx, level, "reconciliation run", "provider", run.Provider, "lines", run.ProviderLines,
			"compared", run.Compared, "differences", len(run.Differences), "resolved", run.Resolved, "outside_window", run.OutsideWindow)
	}
	return err
}

// reconciliationJob registers the worker and, unless the interval is 0, its periodic
// schedule, in the money queue.
func reconciliationJob(workers *river.Workers, rec *market.Reconciliation, rc reconciliationConfig, log *slog.Logger) []*river.PeriodicJob {
	river.AddWorker(workers, &reconciliationWorker{rec: rec, timeout: rc.Timeout, log: log})
	if rc.Interval == 0 {
		return nil
	}
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(rc.Interval),
		func() (river.JobArgs, *river.InsertOpts) {
			return reconciliationArgs{}, &river.InsertOpts{Queue: store.QueueMoney, MaxAttempts: 3,
				UniqueOpts: river.UniqueOpts{ByPeriod: rc.Interval}}
		}, nil)}
}

// reconciliationSummer reads the open differences (store.DB.ReconciliationSummary).
type reconciliationSummer interface {
	ReconciliationSummary(ctx context.Context) ([]market.ReconciliationSummary, error)
}

// reconciliationMetrics are the open differences as gauges, read by every node on the
// ledger check's schedule, so any node's /metrics shows the drift whichever node ran
// the reconciliation.
type reconciliationMetrics struct {
	open, drift *prometheus.GaugeVec
}

func newReconciliationMetrics(reg prometheus.Registerer) *reconciliationMetrics {
	m := &reconciliationMetrics{
		open: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "gigstream_reconciliation_open_differences",
			Help: "Provider objects whose amount in the ledger differs from the provider's records (open differences)."}, []string{"provider", "currency"}),
		drift: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "gigstream_reconciliation_drift_minor",
			Help: "Sum of |ledger − provider| over the open differences, in minor units."}, []string{"provider", "currency"}),
	}
	reg.MustRegister(m.open, m.drift)
	return m
}

// record sets the gauges from a summary.
func (m *reconciliationMetrics) record(sum []market.ReconciliationSummary) {
	m.open.Reset()
	m.drift.Reset()
	for _, s := range sum {
		m.open.WithLabelValues(s.Provider, s.Currency).Set(float64(s.Open))
		m.drift.WithLabelValues(s.Provider, s.Currency).Set(float64(s.DriftMinor))
	}
}

// startReconciliationMetrics reads the summary at once and then every interval until
// ctx ends, each read within timeout; nothing when interval is 0.
func startReconciliationMetrics(ctx context.Context, db reconciliationSummer, reg prometheus.Registerer, interval, timeout time.Duration, log *slog.Logger) {
	if interval == 0 {
		return
	}
	m := newReconciliationMetrics(reg)
	go func() {
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			readCtx, cancel := context.WithTimeout(ctx, timeout)
			sum, err := db.ReconciliationSummary(readCtx)
			cancel()
			if err == nil {
				m.record(sum)
			} else if ctx.Err() == nil {
				log.WarnContext(ctx, "reconciliation summary failed", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
}
