package telemetry

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"runtime"
	"time"

	"github.com/getsentry/sentry-go"
)

// SentryConfig switches error reporting on. The zero value reports nothing.
type SentryConfig struct {
	DSN         string  // where events go; empty turns reporting off
	Release     string  // the build that runs (SENTRY_RELEASE or the VCS revision)
	Environment string  // development, production, ...
	SampleRate  float64 // share of faults sent, (0, 1]; 0 means 1
}

// Reporter sends faults to Sentry. Its methods are safe for concurrent use, and do
// nothing on a Reporter built without a DSN.
type Reporter struct {
	client *sentry.Client
}

// Fault is one server fault: an error answered with a 5xx, a panic, a failed job.
type Fault struct {
	Err error
	// Panic marks a recovered panic: reported as fatal and unhandled.
	Panic bool
	// Stack is where it happened: program counters innermost first, as
	// runtime.Callers gives them. Frames of the panic's recovery (up to
	// runtime.gopanic) are dropped. Nil sends no stack.
	Stack []uintptr
	// Source is what failed: "http", "job", "socket".
	Source string
	// Tags index the fault: request_id, route, method, status, job_kind, ...
	Tags map[string]string
	// UserID is the pseudonymous id of the user concerned, if any; no other personal
	// data is ever sent.
	UserID string
}

// NewReporter builds a Reporter. It returns an error only for a malformed DSN.
func NewReporter(cfg SentryConfig) (*Reporter, error) {
	if cfg.DSN == "" {
		return &Reporter{}, nil
	}
	client, err := sentry.NewClient(sentry.ClientOptions{
		Dsn:            cfg.DSN,
		Release:        cfg.Release,
		Environment:    cfg.Environment,
		SampleRate:     cmp.Or(cfg.SampleRate, 1),
		MaxBreadcrumbs: -1,
		BeforeSend:     scrub,
	})
	if err != nil {
		return nil, fmt.Errorf("SENTRY_DSN: %w", err)
	}
	return &Reporter{client: client}, nil
}

// Enabled reports whether faults are sent anywhere.
func (r *Reporter) Enabled() bool { return r != nil && r.client != nil }

// Report sends f. It does not wait for the network: events are queued and sent in
// the background (Flush waits for them).
func (r *Reporter) Report(ctx context.Context, f Fault) {
	if !r.Enabled() || f.Err == nil {
		return
	}
	ev := r.client.EventFromException(f.Err, sentry.LevelError)
	if f.Panic {
		ev.Level = sentry.LevelFatal
	}
	if len(ev.Exception) > 0 {
		top := &ev.Exception[len(ev.Exception)-1]
		top.Stacktrace = stacktrace(f.Stack)
		top.Mechanism = &sentry.Mechanism{Type: cmp.Or(f.Source, "generic"), Handled: handled(!f.Panic)}
		if f.Panic {
			top.Type = "panic"
		}
	}
	ev.Tags = maps.Clone(f.Tags)
	if ev.Tags == nil {
		ev.Tags = map[string]string{}
	}
	if f.Source != "" {
		ev.Tags["source"] = f.Source
	}
	if f.UserID != "" {
		ev.User = sentry.User{ID: f.UserID}
	}
	r.client.CaptureEvent(ev, &sentry.EventHint{Context: ctx, OriginalException: f.Err}, nil)
}

// Flush waits until queued events are sent or ctx ends; it reports whether all were.
func (r *Reporter) Flush(ctx context.Context) bool {
	if !r.Enabled() {
		return true
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(2 * time.Second)
	}
	return r.client.Flush(time.Until(deadline))
}

func handled(b bool) *bool { return &b }

// scrub keeps personal data out of every event: only the user's id, and no request
// (headers, cookies, addresses) even if something attached one.
func scrub(ev *sentry.Event, _ *sentry.EventHint) *sentry.Event {
	ev.User = sentry.User{ID: ev.User.ID}
	ev.Request = nil
	ev.Breadcrumbs = nil
	return ev
}

// stacktrace turns program counters (innermost first) into Sentry's frames (oldest
// first), without the frames of a panic's recovery.
func stacktrace(pcs []uintptr) *sentry.Stacktrace {
	if len(pcs) == 0 {
		return nil
	}
	var frames []runtime.Frame
	it := runtime.CallersFrames(pcs)
	for {
		f, more := it.Next()
		frames = append(frames, f)
		if f.Function == "runtime.gopanic" {
			frames = frames[:0] // everything so far was recovering from the panic
		}
		if !more {
			break
		}
	}
	out := &sentry.Stacktrace{Frames: make([]sentry.Frame, 0, len(frames))}
	for i := len(frames) - 1; i >= 0; i-- {
		out.Frames = append(out.Frames, sentry.NewFrame(frames[i]))
	}
	return out
}

// Callers returns the program counters of its caller's stack, innermost first, for
// Fault.Stack. Called in a deferred recover, it holds the panic's stack.
func Callers() []uintptr {
	pcs := make([]uintptr, 64)
	return pcs[:runtime.Callers(2, pcs)]
}
