package handlers

import (
	"cmp"
	"sync"
)

// closeTooManySockets is the close code of a socket refused for a cap after its
// upgrade (hub.CloseTooManySockets; docs/protocol.md): two upgrades that passed the
// check before it at once.
const closeTooManySockets = 4003

// socketCaps counts this node's open sockets per user and per client address (an
// IPv6 /64) and refuses past either cap. A socket counts from the moment it is
// handed to the hub until it ends, so nothing can leak a count.
type socketCaps struct {
	perUser, perAddr int
	mu               sync.Mutex
	users, addrs     map[string]int
}

func newSocketCaps(perUser, perAddr int) *socketCaps {
	return &socketCaps{perUser: cmp.Or(perUser, 20), perAddr: cmp.Or(perAddr, 200),
		users: make(map[string]int), addrs: make(map[string]int)}
}

// full reports whether one more socket of userID from addr would pass a cap.
func (s *socketCaps) full(userID, addr string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.users[userID] >= s.perUser || s.addrs[addr] >= s.perAddr
}

// acquire counts a socket of userID from addr, or reports false at a cap.
func (s *socketCaps) acquire(userID, addr string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.users[userID] >= s.perUser || s.addrs[addr] >= s.perAddr {
		return false
	}
	s.users[userID]++
	s.addrs[addr]++
	return true
}

// release forgets a socket that acquire counted.
func (s *socketCaps) release(userID, addr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.users[userID]--; s.users[userID] <= 0 {
		delete(s.users, userID)
	}
	if s.addrs[addr]--; s.addrs[addr] <= 0 {
		delete(s.addrs, addr)
	}
}
