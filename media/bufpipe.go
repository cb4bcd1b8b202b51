package media

import (
	"io"
	"sync"
)

// bufferedPipe is io.Pipe with a bounded ring buffer in between: the writer runs ahead
// of the reader by up to the buffer's size and then blocks. The pipeline feeds clamd and
// S3 through one each, so a side that stalls briefly does not stall the other, while
// memory stays bounded. The ring is taken from a pool when bytes arrive and given back
// whenever the reader has emptied it, so the pipes of an upload whose client trickles
// (or pauses) hold no memory between its bytes.
type bufferedPipe struct {
	mu   sync.Mutex
	cond sync.Cond
	buf  []byte // nil while empty
	size int    // the ring's current size: it is taken at this size when bytes arrive
	max  int    // the size buf may grow to
	head int    // index of the oldest unread byte
	n    int    // unread bytes
	werr error  // set once the writer closed: io.EOF or its error
	rerr error  // set once the reader closed
}

// pipeReader is the read half of a bufferedPipe.
type pipeReader struct{ p *bufferedPipe }

// pipeWriter is the write half of a bufferedPipe.
type pipeWriter struct{ p *bufferedPipe }

// firstPipeBuffer is what a pipe's ring starts at; it grows (doubling) only while the
// writer runs ahead of the reader, so a body that trickles in never costs the full size.
const firstPipeBuffer = 4 << 10

// pipeRings recycles rings by size: ring k is firstPipeBuffer<<k bytes.
var pipeRings [12]sync.Pool

func ringClass(size int) int {
	for k := range pipeRings {
		if firstPipeBuffer<<k == size {
			return k
		}
	}
	return -1
}

func takeRing(size int) []byte {
	if k := ringClass(size); k >= 0 {
		if b, ok := pipeRings[k].Get().(*[]byte); ok {
			return *b
		}
	}
	return make([]byte, size)
}

func giveRing(b []byte) {
	if k := ringClass(len(b)); k >= 0 {
		pipeRings[k].Put(&b)
	}
}

// newBufferedPipe returns the two halves of a pipe that buffers up to size bytes. It
// takes no memory before the first write.
func newBufferedPipe(size int) (*pipeReader, *pipeWriter) {
	p := &bufferedPipe{size: min(firstPipeBuffer, size), max: size}
	p.cond.L = &p.mu
	return &pipeReader{p}, &pipeWriter{p}
}

// Read reads buffered bytes, blocking while there are none. After the writer closes it
// returns the rest and then the writer's error (io.EOF for Close); after the reader
// closed it returns io.ErrClosedPipe.
func (r *pipeReader) Read(b []byte) (int, error) {
	p := r.p
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.n == 0 && p.werr == nil && p.rerr == nil {
		p.cond.Wait()
	}
	switch {
	case p.rerr != nil:
		return 0, io.ErrClosedPipe
	case p.n == 0:
		return 0, p.werr
	}
	end := min(p.head+p.n, len(p.buf))
	c := copy(b, p.buf[p.head:end])
	if c < len(b) && c < p.n {
		c += copy(b[c:], p.buf[:p.n-c])
	}
	p.head = (p.head + c) % len(p.buf)
	p.n -= c
	if p.n == 0 {
		p.dropRing()
	}
	p.cond.Broadcast()
	return c, nil
}

// dropRing gives the empty ring back to the pool; the next write takes one again.
func (p *bufferedPipe) dropRing() {
	giveRing(p.buf)
	p.buf, p.head = nil, 0
}

// CloseWithError closes the read half: writes then fail with err (io.ErrClosedPipe when
// err is nil). Only the first close counts.
func (r *pipeReader) CloseWithError(err error) {
	if err == nil {
		err = io.ErrClosedPipe
	}
	r.p.close(&r.p.rerr, err)
}

// Write copies b into the buffer, blocking while it is full. It fails with the reader's
// close error once the reader is gone, and with io.ErrClosedPipe after the writer closed.
func (w *pipeWriter) Write(b []byte) (int, error) {
	p := w.p
	p.mu.Lock()
	defer p.mu.Unlock()
	written := 0
	for len(b) > 0 {
		for {
			switch {
			case p.rerr != nil:
				return written, p.rerr
			case p.werr != nil:
				return written, io.ErrClosedPipe
			case p.buf == nil:
				p.buf = takeRing(p.size)
			}
			if p.n < len(p.buf) {
				break
			}
			if len(p.buf) < p.max {
				p.grow()
				continue
			}
			p.cond.Wait()
		}
		c := p.put(b)
		b = b[c:]
		written += c
		p.cond.Broadcast()
	}
	return written, nil
}

// grow doubles the ring (up to max), moving the unread bytes to its start.
func (p *bufferedPipe) grow() {
	p.size = min(2*len(p.buf), p.max)
	next := takeRing(p.size)
	c := copy(next, p.buf[p.head:min(p.head+p.n, len(p.buf))])
	copy(next[c:], p.buf[:p.n-c])
	giveRing(p.buf)
	p.buf, p.head = next, 0
}

// put copies as much of b as fits after the unread bytes, wrapping around the ring.
func (p *bufferedPipe) put(b []byte) int {
	tail := (p.head + p.n) % len(p.buf)
	end := len(p.buf)
	if tail < p.head {
		end = p.head
	}
	c := copy(p.buf[tail:end], b)
	if c < len(b) && tail >= p.head {
		c += copy(p.buf[:p.head], b[c:])
	}
	p.n += c
	return c
}

// Close closes the write half: the reader sees io.EOF after the buffered bytes.
func (w *pipeWriter) Close() error {
	w.CloseWithError(nil)
	return nil
}

// CloseWithError closes the write half: the reader sees err (io.EOF when nil) after the
// buffered bytes. Only the first close counts.
func (w *pipeWriter) CloseWithError(err error) {
	if err == nil {
		err = io.EOF
	}
	w.p.close(&w.p.werr, err)
}

func (p *bufferedPipe) close(slot *error, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if *slot == nil {
		*slot = err
	}
	if p.rerr != nil && p.buf != nil {
		// Nobody reads what is left: its ring can serve another pipe.
		p.n = 0
		p.dropRing()
	}
	p.cond.Broadcast()
}
