package hub

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisBrokerConfig configures a RedisBroker; zero values mean the
// defaults.
type RedisBrokerConfig struct {
	// Client is the Redis connection (required): a *redis.Client for one
	// Redis, or a *redis.ClusterClient for a Redis Cluster, on which the
	// broker uses sharded pub/sub with one subscriber connection per shard
	// (see RedisBroker).
	Client redis.UniversalClient
	// Prefix namespaces the broker's Redis channels. Empty: "gigstream:hub:".
	Prefix string
	// Sharded switches one Redis to sharded pub/sub (SPUBLISH/SSUBSCRIBE,
	// Redis 7+), which there behaves like classic pub/sub. A Redis Cluster
	// client always uses it.
	Sharded bool
	// HealthInterval is how often a subscriber connection is pinged; no
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

// RedisBroker is the cluster Broker on Redis pub/sub. On one Redis it
// holds one subscriber connection (a "link") subscribed to exactly the
// channels with local subscribers plus a control channel. On a Redis
// Cluster it holds one link per shard master, each subscribed (SSUBSCRIBE)
// to the channels whose slot that master serves; a channel's Redis name
// carries it in a hash tag, so its publish and its kept events share a slot.
// When a link is lost it opens a new one, resubscribes its channels, and
// only then tells the node so it re-syncs them from history; on a cluster
// it first reads the slot map again, so after a failover or a slot
// migration (the link dies, or Redis unsubscribes it, or answers MOVED)
// the channels move to the shard's new master. go-redis appears in the
// broker's files only.
type RedisBroker struct {
	cfg     RedisBrokerConfig
	log     *slog.Logger
	cluster *redis.ClusterClient // nil on one Redis

	mu     sync.Mutex
	wanted map[string]*redisLink // Redis channel names this node needs, and their link
	links  map[string]*redisLink // by shard master address ("" on one Redis)
	slots  *slotMap              // the cluster's slot owners; nil until read (cluster only)
	// slotReader reads the cluster's slot map (readSlots; tests replace
	// it to serve a stale one).
	slotReader func(context.Context) (*slotMap, error)
	handler    BrokerHandler
	closed     bool

	distrust []atomic.Int64 // per slot: unix ns until which kept events are not trusted (cluster only)

	ctx    context.Context
	cancel context.CancelFunc
	loops  sync.WaitGroup

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
	b := &RedisBroker{cfg: cfg, log: cfg.Logger, wanted: make(map[string]*redisLink), links: make(map[string]*redisLink)}
	if cc, ok := cfg.Client.(*redis.ClusterClient); ok {
		b.cluster = cc
		b.slotReader = func(ctx context.Context) (*slotMap, error) { return readSlots(ctx, cc) }
		b.cfg.Sharded = true
		b.distrust = make([]atomic.Int64, slotCount)
	}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	return b, nil
}

func (b *RedisBroker) controlChannel() string     { return b.cfg.Prefix + "control" }
func (b *RedisBroker) recentKey(ch string) string { return b.cfg.Prefix + "recent:{" + ch + "}" }

// redisChannel is channel's Redis name. On a cluster it hash-tags the
// channel like its kept events, so both live on one shard and a pipeline
// keeps them before publishing them.
func (b *RedisBroker) redisChannel(ch string) string {
	if b.cluster != nil {
		return b.cfg.Prefix + "ch:{" + ch + "}"
	}
	return b.cfg.Prefix + "ch:" + ch
}

// channelOf is redisChannel's inverse; ok is false for other names.
func (b *RedisBroker) channelOf(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, b.cfg.Prefix+"ch:")
	if ok && b.cluster != nil {
		rest, ok = strings.CutPrefix(rest, "{")
		if ok {
			rest, ok = strings.CutSuffix(rest, "}")
		}
	}
	return rest, ok
}

