package handlers

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"
)

// trickle yields one byte per pause, forever.
type trickle struct{ pause time.Duration }

func (t trickle) Read(p []byte) (int, error) {
	time.Sleep(t.pause)
	p[0] = 'x'
	return 1, nil
}

// TestRateReaderCutsASlowBodyAndPassesAFastOne: a body below the minimum rate fails
// with errBodyTooSlow within two windows; a fast one is read to its end.
func TestRateReaderCutsASlowBodyAndPassesAFastOne(t *testing.T) {
	slow := &rateReader{r: trickle{20 * time.Millisecond}, idle: time.Minute, need: 100, window: 200 * time.Millisecond}
	start := time.Now()
	_, err := io.Copy(io.Discard, slow)
	if !errors.Is(err, errBodyTooSlow) {
		t.Fatalf("slow body = %v, want errBodyTooSlow", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("slow body cut after %s, want within about two windows", took)
	}
	fast := &rateReader{r: bytes.NewReader(make([]byte, 1<<20)), idle: time.Minute, need: 100, window: 200 * time.Millisecond}
	if n, err := io.Copy(io.Discard, fast); err != nil || n != 1<<20 {
		t.Fatalf("fast body = %d, %v", n, err)
	}
}

// TestUploadSlotsCapPerUserAndPerNode: a user past PerUser and anyone past PerNode are
// refused (429, 503) until a slot is released.
func TestUploadSlotsCapPerUserAndPerNode(t *testing.T) {
	s := newUploadSlots(UploadStreams{PerNode: 3, PerUser: 2})
	for _, u := range []string{"a", "a", "b"} {
		if err := s.take(u); err != nil {
			t.Fatalf("take %s: %v", u, err)
		}
	}
	var p *Problem
	if err := s.take("c"); !errors.As(err, &p) || p.Status != 503 {
		t.Fatalf("past the node cap = %v, want 503", err)
	}
	s.release("b")
	if err := s.take("a"); !errors.As(err, &p) || p.Status != 429 {
		t.Fatalf("past the user cap = %v, want 429", err)
	}
	if err := s.take("c"); err != nil {
		t.Fatalf("after a release: %v", err)
	}
}
