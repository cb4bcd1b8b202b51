package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gigstream/hub/store"
)

// poolMetrics exports the database connection pool of this node, read on each scrape:
// gigstream_db_pool_max_open, _open, _in_use and _idle (connections), _waits_total and
// _wait_seconds_total (statements that had to wait for a connection, and for how long
// in all) and _acquire_timeouts_total (waits that ran out of DB_ACQUIRE_TIMEOUT and
// were answered 503). A pool whose in_use sits at max_open while waits climb is
// saturated.
type poolMetrics struct {
	db    *store.DB
	descs map[string]*prometheus.Desc
}

// newPoolMetrics registers the pool metrics of db with reg.
func newPoolMetrics(reg prometheus.Registerer, db *store.DB) error {
	m := &poolMetrics{db: db, descs: map[string]*prometheus.Desc{}}
	for name, help := range map[string]string{
		"max_open":               "The most connections the pool may open (DB_MAX_OPEN).",
		"open":                   "Connections open now, in use or idle.",
		"in_use":                 "Connections running a statement or transaction now.",
		"idle":                   "Open connections waiting in the pool.",
		"waits_total":            "Statements that waited for a free connection.",
		"wait_seconds_total":     "Time statements spent waiting for a free connection.",
		"acquire_timeouts_total": "Waits for a connection that ran out of DB_ACQUIRE_TIMEOUT (answered 503).",
	} {
		m.descs[name] = prometheus.NewDesc("gigstream_db_pool_"+name, help, nil, nil)
	}
	return reg.Register(m)
}

// Describe sends every metric's description.
func (m *poolMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range m.descs {
		ch <- d
	}
}

// Collect reads the pool's statistics now.
func (m *poolMetrics) Collect(ch chan<- prometheus.Metric) {
	s := m.db.PoolStats()
	gauge := func(name string, v float64) {
		ch <- prometheus.MustNewConstMetric(m.descs[name], prometheus.GaugeValue, v)
	}
	counter := func(name string, v float64) {
		ch <- prometheus.MustNewConstMetric(m.descs[name], prometheus.CounterValue, v)
	}
	gauge("max_open", float64(s.MaxOpenConnections))
	gauge("open", float64(s.OpenConnections))
	gauge("in_use", float64(s.InUse))
	gauge("idle", float64(s.Idle))
	counter("waits_total", float64(s.WaitCount))
	counter("wait_seconds_total", s.WaitDuration.Seconds())
	counter("acquire_timeouts_total", float64(s.AcquireTimeouts))
}
