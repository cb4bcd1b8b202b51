package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	fws "github.com/fasthttp/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/propagation"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/gigstream/hub/analytics"
	"github.com/gigstream/hub/handlers"
	"github.com/gigstream/hub/hub"
	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/store"
	"github.com/gigstream/hub/web"
)

// hubPublisher lets the domain publish through the hub (market.Publisher). Order
// events that are conversions also go to analytics (a no-op when it is off).
type hubPublisher struct {
	node    *hub.Node
	tracker *analytics.Tracker
}

func (p hubPublisher) Publish(ctx context.Context, ev market.Event) error {
	trackOrderEvent(p.tracker, ev)
	return p.node.Publish(ctx, ev.Channel, hubEvent(ctx, ev))
}

// PublishAsync implements market.AsyncPublisher: the node's own subscribers get the
// event at once and the caller does not wait for Redis.
func (p hubPublisher) PublishAsync(ctx context.Context, ev market.Event, done func(error)) error {
	trackOrderEvent(p.tracker, ev)
	return p.node.PublishAsync(ev.Channel, hubEvent(ctx, ev), done)
}

// hubEvent is ev for the hub, with the trace of the request that caused it: the one
// its row kept, else the caller's (an ephemeral event, or one whose row kept none).
func hubEvent(ctx context.Context, ev market.Event) hub.Event {
	trace := ev.Trace
	if trace == "" && oteltrace.SpanContextFromContext(ctx).IsSampled() {
		c := propagation.MapCarrier{}
		propagation.TraceContext{}.Inject(ctx, c)
		trace = c["traceparent"]
	}
	return hub.Event{Seq: ev.Seq, Type: ev.Type, Data: ev.Data, Trace: trace}
}

// newHub builds this node's real-time engine on Redis (fan-out between nodes and
// presence). The domain's decisions are installed with SetCallbacks before it starts.
func newHub(cfg config, rdb redis.UniversalClient, reg prometheus.Registerer, log *slog.Logger) (*hub.Node, error) {
	keep := 0 // the broker's default
	if cfg.RecoveryKeep == "off" {
		keep = -1
	}
	broker, err := hub.NewRedisBroker(hub.RedisBrokerConfig{Client: rdb, Sharded: cfg.RedisShardedPubSub, Logger: log,
		KeepRecent: keep, NoRecentReads: cfg.RecoveryKeep != "on"})
	if err != nil {
		return nil, err
	}
	presence, err := hub.NewRedisPresence(hub.RedisPresenceConfig{Client: rdb, Grace: cfg.PresenceGrace})
	if err != nil {
		return nil, err
	}
	revocations, err := hub.NewRedisRevocations(hub.RedisRevocationsConfig{Client: rdb})
	if err != nil {
		return nil, err
	}
	return hub.NewNode(hub.Config{
		Broker: broker, Presence: presence, Revocations: revocations, Logger: log, Registerer: reg,
		MaxFrameBytes: int64(cfg.WSMaxFrameBytes), SendQueueBytes: cfg.WSSendQueueBytes, Tracer: cfg.Telemetry.tracer,
		TokenSecret: []byte(cfg.WSTokenSecret), TokenTTL: cfg.WSTokenTTL,
		AuthorizeRate: float64(cfg.SocketBudgets.AuthorizeRate), AuthorizeBurst: cfg.SocketBudgets.AuthBurst,
	})
}

// socketTokens lets the HTTP layer issue and check the hub's connection tokens.
type socketTokens struct{ node *hub.Node }

func (t socketTokens) Issue(userID, sessionID string) (string, time.Time, error) {
	return t.node.IssueToken(hub.ClientInfo{UserID: userID, SessionID: sessionID})
}

func (t socketTokens) Verify(token string) (userID, sessionID string, ok bool, err error) {
	info, err := t.node.VerifyToken(token)
	switch {
	case errors.Is(err, hub.ErrRevocationsOutOfSync):
		return "", "", false, err
	case err != nil:
		return "", "", false, nil
	}
	return info.UserID, info.SessionID, true, nil
}

// newSocketTokens is nil (tokens off) without WS_TOKEN_SECRET.
func newSocketTokens(cfg config, node *hub.Node) handlers.SocketTokens {
	if cfg.WSTokenSecret == "" {
		return nil
	}
	return socketTokens{node}
}

