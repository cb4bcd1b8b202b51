package hub

import (
	"hash/maphash"
	"sync"
	"time"
)

// echoWait is how long a node waits for the broker to hand back a payload it
// published and already delivered to its own sockets. An echo later than
// that is delivered a second time: durable events are then dropped by seq,
// an ephemeral one reaches its sockets twice.
const echoWait = 10 * time.Second

// maxEchoes bounds the echoes awaited; past it the oldest are forgotten.
const maxEchoes = 200_000

// echoes lets a node deliver what it publishes to its own subscribers at
// once, without the broker's round trip, and drop the copy the broker then
// hands back. The broker payload is unchanged, so nodes that do not do this
// still read it; a payload is recognised by its hash (the event frame names
// its channel, and a durable one its seq). Identical payloads (the same
// typing event twice) are counted, each echo cancelling one. Each
// expectation keeps the channel index's mark taken just before the local
// fan-out (and before the broker got the payload), so the echo of a
// durable event can still reach the subscriptions that joined after it
// (Node.deliverLate).
type echoes struct {
	seed    maphash.Seed
	mu      sync.Mutex
	pending map[uint64][]echo // payload hash → expectations, oldest first
	count   int
	swept   time.Time
}

// echo is one expected echo: until when it is awaited, and the mark of
// the local fan-out that delivered it (channelIndex.forChannel).
type echo struct {
	deadline time.Time
	mark     uint64
}

func newEchoes() *echoes {
	return &echoes{seed: maphash.MakeSeed(), pending: make(map[uint64][]echo)}
}

func (e *echoes) hash(payload []byte) uint64 { return maphash.Bytes(e.seed, payload) }

// expect notes that payload, delivered locally to the subscriptions up to
// mark (channelIndex.mark), will come back once.
func (e *echoes) expect(payload []byte, now time.Time, mark uint64) {
	h := e.hash(payload)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.count >= maxEchoes || now.Sub(e.swept) > echoWait {
		e.sweep(now)
	}
	e.pending[h] = append(e.pending[h], echo{deadline: now.Add(echoWait), mark: mark})
	e.count++
}

// returned reports whether payload is the echo of something delivered
// locally, and if so forgets it and returns the mark noted with it.
func (e *echoes) returned(payload []byte) (mark uint64, ok bool) {
	h := e.hash(payload)
	e.mu.Lock()
	defer e.mu.Unlock()
	q := e.pending[h]
	if len(q) == 0 {
		return 0, false
	}
	mark = q[0].mark
	if len(q) == 1 {
		delete(e.pending, h)
	} else {
		e.pending[h] = q[1:]
	}
	e.count--
	return mark, true
}

// sweep forgets expired expectations; when the map is still full it
// forgets everything (an echo that never comes back is then redelivered,
// which the rules above allow).
func (e *echoes) sweep(now time.Time) {
	for h, q := range e.pending {
		i := 0
		for i < len(q) && q[i].deadline.Before(now) {
			i++
		}
		e.count -= i
		if i == len(q) {
			delete(e.pending, h)
		} else if i > 0 {
			e.pending[h] = q[i:]
		}
	}
	if e.count >= maxEchoes {
		clear(e.pending)
		e.count = 0
	}
	e.swept = now
}
