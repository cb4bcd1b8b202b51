package handlers

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// httpMetrics counts requests and their latency by method, route pattern and status.
type httpMetrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gigstream_http_requests_total",
			Help: "HTTP requests answered, by method, route pattern and status.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gigstream_http_request_duration_seconds",
			Help:    "HTTP request latency, by method and route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

// middleware observes every request. Routes are labelled by pattern, never by the raw
// path, so label cardinality stays bounded whatever clients send.
func (m *httpMetrics) middleware(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	status := c.Response().StatusCode()
	if err != nil {
		status = problemFor(err).Status
	}
	route := routeLabel(c)
	m.requests.WithLabelValues(c.Method(), route, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(c.Method(), route).Observe(time.Since(start).Seconds())
	return err
}

// routeLabel names the route pattern that served c, or "unmatched" when none did.
func routeLabel(c *fiber.Ctx) string {
	if c.Locals(localUnmatched) != nil {
		return "unmatched"
	}
	return c.Route().Path
}

// metricsHandler serves the Prometheus exposition of gatherer.
func metricsHandler(gatherer prometheus.Gatherer) fiber.Handler {
	return adaptor.HTTPHandler(promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}))
}
