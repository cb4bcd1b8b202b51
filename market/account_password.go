package market

import (
	"context"
	"fmt"

	"github.com/alexedwards/argon2id"
)

// PasswordHasher hashes and checks passwords with argon2id. Each hash costs Memory KiB,
// so concurrent hashing is bounded: a burst of logins waits instead of exhausting memory.
type PasswordHasher struct {
	params *argon2id.Params
	slots  chan struct{}
	dummy  string // a hash of nothing anyone knows, for dummyVerify
}

// HasherConfig tunes argon2id. The zero value means OWASP's recommended minimum
// (19 MiB, 2 passes, 1 lane) and 4 hashes at once.
type HasherConfig struct {
	MemoryKiB   uint32
	Iterations  uint32
	Concurrency int
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
	n := cfg.Concurrency
	if n <= 0 {
		n = 4
	}
	h := &PasswordHasher{params: p, slots: make(chan struct{}, n)}
	h.dummy, _ = argon2id.CreateHash("no account has this password", p)
	return h
}

// Hash returns the encoded argon2id hash of password. It returns ctx's error when the
// wait for a hashing slot outlasts ctx.
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

// Verify reports whether password matches hash. A malformed hash is an error.
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
// takes as long as one for a known account (no user enumeration by timing).
func (h *PasswordHasher) dummyVerify(ctx context.Context, password string) {
	if h.dummy == "" {
		return
	}
	_, _ = h.Verify(ctx, password, h.dummy)
}

func (h *PasswordHasher) acquire(ctx context.Context) error {
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for password hashing: %w", ctx.Err())
	}
}

func (h *PasswordHasher) release() { <-h.slots }
