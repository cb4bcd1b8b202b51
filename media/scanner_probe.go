package media

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
)

// ProbeDepth is how deep the limits probe nests its archive. clamd stops unpacking at
// MaxRecursion (17 by default), so any clamd whose MaxRecursion is below this must
// answer the probe with Heuristics.Limits.Exceeded.MaxRecursion.
const ProbeDepth = 64

// ErrLimitsNotAlerted means clamd answered the limits probe, a harmless archive nested
// ProbeDepth deep, with something other than a limits finding: it would store data it
// did not scan whole as clean (stock clamd does, unless AlertExceedsMax is on). The
// concrete error is a *LimitsProbeError. Never an HTTP answer: serve refuses to start.
var ErrLimitsNotAlerted = errors.New("media: clamd reports data it did not scan whole as clean")

// LimitsProbeError is the concrete ErrLimitsNotAlerted: Verdict is what clamd said.
type LimitsProbeError struct {
	Verdict Verdict
}

func (e *LimitsProbeError) Error() string {
	said := "OK"
	if !e.Verdict.Clean {
		said = e.Verdict.Signature + " FOUND"
	}
	return fmt.Sprintf("clamd answered %q for a harmless archive nested %d deep, where it must report "+
		"Heuristics.Limits.Exceeded.MaxRecursion: without that it passes archives it did not unpack whole as clean. "+
		"Set in clamd.conf: AlertExceedsMax yes, MaxRecursion below %d (default 17), MaxFileSize larger than "+
		"MaxScanSize, and MaxScanSize and StreamMaxLength at least the largest upload (README: Running it safely)",
		said, ProbeDepth, ProbeDepth)
}

// Is makes errors.Is(err, ErrLimitsNotAlerted) true.
func (e *LimitsProbeError) Is(target error) bool { return target == ErrLimitsNotAlerted }

// ProbeLimits checks that clamd rejects what it cannot scan whole: it scans a harmless
// zip nested ProbeDepth deep, built in memory (about 8 KB), whose innermost file is
// random so that clamd's cache of clean files never answers for it. It returns nil when
// clamd reports a limits finding, a *LimitsProbeError (ErrLimitsNotAlerted) for any other
// verdict, and Scan's errors (ErrScannerUnavailable, ctx's) when clamd gives none.
//
// One setting it cannot see: clamd cuts a member of an archive that inflates past
// MaxFileSize short without a finding, so MaxFileSize must exceed MaxScanSize for the
// cut-off data to count as unscanned (see the README).
func (s *Scanner) ProbeLimits(ctx context.Context) error {
	archive, err := nestedProbeArchive(ProbeDepth)
	if err != nil {
		return fmt.Errorf("limits probe: %w", err)
	}
	v, err := s.scan(ctx, bytes.NewReader(archive)) // not counted: the verdicts metric is of uploads
	if err != nil {
		return fmt.Errorf("limits probe: %w", err)
	}
	if v.Clean || !v.LimitsExceeded() {
		return &LimitsProbeError{Verdict: v}
	}
	return nil
}

// nestedProbeArchive returns a text file zipped, that zip zipped, and so on depth times.
func nestedProbeArchive(depth int) ([]byte, error) {
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	data := []byte("GigStream clamd limits probe " + hex.EncodeToString(nonce) + "\n")
	name := "probe.txt"
	for i := range depth {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
		if err == nil {
			_, err = w.Write(data)
		}
		if err := errors.Join(err, zw.Close()); err != nil {
			return nil, err
		}
		data, name = buf.Bytes(), fmt.Sprintf("level-%d.zip", depth-i)
	}
	return data, nil
}
