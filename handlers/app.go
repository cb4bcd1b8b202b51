// Package handlers is the hub's HTTP surface: Fiber routes and middleware. Handlers are
// thin: decode, authorize, call a use case, encode; errors become problem+json in one place.
package handlers

import (
	"crypto/subtle"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gigstream/hub/docs"
)

// Config tunes the HTTP layer. The zero value means the documented defaults.
type Config struct {
	BodyLimit    int           // largest request body in bytes; default 1 MiB
	ReadTimeout  time.Duration // default 30 s
	WriteTimeout time.Duration // default 30 s
	IdleTimeout  time.Duration // keep-alive idle time; default 120 s
	CheckTimeout time.Duration // per readiness probe; default 2 s
	MetricsToken string        // when set, /metrics requires this bearer token
}

// Deps are the collaborators the routes use, built in cmd/.
type Deps struct {
	Log      *slog.Logger
	Registry *prometheus.Registry // receives the HTTP metrics and serves /metrics
	Checks   []Check              // readiness probes, one per dependency
}

// New builds the Fiber app with every middleware and route.
func New(cfg Config, d Deps) *fiber.App {
	app := fiber.New(fiber.Config{
		AppName:               "gigstream",
		BodyLimit:             orInt(cfg.BodyLimit, 1<<20),
		ReadTimeout:           orDuration(cfg.ReadTimeout, 30*time.Second),
		WriteTimeout:          orDuration(cfg.WriteTimeout, 30*time.Second),
		IdleTimeout:           orDuration(cfg.IdleTimeout, 120*time.Second),
		ErrorHandler:          errorHandler(d.Log),
		DisableStartupMessage: true,
	})
	metrics := newHTTPMetrics(d.Registry)
	app.Use(withRequestID, withAccessLog(d.Log), metrics.middleware)
	app.Use(recover.New())
	routes(app, cfg, d)
	app.Use(notFound)
	return app
}

const localUnmatched = "unmatched"

// notFound answers any request no route took.
func notFound(c *fiber.Ctx) error {
	c.Locals(localUnmatched, true)
	return newProblem(fiber.StatusNotFound, "No route matches "+c.Method()+" "+c.Path()+".")
}

// routes lists every route of the hub; docs/openapi.yaml must describe each one.
func routes(app *fiber.App, cfg Config, d Deps) {
	app.Get("/healthz", healthz)
	app.Get("/readyz", readyz(d.Checks, orDuration(cfg.CheckTimeout, 2*time.Second)))
	app.Get("/metrics", requireBearer(cfg.MetricsToken), metricsHandler(d.Registry))
	app.Get("/openapi.yaml", openAPI)
}

// openAPI serves the embedded API description.
func openAPI(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, "application/yaml")
	return c.Send(docs.OpenAPI)
}

// requireBearer guards a route with a static token; an empty token leaves it open.
func requireBearer(token string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if token == "" {
			return c.Next()
		}
		got := []byte(c.Get(fiber.HeaderAuthorization))
		want := []byte("Bearer " + token)
		if subtle.ConstantTimeCompare(got, want) != 1 {
			return newProblem(fiber.StatusUnauthorized, "A valid bearer token is required.")
		}
		return c.Next()
	}
}

func orInt(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

func orDuration(v, def time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	return def
}
