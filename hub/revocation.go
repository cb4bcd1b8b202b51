package hub

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// RevocationStore keeps, for as long as a connection token can live, which
// sessions and users were revoked and when. Nodes hear revocations live on
// the control channel; the store is what a node reads when it starts or
// when its broker connection comes back, so a revocation it could not hear
// still refuses tokens.
type RevocationStore interface {
	// Revoke records keys ("s:<session>", "u:<user>") as revoked at at.
	Revoke(ctx context.Context, keys []string, at time.Time) error
	// Since returns every key revoked at or after t, with its time.
	Since(ctx context.Context, t time.Time) (map[string]time.Time, error)
}

func sessionKey(id string) string { return "s:" + id }
func userKey(id string) string    { return "u:" + id }

// revocations is the node's view of the revoked sessions and users. It is
// in sync while the broker connection is up and the store was read after
// it was (re)established; out of sync, tokens are refused, since a
// revocation may have been missed.
type revocations struct {
	mu     sync.RWMutex
	at     map[string]time.Time // key → when it was revoked
	inSync bool
	gen    uint64 // counts broker connection losses
}

func newRevocations() *revocations { return &revocations{at: make(map[string]time.Time)} }

// add records keys revoked at at.
func (r *revocations) add(keys []string, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range keys {
		if prev, ok := r.at[k]; !ok || at.After(prev) {
			r.at[k] = at
		}
	}
}

// merge installs what the store returned (keys heard live meanwhile are
// kept) and marks the view in sync, unless the broker connection was lost
// since generation gen: then revocations may have been missed again.
func (r *revocations) merge(stored map[string]time.Time, gen uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, at := range stored {
		if prev, ok := r.at[k]; !ok || at.After(prev) {
			r.at[k] = at
		}
	}
	r.inSync = r.gen == gen
}

// lost marks the view out of sync: the broker connection is down.
func (r *revocations) lost() {
	r.mu.Lock()
	r.gen++
	r.inSync = false
	r.mu.Unlock()
}

func (r *revocations) generation() uint64 {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.gen
}

// revoked reports whether a credential of session sessionID of userID,
// issued at issued, has been revoked: its session was, or its user was at
// or after issued (to the second, as tokens carry seconds).
func (r *revocations) revoked(userID, sessionID string, issued time.Time) (revoked, inSync bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if _, ok := r.at[sessionKey(sessionID)]; ok && sessionID != "" {
		return true, r.inSync
	}
	if at, ok := r.at[userKey(userID)]; ok && !at.Truncate(time.Second).Before(issued.Truncate(time.Second)) {
		return true, r.inSync
	}
	return false, r.inSync
}

// prune forgets keys revoked before cutoff: no token issued before then is
// still valid.
func (r *revocations) prune(cutoff time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, at := range r.at {
		if at.Before(cutoff) {
			delete(r.at, k)
		}
	}
}

// syncRevocations reads the store until it succeeds, the node stops or the
// broker connection is lost again, and then closes local sockets whose
// credentials were revoked while the node could not hear it. It runs at
// Start and on every broker reconnect, after the control channel is
// subscribed again, so nothing falls between the read and the live stream.
func (n *Node) syncRevocations() {
	gen := n.revoked.generation()
	for attempt := 0; !n.syncRevocationsOnce(gen); attempt++ {
		if sleepCtx(n.ctx, backoff(min(attempt, 7))) != nil || n.revoked.generation() != gen {
			return
		}
	}
}

// syncRevocationsOnce makes one attempt and reports whether it is done
// (synced, or nothing to do until the broker is back).
func (n *Node) syncRevocationsOnce(gen uint64) bool {
	if b, ok := n.broker.(interface{ Connected() bool }); ok && !b.Connected() {
		return true // HandleReconnect syncs again
	}
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.CallbackTimeout)
	defer cancel()
	stored, err := n.cfg.Revocations.Since(ctx, time.Now().Add(-n.tokenWindow()))
	if err != nil {
		n.log.Warn("hub: revocations not read; tokens refused until they are", slog.Any("err", err))
		return false
	}
	n.revoked.merge(stored, gen)
	n.closeRevokedSockets()
	return true
}

// closeRevokedSockets closes local sockets whose session or user was
// revoked after they connected.
func (n *Node) closeRevokedSockets() {
	for _, c := range n.users.all() {
		if revoked, _ := n.revoked.revoked(c.info.UserID, c.info.SessionID, c.connected); revoked {
			c.close(CloseSessionEnded, "session ended", true)
		}
	}
}

// tokenWindow is how long a revocation must be remembered: the longest a
// token lives, plus clock skew between nodes.
func (n *Node) tokenWindow() time.Duration { return n.cfg.TokenTTL + tokenLeeway }
