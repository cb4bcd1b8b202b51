package tus

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/gigstream/hub/media"
)

// TestLeaseSerializesRequestsOnAnUpload: while one PATCH streams, a second PATCH and a
// Terminate on the same upload wait up to LeaseWait and fail with ErrLocked, another
// upload is not held up, and once the first PATCH ends its lease is free again.
func TestLeaseSerializesRequestsOnAnUpload(t *testing.T) {
	r := newRig(t, func(c *Config) { c.LeaseWait = 200 * time.Millisecond })
	u := r.create(t, media.KindDeliverable, 1000, "a.bin")
	other := r.create(t, media.KindDeliverable, 10, "b.bin")
	body, feed := io.Pipe()
	done := make(chan error, 1)
	go func() { _, err := r.patch(u.ID, 0, body, ""); done <- err }()
	_, _ = feed.Write(randomData(100)) // the first PATCH holds the lease now

	start := time.Now()
	if _, err := r.patch(u.ID, 0, bytes.NewReader(randomData(10)), ""); !errors.Is(err, ErrLocked) {
		t.Fatalf("second PATCH while the first streams = %v, want ErrLocked", err)
	}
	if waited := time.Since(start); waited < 150*time.Millisecond {
		t.Errorf("second PATCH gave up after %s, before LeaseWait", waited)
	}
	if err := r.engine.Terminate(context.Background(), u.ID); !errors.Is(err, ErrLocked) {
		t.Fatalf("Terminate while a PATCH streams = %v, want ErrLocked", err)
	}
	if got, err := r.patch(other.ID, 0, bytes.NewReader(randomData(5)), ""); err != nil || got.Offset != 5 {
		t.Fatalf("PATCH of another upload = %d, %v", got.Offset, err)
	}
	feed.Close()
	if err := <-done; err != nil {
		t.Fatalf("first PATCH: %v", err)
	}
	if got, err := r.patch(u.ID, 100, bytes.NewReader(randomData(10)), ""); err != nil || got.Offset != 110 {
		t.Fatalf("PATCH after the first ended = %d, %v", got.Offset, err)
	}
	if err := r.engine.Terminate(context.Background(), u.ID); err != nil {
		t.Fatal(err)
	}
}

// TestLostLeaseStopsTheWriter: when another holder takes the lease (this one expired
// while the database did not answer), the streaming PATCH notices at its next renewal,
// stops reading and writing, fails with ErrLeaseLost and saves nothing: the upload
// keeps the state of before, and the new holder's writes stand.
func TestLostLeaseStopsTheWriter(t *testing.T) {
	r := newRig(t, func(c *Config) { c.LeaseTTL = 300 * time.Millisecond })
	u := r.create(t, media.KindDeliverable, 1000, "a.bin")
	body, feed := io.Pipe()
	done := make(chan error, 1)
	go func() { _, err := r.patch(u.ID, 0, body, ""); done <- err }()
	_, _ = feed.Write(randomData(100))

	r.state.mu.Lock()
	r.state.leases[u.ID] = memLease{token: "usurper", until: time.Now().Add(time.Minute)}
	r.state.mu.Unlock()
	go func() { // a trickling client keeps sending
		for {
			if _, err := feed.Write([]byte{1}); err != nil {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrLeaseLost) {
			t.Fatalf("PATCH after its lease was taken = %v, want ErrLeaseLost", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the PATCH kept running after its lease was taken")
	}
	feed.CloseWithError(io.ErrClosedPipe)
	if h, _ := r.engine.Head(context.Background(), u.ID); h.Offset != 0 || h.TailKey != "" {
		t.Fatalf("upload after the lost PATCH: offset %d, tail %q; want nothing saved", h.Offset, h.TailKey)
	}
	r.state.mu.Lock()
	holder := r.state.leases[u.ID].token
	r.state.mu.Unlock()
	if holder != "usurper" {
		t.Fatalf("the lost PATCH released the new holder's lease (holder %q)", holder)
	}
}
