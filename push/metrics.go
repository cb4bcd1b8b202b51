package push

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// emailMetrics counts SMTP sends by result. With a nil Registerer the
// counters exist but are registered nowhere, so callers never check for nil.
type emailMetrics struct {
	sent, failed, suppressed prometheus.Counter
}

func newEmailMetrics(reg prometheus.Registerer) *emailMetrics {
	vec := registerCounterVec(reg, prometheus.CounterOpts{
		Name: "gigstream_push_emails_total",
		Help: "Emails handed to the SMTP server (sent), not (failed), or not sent to an address that bounced or complained (suppressed).",
	})
	return &emailMetrics{sent: vec.WithLabelValues("sent"), failed: vec.WithLabelValues("failed"),
		suppressed: vec.WithLabelValues("suppressed")}
}

// registerCounterVec registers a {result} counter vector, reusing the one
// already registered under the same name so that two mailers or senders can
// share one registry.
func registerCounterVec(reg prometheus.Registerer, opts prometheus.CounterOpts) *prometheus.CounterVec {
	vec := prometheus.NewCounterVec(opts, []string{"result"})
	if reg == nil {
		return vec
	}
	if err := reg.Register(vec); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
				return existing
			}
		}
	}
	return vec
}

// pushMetrics counts FCM outcomes per device message, plus whole
// notifications dropped because the queue was full or closed.
type pushMetrics struct {
	sent, failed, pruned, retried, dropped prometheus.Counter
}

func newPushMetrics(reg prometheus.Registerer) *pushMetrics {
	vec := registerCounterVec(reg, prometheus.CounterOpts{
		Name: "gigstream_push_notifications_total",
		Help: "FCM outcomes: sent, failed (gave up), pruned (dead token deleted), retried, dropped (queue full).",
	})
	return &pushMetrics{
		sent:    vec.WithLabelValues("sent"),
		failed:  vec.WithLabelValues("failed"),
		pruned:  vec.WithLabelValues("pruned"),
		retried: vec.WithLabelValues("retried"),
		dropped: vec.WithLabelValues("dropped"),
	}
}
