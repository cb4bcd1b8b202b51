package handlers

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/gigstream/hub/market"
)

type recordedFaults struct {
	mu     sync.Mutex
	faults []Fault
}

func (r *recordedFaults) ReportFault(_ context.Context, f Fault) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.faults = append(r.faults, f)
}

// TestServerFaultsAreReported: a panic and a plain 500 are reported with the request
// id, method, route pattern, status and the signed-in user's id, the panic with the
// stack down to the handler; 4xx answers and deliberate 503s are not reported.
func TestServerFaultsAreReported(t *testing.T) {
	rec := &recordedFaults{}
	app := fiber.New(fiber.Config{ErrorHandler: errorHandler(slog.New(slog.NewJSONHandler(io.Discard, nil)), rec)})
	app.Use(withRequestID, recoverPanics, func(c *fiber.Ctx) error {
		c.Locals(localUser, market.User{ID: "user-7", Email: "someone@example.test"})
		return c.Next()
	})
	app.Get("/boom/:id", panickingRoute)
	app.Get("/fail", func(*fiber.Ctx) error { return errors.New("disk on fire") })
	app.Get("/busy", func(*fiber.Ctx) error { return &market.Error{Code: market.CodeUnavailable, Message: "busy"} })
	app.Get("/bad", func(*fiber.Ctx) error { return &market.Error{Code: market.CodeInvalid, Field: "x", Message: "bad"} })
	for _, path := range []string{"/boom/1", "/fail", "/busy", "/bad"} {
		do(t, app, httptest.NewRequest("GET", path, nil))
	}
	if len(rec.faults) != 2 {
		t.Fatalf("reported %d faults, want the panic and the 500 only: %+v", len(rec.faults), rec.faults)
	}
	p, fail := rec.faults[0], rec.faults[1]
	if !p.Panic || p.Route != "/boom/:id" || p.Method != "GET" || p.Status != 500 || p.UserID != "user-7" ||
		p.RequestID == "" || p.Source != "http" || !strings.Contains(p.Err.Error(), "footing") {
		t.Fatalf("panic fault %+v", p)
	}
	if !stackHas(p.Stack, "handlers.panickingRoute") {
		t.Fatal("the panic's stack does not reach the handler that panicked")
	}
	if fail.Panic || fail.Route != "/fail" || fail.Status != 500 || fail.UserID != "user-7" || fail.Stack != nil {
		t.Fatalf("error fault %+v", fail)
	}
}

func stackHas(pcs []uintptr, function string) bool {
	frames := runtimeFrames(pcs)
	for _, f := range frames {
		if strings.HasSuffix(f, function) {
			return true
		}
	}
	return false
}

func runtimeFrames(pcs []uintptr) []string {
	var out []string
	it := runtime.CallersFrames(pcs)
	for {
		f, more := it.Next()
		out = append(out, f.Function)
		if !more {
			return out
		}
	}
}
