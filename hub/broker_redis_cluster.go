package hub

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// slotCount is the number of hash slots of a Redis Cluster.
const slotCount = 16384

// slotMap is a Redis Cluster's slot owners as CLUSTER SLOTS answered: the
// master address serving each slot ("" for an unserved slot).
type slotMap struct {
	owner   [slotCount]string
	masters map[string]bool
}

var (
	// errSlotsUnknown is returned by a cluster broker that has not read its
	// cluster's slot map yet (the cluster was unreachable so far).
	errSlotsUnknown = errors.New("hub: redis cluster slots not known yet")
	// errMoved tells a waiting subscribe that its channel moved to another
	// shard's connection.
	errMoved = errors.New("hub: channel moved to another redis shard")
	// errUnsubscribedByRedis ends a connection that Redis unsubscribed from
	// a channel still wanted (its slot moved).
	errUnsubscribedByRedis = errors.New("hub: redis unsubscribed a wanted channel (slot moved)")
	// errRetired ends the connection of an address that serves no slot now.
	errRetired = errors.New("hub: redis node no longer a shard master")
	// errNotMaster ends a new connection to an address that is a replica
	// now: the slot map that named it was read before a failover reached
	// every node.
	errNotMaster = errors.New("hub: redis node is a replica now (stale slot map)")
)

