package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/fasthttp/websocket"
	"go.opentelemetry.io/otel/trace"
)

// Errors returned by Node methods.
var (
	ErrInvalidChannel = errors.New("hub: invalid channel name")
	ErrInvalidEvent   = errors.New("hub: invalid event (type or data)")
	ErrShuttingDown   = errors.New("hub: node is shutting down")
	ErrNotStarted     = errors.New("hub: node not started")
	ErrStarted        = errors.New("hub: node already started")
)

// Node is one hub process: it owns the local sockets, the channel →
// subscriber index and the broker connection that links it to the other
// nodes.
type Node struct {
	cfg      Config
	log      *slog.Logger
	broker   Broker
	presence Presence
	metrics  *metrics
	history  *historyGate
	revoked  *revocations
	echoes   *echoes
	// presenceOut writes presence changes off the connect path.
	presenceOut *presenceWriter
	hello       helloTemplate

	tracer    trace.Tracer // spans of traced events (tracing.go); nil: none
	channels  channelIndex
	users     userIndex
	chanLocks [256]sync.Mutex // serialize broker subscribe/unsubscribe per channel

	ctx    context.Context // the node's lifetime, cancelled by Shutdown
	cancel context.CancelFunc
	loops  sync.WaitGroup

	lifeMu   sync.Mutex
	started  bool
	draining bool
	sockets  sync.WaitGroup
	stopped  chan struct{} // closed when Shutdown has finished
}

