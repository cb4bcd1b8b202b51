package market

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// The wait for a password-hashing slot has a deadline: with every slot taken, Hash and
// Verify fail with ErrBusy after SlotWait (or the caller's earlier deadline) instead of
// queueing for as long as the slots stay taken, and a caller that gives up gets its
// own context error, not ErrBusy.
func TestPasswordHasherWaitForASlotHasADeadline(t *testing.T) {
	h := NewPasswordHasher(HasherConfig{MemoryKiB: 8 * 1024, Iterations: 1, Concurrency: 1, SlotWait: 50 * time.Millisecond})
	hash, err := h.Hash(context.Background(), "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.acquire(context.Background()); err != nil { // every slot taken
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := h.Verify(context.Background(), "correct horse battery", hash); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrBusy) {
			t.Fatalf("Verify with every slot taken = %v, want ErrBusy", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Verify with every slot taken waited a minute: the wait has no deadline")
	}
	if _, err := h.Hash(context.Background(), "x"); !errors.Is(err, ErrBusy) {
		t.Fatalf("Hash with every slot taken = %v, want ErrBusy", err)
	}

	long := NewPasswordHasher(HasherConfig{MemoryKiB: 8 * 1024, Iterations: 1, Concurrency: 1, SlotWait: time.Hour})
	if err := long.acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := long.Hash(ctx, "x"); !errors.Is(err, ErrBusy) {
		t.Fatalf("Hash past the request's deadline = %v, want ErrBusy", err)
	}
	gone, leave := context.WithCancel(context.Background())
	leave()
	if _, err := long.Hash(gone, "x"); errors.Is(err, ErrBusy) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Hash for a caller that left = %v, want context.Canceled", err)
	}
	if err := long.dummyVerify(ctx, "x"); !errors.Is(err, ErrBusy) {
		t.Fatalf("dummyVerify with every slot taken = %v, want ErrBusy (an unknown account must answer like a known one)", err)
	}

	h.release()
	if ok, err := h.Verify(context.Background(), "correct horse battery", hash); err != nil || !ok {
		t.Fatalf("Verify once a slot is free = %v, %v", ok, err)
	}
}

// A hash keeps verifying when the lanes change: each encoded hash carries its own
// parameters, so raising ARGON2_LANES does not lock out users hashed before it.
func TestPasswordHasherVerifiesHashesMadeWithOtherLanes(t *testing.T) {
	one := NewPasswordHasher(HasherConfig{MemoryKiB: 8 * 1024, Iterations: 1, Lanes: 1})
	two := NewPasswordHasher(HasherConfig{MemoryKiB: 8 * 1024, Iterations: 1, Lanes: 2})
	ctx := context.Background()
	old, err := one.Hash(ctx, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	made, err := two.Hash(ctx, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(old, ",p=1$") || !strings.Contains(made, ",p=2$") {
		t.Fatalf("hashes do not carry their lanes: %q, %q", old, made)
	}
	for _, c := range []struct {
		h    *PasswordHasher
		hash string
	}{{two, old}, {one, made}} {
		if ok, err := c.h.Verify(ctx, "correct horse battery", c.hash); err != nil || !ok {
			t.Errorf("Verify(%q) = %v, %v; want true", c.hash, ok, err)
		}
		if ok, err := c.h.Verify(ctx, "wrong horse battery", c.hash); err != nil || ok {
			t.Errorf("Verify(wrong, %q) = %v, %v; want false", c.hash, ok, err)
		}
	}
}
