package market

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// ChatArrival is a stored message as the chat reach router sees it: who sent it where,
// when, and who else is in the conversation.
type ChatArrival struct {
	ConversationID string
	Seq            uint64
	SenderID       string
	At             time.Time
	Recipients     []string // the members but the sender
}

// Reach channels of a chat burst.
const (
	ReachPush  = "push"
	ReachEmail = "email"
)

// ChatReach is one follow-up of a burst of messages: push or e-mail UserID about
// ConversationID once Due has come. The store keeps at most one pending follow-up per
// user, conversation and channel, so the messages that arrive before it is due join it:
// one push and one digest per burst, however many messages it holds.
type ChatReach struct {
	UserID, ConversationID, Channel string
	Due                             time.Time
}

// ChatReachStore is the storage of the router.
type ChatReachStore interface {
	// ScheduleChatReach locks the named cursor (ok false, and nothing done, when another
	// node holds it), reads up to limit message arrivals after it, queues what plan makes
	// of them as durable jobs (a follow-up already pending for the same user,
	// conversation and channel absorbs the new one), advances the cursor and commits.
	// It returns how many arrivals it read.
	ScheduleChatReach(ctx context.Context, cursor string, limit int, plan func([]ChatArrival) []ChatReach) (n int, ok bool, err error)
}

// ChatReachConfig tunes the router. The zero value means the defaults; a zero delay
// of a channel turns that channel off.
type ChatReachConfig struct {
	PushDelay    time.Duration // a push follows the first message of a burst after this; 0: no push
	EmailDelay   time.Duration // a digest of what is still unread follows after this; 0: no e-mail
	PollInterval time.Duration // how often each node looks for new messages; default 1 s
	Batch        int           // arrivals read per transaction at most; default 500
}

// ChatReachRouter turns stored messages into the pushes and e-mail digests of the
// members who are away. It reads the durable events, so a push is not lost when the
// node that took the send dies, and it adds nothing to the send itself.
type ChatReachRouter struct {
	store ChatReachStore
	cfg   ChatReachConfig
	log   *slog.Logger
}

// NewChatReachRouter builds the router.
func NewChatReachRouter(s ChatReachStore, cfg ChatReachConfig, log *slog.Logger) *ChatReachRouter {
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 500
	}
	if log == nil {
		log = slog.Default()
	}
	return &ChatReachRouter{store: s, cfg: cfg, log: log}
}

// chatReachCursor names the router's stored position in the events.
const chatReachCursor = "chat"

// Run routes new messages every PollInterval until ctx ends. Every node runs it; the
// cursor's row lock lets one node at a time route.
func (r *ChatReachRouter) Run(ctx context.Context) {
	tick := time.NewTicker(r.cfg.PollInterval)
	defer tick.Stop()
	for {
		for {
			n, err := r.RouteOnce(ctx)
			if err != nil && !errors.Is(err, context.Canceled) {
				r.log.WarnContext(ctx, "chat reach routing", "err", err)
			}
			if err != nil || n < r.cfg.Batch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// RouteOnce routes one batch of messages and returns how many it read.
func (r *ChatReachRouter) RouteOnce(ctx context.Context) (int, error) {
	n, _, err := r.store.ScheduleChatReach(ctx, chatReachCursor, r.cfg.Batch, func(a []ChatArrival) []ChatReach {
		return PlanChatReach(a, r.cfg.PushDelay, r.cfg.EmailDelay)
	})
	return n, err
}

// PlanChatReach is the rule of the router, pure so every node plans alike: each
// recipient of a message gets a push follow-up due pushDelay after it and an e-mail
// follow-up due emailDelay after it (a zero delay: none of that channel); within the
// batch one follow-up per user, conversation and channel remains, the earliest.
func PlanChatReach(arrivals []ChatArrival, pushDelay, emailDelay time.Duration) []ChatReach {
	type key struct{ user, conv, channel string }
	seen := map[key]int{}
	var out []ChatReach
	add := func(user, conv, channel string, due time.Time) {
		k := key{user, conv, channel}
		if i, ok := seen[k]; ok {
			if due.Before(out[i].Due) {
				out[i].Due = due
			}
			return
		}
		seen[k] = len(out)
		out = append(out, ChatReach{UserID: user, ConversationID: conv, Channel: channel, Due: due})
	}
	for _, a := range arrivals {
		for _, u := range a.Recipients {
			if u == a.SenderID {
				continue
			}
			if pushDelay > 0 {
				add(u, a.ConversationID, ReachPush, a.At.Add(pushDelay))
			}
			if emailDelay > 0 {
				add(u, a.ConversationID, ReachEmail, a.At.Add(emailDelay))
			}
		}
	}
	return out
}
