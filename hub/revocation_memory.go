package hub

import (
	"context"
	"sync"
	"time"
)

// MemoryRevocations is the single-node RevocationStore.
type MemoryRevocations struct {
	mu sync.Mutex
	at map[string]time.Time
}

// NewMemoryRevocations returns an empty store.
func NewMemoryRevocations() *MemoryRevocations {
	return &MemoryRevocations{at: make(map[string]time.Time)}
}

// Revoke implements RevocationStore.
func (s *MemoryRevocations) Revoke(_ context.Context, keys []string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		s.at[k] = at
	}
	return nil
}

// Since implements RevocationStore.
func (s *MemoryRevocations) Since(_ context.Context, t time.Time) (map[string]time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]time.Time)
	for k, at := range s.at {
		if !at.Before(t) {
			out[k] = at
		}
	}
	return out, nil
}
