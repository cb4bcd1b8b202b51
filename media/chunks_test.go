package media

import (
	"bytes"
	"io"
	mrand "math/rand/v2"
	"testing"
	"testing/iotest"
)

// Chunks keep every byte in order across chunk boundaries, whether written or read
// in, and their reader reads them again after a seek (the S3 client signs a body, then
// sends it).
func TestChunksHoldWhatArrivedAndReadItTwice(t *testing.T) {
	data := randomBytesN(3*ChunkSize + 123)
	var c Chunks
	defer c.Release()
	for rest := data[:ChunkSize+7]; len(rest) > 0; {
		n := min(len(rest), 1+mrand.IntN(5000))
		_, _ = c.Write(rest[:n])
		rest = rest[n:]
	}
	src := iotest.OneByteReader(bytes.NewReader(data[ChunkSize+7:]))
	for {
		if _, err := c.ReadOnce(src, 1000); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if c.Len() != len(data) {
		t.Fatalf("Len = %d, want %d", c.Len(), len(data))
	}
	r := c.Reader()
	for range 2 {
		if r.Len() != len(data) {
			t.Fatalf("reader Len = %d, want %d", r.Len(), len(data))
		}
		got, err := io.ReadAll(iotest.HalfReader(r))
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read back %d bytes (%v), not the %d written", len(got), err, len(data))
		}
		if _, err := r.Seek(0, io.SeekStart); err != nil {
			t.Fatal(err)
		}
	}
	if pos, err := r.Seek(-10, io.SeekEnd); err != nil || pos != int64(len(data)-10) {
		t.Fatalf("Seek from the end = %d, %v", pos, err)
	}
	if tail, _ := io.ReadAll(r); !bytes.Equal(tail, data[len(data)-10:]) {
		t.Fatal("the last ten bytes differ after a seek")
	}
}

// A read that blocks pins the free space of one chunk, never more: ReadOnce caps what it
// asks for at max, and an empty Chunks holds nothing.
func TestChunksReadOnceTakesOneChunkAtATime(t *testing.T) {
	var c Chunks
	if len(c.chunks) != 0 {
		t.Fatal("an empty Chunks holds memory")
	}
	var asked int
	r := readerFunc(func(p []byte) (int, error) { asked = len(p); return 1, nil })
	_, _ = c.ReadOnce(r, 1<<20)
	if asked != ChunkSize || len(c.chunks) != 1 {
		t.Fatalf("first read asked for %d bytes over %d chunks, want one chunk of %d", asked, len(c.chunks), ChunkSize)
	}
	_, _ = c.ReadOnce(r, 10)
	if asked != 10 {
		t.Fatalf("read with max 10 asked for %d", asked)
	}
	c.Release()
	if c.Len() != 0 || len(c.chunks) != 0 {
		t.Fatalf("after Release: %d bytes in %d chunks", c.Len(), len(c.chunks))
	}
}

// A pipe whose reader caught up holds no ring, so a trickling upload's pipes cost
// nothing between its bytes; the next write takes one again.
func TestBufferedPipeHoldsNoRingWhileEmpty(t *testing.T) {
	r, w := newBufferedPipe(1 << 20)
	if r.p.buf != nil {
		t.Fatal("a new pipe holds a ring")
	}
	_, _ = w.Write(bytes.Repeat([]byte{'a'}, 100<<10))
	buf := make([]byte, 200<<10)
	if n, err := r.Read(buf); n != 100<<10 || err != nil {
		t.Fatalf("Read = %d, %v", n, err)
	}
	if r.p.buf != nil {
		t.Fatalf("the emptied pipe still holds a ring of %d bytes", len(r.p.buf))
	}
	_, _ = w.Write([]byte("x"))
	if n, err := r.Read(buf); n != 1 || err != nil || buf[0] != 'x' {
		t.Fatalf("Read after the ring came back = %d %q, %v", n, buf[:n], err)
	}
}

// feed reads a body that trickles with a small buffer, one that floods with a big one,
// and goes small again when the flood ends.
func TestReadBufferFollowsTheBody(t *testing.T) {
	var rb readBuffer
	defer rb.release()
	if len(rb.next()) != smallRead {
		t.Fatalf("first read buffer %d bytes, want %d", len(rb.next()), smallRead)
	}
	rb.used(smallRead)
	if len(rb.next()) != bigRead {
		t.Fatalf("after a full read: %d bytes, want %d", len(rb.next()), bigRead)
	}
	rb.used(bigRead / 2)
	if len(rb.next()) != bigRead {
		t.Fatal("a big read that brought half went small")
	}
	rb.used(1)
	if len(rb.next()) != smallRead || rb.big != nil {
		t.Fatal("a one-byte read kept the big buffer")
	}
}
