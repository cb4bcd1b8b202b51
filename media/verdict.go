package media

import (
	"fmt"
	"strings"
)

// Verdict is clamd's answer about one stream. Clean is true only for clamd's "OK";
// otherwise Signature names the finding: a virus signature, one of clamd's limit
// heuristics (Heuristics.Limits.Exceeded.*, given for data clamd would not scan whole),
// or SignatureStreamTooLong.
type Verdict struct {
	Clean     bool
	Signature string
}

// SignatureStreamTooLong is the Signature of a rejected verdict for a stream that clamd
// refused past its StreamMaxLength ("INSTREAM size limit exceeded", or a dropped
// connection). It is ours, not clamd's.
const SignatureStreamTooLong = "GigStream.Limits.Exceeded.StreamMaxLength"

// limitsPrefix starts the names clamd gives data it could not scan whole (MaxFileSize,
// MaxScanSize, MaxRecursion, ...) when AlertExceedsMax is on.
const limitsPrefix = "Heuristics.Limits.Exceeded"

// LimitsExceeded reports whether the verdict rejects data clamd could not scan whole,
// rather than a signature match.
func (v Verdict) LimitsExceeded() bool {
	return strings.HasPrefix(v.Signature, limitsPrefix) || v.Signature == SignatureStreamTooLong
}

// parseReplies turns clamd's reply lines to one INSTREAM into a verdict: any finding
// rejects, an error fails closed with ErrScannerUnavailable, and only all-OK is clean.
func parseReplies(lines []string) (Verdict, error) {
	if len(lines) == 0 {
		return Verdict{}, fmt.Errorf("%w: clamd closed the connection without a verdict", ErrScannerUnavailable)
	}
	var failure error
	for _, line := range lines {
		v, err := parseReply(line)
		switch {
		case err != nil:
			failure = err
		case !v.Clean:
			return v, nil
		}
	}
	if failure != nil {
		return Verdict{}, failure
	}
	return Verdict{Clean: true}, nil
}

// parseReply reads one reply line, such as "stream: OK", "stream: Eicar-Signature FOUND",
// "stream: Heuristics.Limits.Exceeded.MaxFileSize FOUND" or
// "INSTREAM size limit exceeded. ERROR".
func parseReply(line string) (Verdict, error) {
	line = strings.TrimSpace(strings.TrimRight(line, "\x00"))
	rest := strings.TrimPrefix(line, "stream: ")
	switch {
	case rest == "OK":
		return Verdict{Clean: true}, nil
	case strings.HasSuffix(rest, " FOUND") || rest == "FOUND":
		sig := strings.TrimSpace(strings.TrimSuffix(rest, "FOUND"))
		if sig == "" {
			sig = "Unknown.Finding"
		}
		return Verdict{Signature: sig}, nil
	case strings.HasSuffix(rest, "ERROR") && strings.Contains(rest, "size limit exceeded"):
		return Verdict{Signature: SignatureStreamTooLong}, nil
	case strings.HasSuffix(rest, "ERROR"):
		return Verdict{}, fmt.Errorf("%w: clamd: %s", ErrScannerUnavailable, line)
	}
	return Verdict{}, fmt.Errorf("%w: unexpected clamd reply %q", ErrScannerUnavailable, line)
}
