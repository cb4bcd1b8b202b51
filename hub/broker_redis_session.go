package hub

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

var errSessionDead = errors.New("hub: redis pub/sub session lost")

// redisSession is one subscriber connection and its receive loop.
type redisSession struct {
	ps   *redis.PubSub
	link *redisLink

	mu       sync.Mutex
	barriers map[string]chan struct{}
	// unsubscribing counts the SUNSUBSCRIBEs sent per channel and not yet
	// answered: any other sunsubscribe comes from Redis moving the slot.
	unsubscribing map[string]int
	lastErr       error
	next          atomic.Uint64
	dead          chan struct{}
	dieOnce       sync.Once

	subMu      sync.Mutex
	subQueue   []subRequest // waiting for the next SUBSCRIBE
	subRunning bool         // a goroutine is sending batches
}

// subRequest is one channel waiting to be subscribed, and who to tell.
type subRequest struct {
	name string
	done chan error
}

// subscribeTimeout bounds one batched SUBSCRIBE and its confirmation.
const subscribeTimeout = 10 * time.Second

func newRedisSession(ps *redis.PubSub, l *redisLink) *redisSession {
	return &redisSession{ps: ps, link: l, barriers: make(map[string]chan struct{}),
		unsubscribing: make(map[string]int), dead: make(chan struct{})}
}

// askedToLeave reports (and forgets) one pending SUNSUBSCRIBE of name.
func (s *redisSession) askedToLeave(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.unsubscribing[name]
	if n == 0 {
		return false
	}
	if n == 1 {
		delete(s.unsubscribing, name)
	} else {
		s.unsubscribing[name] = n - 1
	}
	return true
}

// kill ends the session once, closing its connection.
func (s *redisSession) kill(err error) {
	s.dieOnce.Do(func() {
		s.mu.Lock()
		s.lastErr = err
		s.mu.Unlock()
		close(s.dead)
		_ = s.ps.Close()
	})
}

func (s *redisSession) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastErr
}

// subscribe sends the subscribe commands and waits for Redis to have
// processed them: a PING sent after them is answered only afterwards. On a
// cluster, one SSUBSCRIBE may only name channels of one slot, so names go
// out as one command per slot (written back to back, one round trip).
func (s *redisSession) subscribe(ctx context.Context, sharded bool, names ...string) error {
	for _, group := range s.link.b.slotGroups(names) {
		var err error
		if sharded {
			err = s.ps.SSubscribe(ctx, group...)
		} else {
			err = s.ps.Subscribe(ctx, group...)
		}
		if err != nil {
			s.kill(err)
			return errSessionDead
		}
	}
	return s.barrier(ctx)
}

// subscribeBatched subscribes name together with whatever other channels
// are waiting: one SUBSCRIBE and one confirming PING for all the channels
// queued while the previous batch was on its way, so a connect storm costs
// a round trip per batch, not per channel.
func (s *redisSession) subscribeBatched(ctx context.Context, sharded bool, name string) error {
	req := subRequest{name: name, done: make(chan error, 1)}
	s.subMu.Lock()
	s.subQueue = append(s.subQueue, req)
	start := !s.subRunning
	s.subRunning = true
	s.subMu.Unlock()
	if start {
		go s.sendSubscribes(sharded)
	}
	select {
	case err := <-req.done:
		return err
	case <-s.dead:
		return errSessionDead
	case <-ctx.Done():
		return fmt.Errorf("hub: redis subscribe not confirmed: %w", ctx.Err())
	}
}

// sendSubscribes sends the queued channels in batches until none is left.
func (s *redisSession) sendSubscribes(sharded bool) {
	for {
		s.subMu.Lock()
		batch := s.subQueue
		s.subQueue = nil
		if len(batch) == 0 {
			s.subRunning = false
			s.subMu.Unlock()
			return
		}
		s.subMu.Unlock()
		names := make([]string, len(batch))
		for i, r := range batch {
			names[i] = r.name
		}
		ctx, cancel := context.WithTimeout(context.Background(), subscribeTimeout)
		err := s.subscribe(ctx, sharded, names...)
		cancel()
		for _, r := range batch {
			r.done <- err
		}
	}
}

func (s *redisSession) unsubscribe(ctx context.Context, sharded bool, name string) error {
	var err error
	if sharded {
		s.mu.Lock()
		s.unsubscribing[name]++ // its answer is no sign of a moved slot
		s.mu.Unlock()
		err = s.ps.SUnsubscribe(ctx, name)
	} else {
		err = s.ps.Unsubscribe(ctx, name)
	}
	if err != nil {
		s.kill(err)
		return nil // the next session will not subscribe it
	}
	return nil
}

func (s *redisSession) barrier(ctx context.Context) error {
	token := "barrier-" + strconv.FormatUint(s.next.Add(1), 10)
	ch := make(chan struct{})
	s.mu.Lock()
	s.barriers[token] = ch
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.barriers, token)
		s.mu.Unlock()
	}()
	if err := s.ps.Ping(ctx, token); err != nil {
		s.kill(err)
		return errSessionDead
	}
	select {
	case <-ch:
		return nil
	case <-s.dead:
		return errSessionDead
	case <-ctx.Done():
		return fmt.Errorf("hub: redis subscribe not confirmed: %w", ctx.Err())
	}
}

// receive dispatches messages until the connection fails or stays silent
// past timeout (the health pings keep a live one talking).
func (s *redisSession) receive(ctx context.Context, timeout time.Duration) {
	for {
		msg, err := s.ps.ReceiveTimeout(ctx, timeout)
		if err != nil {
			s.kill(err)
			return
		}
		select {
		case <-s.dead:
			return
		default:
		}
		s.dispatch(msg)
	}
}

func (s *redisSession) dispatch(msg any) {
	switch m := msg.(type) {
	case *redis.Message:
		b := s.link.b
		if m.Channel == b.controlChannel() {
			s.link.handler.HandleControl([]byte(m.Payload))
		} else if ch, ok := b.channelOf(m.Channel); ok {
			s.link.handler.HandleMessage(ch, []byte(m.Payload))
		}
	case *redis.Subscription:
		// Redis drops a shard's subscribers when the slot moves (a failover
		// or a migration); a channel still wanted then needs the new owner.
		if m.Kind == "sunsubscribe" && !s.askedToLeave(m.Channel) && s.link.has(m.Channel) {
			s.kill(errUnsubscribedByRedis)
		}
	case *redis.Pong:
		s.mu.Lock()
		if ch, ok := s.barriers[m.Payload]; ok {
			close(ch)
			delete(s.barriers, m.Payload)
		}
		s.mu.Unlock()
	}
}
