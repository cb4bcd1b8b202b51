package media

import (
	"errors"
	"testing"
)

func TestParseReply(t *testing.T) {
	cases := []struct {
		line       string
		want       Verdict
		unavail    bool
		limitsHint bool
	}{
		{line: "stream: OK", want: Verdict{Clean: true}},
		{line: "stream: Test.EICAR.HDB.UNOFFICIAL FOUND", want: Verdict{Signature: "Test.EICAR.HDB.UNOFFICIAL"}},
		{line: "stream: GigStream.Test.Marker.UNOFFICIAL FOUND\x00", want: Verdict{Signature: "GigStream.Test.Marker.UNOFFICIAL"}},
		{line: "stream: Heuristics.Limits.Exceeded.MaxFileSize FOUND", want: Verdict{Signature: "Heuristics.Limits.Exceeded.MaxFileSize"}, limitsHint: true},
		{line: "stream: Heuristics.Limits.Exceeded.MaxScanSize FOUND", want: Verdict{Signature: "Heuristics.Limits.Exceeded.MaxScanSize"}, limitsHint: true},
		{line: "INSTREAM size limit exceeded. ERROR", want: Verdict{Signature: SignatureStreamTooLong}, limitsHint: true},
		{line: "stream: Can't create temporary file ERROR", unavail: true},
		{line: "COMMAND READ TIMED OUT", unavail: true},
		{line: "", unavail: true},
	}
	for _, c := range cases {
		got, err := parseReply(c.line)
		if c.unavail {
			if !errors.Is(err, ErrScannerUnavailable) || got.Clean {
				t.Errorf("parseReply(%q) = %+v, %v; want ErrScannerUnavailable", c.line, got, err)
			}
			continue
		}
		if err != nil || got != c.want || got.LimitsExceeded() != c.limitsHint {
			t.Errorf("parseReply(%q) = %+v (limits %v), %v; want %+v", c.line, got, got.LimitsExceeded(), err, c.want)
		}
	}
}

func TestParseRepliesFailsClosed(t *testing.T) {
	if _, err := parseReplies(nil); !errors.Is(err, ErrScannerUnavailable) {
		t.Errorf("no reply: %v, want ErrScannerUnavailable", err)
	}
	v, err := parseReplies([]string{"stream: OK", "stream: Heuristics.Limits.Exceeded.MaxFileSize FOUND"})
	if err != nil || v.Clean {
		t.Errorf("OK then limits: %+v, %v; want rejected", v, err)
	}
	if _, err := parseReplies([]string{"stream: OK", "stream: Oops ERROR"}); !errors.Is(err, ErrScannerUnavailable) {
		t.Errorf("OK then ERROR: %v, want ErrScannerUnavailable", err)
	}
}
