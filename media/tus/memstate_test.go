package tus

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// memState is a StateStore in memory, for these tests only; store/ keeps the real one in
// Postgres.
type memState struct {
	mu      sync.Mutex
	uploads map[string]Upload
	leases  map[string]memLease
}

type memLease struct {
	token string
	until time.Time
}

func newMemState() *memState {
	return &memState{uploads: map[string]Upload{}, leases: map[string]memLease{}}
}

func (m *memState) Create(_ context.Context, u Upload) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.uploads[u.ID] = clone(u)
	return nil
}

func (m *memState) Get(_ context.Context, id string) (Upload, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.uploads[id]
	if !ok {
		return Upload{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return clone(u), nil
}

func (m *memState) Save(_ context.Context, u Upload, lease Lease) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.leases[u.ID].token != lease.Token {
		return fmt.Errorf("%w: %s", ErrLeaseLost, u.ID)
	}
	m.uploads[u.ID] = clone(u)
	return nil
}

func (m *memState) Delete(_ context.Context, id string, lease Lease) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.leases[id].token == lease.Token {
		delete(m.uploads, id)
		delete(m.leases, id)
	}
	return nil
}

func (m *memState) Acquire(_ context.Context, id string, lease Lease) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.uploads[id]; !ok {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if l, ok := m.leases[id]; ok && time.Now().Before(l.until) {
		return fmt.Errorf("%w: %s", ErrLocked, id)
	}
	m.leases[id] = memLease{token: lease.Token, until: time.Now().Add(lease.TTL)}
	return nil
}

func (m *memState) Renew(_ context.Context, id string, lease Lease) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.leases[id].token != lease.Token {
		return fmt.Errorf("%w: %s", ErrLeaseLost, id)
	}
	m.leases[id] = memLease{token: lease.Token, until: time.Now().Add(lease.TTL)}
	return nil
}

func (m *memState) Release(_ context.Context, id string, lease Lease) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.leases[id].token == lease.Token {
		delete(m.leases, id)
	}
	return nil
}

func (m *memState) Expired(_ context.Context, t time.Time) ([]Upload, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Upload
	for _, u := range m.uploads {
		if u.Status == StatusUploading && u.ExpiresAt.Before(t) {
			out = append(out, clone(u))
		}
	}
	return out, nil
}

// Stalled lists every upload in StatusScanning: this store keeps no save times, and
// the tests that use it want each stuck upload retried.
func (m *memState) Stalled(_ context.Context, _ time.Time) ([]Upload, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Upload
	for _, u := range m.uploads {
		if u.Status == StatusScanning {
			out = append(out, clone(u))
		}
	}
	return out, nil
}

func clone(u Upload) Upload {
	u.Parts = slices.Clone(u.Parts)
	return u
}