// Start implements Broker: it opens the first connection (on a cluster,
// reads the slot map and opens the control channel's shard). When Redis
// cannot be reached it keeps trying in the background and returns nil: a
// node must come up while Redis is down (readiness reports it).
func (b *RedisBroker) Start(ctx context.Context, h BrokerHandler) error {
	b.mu.Lock()
	b.handler = h
	b.mu.Unlock()
	if b.cluster != nil {
		if err := b.refreshSlots(ctx); err != nil {
			b.log.Warn("hub: redis cluster slots unreadable at start; reading them in the background", slog.Any("err", err))
		}
	}
	name := b.controlChannel()
	b.mu.Lock()
	l, _ := b.linkLocked(name)
	if l == nil {
		b.loops.Add(1)
		go b.awaitSlots(name)
		b.mu.Unlock()
		return nil
	}
	b.wanted[name] = l
	l.names[name] = struct{}{}
	b.mu.Unlock()
	sess, _, err := l.open(ctx)
	if err != nil {
		b.log.Warn("hub: redis pub/sub unreachable at start; connecting in the background", slog.Any("err", err))
		sess = nil
	}
	b.loops.Add(1)
	go l.run(sess)
	return nil
}

// awaitSlots reads the cluster's slot map until it succeeds, then
// subscribes the control channel.
func (b *RedisBroker) awaitSlots(control string) {
	defer b.loops.Done()
	for attempt := 1; ; attempt++ {
		if sleepCtx(b.ctx, min(50*time.Millisecond<<min(attempt, 6), 2*time.Second)) != nil {
			return
		}
		if b.refreshSlots(b.ctx) == nil {
			break
		}
	}
	// Its link's first connection reports it, and the node syncs then.
	if err := b.subscribeName(b.ctx, control); err != nil {
		b.log.Warn("hub: control channel not subscribed", slog.Any("err", err))
	}
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
// trip, and the caller need not wait for it. On a cluster the pipeline is
// split by shard, and a channel's kept events and its publish go to one.
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
// subscription, on the current connection or, if that one dies meanwhile,
// on the next (on a cluster: of the shard that serves the channel then).
func (b *RedisBroker) Subscribe(ctx context.Context, channel string) error {
	return b.subscribeName(ctx, b.redisChannel(channel))
}

func (b *RedisBroker) subscribeName(ctx context.Context, name string) error {
	for {
		b.mu.Lock()
		if b.closed {
			b.mu.Unlock()
			return ErrBrokerClosed
		}
		l, created := b.linkLocked(name)
		if l == nil {
			b.mu.Unlock()
			return errSlotsUnknown
		}
		b.wanted[name] = l
		l.names[name] = struct{}{}
		if created {
			b.loops.Add(1)
			go l.run(nil)
		}
		b.mu.Unlock()
		err := l.confirm(ctx, name)
		if errors.Is(err, errMoved) {
			continue // its shard changed master: subscribe there
		}
		if err != nil {
			b.mu.Lock()
			if b.wanted[name] == l {
				delete(b.wanted, name)
				delete(l.names, name)
			}
			b.mu.Unlock()
		}
		return err
	}
}

// Connected reports whether the control channel's connection is up: while
// it is not, control messages may be missed.
func (b *RedisBroker) Connected() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	l := b.wanted[b.controlChannel()]
	return l != nil && l.sess != nil
}

// Unsubscribe implements Broker.
func (b *RedisBroker) Unsubscribe(ctx context.Context, channel string) error {
	name := b.redisChannel(channel)
	b.mu.Lock()
	l := b.wanted[name]
	delete(b.wanted, name)
	var sess *redisSession
	if l != nil {
		delete(l.names, name)
		sess = l.sess
	}
	b.mu.Unlock()
	if sess == nil {
		return nil // the next connection will not subscribe it
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
	b.mu.Unlock()
	b.cancel()
	b.loops.Wait()
	b.mu.Lock()
	for _, l := range b.links {
		l.closeClient()
	}
	b.mu.Unlock()
	return nil
}

func (b *RedisBroker) handlerOf() BrokerHandler {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.handler
}

// resubscribed tells the node that names were subscribed again after a
// lost connection: everything re-syncs when the control channel was among
// them (control messages may have been missed too), else only their
// channels.
func (b *RedisBroker) resubscribed(names []string) {
	h := b.handlerOf()
	rs, ok := h.(channelResyncer)
	if !ok || slices.Contains(names, b.controlChannel()) {
		h.HandleReconnect()
		return
	}
	channels := make([]string, 0, len(names))
	for _, name := range names {
		if ch, ok := b.channelOf(name); ok {
			channels = append(channels, ch)
		}
	}
	rs.HandleResubscribed(channels)
}

// channelResyncer is a BrokerHandler that can re-sync some channels only
// (a cluster shard's) instead of everything.
type channelResyncer interface {
	HandleResubscribed(channels []string)
}
