package hub

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisBrokerConfig configures a RedisBroker; zero values mean the
// defaults.
type RedisBrokerConfig struct {
	// Client is the Redis connection (required). A *redis.Client works in
	// both modes; see Sharded for Redis Cluster.
	Client redis.UniversalClient
	// Prefix namespaces the broker's Redis channels. Empty: "gigstream:hub:".
	Prefix string
	// Sharded switches to sharded pub/sub (SPUBLISH/SSUBSCRIBE, Redis 7+).
	// On a single Redis (or one shard) this behaves like classic pub/sub.
	// On a Redis Cluster each shard only relays its own slots, which is how
	// pub/sub scales past one Redis; this broker however holds one
	// subscriber connection, so it is only correct on a cluster while all
	// subscribed channels hash to one shard. Full cluster support needs one
	// subscriber connection per shard, channels grouped by slot owner, and
	// re-grouping on MOVED (see docs/protocol.md, "Scaling").
	Sharded bool
	// HealthInterval is how often the subscriber connection is pinged; no
	// answer within three intervals counts as a lost connection.
	// Zero: 5 s.
	HealthInterval time.Duration
	// Logger receives connection-loss logs. Nil: slog.Default().
	Logger *slog.Logger
	// KeepRecent is how many of a channel's latest durable events are kept
	// in Redis ({prefix}recent:{channel}, a sorted set by seq, written
	// before each publish), for recoveries (see RecentBroker). Zero: 32;
	// negative: none are kept.
	KeepRecent int
	// RecentTTL is how long a channel's kept events outlive its last
	// durable event. Zero: 5 minutes.
	RecentTTL time.Duration
	// NoRecentReads makes Recent report nothing known, so recoveries always
	// ask History, while events are still kept. Set it while rolling out
	// from a version that kept none: its nodes' events would be missing
	// from the kept ones.
	NoRecentReads bool
}

// RedisBroker is the cluster Broker on Redis pub/sub. It holds one
// subscriber connection ("session") subscribed to exactly the channels
// with local subscribers plus a control channel. When the connection is
// lost it opens a new session, resubscribes everything, and only then calls
// HandleReconnect so the node re-syncs durable channels from history.
// go-redis appears in this file only.
type RedisBroker struct {
	cfg RedisBrokerConfig
	log *slog.Logger

	mu      sync.Mutex
	wanted  map[string]struct{} // Redis channel names this node needs
	sess    *redisSession       // current session, nil while reconnecting
	changed chan struct{}       // closed and replaced on every session change
	handler BrokerHandler
	closed  bool

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	pubMu      sync.Mutex
	pubQueue   []pubRequest // waiting for the next pipeline
	pubRunning bool         // a goroutine is sending batches

	recentMu      sync.Mutex
	recentQueue   []recentRequest // waiting for the next read
	recentRunning bool            // a goroutine is sending reads
}

// pubRequest is one payload waiting to be published, and who to tell.
type pubRequest struct {
	name    string
	channel string
	payload []byte
	done    func(error)
}

const (
	// maxPublishBacklog bounds the publishes waiting for Redis; past it a
	// publish fails at once with errPublishBacklog.
	maxPublishBacklog = 100_000
	// publishTimeout bounds one pipeline of publishes.
	publishTimeout = 5 * time.Second
)

var errPublishBacklog = errors.New("hub: too many publishes waiting for redis")

// NewRedisBroker returns a broker for cfg. It returns an error when
// cfg.Client is nil.
func NewRedisBroker(cfg RedisBrokerConfig) (*RedisBroker, error) {
	if cfg.Client == nil {
		return nil, errors.New("hub: RedisBrokerConfig.Client is required")
	}
	cfg.Prefix = cmp.Or(cfg.Prefix, "gigstream:hub:")
	cfg.HealthInterval = cmp.Or(cfg.HealthInterval, 5*time.Second)
	cfg.Logger = cmp.Or(cfg.Logger, slog.Default())
	cfg.KeepRecent = cmp.Or(cfg.KeepRecent, 32)
	cfg.RecentTTL = cmp.Or(cfg.RecentTTL, 5*time.Minute)
	b := &RedisBroker{cfg: cfg, log: cfg.Logger, wanted: make(map[string]struct{}),
		changed: make(chan struct{}), done: make(chan struct{})}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	b.wanted[b.controlChannel()] = struct{}{}
	return b, nil
}

func (b *RedisBroker) controlChannel() string        { return b.cfg.Prefix + "control" }
func (b *RedisBroker) recentKey(ch string) string    { return b.cfg.Prefix + "recent:{" + ch + "}" }
func (b *RedisBroker) redisChannel(ch string) string { return b.cfg.Prefix + "ch:" + ch }

