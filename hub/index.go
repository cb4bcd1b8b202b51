package hub

import "sync"

const indexShards = 64

// fnv32 hashes a name to pick a shard or a lock without allocating.
func fnv32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// channelIndex maps channel → local subscriptions, sharded so fan-out on
// one channel does not contend with subscribes on others.
type channelIndex struct {
	shards [indexShards]channelShard
}

type channelShard struct {
	mu   sync.RWMutex
	subs map[string]map[*subscription]struct{}
	// adds counts the subscriptions added to the shard; each is numbered
	// with it (subscription.addNo), so a fan-out can later tell which
	// subscriptions joined after it (see forChannelAfter).
	adds uint64
}

func (x *channelIndex) shard(channel string) *channelShard {
	return &x.shards[fnv32(channel)%indexShards]
}

// add registers s and reports whether it is the channel's first.
func (x *channelIndex) add(s *subscription) (first bool) {
	sh := x.shard(s.channel)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.subs == nil {
		sh.subs = make(map[string]map[*subscription]struct{})
	}
	set := sh.subs[s.channel]
	if set == nil {
		set = make(map[*subscription]struct{})
		sh.subs[s.channel] = set
	}
	sh.adds++
	s.addNo = sh.adds
	set[s] = struct{}{}
	return len(set) == 1
}

// remove unregisters s; removed is false when s was not there, last is
// true when the channel has no local subscriber left.
func (x *channelIndex) remove(s *subscription) (removed, last bool) {
	sh := x.shard(s.channel)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	set := sh.subs[s.channel]
	if _, ok := set[s]; !ok {
		return false, false
	}
	delete(set, s)
	if len(set) == 0 {
		delete(sh.subs, s.channel)
		return true, true
	}
	return true, false
}

func (x *channelIndex) has(channel string) bool {
	sh := x.shard(channel)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	return len(sh.subs[channel]) > 0
}

// mark reports whether channel has local subscriptions and, if so, the
// mark forChannel would return now: the subscriptions added after this
// call are the ones numbered past it (see forChannelAfter).
func (x *channelIndex) mark(channel string) (mark uint64, any bool) {
	sh := x.shard(channel)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	return sh.adds, len(sh.subs[channel]) > 0
}

// forChannel calls fn for each subscription of channel under the shard's
// read lock; fn must not block. It returns a mark for forChannelAfter: the
// subscriptions added after this call are the ones numbered past it.
func (x *channelIndex) forChannel(channel string, fn func(n int, s *subscription)) (mark uint64) {
	sh := x.shard(channel)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	set := sh.subs[channel]
	for s := range set {
		fn(len(set), s)
	}
	return sh.adds
}

// forChannelAfter calls fn, as forChannel does, for each subscription of
// channel added after the forChannel call that returned mark; when the
// shard has had no subscription added since, it returns at once.
func (x *channelIndex) forChannelAfter(channel string, mark uint64, fn func(s *subscription)) {
	sh := x.shard(channel)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	if sh.adds == mark {
		return
	}
	for s := range sh.subs[channel] {
		if s.addNo > mark {
			fn(s)
		}
	}
}

// forEach calls fn for every subscription, one shard at a time.
func (x *channelIndex) forEach(fn func(s *subscription)) {
	for i := range x.shards {
		sh := &x.shards[i]
		sh.mu.RLock()
		for _, set := range sh.subs {
			for s := range set {
				fn(s)
			}
		}
		sh.mu.RUnlock()
	}
}

// userIndex maps user id → local sockets, for DisconnectUser, presence and
// shutdown.
type userIndex struct {
	shards [indexShards]userShard
}

type userShard struct {
	mu      sync.Mutex
	clients map[string]map[*client]struct{}
}

func (x *userIndex) shard(user string) *userShard { return &x.shards[fnv32(user)%indexShards] }

func (x *userIndex) add(c *client) {
	sh := x.shard(c.info.UserID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.clients == nil {
		sh.clients = make(map[string]map[*client]struct{})
	}
	set := sh.clients[c.info.UserID]
	if set == nil {
		set = make(map[*client]struct{})
		sh.clients[c.info.UserID] = set
	}
	set[c] = struct{}{}
}

func (x *userIndex) remove(c *client) {
	sh := x.shard(c.info.UserID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	set := sh.clients[c.info.UserID]
	delete(set, c)
	if len(set) == 0 {
		delete(sh.clients, c.info.UserID)
	}
}

// has reports whether the user has a local socket.
func (x *userIndex) has(userID string) bool {
	sh := x.shard(userID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return len(sh.clients[userID]) > 0
}

// user returns a snapshot of the user's local sockets.
func (x *userIndex) user(userID string) []*client {
	sh := x.shard(userID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	out := make([]*client, 0, len(sh.clients[userID]))
	for c := range sh.clients[userID] {
		out = append(out, c)
	}
	return out
}

// all returns a snapshot of every local socket.
func (x *userIndex) all() []*client {
	var out []*client
	for i := range x.shards {
		sh := &x.shards[i]
		sh.mu.Lock()
		for _, set := range sh.clients {
			for c := range set {
				out = append(out, c)
			}
		}
		sh.mu.Unlock()
	}
	return out
}