// keySlot is the cluster hash slot of key (CRC16/XMODEM of its hash tag,
// or of the whole key when it has none), as Redis computes it.
func keySlot(key string) int {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	var crc uint16
	for i := 0; i < len(key); i++ {
		crc ^= uint16(key[i]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int(crc) % slotCount
}

// readSlots asks the cluster for its slot owners (CLUSTER SHARDS). It
// returns the command's error, or an error when no slot is served.
func readSlots(ctx context.Context, c *redis.ClusterClient) (*slotMap, error) {
	shards, err := c.ClusterShards(ctx).Result()
	if err != nil {
		return nil, fmt.Errorf("hub: redis cluster shards: %w", err)
	}
	m := &slotMap{masters: make(map[string]bool)}
	for _, sh := range shards {
		addr := shardMaster(sh)
		if addr == "" || len(sh.Slots) == 0 {
			continue
		}
		m.masters[addr] = true
		for _, r := range sh.Slots {
			for s := max(r.Start, 0); s <= r.End && s < slotCount; s++ {
				m.owner[s] = addr
			}
		}
	}
	if len(m.masters) == 0 {
		return nil, errors.New("hub: redis cluster serves no slot")
	}
	return m, nil
}

// shardMaster is the address of a shard's master, an online one first
// (a failed master is listed until its replica takes over).
func shardMaster(sh redis.ClusterShard) string {
	addr := ""
	for _, n := range sh.Nodes {
		if n.Role != "master" {
			continue
		}
		host, port := n.Endpoint, n.Port
		if host == "" || host == "?" {
			host = n.IP
		}
		if port == 0 {
			port = n.TLSPort
		}
		addr = net.JoinHostPort(host, strconv.FormatInt(port, 10))
		if n.Health == "online" {
			return addr
		}
	}
	return addr
}

// refreshSlots reads the slot map again and tells the cluster client to
// do the same (its own copy routes publishes and keys).
func (b *RedisBroker) refreshSlots(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 3*b.cfg.HealthInterval)
	defer cancel()
	b.mu.Lock()
	read := b.slotReader
	b.mu.Unlock()
	m, err := read(ctx)
	if err != nil {
		return err
	}
	b.cluster.ReloadState(ctx)
	b.mu.Lock()
	b.slots = m
	b.mu.Unlock()
	return nil
}

// shardClient is a client of one shard master, for its subscriber
// connection, with the cluster client's credentials and timeouts.
func (b *RedisBroker) shardClient(addr string) *redis.Client {
	o := b.cluster.Options()
	return redis.NewClient(&redis.Options{
		Addr: addr, ClientName: o.ClientName, Dialer: o.Dialer, Protocol: o.Protocol,
		Username: o.Username, Password: o.Password, CredentialsProvider: o.CredentialsProvider,
		TLSConfig: o.TLSConfig, DialTimeout: o.DialTimeout, ReadTimeout: o.ReadTimeout,
		WriteTimeout: o.WriteTimeout, PoolSize: 1, MaxRetries: -1,
	})
}

// reroute reads the slot map again after a link was lost and moves every
// channel whose slot another master serves now to that master's link
// (opened if needed); a link left serving nothing is retired. Moved
// channels are re-synced once subscribed at their new home.
func (b *RedisBroker) reroute() {
	if b.cluster == nil {
		return
	}
	if err := b.refreshSlots(b.ctx); err != nil {
		b.log.Warn("hub: redis cluster slots not read", "err", err)
		return
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	moved := make(map[*redisLink][]string)
	var opened []*redisLink
	for name, l := range b.wanted {
		t, created := b.linkLocked(name)
		if t == nil || t == l {
			continue
		}
		if created {
			opened = append(opened, t)
		}
		delete(l.names, name)
		t.names[name] = struct{}{}
		b.wanted[name] = t
		moved[t] = append(moved[t], name)
		l.bumpLocked()
	}
	for addr, l := range b.links {
		if len(l.names) == 0 && !b.slots.masters[addr] {
			b.retireLocked(l)
		}
	}
	b.loops.Add(len(opened) + len(moved))
	b.mu.Unlock()
	for _, t := range opened {
		go t.run(nil) // its first connection subscribes and reports its channels
	}
	for t, names := range moved {
		go t.resubscribe(names)
	}
}

// retireLocked ends a link whose address serves no slot any more.
func (b *RedisBroker) retireLocked(l *redisLink) {
	l.retired = true
	delete(b.links, l.addr)
	l.bumpLocked()
	if l.sess != nil {
		go l.sess.kill(errRetired)
	}
}

// distrustSlots marks the kept events of addr's slots as unreliable for
// RecentTTL: a master that failed may have taken events its replica, now
// serving them, never received (replication is asynchronous). Until every
// such hole is either followed by a newer event (which recoveries notice)
// or expired, recoveries of those channels read History.
func (b *RedisBroker) distrustSlots(addr string) {
	if b.cluster == nil {
		return
	}
	until := time.Now().Add(b.cfg.RecentTTL).UnixNano()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.slots == nil {
		return
	}
	for s := range b.slots.owner {
		if b.slots.owner[s] == addr {
			b.distrust[s].Store(until)
		}
	}
}

// trusted reports whether channel's kept events may answer a recovery.
func (b *RedisBroker) trusted(channel string) bool {
	if b.cluster == nil {
		return true
	}
	return time.Now().UnixNano() >= b.distrust[keySlot(b.recentKey(channel))].Load()
}

// slotGroups splits names into the groups one subscribe command may name:
// all of them on one Redis, one group per slot on a cluster.
func (b *RedisBroker) slotGroups(names []string) [][]string {
	if len(names) == 0 {
		return nil // a PING alone opens the connection
	}
	if b.cluster == nil || len(names) == 1 {
		return [][]string{names}
	}
	bySlot := make(map[int][]string)
	for _, name := range names {
		s := keySlot(name)
		bySlot[s] = append(bySlot[s], name)
	}
	groups := make([][]string, 0, len(bySlot))
	for _, g := range bySlot {
		groups = append(groups, g)
	}
	return groups
}

// checkMaster makes sure a link's new connection subscribed at a shard
// master. A slot map read from a node that has not heard of a failover
// yet still names the old master, now a replica; Redis lets a replica
// take SSUBSCRIBE for its master's slots, but it hears of publishes only
// once the new master counts it as its replica, so events published
// meanwhile would never reach the link. Asked after the subscribe was
// confirmed, a "master" answer is final: a later failover unsubscribes
// the connection, and the link moves again. It returns errNotMaster for a
// replica, or the command's error.
func (l *redisLink) checkMaster(ctx context.Context) error {
	if l.b.cluster == nil {
		return nil
	}
	role, err := l.client.Do(ctx, "ROLE").Slice()
	if err != nil {
		return fmt.Errorf("hub: redis role of %s: %w", l.addr, err)
	}
	if len(role) == 0 || role[0] != "master" {
		return fmt.Errorf("%s: %w", l.addr, errNotMaster)
	}
	return nil
}