// Start implements Broker: it opens the first session and returns its
// error when Redis cannot be reached.
func (b *RedisBroker) Start(ctx context.Context, h BrokerHandler) error {
	b.mu.Lock()
	b.handler = h
	b.mu.Unlock()
	sess, err := b.openSession(ctx)
	if err != nil {
		// A node must come up while Redis is down (readiness reports it): the
		// connection is made in the background, and the node re-syncs once it is.
		b.log.Warn("hub: redis pub/sub unreachable at start; connecting in the background", slog.Any("err", err))
		sess = nil
	}
	go b.run(sess)
	return nil
}

// Publish implements Broker: the payload goes out in the next pipeline
// (see PublishAsync) and Publish waits for Redis to take it.
func (b *RedisBroker) Publish(ctx context.Context, channel string, payload []byte) error {
	done := make(chan error, 1)
	b.PublishAsync(channel, payload, func(err error) { done <- err })
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("hub: redis publish: %w", ctx.Err())
	}
}

// PublishAsync implements AsyncBroker. Publishes are sent in order by one
// goroutine, each batch (everything queued while the previous one was on
// its way) as one pipeline: under load a publish costs a share of a round
// trip, and the caller need not wait for it.
func (b *RedisBroker) PublishAsync(channel string, payload []byte, done func(error)) {
	b.pubMu.Lock()
	if len(b.pubQueue) >= maxPublishBacklog {
		b.pubMu.Unlock()
		done(errPublishBacklog)
		return
	}
	b.pubQueue = append(b.pubQueue, pubRequest{name: b.redisChannel(channel), channel: channel, payload: payload, done: done})
	start := !b.pubRunning
	b.pubRunning = true
	b.pubMu.Unlock()
	if start {
		go b.sendPublishes()
	}
}

// sendPublishes sends the queued publishes in pipelines until none is left.
func (b *RedisBroker) sendPublishes() {
	for {
		b.pubMu.Lock()
		batch := b.pubQueue
		b.pubQueue = nil
		if len(batch) == 0 {
			b.pubRunning = false
			b.pubMu.Unlock()
			return
		}
		b.pubMu.Unlock()
		errs := b.publishBatch(batch)
		for i, r := range batch {
			r.done(errs[i])
		}
	}
}

// publishBatch sends one pipeline and returns each publish's error.
func (b *RedisBroker) publishBatch(batch []pubRequest) []error {
	ctx, cancel := context.WithTimeout(b.ctx, publishTimeout)
	defer cancel()
	cmds := make([]*redis.IntCmd, len(batch))
	_, err := b.cfg.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, r := range batch {
			b.keep(ctx, p, r)
			if b.cfg.Sharded {
				cmds[i] = p.SPublish(ctx, r.name, r.payload)
			} else {
				cmds[i] = p.Publish(ctx, r.name, r.payload)
			}
		}
		return nil
	})
	errs := make([]error, len(batch))
	for i, c := range cmds {
		if e := c.Err(); e != nil {
			errs[i] = fmt.Errorf("hub: redis publish: %w", e)
		} else if err != nil {
			errs[i] = fmt.Errorf("hub: redis publish: %w", err)
		}
	}
	return errs
}

// PublishControl implements Broker.
func (b *RedisBroker) PublishControl(ctx context.Context, payload []byte) error {
	return b.publish(ctx, b.controlChannel(), payload)
}

func (b *RedisBroker) publish(ctx context.Context, name string, payload []byte) error {
	var err error
	if b.cfg.Sharded {
		err = b.cfg.Client.SPublish(ctx, name, payload).Err()
	} else {
		err = b.cfg.Client.Publish(ctx, name, payload).Err()
	}
	if err != nil {
		return fmt.Errorf("hub: redis publish: %w", err)
	}
	return nil
}

// Subscribe implements Broker. It returns once Redis confirmed the
// subscription, on the current session or, if that one dies meanwhile, on
// the next.
func (b *RedisBroker) Subscribe(ctx context.Context, channel string) error {
	name := b.redisChannel(channel)
	b.mu.Lock()
	b.wanted[name] = struct{}{}
	b.mu.Unlock()
	if err := b.confirm(ctx, name); err != nil {
		b.mu.Lock()
		delete(b.wanted, name)
		b.mu.Unlock()
		return err
	}
	return nil
}

// confirm waits until name is subscribed on a ready session.
func (b *RedisBroker) confirm(ctx context.Context, name string) error {
	for {
		b.mu.Lock()
		sess, changed, closed := b.sess, b.changed, b.closed
		b.mu.Unlock()
		if closed {
			return ErrBrokerClosed
		}
		if sess != nil {
			err := sess.subscribeBatched(ctx, b.cfg.Sharded, name)
			if !errors.Is(err, errSessionDead) {
				return err
			}
		}
		select { // the next session subscribes everything in wanted
		case <-ctx.Done():
			return fmt.Errorf("hub: redis subscribe %q: %w", name, ctx.Err())
		case <-changed:
		}
	}
}