// NewNode checks cfg and builds a Node; call Start before serving sockets.
// It returns an error when the metrics cannot be registered.
func NewNode(cfg Config) (*Node, error) {
	cfg = cfg.withDefaults()
	n := &Node{cfg: cfg, log: cfg.Logger.With(slog.String("node", cfg.NodeID)), metrics: newMetrics(),
		history: newHistoryGate(cfg.RecoveryConcurrency), revoked: newRevocations(), echoes: newEchoes(), presenceOut: newPresenceWriter(), stopped: make(chan struct{})}
	n.hello = newHelloTemplate(&n.cfg)
	if cfg.Tracer != nil {
		n.tracer = cfg.Tracer.Tracer(tracerName)
	}
	n.broker = cfg.Broker
	if n.broker == nil {
		n.broker = NewMemoryBroker()
	}
	n.presence = cfg.Presence
	if n.presence == nil {
		n.presence = NewMemoryPresence(MemoryPresenceConfig{})
	}
	if err := n.metrics.register(cfg.Registerer); err != nil {
		return nil, err
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	return n, nil
}

// SetCallbacks installs the domain's decisions in place of Config.Callbacks. It is
// for wiring in which the domain publishes through this node, so the callbacks can
// only be built after it: call it once the domain exists and before Start. After
// Start it changes nothing and returns ErrStarted.
func (n *Node) SetCallbacks(cb Callbacks) error {
	n.lifeMu.Lock()
	defer n.lifeMu.Unlock()
	if n.started {
		return ErrStarted
	}
	n.cfg.Callbacks = cb
	return nil
}

// ID returns the node's id.
func (n *Node) ID() string { return n.cfg.NodeID }

// Start connects the broker and starts the presence heartbeat. It returns
// the broker's error when the broker cannot start at all; the Redis broker
// starts while Redis is down and connects in the background.
func (n *Node) Start(ctx context.Context) error {
	if err := n.broker.Start(ctx, brokerHandler{n}); err != nil {
		return fmt.Errorf("hub: start broker: %w", err)
	}
	n.lifeMu.Lock()
	n.started = true
	n.lifeMu.Unlock()
	if !n.syncRevocationsOnce(n.revoked.generation()) {
		go n.syncRevocations()
	}
	n.loops.Add(2)
	go n.presenceLoop()
	go n.presenceWriteLoop()
	return nil
}

// Publish sends ev to every subscriber of channel on every node: this
// node's own subscribers get it at once, the others through the broker.
// ev.Seq is zero for an ephemeral event; a durable event carries its
// per-channel seq and must already be readable through History (publish
// after commit). ev.Data must be a JSON value. It returns
// ErrInvalidChannel, ErrInvalidEvent, or the broker's error; after a broker
// error a durable event should be published again (the outbox's job),
// since other nodes' subscribers only notice a missing seq when a later
// one arrives.
func (n *Node) Publish(ctx context.Context, channel string, ev Event) error {
	p, err := n.preparePublication(channel, ev)
	if err != nil {
		return err
	}
	n.deliverLocally(p)
	err = n.broker.Publish(ctx, channel, p.env)
	endSpan(p.span, err)
	if err != nil {
		return fmt.Errorf("hub: publish to %q: %w", channel, err)
	}
	n.metrics.brokerPublished.Inc()
	return nil
}

// AsyncBroker is a Broker that can also publish without making the caller
// wait for the backend; done receives the outcome (from another goroutine).
type AsyncBroker interface {
	PublishAsync(channel string, payload []byte, done func(error))
}

// PublishAsync is Publish without waiting for the broker: it validates ev,
// hands it to the broker, delivers it to this node's subscribers and
// returns; done (which may be nil) later receives what Publish would have
// returned. It returns ErrInvalidChannel or ErrInvalidEvent at once (and
// then done is not called).
//
// The broker gets the event before the local fan-out, not after: handing
// it over may start the broker's sender goroutine and a fan-out starts the
// writers of idle sockets, and the goroutine started last runs first on
// this thread once the caller blocks (Go's scheduler keeps it in the P's
// runnext slot, and moves the one it displaces to the back of the run
// queue). So a subscriber's socket write no longer waits behind the Redis
// round trip of the same event, and behind whatever else is queued, when
// both cores are busy.
func (n *Node) PublishAsync(channel string, ev Event, done func(error)) error {
	p, err := n.preparePublication(channel, ev)
	if err != nil {
		return err
	}
	report := func(err error) {
		endSpan(p.span, err)
		if err != nil {
			err = fmt.Errorf("hub: publish to %q: %w", channel, err)
		} else {
			n.metrics.brokerPublished.Inc()
		}
		if done != nil {
			done(err)
		}
	}
	if b, ok := n.broker.(AsyncBroker); ok {
		b.PublishAsync(channel, p.env, report)
	} else {
		go func() {
			ctx, cancel := context.WithTimeout(n.ctx, n.cfg.CallbackTimeout)
			defer cancel()
			report(n.broker.Publish(ctx, channel, p.env))
		}()
	}
	n.deliverLocally(p)
	return nil
}

// publication is one event on its way out, encoded once: frame for this
// node's sockets, env for the broker.
type publication struct {
	channel     string
	seq         uint64
	traceparent string
	frame, env  []byte
	span        trace.Span // hub.publish of a traced event, ended once the broker took it; else nil
	local       bool       // the channel had local subscribers: deliverLocally fans out
}

// preparePublication validates ev and encodes it. When the channel has
// local subscribers it also notes that the broker will hand the payload
// back (the node is subscribed to every channel it has subscribers of), so
// that copy goes only to subscriptions that join after the channel index's
// mark taken here (deliverLate): the expectation is in place before the
// broker can return the payload, whichever of the broker hand-off and the
// local fan-out comes first. A subscription that joins between the mark
// and the fan-out gets a durable event from both and drops the second by
// its seq; an ephemeral one is not delivered late. A traced event's
// hub.publish span is started here, for the caller to end once the broker
// took the event.
func (n *Node) preparePublication(channel string, ev Event) (publication, error) {
	if !ValidChannel(channel) {
		return publication{}, ErrInvalidChannel
	}
	if !ValidEventType(ev.Type) || !json.Valid(ev.Data) {
		return publication{}, ErrInvalidEvent
	}
	p := publication{channel: channel, seq: ev.Seq}
	p.span, p.traceparent = n.startPublishSpan(channel, ev)
	p.frame = encodeEventFrame(channel, ev)
	p.env = encodeEnvelope(ev.Seq, p.traceparent, p.frame)
	var mark uint64
	if mark, p.local = n.channels.mark(channel); p.local {
		n.echoes.expect(p.env, time.Now(), mark)
	}
	return p, nil
}

// deliverLocally hands p to this node's subscribers of its channel.
func (n *Node) deliverLocally(p publication) {
	if p.local {
		n.fanOut(p.channel, p.seq, p.traceparent, p.frame)
	}
}

// brokerHandler keeps the BrokerHandler methods off Node's public API.
type brokerHandler struct{ n *Node }

func (h brokerHandler) HandleMessage(channel string, payload []byte) {
	h.n.metrics.brokerReceived.Inc()
	if mark, ok := h.n.echoes.returned(payload); ok {
		// This node published it and delivered it already, but only to the
		// subscriptions it had then.
		h.n.deliverLate(channel, payload, mark)
		return
	}
	seq, traceparent, frame, err := decodeEnvelope(payload)
	if err != nil {
		h.n.log.Warn("hub: dropped broker message", slog.String("channel", channel), slog.Any("err", err))
		return
	}
	h.n.fanOut(channel, seq, traceparent, frame)
}

// deliverLate hands the echo of a durable event this node published to
// the channel's subscriptions that joined after its local fan-out (mark).
// One that joined in between may have read the channel's kept events
// before the broker stored this one, and would otherwise miss it until a
// later event showed the gap. Each subscription drops a seq it has; an
// ephemeral event (seq 0) is not delivered again.
func (n *Node) deliverLate(channel string, payload []byte, mark uint64) {
	var out outFrame
	var seq uint64
	decoded := false
	n.channels.forChannelAfter(channel, mark, func(s *subscription) {
		if !decoded {
			decoded = true
			var frame []byte
			var err error
			if seq, _, frame, err = decodeEnvelope(payload); err != nil {
				seq = 0
			}
			out.raw, out.size = frame, len(frame)
		}
		if seq != 0 {
			s.deliver(seq, out)
		}
	})
}

func (h brokerHandler) HandleControl(payload []byte) { h.n.handleControl(payload) }
func (h brokerHandler) HandleDisconnect()            { h.n.revoked.lost() }

func (h brokerHandler) HandleReconnect() {
	h.n.resyncAll()
	go h.n.syncRevocations()
}

// HandleResubscribed re-syncs the channels of a cluster shard that were
// subscribed again (its connection was lost, or they moved to another).
func (h brokerHandler) HandleResubscribed(channels []string) { h.n.resyncChannels(channels) }

// fanOut hands one event to every local subscriber. The frame is prepared
// once and its bytes shared; no subscriber can make another wait. A traced
// event (traceparent set) gets a hub.fan_out span, parent of its socket writes.
func (n *Node) fanOut(channel string, seq uint64, traceparent string, frame []byte) (mark uint64) {
	var out outFrame
	var span trace.Span
	if traceparent != "" {
		if span = n.startFanOutSpan(channel, seq, traceparent); span != nil {
			sc := span.SpanContext()
			out.trace = &sc
			defer span.End()
		}
	}
	return n.channels.forChannel(channel, func(subscribers int, s *subscription) {
		if out.size == 0 {
			out.raw, out.size = frame, len(frame)
			// A prepared message builds the frame once for many sockets, but
			// costs a frame buffer and a scratch connection of ~5 KB itself;
			// a socket or a few write a small frame as it is (frame is never
			// modified once published, so it is shared, not copied).
			if subscribers >= preparedMinSubscribers || len(frame) > rawFrameMax {
				if pm, err := websocket.NewPreparedMessage(websocket.TextMessage, frame); err == nil {
					out.pm, out.raw = pm, nil
				}
			}
		}
		s.deliver(seq, out)
	})
}

// preparedMinSubscribers is the local subscriber count from which fan-out
// prepares an event's WebSocket frame once for all of them instead of each
// socket framing the bytes as it writes them.
const preparedMinSubscribers = 8

// rawFrameMax is the largest event frame written without preparing it when
// few sockets get it: one that fits the write buffer the HTTP layer gives a
// socket (256 bytes; handlers' wsBufferSize) goes out in one write, a larger
// one would take two (header and buffer, then the rest), where a prepared
// message is always one.
const rawFrameMax = 256

func (n *Node) chanLock(channel string) *sync.Mutex {
	return &n.chanLocks[fnv32(channel)%uint32(len(n.chanLocks))]
}

// attach indexes s, subscribing the broker when it is the channel's first
// local subscriber. It returns the broker's error.
func (n *Node) attach(ctx context.Context, s *subscription) error {
	l := n.chanLock(s.channel)
	l.Lock()
	defer l.Unlock()
	if !n.channels.has(s.channel) {
		if err := n.broker.Subscribe(ctx, s.channel); err != nil {
			return fmt.Errorf("hub: subscribe %q: %w", s.channel, err)
		}
	}
	n.channels.add(s)
	s.attachedAt = time.Now()
	n.metrics.subscriptions.Inc()
	return nil
}

// detach removes s, unsubscribing the broker when it was the last one.
// Detaching twice is harmless.
func (n *Node) detach(s *subscription) {
	l := n.chanLock(s.channel)
	l.Lock()
	defer l.Unlock()
	removed, last := n.channels.remove(s)
	if !removed {
		return
	}
	n.metrics.subscriptions.Dec()
	if last {
		ctx, cancel := context.WithTimeout(n.ctx, n.cfg.CallbackTimeout)
		defer cancel()
		if err := n.broker.Unsubscribe(ctx, s.channel); err != nil {
			n.log.Warn("hub: broker unsubscribe failed", slog.String("channel", s.channel), slog.Any("err", err))
		}
	}
}

// dropSubscription removes a subscription the server gave up on.
func (n *Node) dropSubscription(s *subscription) {
	s.stop()
	s.client.forget(s)
	n.detach(s)
}

// Connections returns the number of sockets open on this node.
func (n *Node) Connections() int { return len(n.users.all()) }

// IsOnline reports whether the user holds a socket on any node, or closed
// the last one within the presence grace window. This node's own sockets
// count at once; another node's a few milliseconds after their hello
// (presence is written in batches off the connect path). It returns
// Presence's error.
func (n *Node) IsOnline(ctx context.Context, userID string) (bool, error) {
	if n.users.has(userID) {
		return true, nil
	}
	online, err := n.presence.IsOnline(ctx, userID)
	if err != nil {
		return false, fmt.Errorf("hub: presence of %q: %w", userID, err)
	}
	return online, nil
}

// OnlineUsers lists the users online on any node (this node's sockets at once),
// when the Presence can list them (both of ours can); otherwise it returns an error.
func (n *Node) OnlineUsers(ctx context.Context) ([]string, error) {
	lister, ok := n.presence.(PresenceLister)
	if !ok {
		return nil, errors.New("hub: this presence cannot list users")
	}
	users, err := lister.OnlineUsers(ctx)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(users))
	for _, u := range users {
		seen[u] = true
	}
	for _, c := range n.users.all() {
		if !seen[c.info.UserID] {
			seen[c.info.UserID] = true
			users = append(users, c.info.UserID)
		}
	}
	return users, nil
}

// presenceLoop re-announces local sockets so their presence entries
// outlive the TTL while the node lives, and only then.
func (n *Node) presenceLoop() {
	defer n.loops.Done()
	t := time.NewTicker(n.cfg.PresenceRefresh)
	defer t.Stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-t.C:
			n.refreshPresence()
			n.revoked.prune(time.Now().Add(-n.tokenWindow()))
		}
	}
}

func (n *Node) refreshPresence() {
	var conns []PresenceConn
	for _, c := range n.users.all() {
		if c.info.UserID != "" {
			conns = append(conns, PresenceConn{UserID: c.info.UserID, ConnID: c.id})
		}
	}
	if len(conns) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.PresenceRefresh)
	defer cancel()
	if err := n.presence.Refresh(ctx, conns); err != nil {
		n.log.Warn("hub: presence refresh failed", slog.Any("err", err))
	}
}
