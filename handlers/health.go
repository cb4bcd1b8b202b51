package handlers

import (
	"context"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Check is one dependency that readiness depends on, such as Postgres or clamd.
type Check struct {
	Name string
	Ping func(ctx context.Context) error
}

// checkResult is how one dependency answered a readiness probe. LatencyMS and Error
// are operators' details: only a caller with the metrics token sees them.
type checkResult struct {
	Status    string   `json:"status"`
	LatencyMS *float64 `json:"latency_ms,omitempty"`
	Error     string   `json:"error,omitempty"`
}

type readiness struct {
	Status string                 `json:"status"`
	Checks map[string]checkResult `json:"checks"`
}

// healthz answers while the process is alive; it checks nothing else.
func healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

// readyz checks every dependency at once, each within timeout, and answers 503 while
// any of them is down, naming which. How long each took and why it failed (error
// strings name hosts and ports) are shown only to a caller with the metrics token, or
// to anyone when there is none (development; production requires one).
func readyz(checks []Check, timeout time.Duration, metricsToken string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		ctx, cancel := context.WithTimeout(c.UserContext(), timeout)
		defer cancel()
		rep := runChecks(ctx, checks)
		if rep.Status != "ready" {
			c.Status(fiber.StatusServiceUnavailable)
		}
		if metricsToken != "" && !hasBearer(c, metricsToken) {
			for name, res := range rep.Checks {
				rep.Checks[name] = checkResult{Status: res.Status}
			}
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.JSON(rep)
	}
}

func runChecks(ctx context.Context, checks []Check) readiness {
	rep := readiness{Status: "ready", Checks: make(map[string]checkResult, len(checks))}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, ch := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := runCheck(ctx, ch)
			mu.Lock()
			defer mu.Unlock()
			rep.Checks[ch.Name] = res
			if res.Status != "up" {
				rep.Status = "unready"
			}
		}()
	}
	wg.Wait()
	return rep
}

func runCheck(ctx context.Context, ch Check) checkResult {
	start := time.Now()
	err := ch.Ping(ctx)
	ms := float64(time.Since(start).Microseconds()) / 1000
	res := checkResult{Status: "up", LatencyMS: &ms}
	if err != nil {
		res.Status, res.Error = "down", err.Error()
	}
	return res
}