// hubCallbacks are the domain's decisions for the hub: who may subscribe, history for
// recovery, and the chat's client events and acks.
func hubCallbacks(realtime *market.Realtime, chat *market.Chat) hub.Callbacks {
	clientEvent, ack := chatCallbacks(chat)
	return hub.Callbacks{
		Authorize: func(ctx context.Context, info hub.ClientInfo, channel string) error {
			return realtime.AuthorizeChannel(ctx, info.UserID, channel)
		},
		History: func(ctx context.Context, channel string, since uint64, limit int) ([]hub.Event, error) {
			return history(ctx, realtime, channel, since, limit)
		},
		HistoryMany: func(ctx context.Context, reads []hub.HistoryRead, limit int) ([]hub.HistoryPage, error) {
			return historyMany(ctx, realtime, reads, limit)
		},
		ClientEvent: clientEvent,
		Ack:         ack,
	}
}

// history adapts durable events to the hub, translating the end of retention.
func history(ctx context.Context, realtime *market.Realtime, channel string, since uint64, limit int) ([]hub.Event, error) {
	events, err := realtime.History(ctx, channel, since, limit)
	if errors.Is(err, market.ErrHistoryGone) {
		return nil, fmt.Errorf("%w: %w", hub.ErrHistoryGone, err)
	}
	if err != nil {
		return nil, err
	}
	return hubEvents(events), nil
}

// historyMany is history for many channels in one query.
func historyMany(ctx context.Context, realtime *market.Realtime, reads []hub.HistoryRead, limit int) ([]hub.HistoryPage, error) {
	in := make([]market.HistoryRead, len(reads))
	for i, r := range reads {
		in[i] = market.HistoryRead{Channel: r.Channel, Since: r.Since}
	}
	pages, err := realtime.HistoryMany(ctx, in, limit)
	if err != nil {
		return nil, err
	}
	out := make([]hub.HistoryPage, len(pages))
	for i, p := range pages {
		switch {
		case errors.Is(p.Err, market.ErrHistoryGone):
			out[i].Err = fmt.Errorf("%w: %w", hub.ErrHistoryGone, p.Err)
		case p.Err != nil:
			out[i].Err = p.Err
		default:
			out[i].Events = hubEvents(p.Events)
		}
	}
	return out, nil
}

// hubEvents are durable events as the hub's recovery sends them.
func hubEvents(events []market.Event) []hub.Event {
	out := make([]hub.Event, len(events))
	for i, ev := range events {
		out[i] = hub.Event{Seq: ev.Seq, Type: ev.Type, Data: ev.Data}
	}
	return out
}

// socketServer lets the HTTP layer hand admitted sockets to the hub.
func socketServer(node *hub.Node) func(ctx context.Context, conn *fws.Conn, userID, sessionID string) error {
	return func(ctx context.Context, conn *fws.Conn, userID, sessionID string) error {
		return node.ServeConn(ctx, conn, hub.ClientInfo{UserID: userID, SessionID: sessionID})
	}
}

// newRealtime builds the channel rules over the database, publishing through the
// node. An order's channel is for its buyer and seller.
func newRealtime(cfg config, db *store.DB, node *hub.Node, tracker *analytics.Tracker, log *slog.Logger) *market.Realtime {
	members := market.ChannelMembers{Conversation: db.IsMember, Order: db.IsOrderParty}
	return market.NewRealtime(db, hubPublisher{node: node, tracker: tracker}, members, market.RealtimeConfig{Retention: cfg.EventRetention}, log)
}

// hubSessions closes the sockets of ended sessions on every node
// (market.SessionSockets).
type hubSessions struct {
	node *hub.Node
	log  *slog.Logger
}

func (s hubSessions) CloseSessions(ctx context.Context, userID string, sessionIDs []string) {
	if err := s.node.DisconnectSessions(ctx, userID, sessionIDs, hub.CloseSessionEnded, "session ended"); err != nil {
		s.log.WarnContext(ctx, "sockets of ended sessions not closed", "user_id", userID, "err", err)
	}
}

// webApp is the reference browser client, served under /app/.
func webApp() fs.FS {
	sub, err := fs.Sub(web.Static, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return sub
}
