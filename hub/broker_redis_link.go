package hub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisLink keeps one subscriber connection alive for a set of Redis
// channels: all of them on one Redis, one shard master's on a cluster. Its
// fields are guarded by the broker's mu.
type redisLink struct {
	b         *RedisBroker
	addr      string                // the shard master; "" on one Redis
	client    redis.UniversalClient // opens the connection
	ownClient bool                  // the link made client and closes it
	handler   BrokerHandler

	names   map[string]struct{} // channels this link subscribes
	sess    *redisSession       // current connection, nil while reconnecting
	changed chan struct{}       // closed and replaced on every change of sess or names
	retired bool                // its address serves no slot now
}

// linkLocked returns the link that serves name, creating it (not yet
// running) when needed; created reports that. It returns nil on a cluster
// whose slot map is unknown or leaves name's slot unserved.
func (b *RedisBroker) linkLocked(name string) (l *redisLink, created bool) {
	addr := ""
	if b.cluster != nil {
		if b.slots == nil {
			return nil, false
		}
		if addr = b.slots.owner[keySlot(name)]; addr == "" {
			return nil, false
		}
	}
	if l := b.links[addr]; l != nil {
		return l, false
	}
	l = &redisLink{b: b, addr: addr, client: b.cfg.Client, handler: b.handler,
		names: make(map[string]struct{}), changed: make(chan struct{})}
	if b.cluster != nil {
		l.client, l.ownClient = b.shardClient(addr), true
	}
	b.links[addr] = l
	return l, true
}

// bumpLocked wakes everyone waiting for the link to change.
func (l *redisLink) bumpLocked() {
	close(l.changed)
	l.changed = make(chan struct{})
}

// has reports whether the link still subscribes name.
func (l *redisLink) has(name string) bool {
	l.b.mu.Lock()
	defer l.b.mu.Unlock()
	_, ok := l.names[name]
	return ok
}

func (l *redisLink) closeClient() {
	if l.ownClient {
		_ = l.client.Close()
	}
}

// confirm waits until name is subscribed on a ready connection of this
// link. It returns errMoved when name moved to another link meanwhile.
func (l *redisLink) confirm(ctx context.Context, name string) error {
	b := l.b
	for {
		b.mu.Lock()
		closed, moved := b.closed, b.wanted[name] != l
		sess, changed := l.sess, l.changed
		b.mu.Unlock()
		switch {
		case closed:
			return ErrBrokerClosed
		case moved:
			return errMoved
		}
		if sess != nil {
			err := sess.subscribeBatched(ctx, b.cfg.Sharded, name)
			if !errors.Is(err, errSessionDead) {
				return err
			}
		}
		select { // the next connection subscribes everything in names
		case <-ctx.Done():
			return fmt.Errorf("hub: redis subscribe %q: %w", name, ctx.Err())
		case <-changed:
		}
	}
}

// resubscribe subscribes channels that moved to this link and re-syncs
// them once Redis confirmed. If the connection fails first, the next one
// subscribes and reports them.
func (l *redisLink) resubscribe(names []string) {
	b := l.b
	defer b.loops.Done()
	ctx, cancel := context.WithTimeout(b.ctx, subscribeTimeout)
	defer cancel()
	b.mu.Lock()
	sess, changed := l.sess, l.changed
	b.mu.Unlock()
	if sess == nil {
		select { // a connection on its way may have read names before they moved here
		case <-ctx.Done():
			return
		case <-changed:
		}
		b.mu.Lock()
		sess = l.sess
		b.mu.Unlock()
		if sess == nil {
			return // it failed: the next one subscribes and reports them
		}
	}
	if err := sess.subscribe(ctx, b.cfg.Sharded, names...); err != nil {
		sess.kill(err) // the next connection subscribes and reports them
		return
	}
	b.resubscribed(names)
}

// run keeps the link's connection alive, replacing it whenever it dies,
// until the broker closes or the link retires. sess is the connection
// Start opened, or nil.
func (l *redisLink) run(sess *redisSession) {
	b := l.b
	defer b.loops.Done()
	defer l.closeClient()
	for attempt := 0; ; {
		if sess != nil {
			l.watch(sess)
			l.lost()
			if b.ctx.Err() != nil {
				return
			}
			b.log.Warn("hub: redis pub/sub connection lost; reconnecting", slog.String("addr", l.addr), slog.Any("err", sess.err()))
			b.reroute()
		}
		var names []string
		for {
			b.mu.Lock()
			retired := l.retired
			b.mu.Unlock()
			if retired {
				return
			}
			var err error
			if sess, names, err = l.open(b.ctx); err == nil {
				break
			}
			if b.ctx.Err() != nil {
				return
			}
			if errors.Is(err, errNotMaster) {
				b.log.Info("hub: redis slot map was stale; reading it again", slog.Any("err", err))
			}
			attempt++
			_ = sleepCtx(b.ctx, min(50*time.Millisecond<<min(attempt, 6), 2*time.Second))
			b.reroute()
		}
		attempt = 0
		if len(names) > 0 {
			b.resubscribed(names)
		}
	}
}

// lost clears the dead connection and tells the node when control
// messages may be missed from now on.
func (l *redisLink) lost() {
	b := l.b
	b.mu.Lock()
	l.sess = nil
	l.bumpLocked()
	_, control := l.names[b.controlChannel()]
	b.mu.Unlock()
	b.distrustSlots(l.addr)
	if control {
		l.handler.HandleDisconnect()
	}
}

// open connects, subscribes every channel of the link and waits for Redis
// to confirm them, makes sure (on a cluster) that it reached a shard
// master, then makes the connection the link's. It returns the channels
// it subscribed, or errNotMaster when the address is a replica now.
func (l *redisLink) open(ctx context.Context) (*redisSession, []string, error) {
	b := l.b
	var ps *redis.PubSub
	if b.cfg.Sharded {
		ps = l.client.SSubscribe(b.ctx)
	} else {
		ps = l.client.Subscribe(b.ctx)
	}
	sess := newRedisSession(ps, l)
	go sess.receive(b.ctx, 3*b.cfg.HealthInterval)
	b.mu.Lock()
	names := make([]string, 0, len(l.names))
	for name := range l.names {
		names = append(names, name)
	}
	b.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, 3*b.cfg.HealthInterval)
	defer cancel()
	if err := sess.subscribe(ctx, b.cfg.Sharded, names...); err != nil {
		sess.kill(err)
		return nil, nil, fmt.Errorf("hub: redis subscribe: %w", err)
	}
	if err := l.checkMaster(ctx); err != nil {
		sess.kill(err)
		return nil, nil, err
	}
	b.mu.Lock()
	l.sess = sess
	l.bumpLocked()
	b.mu.Unlock()
	return sess, names, nil
}

// watch pings the connection until it dies or the broker closes.
func (l *redisLink) watch(sess *redisSession) {
	t := time.NewTicker(l.b.cfg.HealthInterval)
	defer t.Stop()
	for {
		select {
		case <-l.b.ctx.Done():
			sess.kill(ErrBrokerClosed)
			return
		case <-sess.dead:
			return
		case <-t.C:
			if err := sess.ps.Ping(l.b.ctx, "health"); err != nil {
				sess.kill(err)
			}
		}
	}
}
