package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/dutchcoders/go-clamd"
)

func TestScanFindsTestSignatures(t *testing.T) {
	s := NewScanner(testClamd(t))
	for name, data := range map[string][]byte{
		"eicar":         eicar(),
		"marker inside": append(append(randomBytesN(100_000), testMarker()...), randomBytesN(1000)...),
	} {
		v, err := s.Scan(context.Background(), bytes.NewReader(data))
		if err != nil || v.Clean || v.Signature == "" {
			t.Errorf("%s: Scan = %+v, %v; want a rejected verdict", name, v, err)
		}
	}
	v, err := s.Scan(context.Background(), randomReader(3<<20))
	if err != nil || !v.Clean {
		t.Errorf("random data: Scan = %+v, %v; want clean", v, err)
	}
}

func TestScanClamdDown(t *testing.T) {
	s := NewScanner(clamd.NewClamd("tcp://" + closedAddr(t)))
	v, err := s.Scan(context.Background(), bytes.NewReader([]byte("hello")))
	if !errors.Is(err, ErrScannerUnavailable) || v.Clean {
		t.Fatalf("Scan = %+v, %v; want ErrScannerUnavailable", v, err)
	}
}

// slowReader yields data until its context ends, slowly.
type slowReader struct{ ctx context.Context }

func (r slowReader) Read(p []byte) (int, error) {
	select {
	case <-r.ctx.Done():
		return 0, io.ErrUnexpectedEOF
	case <-time.After(time.Millisecond):
		return copy(p, "not done yet "), nil
	}
}

func TestScanCancelAbortsWithoutLeaks(t *testing.T) {
	s := NewScanner(testClamd(t))
	before := runtime.NumGoroutine()
	for range 5 {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		start := time.Now()
		v, err := s.Scan(ctx, slowReader{context.Background()})
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || v.Clean {
			t.Fatalf("Scan = %+v, %v; want the context's error", v, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("Scan took %v after cancellation", d)
		}
	}
	// Also a scan that completes normally must release go-clamd's goroutines.
	if _, err := s.Scan(context.Background(), bytes.NewReader([]byte("clean"))); err != nil {
		t.Fatal(err)
	}
	waitForGoroutines(t, before)
}

func waitForGoroutines(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > want {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, want at most %d:\n%s", runtime.NumGoroutine(), want, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// fakeClamd stands in for go-clamd where the real daemon cannot be made to misbehave on
// demand: it reads the stream the way go-clamd does and then fails with err.
type fakeClamd struct{ err error }

func (f fakeClamd) Ping() error { return nil }

func (f fakeClamd) ScanStream(r io.Reader, abort chan bool) (chan *clamd.ScanResult, error) {
	go func() {
		for range abort {
		}
	}()
	io.Copy(io.Discard, r)
	return nil, f.err
}

func TestScanBrokenPipeIsRejected(t *testing.T) {
	broken := fmt.Errorf("write tcp 127.0.0.1:1->127.0.0.1:2: %w", syscall.EPIPE)
	v, err := NewScanner(fakeClamd{broken}).Scan(context.Background(), randomReader(1<<20))
	if err != nil || v.Clean || !v.LimitsExceeded() {
		t.Errorf("unknown StreamMaxLength: Scan = %+v, %v; want a limits-exceeded verdict", v, err)
	}
	s := NewScannerWithConfig(fakeClamd{broken}, ScannerConfig{StreamMaxLength: 1 << 19})
	if v, err := s.Scan(context.Background(), randomReader(1<<20)); err != nil || !v.LimitsExceeded() {
		t.Errorf("past StreamMaxLength: Scan = %+v, %v; want a limits-exceeded verdict", v, err)
	}
	s = NewScannerWithConfig(fakeClamd{broken}, ScannerConfig{StreamMaxLength: 1 << 30})
	if v, err := s.Scan(context.Background(), randomReader(1<<20)); !errors.Is(err, ErrScannerUnavailable) || v.Clean {
		t.Errorf("within StreamMaxLength: Scan = %+v, %v; want ErrScannerUnavailable", v, err)
	}
}

// failingReader fails after some bytes, like a client that goes away.
type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, io.ErrUnexpectedEOF
	}
	n := min(len(p), f.n)
	f.n -= n
	return n, nil
}

func TestScanTruncatedInputIsNotClean(t *testing.T) {
	s := NewScanner(testClamd(t))
	v, err := s.Scan(context.Background(), &failingReader{n: 10_000})
	if !errors.Is(err, io.ErrUnexpectedEOF) || v.Clean {
		t.Fatalf("Scan = %+v, %v; want the read error", v, err)
	}
}
