package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"syscall"

	"github.com/dutchcoders/go-clamd"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// ClamdAPI is the slice of go-clamd's client the scanner uses.
type ClamdAPI interface {
	Ping() error
	ScanStream(r io.Reader, abort chan bool) (chan *clamd.ScanResult, error)
}

// ScannerConfig tunes a Scanner. Its zero value is ready to use.
type ScannerConfig struct {
	// StreamMaxLength is clamd's StreamMaxLength in bytes, when known. clamd drops the
	// connection of a stream that grows past it, and go-clamd then only sees a broken pipe.
	// A connection dropped after more than StreamMaxLength bytes, or any dropped connection
	// when this is 0 (unknown), is a rejected verdict; one dropped earlier is
	// ErrScannerUnavailable. Either way the upload is never clean.
	StreamMaxLength int64
	// Tracer records a client span per scan (inside a trace only); nil records none.
	Tracer trace.TracerProvider
}

// Scanner checks bytes with a clamd daemon.
type Scanner struct {
	clamd    ClamdAPI
	cfg      ScannerConfig
	verdicts *prometheus.CounterVec
}

// NewScanner returns a Scanner that talks to clamd through c, with the zero ScannerConfig.
func NewScanner(c ClamdAPI) *Scanner { return NewScannerWithConfig(c, ScannerConfig{}) }

// NewScannerWithConfig returns a Scanner that talks to clamd through c, tuned by cfg.
func NewScannerWithConfig(c ClamdAPI, cfg ScannerConfig) *Scanner {
	verdicts := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gigstream_upload_verdicts_total",
		Help: "Scans finished, by verdict: clean, rejected (a signature or clamd's limits), error (clamd unavailable or failing)."},
		[]string{"verdict"})
	for _, v := range []string{verdictClean, verdictRejected, verdictError} {
		verdicts.WithLabelValues(v)
	}
	return &Scanner{clamd: c, cfg: cfg, verdicts: verdicts}
}

const (
	verdictClean    = "clean"
	verdictRejected = "rejected"
	verdictError    = "error"
)

// Metrics is the count of verdicts, gigstream_upload_verdicts_total, to register.
// Scans that end because their caller went away (ctx) or their input failed count as
// none: clamd gave no verdict on the bytes.
func (s *Scanner) Metrics() prometheus.Collector { return s.verdicts }

// startSpan starts the span of a scan inside the caller's trace; nil when not traced.
func (s *Scanner) startSpan(ctx context.Context) trace.Span {
	if s.cfg.Tracer == nil || !trace.SpanContextFromContext(ctx).IsValid() {
		return nil
	}
	_, span := s.cfg.Tracer.Tracer("github.com/gigstream/hub/media").Start(ctx, "clamd INSTREAM",
		trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attribute.String("server.address", "clamd")))
	return span
}

// Ping reports whether clamd answers PONG before ctx ends. It returns ctx's error on
// timeout and a wrapped client error when clamd is unreachable or answers otherwise.
func (s *Scanner) Ping(ctx context.Context) error {
	done := make(chan error, 1)
	go func() { done <- s.clamd.Ping() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("ping clamd: %w", err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("ping clamd: %w", ctx.Err())
	}
}

// Scan streams r to clamd with INSTREAM and returns its verdict once r is exhausted and
// clamd has answered. A verdict is Clean only when clamd said OK; signatures, clamd's
// limit heuristics and over-long streams are rejected verdicts (see Verdict).
//
// Errors: ErrScannerUnavailable (wrapped) when clamd cannot be reached, fails, or gives no
// usable answer; r's own read error (wrapped) when r fails before EOF, since clamd then
// saw a truncated stream; ctx's error when ctx ends first, which also closes the clamd
// connection. Scan stops reading r once ctx ends, but cannot interrupt a Read that is
// already blocked; close r's source to unblock it.
func (s *Scanner) Scan(ctx context.Context, r io.Reader) (Verdict, error) {
	span := s.startSpan(ctx)
	v, err := s.scan(ctx, r)
	if span != nil {
		span.SetAttributes(attribute.Bool("gigstream.scan.clean", err == nil && v.Clean))
		if err != nil {
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}
	switch {
	case err == nil && v.Clean:
		s.verdicts.WithLabelValues(verdictClean).Inc()
	case err == nil:
		s.verdicts.WithLabelValues(verdictRejected).Inc()
	case errors.Is(err, ErrScannerUnavailable):
		s.verdicts.WithLabelValues(verdictError).Inc()
	}
	return v, err
}

func (s *Scanner) scan(ctx context.Context, r io.Reader) (Verdict, error) {
	if err := ctx.Err(); err != nil {
		return Verdict{}, fmt.Errorf("scan: %w", err)
	}
	abort := make(chan bool)
	var once sync.Once
	closeConn := func() { once.Do(func() { close(abort) }) }
	// go-clamd keeps a goroutine per stream that closes the connection when abort is
	// closed and otherwise waits forever: closing abort on every path frees it.
	defer closeConn()
	defer context.AfterFunc(ctx, closeConn)()

	in := &scanInput{ctx: ctx, r: r}
	results, err := s.clamd.ScanStream(in, abort)
	if err != nil {
		return s.streamFailed(ctx, in, err)
	}
	lines := collectReplies(ctx, results)
	switch {
	case ctx.Err() != nil:
		return Verdict{}, fmt.Errorf("scan: %w", ctx.Err())
	case in.err != nil:
		return Verdict{}, fmt.Errorf("scan: read input: %w", in.err)
	}
	return parseReplies(lines)
}

// streamFailed classifies an error go-clamd returned while streaming.
func (s *Scanner) streamFailed(ctx context.Context, in *scanInput, err error) (Verdict, error) {
	switch {
	case ctx.Err() != nil:
		return Verdict{}, fmt.Errorf("scan: %w", ctx.Err())
	case in.err != nil:
		return Verdict{}, fmt.Errorf("scan: read input: %w", in.err)
	case isDroppedConnection(err) && (s.cfg.StreamMaxLength == 0 || in.n > s.cfg.StreamMaxLength):
		return Verdict{Signature: SignatureStreamTooLong}, nil
	}
	return Verdict{}, fmt.Errorf("%w: instream: %w", ErrScannerUnavailable, err)
}

// collectReplies reads every reply line until go-clamd closes results. When ctx ends
// first it keeps draining (the connection is being closed, so that is quick), which lets
// go-clamd's reader goroutine finish instead of blocking on a send forever.
func collectReplies(ctx context.Context, results chan *clamd.ScanResult) []string {
	var lines []string
	for res := range results {
		if ctx.Err() == nil && res != nil {
			lines = append(lines, res.Raw)
		}
	}
	return lines
}

func isDroppedConnection(err error) bool {
	return errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)
}

// scanInput is what go-clamd reads: it stops at ctx's end, counts the bytes sent, and
// remembers a read error, which go-clamd would otherwise swallow and scan a truncated
// stream as if it were whole.
type scanInput struct {
	ctx context.Context
	r   io.Reader
	n   int64
	err error
}

func (in *scanInput) Read(p []byte) (int, error) {
	if err := in.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := in.r.Read(p)
	in.n += int64(n)
	if err != nil && err != io.EOF {
		in.err = err
	}
	return n, err
}
