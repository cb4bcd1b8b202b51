package media

import (
	"errors"
	"io"
	"sync"
)

// ChunkSize is the unit in which Chunks hold bytes.
const ChunkSize = 16 << 10

// chunkPool recycles the chunks of every upload on the node: a part that was sent, a
// body that was cut or a tail that was stored gives its chunks back for the next bytes
// to arrive anywhere.
var chunkPool = sync.Pool{New: func() any { return new([ChunkSize]byte) }}

// Chunks is a byte buffer made of fixed-size pooled chunks, for the bytes of an upload
// that must wait in memory until a part is full (S3 parts are at least 5 MiB). It grows
// a chunk at a time as bytes arrive, never copying what it holds and never doubling, so
// an upload that trickles costs about what it brought (at most ChunkSize more), and a
// finished part's memory goes straight to the next upload (Release). Its zero value is
// empty and ready to use; it is not safe for concurrent use.
type Chunks struct {
	chunks []*[ChunkSize]byte
	n      int
}

// Len is the number of bytes held.
func (c *Chunks) Len() int { return c.n }

// Write appends p; it never fails.
func (c *Chunks) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		n := copy(c.room(), p)
		c.n += n
		p = p[n:]
		written += n
	}
	return written, nil
}

// ReadOnce reads once from r into the free space of the last chunk (a new one when it
// is full), at most max bytes (max > 0), and returns what r.Read returned. Only one
// chunk is pinned while r blocks, so a body that trickles holds no more than it sent.
func (c *Chunks) ReadOnce(r io.Reader, max int) (int, error) {
	room := c.room()
	if len(room) > max {
		room = room[:max]
	}
	n, err := r.Read(room)
	c.n += n
	return n, err
}

// room returns the free space after the last byte, taking a new chunk when the last is
// full.
func (c *Chunks) room() []byte {
	off := c.n % ChunkSize
	if off == 0 && c.n == len(c.chunks)*ChunkSize {
		c.chunks = append(c.chunks, chunkPool.Get().(*[ChunkSize]byte))
	}
	return c.chunks[c.n/ChunkSize][off:]
}

// Release gives the chunks back to the pool and empties c. Nothing read from c may be
// used afterwards (a Reader over it included).
func (c *Chunks) Release() {
	for i, ch := range c.chunks {
		chunkPool.Put(ch)
		c.chunks[i] = nil
	}
	c.chunks, c.n = c.chunks[:0], 0
}

// Reader returns a reader over the bytes held now, which can seek (the S3 client reads
// a body twice: to sign or checksum it, then to send it).
func (c *Chunks) Reader() *ChunksReader { return &ChunksReader{c: c, size: int64(c.n)} }

// ChunksReader reads the bytes of a Chunks as they were when it was made.
type ChunksReader struct {
	c    *Chunks
	size int64
	off  int64
}

// Read implements io.Reader.
func (r *ChunksReader) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	read := 0
	for len(p) > 0 && r.off < r.size {
		ch := r.c.chunks[r.off/ChunkSize]
		start := int(r.off % ChunkSize)
		end := min(ChunkSize, start+int(r.size-r.off))
		n := copy(p, ch[start:end])
		p = p[n:]
		r.off += int64(n)
		read += n
	}
	return read, nil
}

// Seek implements io.Seeker.
func (r *ChunksReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.off
	case io.SeekEnd:
		offset += r.size
	default:
		return 0, errors.New("media: chunks reader: invalid whence")
	}
	if offset < 0 {
		return 0, errors.New("media: chunks reader: negative position")
	}
	r.off = offset
	return offset, nil
}

// Len is the number of unread bytes (the S3 client uses it as the body's length).
func (r *ChunksReader) Len() int { return int(max(0, r.size-r.off)) }
