package tus

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Lease is one holder's claim on an upload: only the holder of an unexpired lease may
// append to it, finish it or delete it. It replaces a lock held on a database
// connection, which pinned a pooled connection for as long as a client trickled its
// PATCH: a lease is taken, renewed and released with short statements and holds nothing
// in between. Token is random per claim; the StateStore stores it with an expiry TTL
// from its own clock, and fences every write with it.
type Lease struct {
	Token string
	TTL   time.Duration
}

// Lease errors.
var (
	// ErrLocked: another request holds the upload's lease (a PATCH still streaming, or
	// one whose client vanished and whose lease has not expired yet). Retry shortly.
	ErrLocked = errors.New("tus: upload is busy with another request")
	// ErrLeaseLost: the lease ran out before it could be renewed (the database did not
	// answer in time) or another holder took it after it expired; nothing after the
	// last saved offset was kept, and no byte was written under a lost lease.
	ErrLeaseLost = errors.New("tus: upload lease lost")
)

// held is a lease the engine keeps alive while it works on an upload. Its ctx is the
// caller's, cancelled with ErrLeaseLost as soon as the lease may have lapsed: the local
// deadline is measured from the moment each renewal was sent, so it always ends before
// the store's expiry (taken from the store's clock when the statement ran) and no S3
// write or state save of this holder can overlap a later holder's.
type held struct {
	state  StateStore
	id     string
	lease  Lease
	ctx    context.Context
	cancel context.CancelCauseFunc
	stop   chan struct{}
	done   chan struct{}
}

// acquireLease takes id's lease, retrying while another holder has it for up to
// e.cfg.LeaseWait (bounded by ctx). Errors: ErrLocked, ErrNotFound, the store's.
func (e *Engine) acquireLease(ctx context.Context, id string) (*held, error) {
	lease := Lease{Token: randomID(), TTL: e.cfg.LeaseTTL}
	deadline := time.Now().Add(e.cfg.LeaseWait)
	pause := 20 * time.Millisecond
	for {
		sent := time.Now()
		err := e.state.Acquire(ctx, id, lease)
		if err == nil {
			return e.keepLease(ctx, id, lease, sent), nil
		}
		remaining := time.Until(deadline)
		if !errors.Is(err, ErrLocked) || remaining <= 0 {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %w", ErrLocked, context.Cause(ctx))
		case <-time.After(min(pause, remaining)):
		}
		pause = min(2*pause, 500*time.Millisecond)
	}
}

// keepLease starts renewing lease every third of its TTL until release.
func (e *Engine) keepLease(ctx context.Context, id string, lease Lease, sent time.Time) *held {
	h := &held{state: e.state, id: id, lease: lease, stop: make(chan struct{}), done: make(chan struct{})}
	h.ctx, h.cancel = context.WithCancelCause(ctx)
	go h.keep(sent.Add(lease.TTL))
	return h
}

// keep renews the lease until stopped. A renewal that fails for a passing reason is
// tried again sooner; once the local deadline passes, or the store says the lease is
// someone else's, the work is cancelled with ErrLeaseLost.
func (h *held) keep(deadline time.Time) {
	defer close(h.done)
	renew := time.NewTimer(h.lease.TTL / 3)
	defer renew.Stop()
	lapse := time.NewTimer(time.Until(deadline))
	defer lapse.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-lapse.C:
			h.cancel(fmt.Errorf("%w: not renewed within %s", ErrLeaseLost, h.lease.TTL))
			return
		case <-renew.C:
			sent := time.Now()
			ctx, cancel := context.WithDeadline(context.WithoutCancel(h.ctx), deadline)
			err := h.state.Renew(ctx, h.id, h.lease)
			cancel()
			switch {
			case errors.Is(err, ErrLeaseLost), errors.Is(err, ErrNotFound):
				h.cancel(fmt.Errorf("%w: %w", ErrLeaseLost, err))
				return
			case err != nil:
				renew.Reset(h.lease.TTL / 10)
				continue
			}
			deadline = sent.Add(h.lease.TTL)
			lapse.Reset(time.Until(deadline))
			renew.Reset(h.lease.TTL / 3)
		}
	}
}

// release stops renewing and gives the lease back (a lease already lost is left to
// its new holder). It returns why the work was cancelled: ErrLeaseLost (wrapped) when
// the lease lapsed, else nil.
func (h *held) release() error {
	close(h.stop)
	<-h.done
	lost := context.Cause(h.ctx)
	if !errors.Is(lost, ErrLeaseLost) {
		lost = nil
	}
	h.cancel(nil)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(h.ctx), 5*time.Second)
	defer cancel()
	_ = h.state.Release(ctx, h.id, h.lease) // an unreleased lease expires after its TTL
	return lost
}

// fenced returns err, or ErrLeaseLost (wrapped, with err) when the lease lapsed and
// caused it: the caller learns why its work stopped rather than a cancelled context.
func (h *held) fenced(err error) error {
	if err == nil {
		return nil
	}
	if cause := context.Cause(h.ctx); errors.Is(cause, ErrLeaseLost) && !errors.Is(err, ErrLeaseLost) {
		return fmt.Errorf("%w (%w)", cause, err)
	}
	return err
}
