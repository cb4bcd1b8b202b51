package hub

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"
)

// MemoryPresenceConfig configures a MemoryPresence; zero values mean the
// defaults.
type MemoryPresenceConfig struct {
	TTL   time.Duration    // zero: DefaultPresenceTTL
	Grace time.Duration    // zero: DefaultPresenceGrace
	Now   func() time.Time // zero: time.Now (tests pass a fake clock)
}

// MemoryPresence is the single-node Presence.
type MemoryPresence struct {
	cfg   MemoryPresenceConfig
	mu    sync.Mutex
	conns map[string]map[string]time.Time // user → conn → expiry
	left  map[string]time.Time            // user → end of grace window
}

// NewMemoryPresence returns an empty MemoryPresence.
func NewMemoryPresence(cfg MemoryPresenceConfig) *MemoryPresence {
	cfg.TTL = cmp.Or(cfg.TTL, DefaultPresenceTTL)
	cfg.Grace = cmp.Or(cfg.Grace, DefaultPresenceGrace)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &MemoryPresence{cfg: cfg, conns: make(map[string]map[string]time.Time), left: make(map[string]time.Time)}
}

// Connect implements Presence.
func (p *MemoryPresence) Connect(_ context.Context, userID, connID string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.touchLocked(userID, connID)
	return nil
}

func (p *MemoryPresence) touchLocked(userID, connID string) {
	if p.conns[userID] == nil {
		p.conns[userID] = make(map[string]time.Time)
	}
	p.conns[userID][connID] = p.cfg.Now().Add(p.cfg.TTL)
}

// Disconnect implements Presence.
func (p *MemoryPresence) Disconnect(_ context.Context, userID, connID string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns[userID], connID)
	if len(p.conns[userID]) == 0 {
		delete(p.conns, userID)
	}
	p.left[userID] = p.cfg.Now().Add(p.cfg.Grace)
	return nil
}

// Refresh implements Presence.
func (p *MemoryPresence) Refresh(_ context.Context, conns []PresenceConn) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range conns {
		p.touchLocked(c.UserID, c.ConnID)
	}
	return nil
}

// IsOnline implements Presence.
func (p *MemoryPresence) IsOnline(_ context.Context, userID string) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.cfg.Now()
	for _, expiry := range p.conns[userID] {
		if expiry.After(now) {
			return true, nil
		}
	}
	return p.left[userID].After(now), nil
}

// OnlineUsers implements PresenceLister.
func (p *MemoryPresence) OnlineUsers(_ context.Context) ([]string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.cfg.Now()
	out := []string{}
	for user, conns := range p.conns {
		for _, expiry := range conns {
			if expiry.After(now) {
				out = append(out, user)
				break
			}
		}
	}
	for user, until := range p.left {
		if until.After(now) && !slices.Contains(out, user) {
			out = append(out, user)
		}
	}
	return out, nil
}
