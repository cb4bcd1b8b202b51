package media

import (
	"bytes"
	"errors"
	"io"
	mrand "math/rand/v2"
	"testing"
)

func TestBufferedPipeRoundTrip(t *testing.T) {
	data := randomBytesN(1 << 20)
	r, w := newBufferedPipe(1000)
	go func() {
		for rest := data; len(rest) > 0; {
			n := min(len(rest), 1+mrand.IntN(3000))
			if _, err := w.Write(rest[:n]); err != nil {
				t.Error(err)
				return
			}
			rest = rest[n:]
		}
		w.Close()
	}()
	var got bytes.Buffer
	buf := make([]byte, 777)
	for {
		n, err := r.Read(buf[:1+mrand.IntN(len(buf))])
		got.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got.Bytes(), data) {
		t.Fatal("bytes differ after the pipe")
	}
}

func TestBufferedPipeClose(t *testing.T) {
	boom := errors.New("boom")
	r, w := newBufferedPipe(4)
	w.Write([]byte("ab"))
	w.CloseWithError(boom)
	buf := make([]byte, 10)
	if n, err := r.Read(buf); n != 2 || err != nil {
		t.Fatalf("Read = %d, %v; want the buffered bytes first", n, err)
	}
	if _, err := r.Read(buf); err != boom {
		t.Fatalf("Read = %v, want the writer's error", err)
	}

	r, w = newBufferedPipe(4)
	done := make(chan error)
	go func() { _, err := w.Write([]byte("more than four bytes")); done <- err }()
	r.CloseWithError(boom)
	if err := <-done; err != boom {
		t.Fatalf("blocked Write = %v, want the reader's error", err)
	}
	if _, err := r.Read(buf); err != io.ErrClosedPipe {
		t.Fatalf("Read after reader close = %v, want io.ErrClosedPipe", err)
	}
}
