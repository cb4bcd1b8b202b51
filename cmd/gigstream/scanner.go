package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/dutchcoders/go-clamd"

	"github.com/gigstream/hub/media"
)

// newScanner is the clamd client every upload is scanned with.
func newScanner(cfg config) *media.Scanner {
	return media.NewScannerWithConfig(clamd.NewClamd(cfg.ClamdAddr), media.ScannerConfig{StreamMaxLength: cfg.Uploads.StreamMaxLength, Tracer: cfg.Telemetry.tracer})
}

// checkScannerLimits probes clamd with a harmless archive it must report as over its
// limits (see media.ProbeLimits): a stock clamd answers OK for archives it did not
// unpack whole, and uploads would be stored as clean unscanned. In production mode a
// clamd that fails the probe stops start-up, and one that cannot be reached is tried
// again until STARTUP_TIMEOUT; elsewhere both are a warning and serve goes on.
func checkScannerLimits(ctx context.Context, cfg config, s *media.Scanner, log *slog.Logger) error {
	if !cfg.Production {
		probeCtx, cancel := context.WithTimeout(ctx, cfg.CheckTimeout)
		defer cancel()
		if err := s.ProbeLimits(probeCtx); err != nil {
			log.WarnContext(ctx, "clamd limits probe failed; production mode (GIGSTREAM_ENV=production) would refuse to start",
				"clamd_addr", cfg.ClamdAddr, "err", err)
		}
		return nil
	}
	err := probeUntil(ctx, s, cfg.StartupTimeout, log)
	if err != nil {
		return fmt.Errorf("clamd at CLAMD_ADDR %s: %w", cfg.ClamdAddr, err)
	}
	log.InfoContext(ctx, "clamd reports data over its limits", "clamd_addr", cfg.ClamdAddr)
	return nil
}

// probeUntil runs the limits probe until it gives an answer or timeout passes.
func probeUntil(ctx context.Context, s *media.Scanner, timeout time.Duration, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		err := s.ProbeLimits(ctx)
		if !errors.Is(err, media.ErrScannerUnavailable) {
			return err
		}
		log.WarnContext(ctx, "clamd not answering the limits probe yet; retrying", "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("no answer within STARTUP_TIMEOUT: %w", err)
		case <-time.After(time.Second):
		}
	}
}
