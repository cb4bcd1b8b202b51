package market

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/alexedwards/argon2id"
)

// PasswordHasher hashes and checks passwords with argon2id. Each hash costs Memory KiB,
// so concurrent hashing is bounded: a burst of logins waits instead of exhausting memory,
// and the wait is bounded too: past SlotWait (or the caller's deadline, when sooner)
// the request fails with ErrBusy (503 with Retry-After) instead of queueing forever.
type PasswordHasher struct {
	params *argon2id.Params
	slots  chan struct{}
	wait   time.Duration
	dummy  string // a hash of nothing anyone knows, for dummyVerify
}

// HasherConfig tunes argon2id. The zero value means OWASP's recommended minimum
// (19 MiB, 2 passes, 1 lane), 4 hashes at once and a 5-second wait for a slot.
type HasherConfig struct {
	MemoryKiB  uint32
	Iterations uint32
	// Lanes is argon2id's parallelism: the memory is split into that many lanes that
	// are filled at once on as many cores. An attacker's cost per guess (memory times
	// passes) stays the same; the wall time of one hash on an idle machine divides by
	// up to Lanes. Hashes made with other parameters still verify (each hash carries
	// its own).
	Lanes       uint8
	Concurrency int
	// SlotWait is the longest a hash or check waits for one of the Concurrency slots
	// before failing with ErrBusy.
	SlotWait time.Duration
}

// NewPasswordHasher returns a hasher with cfg's parameters.
func NewPasswordHasher(cfg HasherConfig) *PasswordHasher {
	p := &argon2id.Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}
	if cfg.MemoryKiB > 0 {
		p.Memory = cfg.MemoryKiB
	}
	if cfg.Iterations > 0 {
		p.Iterations = cfg.Iterations
	}
	if cfg.Lanes > 0 {
		p.Parallelism = cfg.Lanes
	}
	n := cfg.Concurrency
	if n <= 0 {
		n = 4
	}
	wait := cfg.SlotWait
	if wait <= 0 {
		wait = 5 * time.Second
	}
	h := &PasswordHasher{params: p, slots: make(chan struct{}, n), wait: wait}
	h.dummy, _ = argon2id.CreateHash("no account has this password", p)
	return h
}

// Hash returns the encoded argon2id hash of password. It returns ErrBusy (wrapped) when
// no hashing slot came within SlotWait or ctx's deadline, and ctx's error when the
// caller gave up first.
func (h *PasswordHasher) Hash(ctx context.Context, password string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	hash, err := argon2id.CreateHash(password, h.params)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return hash, nil
}

// Verify reports whether password matches hash. A malformed hash is an error; waiting
// for a slot fails as in Hash.
func (h *PasswordHasher) Verify(ctx context.Context, password, hash string) (bool, error) {
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	ok, err := argon2id.ComparePasswordAndHash(password, hash)
	if err != nil {
		return false, fmt.Errorf("verify password: %w", err)
	}
	return ok, nil
}

// dummyVerify spends the same work as Verify, so that a login for an unknown account
// takes as long as one for a known account (no user enumeration by timing). It returns
// only the error of the wait for a slot, so that an overloaded node answers an unknown
// account with the same 503 as a known one.
func (h *PasswordHasher) dummyVerify(ctx context.Context, password string) error {
	if h.dummy == "" {
		return nil
	}
	_, err := h.Verify(ctx, password, h.dummy)
	if errors.Is(err, ErrBusy) || ctx.Err() != nil {
		return err
	}
	return nil
}

// acquire takes a hashing slot, waiting at most h.wait and never past ctx's deadline:
// ErrBusy (wrapped) when the wait ran out, ctx's error when the caller gave up.
func (h *PasswordHasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	default:
	}
	wait, cancel := context.WithTimeout(ctx, h.wait)
	defer cancel()
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-wait.Done():
		if errors.Is(ctx.Err(), context.Canceled) {
			return fmt.Errorf("wait for password hashing: %w", ctx.Err())
		}
		return fmt.Errorf("%w: no password hashing slot within %s: %w", ErrBusy, h.wait, wait.Err())
	}
}

func (h *PasswordHasher) release() { <-h.slots }
