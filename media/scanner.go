// Package media is the upload pipeline: size limits, content sniffing, ClamAV
// scanning and S3 storage. It talks to clamd and S3 only through the narrow
// interfaces declared here, whose real clients are handed in by cmd/.
package media

import (
	"context"
	"fmt"
	"io"

	"github.com/dutchcoders/go-clamd"
)

// ClamdAPI is the slice of go-clamd's client the scanner uses.
type ClamdAPI interface {
	Ping() error
	ScanStream(r io.Reader, abort chan bool) (chan *clamd.ScanResult, error)
}

// Scanner checks bytes with a clamd daemon.
type Scanner struct {
	clamd ClamdAPI
}

// NewScanner returns a Scanner that talks to clamd through c.
func NewScanner(c ClamdAPI) *Scanner { return &Scanner{clamd: c} }

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