// Connected reports whether a subscriber session is up: while it is not,
// messages (control ones included) may be missed.
func (b *RedisBroker) Connected() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sess != nil
}

// Unsubscribe implements Broker.
func (b *RedisBroker) Unsubscribe(ctx context.Context, channel string) error {
	name := b.redisChannel(channel)
	b.mu.Lock()
	delete(b.wanted, name)
	sess := b.sess
	b.mu.Unlock()
	if sess == nil {
		return nil // the next session will not subscribe it
	}
	return sess.unsubscribe(ctx, b.cfg.Sharded, name)
}

// Close implements Broker.
func (b *RedisBroker) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	started := b.handler != nil
	b.mu.Unlock()
	b.cancel()
	if started {
		<-b.done
	}
	return nil
}

// run keeps a session alive, replacing it whenever it dies.
func (b *RedisBroker) run(sess *redisSession) {
	defer close(b.done)
	for attempt := 0; ; {
		if sess != nil {
			b.watch(sess)
			b.setSession(nil)
			b.handlerOf().HandleDisconnect()
			if b.ctx.Err() != nil {
				return
			}
			b.log.Warn("hub: redis pub/sub connection lost; reconnecting", slog.Any("err", sess.err()))
		}
		for {
			var err error
			if sess, err = b.openSession(b.ctx); err == nil {
				break
			}
			if b.ctx.Err() != nil {
				return
			}
			attempt++
			_ = sleepCtx(b.ctx, min(50*time.Millisecond<<min(attempt, 6), 2*time.Second))
		}
		attempt = 0
		b.handlerOf().HandleReconnect()
	}
}

func (b *RedisBroker) handlerOf() BrokerHandler {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.handler
}

func (b *RedisBroker) setSession(s *redisSession) {
	b.mu.Lock()
	b.sess = s
	close(b.changed)
	b.changed = make(chan struct{})
	b.mu.Unlock()
}

// openSession connects, subscribes every wanted channel and waits for
// Redis to confirm them, then publishes the session.
func (b *RedisBroker) openSession(ctx context.Context) (*redisSession, error) {
	var ps *redis.PubSub
	if b.cfg.Sharded {
		ps = b.cfg.Client.SSubscribe(b.ctx)
	} else {
		ps = b.cfg.Client.Subscribe(b.ctx)
	}
	sess := newRedisSession(ps, b.handlerOf(), b.cfg.Prefix)
	go sess.receive(b.ctx, 3*b.cfg.HealthInterval)
	b.mu.Lock()
	names := make([]string, 0, len(b.wanted))
	for name := range b.wanted {
		names = append(names, name)
	}
	b.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, 3*b.cfg.HealthInterval)
	defer cancel()
	if err := sess.subscribe(ctx, b.cfg.Sharded, names...); err != nil {
		sess.kill(err)
		return nil, fmt.Errorf("hub: redis subscribe: %w", err)
	}
	b.setSession(sess)
	return sess, nil
}

// watch pings the session until it dies or the broker closes.
func (b *RedisBroker) watch(sess *redisSession) {
	t := time.NewTicker(b.cfg.HealthInterval)
	defer t.Stop()
	for {
		select {
		case <-b.ctx.Done():
			sess.kill(ErrBrokerClosed)
			return
		case <-sess.dead:
			return
		case <-t.C:
			if err := sess.ps.Ping(b.ctx, "health"); err != nil {
				sess.kill(err)
			}
		}
	}
}

var errSessionDead = errors.New("hub: redis pub/sub session lost")

// redisSession is one subscriber connection and its receive loop.
type redisSession struct {
	ps      *redis.PubSub
	handler BrokerHandler
	prefix  string

	mu       sync.Mutex
	barriers map[string]chan struct{}
	lastErr  error
	next     atomic.Uint64
	dead     chan struct{}
	dieOnce  sync.Once

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

func newRedisSession(ps *redis.PubSub, h BrokerHandler, prefix string) *redisSession {
	return &redisSession{ps: ps, handler: h, prefix: prefix, barriers: make(map[string]chan struct{}), dead: make(chan struct{})}
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

// subscribe sends the subscribe command and waits for Redis to have
// processed it: a PING sent after it is answered only afterwards.
func (s *redisSession) subscribe(ctx context.Context, sharded bool, names ...string) error {
	var err error
	if sharded {
		err = s.ps.SSubscribe(ctx, names...)
	} else {
		err = s.ps.Subscribe(ctx, names...)
	}
	if err != nil {
		s.kill(err)
		return errSessionDead
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
		if m.Channel == s.prefix+"control" {
			s.handler.HandleControl([]byte(m.Payload))
		} else if ch, ok := strings.CutPrefix(m.Channel, s.prefix+"ch:"); ok {
			s.handler.HandleMessage(ch, []byte(m.Payload))
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
