package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/gigstream/hub/handlers"
	"github.com/gigstream/hub/hub"
	"github.com/gigstream/hub/market"
	"github.com/gigstream/hub/push"
	"github.com/gigstream/hub/store"
)

// redisGate is market.Gate on Redis: SET NX PX, shared by every node.
func redisGate(rdb redis.UniversalClient) market.Gate {
	return func(ctx context.Context, key string, period time.Duration) (bool, error) {
		ok, err := rdb.SetNX(ctx, "gs:gate:"+key, 1, period).Result()
		if err != nil {
			return false, fmt.Errorf("gate %s: %w", key, err)
		}
		return ok, nil
	}
}

// messageBudget is the sender's per-minute message budget in Redis
// (market.SendLimiter), shared by REST and WebSocket sends and by every node.
type messageBudget struct {
	limiter   *redis_rate.Limiter
	perMinute int
}

func (b messageBudget) SpendMessage(ctx context.Context, userID string) error {
	res, err := b.limiter.Allow(ctx, handlers.MessageBudgetKey(userID), redis_rate.PerMinute(b.perMinute))
	if err != nil {
		return nil // the limiter is down: let messages through rather than lose them
	}
	if res.Allowed == 0 {
		return market.Errorf(market.CodeRateLimited, "too many messages; retry in %d s", int(res.RetryAfter.Seconds())+1)
	}
	return nil
}

// newChat builds the chat use cases; node answers presence.
func newChat(cfg config, db *store.DB, realtime *market.Realtime, node *hub.Node, rdb redis.UniversalClient, pusher market.Pusher, log *slog.Logger) *market.Chat {
	return market.NewChat(db, realtime, node, pusher, redisGate(rdb), market.ChatConfig{
		MaxTextLength: cfg.MaxMessageLength, EditWindow: cfg.MessageEditWindow, PushDelay: cfg.PushDelay,
		SendLimit: messageBudget{limiter: redis_rate.NewLimiter(rdb), perMinute: cfg.MessagesPerMinute},
	}, log)
}

// chatCallbacks lets clients type, send and acknowledge (read) over the socket.
func chatCallbacks(chat *market.Chat) (func(context.Context, hub.ClientInfo, string, string, []byte) error, func(context.Context, hub.ClientInfo, string, uint64) error) {
	clientEvent := func(ctx context.Context, info hub.ClientInfo, channel, eventType string, data []byte) error {
		kind, id, err := market.ParseChannel(channel)
		if err != nil || kind != "conversation" {
			return &hub.Error{Code: hub.CodeForbidden, Message: "client events go to conversations"}
		}
		switch eventType {
		case "typing":
			return socketError(chat.Typing(ctx, id, info.UserID))
		case "message.send":
			var in struct {
				ClientID string `json:"client_id"`
				Text     string `json:"text"`
			}
			if err := json.Unmarshal(data, &in); err != nil {
				return &hub.Error{Code: hub.CodeBadFrame, Message: "data must be {client_id, text}"}
			}
			_, _, err := chat.Send(ctx, market.NewMessage{ConversationID: id, SenderID: info.UserID, ClientID: in.ClientID, Text: in.Text})
			return socketError(err)
		default:
			return &hub.Error{Code: hub.CodeForbidden, Message: "unknown client event type"}
		}
	}
	ack := func(ctx context.Context, info hub.ClientInfo, channel string, seq uint64) error {
		kind, id, err := market.ParseChannel(channel)
		if err != nil || kind != "conversation" {
			return nil // acks on other channels record nothing
		}
		_, err = chat.MarkRead(ctx, id, info.UserID, seq)
		return socketError(err)
	}
	return clientEvent, ack
}

// socketError tells a socket client what went wrong in the protocol's terms.
func socketError(err error) error {
	var de *market.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &de) && de.Code == market.CodeInvalid:
		return &hub.Error{Code: hub.CodeBadFrame, Message: de.Error()}
	case errors.As(err, &de) && de.Code == market.CodeRateLimited:
		return &hub.Error{Code: hub.CodeUnavailable, Message: de.Message}
	case errors.As(err, &de):
		return &hub.Error{Code: hub.CodeForbidden, Message: de.Message}
	default:
		return err
	}
}

// fcmPusher sends notices through FCM (market.Pusher): via the push worker queue, or,
// when once, with a single round of sends whose temporary failure is returned
// (*push.TemporaryError) for a durable job to retry.
type fcmPusher struct {
	sender *push.Sender
	once   bool
}

func (p fcmPusher) Push(ctx context.Context, n market.PushNotice) error {
	pn := push.Notification{UserID: n.UserID, CollapseKey: n.CollapseKey, Title: n.Title, Body: n.Body, Data: n.Data}
	if p.once {
		return p.sender.SendOnce(ctx, pn)
	}
	return p.sender.Notify(ctx, pn)
}

// oncePusher is p sending synchronously, once (see fcmPusher); nil stays nil.
func oncePusher(p market.Pusher) market.Pusher {
	if f, ok := p.(fcmPusher); ok {
		f.once = true
		return f
	}
	return p
}

// deviceTokens lets the push sender read and prune tokens in Postgres.
type deviceTokens struct{ db *store.DB }

func (d deviceTokens) DeviceTokens(ctx context.Context, userID string) ([]push.Device, error) {
	list, err := d.db.Devices(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]push.Device, len(list))
	for i, dev := range list {
		out[i] = push.Device{Token: dev.Token, Platform: push.Platform(dev.Platform), AppVersion: dev.AppVersion}
	}
	return out, nil
}

func (d deviceTokens) DeleteDeviceToken(ctx context.Context, token string) error {
	return d.db.DeleteDeviceToken(ctx, token)
}

// newPusher starts the FCM sender, or returns nil (no push) when FCM is not configured.
func newPusher(ctx context.Context, cfg config, db *store.DB, reg prometheus.Registerer, log *slog.Logger) (market.Pusher, func(), error) {
	if cfg.FCM.ProjectID == "" {
		log.WarnContext(ctx, "FCM_PROJECT_ID unset: no push notifications")
		return nil, func() {}, nil
	}
	creds, err := os.ReadFile(cfg.FCM.CredentialsFile)
	if err != nil {
		return nil, nil, fmt.Errorf("config: FCM_CREDENTIALS_FILE: %w", err)
	}
	client, err := push.NewFirebaseClient(ctx, push.FCMConfig{ProjectID: cfg.FCM.ProjectID, CredentialsJSON: creds, Endpoint: cfg.FCM.Endpoint})
	if err != nil {
		return nil, nil, fmt.Errorf("fcm client: %w", err)
	}
	sender := push.NewSender(client, deviceTokens{db: db}, push.SenderConfig{Logger: log, Metrics: reg})
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	sender.Start(runCtx)
	stop := func() {
		// Queued pushes get a few seconds to go out, then the workers are stopped.
		t := time.AfterFunc(5*time.Second, cancel)
		defer t.Stop()
		_ = sender.Close()
		cancel()
	}
	return fcmPusher{sender: sender}, stop, nil
}
