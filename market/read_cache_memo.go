package market

import (
	"bytes"
	"sync"
	"sync/atomic"
)

// ReadMemo keeps, beside one value of the read cache as this node last decoded it,
// what the layers above made of it: its encoded answers, one per variant of what is
// added to the cached value on every read (a profile's presence: offline or online).
// A nil *ReadMemo keeps nothing.
type ReadMemo struct {
	encoded [2]atomic.Value
}

// Encoded is what SetEncoded kept for variant (0 or 1), nil until then.
func (m *ReadMemo) Encoded(variant int) any {
	if m == nil {
		return nil
	}
	return m.encoded[variant].Load()
}

// SetEncoded keeps v, the answer a client receives for variant (0 or 1); always the
// same type of value.
func (m *ReadMemo) SetEncoded(variant int, v any) {
	if m != nil {
		m.encoded[variant].Store(v)
	}
}

// readMemoEntries bounds how many keys a node keeps decoded (about 50 KiB each for a
// seller's profile: the cached bytes, the value, two answers and their gzip).
const readMemoEntries = 256

// readMemo is a node's memo of decoded read cache values, by key: a read whose bytes
// equal the ones decoded last for its key gets the value decoded then and its
// ReadMemo. Equal bytes are the same value whatever their generation, so the memo is
// never staler than the shared cache: a write or a TTL that changes the cached bytes
// changes the memo's entry at the next read.
type readMemo struct {
	mu      sync.Mutex
	entries map[string]*memoEntry
}

type memoEntry struct {
	raw   []byte
	value any
	memo  *ReadMemo
}

// get returns key's entry if its bytes are raw, nil otherwise.
func (m *readMemo) get(key string, raw []byte) *memoEntry {
	m.mu.Lock()
	e := m.entries[key]
	m.mu.Unlock()
	if e == nil || !bytes.Equal(e.raw, raw) {
		return nil
	}
	return e
}

// keep makes value, decoded from raw (or encoded as raw), key's entry with a new
// ReadMemo, which it returns; when the memo is full an arbitrary entry makes room.
func (m *readMemo) keep(key string, raw []byte, value any) *ReadMemo {
	e := &memoEntry{raw: raw, value: value, memo: &ReadMemo{}}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.entries == nil {
		m.entries = make(map[string]*memoEntry)
	}
	if _, ok := m.entries[key]; !ok && len(m.entries) >= readMemoEntries {
		for k := range m.entries {
			delete(m.entries, k)
			break
		}
	}
	m.entries[key] = e
	return e.memo
}

// last is the value key's entry was decoded into, whatever bytes the cache holds now
// (nil without an entry): a guess of what a read of key will return, never an answer.
func (m *readMemo) last(key string) any {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.entries[key]; e != nil {
		return e.value
	}
	return nil
}
