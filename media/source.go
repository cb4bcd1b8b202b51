package media

import (
	"errors"
	"fmt"
	"io"
)

// ErrBodyRead means reading the client's body failed before its end (the client went
// away, or the handler's own read limit cut it).
var ErrBodyRead = errors.New("media: reading the upload body failed")

// sourceReader guards the client's body: it never reads past limit+1 bytes, fails with
// *TooLargeError as soon as the count passes limit, and checks the count against the
// declared size (-1: unknown) at the end and on the way.
type sourceReader struct {
	r        io.Reader
	limit    int64
	declared int64
	n        int64
}

func newSourceReader(r io.Reader, limit, declared int64) *sourceReader {
	return &sourceReader{r: r, limit: limit, declared: declared}
}

func (s *sourceReader) Read(p []byte) (int, error) {
	if s.n > s.limit {
		return 0, &TooLargeError{Limit: s.limit}
	}
	if room := s.limit + 1 - s.n; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := s.r.Read(p)
	s.n += int64(n)
	switch {
	case s.n > s.limit:
		return n, &TooLargeError{Limit: s.limit}
	case s.declared >= 0 && s.n > s.declared:
		return n, fmt.Errorf("%w: more than the declared %d bytes", ErrSizeMismatch, s.declared)
	case err == io.EOF && s.declared >= 0 && s.n != s.declared:
		return n, fmt.Errorf("%w: %d bytes of the declared %d", ErrSizeMismatch, s.n, s.declared)
	case err != nil && err != io.EOF:
		return n, fmt.Errorf("%w: %w", ErrBodyRead, err)
	}
	return n, err
}
