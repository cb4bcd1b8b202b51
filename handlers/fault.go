package handlers

import (
	"context"
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// FaultReporter sends server faults to error tracking (Sentry, in cmd/). It must not
// block on the network.
type FaultReporter interface {
	ReportFault(ctx context.Context, f Fault)
}

// Fault is one server fault the HTTP layer saw: a request answered with a 5xx (other
// than a deliberate 503), or a panic in a handler or a socket.
type Fault struct {
	Err    error
	Panic  bool
	Stack  []uintptr // where it happened, innermost first (runtime.Callers); nil for none
	Source string    // "http" or "socket"
	// RequestID, Method, Route and Status describe the request; empty for a socket.
	RequestID, Method, Route string
	Status                   int
	UserID                   string // the signed-in user's id; the only personal data sent
}

// noFaults reports nothing (Deps.Faults unset).
type noFaults struct{}

func (noFaults) ReportFault(context.Context, Fault) {}

func orNoFaults(r FaultReporter) FaultReporter {
	if r == nil {
		return noFaults{}
	}
	return r
}

// reportable says which error answers are faults worth a report: every 5xx but 503,
// which the hub answers on purpose (overload, a dependency down) and counts in metrics.
func reportable(status int) bool {
	return status >= fiber.StatusInternalServerError && status != fiber.StatusServiceUnavailable
}

// requestFault describes the failed request c for the reporter. The strings are
// copied: Fiber reuses its buffers once the request ends, and reports leave later.
func requestFault(c *fiber.Ctx, err error, status int) Fault {
	f := Fault{Err: err, Source: "http", RequestID: requestID(c), Method: methodLabel(c.Method()),
		Route: strings.Clone(routeLabel(c)), Status: status}
	if u, ok := currentUser(c); ok {
		f.UserID = strings.Clone(u.ID)
	}
	var pe *PanicError
	if errors.As(err, &pe) {
		f.Panic, f.Stack = true, pe.Callers
	}
	return f
}

// faultRoutes are test hooks for error reporting (Config.FaultRoutes): a panic and a
// plain 500, each behind the session middleware so the report carries the user.
func faultRoutes(app *fiber.App) {
	app.Get("/debug/fault/panic", func(*fiber.Ctx) error { panic("fault route: deliberate panic") })
	app.Get("/debug/fault/error", func(*fiber.Ctx) error { return errors.New("fault route: deliberate server error") })
}
