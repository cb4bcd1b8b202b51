package handlers

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
)

func panickingRoute(*fiber.Ctx) error { panic("the handler lost its footing") }

// TestPanicAnswers500AndLogsItsStack: a panicking handler gives the client a 500
// problem with the request id, and the log line names the panic and carries the stack
// down to the handler that panicked.
func TestPanicAnswers500AndLogsItsStack(t *testing.T) {
	var logs bytes.Buffer
	app := fiber.New(fiber.Config{ErrorHandler: errorHandler(slog.New(slog.NewJSONHandler(&logs, nil)), nil)})
	app.Use(withRequestID, recoverPanics)
	app.Get("/boom", panickingRoute)
	resp, body := do(t, app, httptest.NewRequest("GET", "/boom", nil))
	p := decodeProblem(t, resp, body)
	if p.Status != 500 || p.RequestID == "" || strings.Contains(string(body), "footing") {
		t.Fatalf("problem %+v (%s): want a 500 with the request id and no panic text", p, body)
	}
	var line struct {
		Msg, Err, Stack string
		RequestID       string `json:"request_id"`
	}
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
		t.Fatalf("log %q: %v", logs.String(), err)
	}
	if line.RequestID != p.RequestID || !strings.Contains(line.Err, "the handler lost its footing") ||
		!strings.Contains(line.Stack, "handlers.panickingRoute") {
		t.Fatalf("log line lacks the panic, its request id or its stack: %s", logs.String())
	}
}
