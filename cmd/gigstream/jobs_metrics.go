package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/gigstream/hub/store"
)

// jobMetrics exports the background jobs to Prometheus, by queue and kind:
//
//   - gigstream_jobs_queued, gigstream_jobs_running, gigstream_jobs_retrying: jobs
//     available to run now, being worked, and waiting to be tried again after a failed
//     attempt. Read from Postgres every poll interval (not on scrape), so every node
//     reports the same cluster-wide numbers: aggregate them with max, not sum.
//   - gigstream_jobs_lag_seconds: how long the oldest job available to run has waited
//     (0 when none); cluster-wide like the above.
//   - gigstream_jobs_completed_total and gigstream_jobs_failures_total{final}: attempts
//     this node finished; final="true" when the job will not be tried again (it used its
//     last attempt, or was cancelled, as a timed-out video is).
//   - gigstream_jobs_run_seconds: how long this node's attempts ran.
type jobMetrics struct {
	db                        *store.DB
	log                       *slog.Logger
	queued, running, retrying *prometheus.GaugeVec
	lag                       *prometheus.GaugeVec
	completed, failures       *prometheus.CounterVec
	runSeconds                *prometheus.HistogramVec
	seen                      map[[2]string]bool
}

// jobKinds are the queue and kind of every job this binary queues, so their series
// exist (at 0) before the first job.
var jobKinds = [][2]string{
	{store.QueueMoney, settlementArgs{}.Kind()},
	{store.QueueMail, store.NotificationEmailJob{}.Kind()},
	{store.QueueMail, store.ChatEmailJob{}.Kind()},
	{store.QueuePush, store.ChatPushJob{}.Kind()},
	{store.QueuePush, store.NotificationPushJob{}.Kind()},
	{store.QueueMail, store.HeldPushJob{}.Kind()},
	{store.QueueMail, store.SavedSearchMatchJob{}.Kind()},
	{store.QueueMedia, store.VideoProbeJob{}.Kind()},
	{store.QueueMedia, store.VideoJob{}.Kind()},
	{store.QueueMedia, store.ObjectDeleteJob{}.Kind()},
}

// newJobMetrics registers the job metrics with reg.
func newJobMetrics(reg prometheus.Registerer, db *store.DB, log *slog.Logger) (*jobMetrics, error) {
	labels := []string{"queue", "kind"}
	gauge := func(name, help string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	}
	m := &jobMetrics{
		db: db, log: log, seen: map[[2]string]bool{},
		queued:   gauge("gigstream_jobs_queued", "Jobs available to run now, across the cluster."),
		running:  gauge("gigstream_jobs_running", "Jobs being worked, across the cluster."),
		retrying: gauge("gigstream_jobs_retrying", "Jobs waiting to be tried again after a failed attempt, across the cluster."),
		lag:      gauge("gigstream_jobs_lag_seconds", "How long the oldest job available to run has waited, across the cluster."),
		completed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gigstream_jobs_completed_total", Help: "Job attempts this node completed.",
		}, labels),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gigstream_jobs_failures_total", Help: "Job attempts this node finished with an error; final=true when the job will not run again.",
		}, append(labels, "final")),
		runSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gigstream_jobs_run_seconds", Help: "How long this node's job attempts ran.",
			Buckets: []float64{0.01, 0.05, 0.25, 1, 5, 30, 120, 600, 1800, 3600},
		}, labels),
	}
	for _, c := range []prometheus.Collector{m.queued, m.running, m.retrying, m.lag, m.completed, m.failures, m.runSeconds} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	for _, qk := range jobKinds {
		m.zero(qk)
		m.completed.WithLabelValues(qk[0], qk[1])
		m.failures.WithLabelValues(qk[0], qk[1], "false")
		m.failures.WithLabelValues(qk[0], qk[1], "true")
	}
	return m, nil
}

// jobEvents are the river events the metrics count.
var jobEvents = []river.EventKind{river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled}

// run counts the events until ctx ends or events closes, and refreshes the backlog
// every interval.
func (m *jobMetrics) run(ctx context.Context, events <-chan *river.Event, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	m.refresh(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			m.count(ev)
		case <-tick.C:
			m.refresh(ctx)
		}
	}
}

// count records one finished attempt.
func (m *jobMetrics) count(ev *river.Event) {
	if ev.Job == nil {
		return
	}
	q, k := ev.Job.Queue, ev.Job.Kind
	if ev.JobStats != nil {
		m.runSeconds.WithLabelValues(q, k).Observe(ev.JobStats.RunDuration.Seconds())
	}
	switch {
	case ev.Kind == river.EventKindJobCompleted:
		m.completed.WithLabelValues(q, k).Inc()
	case ev.Kind == river.EventKindJobCancelled || ev.Job.State == rivertype.JobStateDiscarded:
		m.failures.WithLabelValues(q, k, "true").Inc()
	default:
		m.failures.WithLabelValues(q, k, "false").Inc()
	}
}

// refresh reads the backlog from Postgres; a series that had jobs and has none now goes
// back to 0. A failed read keeps the last numbers and is logged.
func (m *jobMetrics) refresh(ctx context.Context) {
	readCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	stats, err := m.db.JobQueueStats(readCtx)
	if err != nil {
		if ctx.Err() == nil { // not shutting down
			m.log.WarnContext(ctx, "job metrics not refreshed", "err", err)
		}
		return
	}
	now := map[[2]string]bool{}
	for _, s := range stats {
		qk := [2]string{s.Queue, s.Kind}
		now[qk] = true
		m.seen[qk] = true
		m.queued.WithLabelValues(s.Queue, s.Kind).Set(float64(s.Queued))
		m.running.WithLabelValues(s.Queue, s.Kind).Set(float64(s.Running))
		m.retrying.WithLabelValues(s.Queue, s.Kind).Set(float64(s.Retrying))
		m.lag.WithLabelValues(s.Queue, s.Kind).Set(s.Lag)
	}
	for qk := range m.seen {
		if !now[qk] {
			m.zero(qk)
		}
	}
}

// zero sets the backlog series of one queue and kind to 0.
func (m *jobMetrics) zero(qk [2]string) {
	m.seen[qk] = true
	for _, g := range []*prometheus.GaugeVec{m.queued, m.running, m.retrying, m.lag} {
		g.WithLabelValues(qk[0], qk[1]).Set(0)
	}
}
