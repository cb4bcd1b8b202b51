package handlers

import (
	"strconv"
	"strings"
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
	method, route := methodLabel(c.Method()), strings.Clone(routeLabel(c))
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(method, route).Observe(time.Since(start).Seconds())
	return err
}

// methodLabel returns a constant string for each standard method and "OTHER" for
// anything else. Fiber's c.Method() shares a buffer that the server reuses for the next
// request, and the registry keeps label values for as long as it lives, so the label
// must never be that string; mapping to constants also bounds the label's values
// whatever methods clients invent.
func methodLabel(method string) string {
	for _, m := range standardMethods {
		if method == m {
			return m
		}
	}
	return "OTHER"
}

var standardMethods = [...]string{
	fiber.MethodGet, fiber.MethodHead, fiber.MethodPost, fiber.MethodPut, fiber.MethodPatch,
	fiber.MethodDelete, fiber.MethodOptions, fiber.MethodConnect, fiber.MethodTrace,
}

// routeLabel names the route pattern that served c, or "unmatched" when none did. The
// string may share the request's buffers: copy it before keeping it.
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
