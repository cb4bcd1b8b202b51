package hub

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the node's Prometheus instruments. They always exist, so the
// code never checks for nil; registering them is optional.
type metrics struct {
	connections      prometheus.Gauge
	subscriptions    prometheus.Gauge
	framesIn         prometheus.Counter
	framesOut        prometheus.Counter
	slowConsumers    prometheus.Counter
	disconnects      *prometheus.CounterVec
	brokerPublished  prometheus.Counter
	brokerReceived   prometheus.Counter
	brokerReconnects prometheus.Counter
	recoveries       *prometheus.CounterVec
	recentReads      *prometheus.CounterVec
	historyManyReads prometheus.Histogram
	authorizations   *prometheus.CounterVec
}

func newMetrics() *metrics {
	const ns, sub = "gigstream", "hub"
	gauge := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: name, Help: help})
	}
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: name, Help: help})
	}
	return &metrics{
		connections:      gauge("connections", "WebSocket connections currently open on this node."),
		subscriptions:    gauge("subscriptions", "Channel subscriptions currently held by sockets on this node."),
		framesIn:         counter("frames_in_total", "Client frames read."),
		framesOut:        counter("frames_out_total", "Server frames written."),
		slowConsumers:    counter("slow_consumer_disconnects_total", "Sockets closed because their send queue overflowed."),
		brokerPublished:  counter("broker_published_total", "Payloads published to the broker."),
		brokerReceived:   counter("broker_received_total", "Payloads received from the broker."),
		brokerReconnects: counter("broker_reconnects_total", "Broker reconnections that triggered a re-sync."),
		disconnects: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "disconnects_total", Help: "Sockets closed, by close code."}, []string{"code"}),
		recoveries: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "recovery_requests_total", Help: "History catch-ups, by kind (subscribe, gap, resync) and result."},
			[]string{"kind", "result"}),
		recentReads: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "recovery_kept_reads_total", Help: "Recoveries answered from the broker's kept events (hit) or left to History (miss)."},
			[]string{"result"}),
		historyManyReads: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub,
			Name: "recovery_history_batch_reads", Help: "History reads sent together in one HistoryMany call.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256}}),
		authorizations: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "subscribe_authorizations_total", Help: "Subscribe authorizations by result: allowed or refused by the Authorize callback, cached (allowed before, not asked), limited (over the socket's budget, not asked)."},
			[]string{"result"}),
	}
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.connections, m.subscriptions, m.framesIn, m.framesOut, m.slowConsumers,
		m.disconnects, m.brokerPublished, m.brokerReceived, m.brokerReconnects, m.recoveries, m.recentReads, m.historyManyReads,
		m.authorizations}
}

// register adds the metrics to r; a collector registered before (a second
// node in one process, a test) is an error.
func (m *metrics) register(r prometheus.Registerer) error {
	if r == nil {
		return nil
	}
	var errs []error
	for _, c := range m.collectors() {
		if err := r.Register(c); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("hub: register metrics: %w", err)
	}
	return nil
}
