package hub

import (
	"context"
	"errors"
	"time"
)

// authorizations remembers, per socket, which channels the Authorize callback
// allowed and when, and budgets the callback's calls: for the product each call
// is a database query, and a client looping subscribe/unsubscribe must not turn
// every frame into one. It is used by the socket's reader only, so it needs no
// lock. Refusals are not remembered (a user may become a member a moment
// later); the budget bounds them instead.
type authorizations struct {
	allowed map[string]time.Time // channel → when Authorize allowed it; nil until the first
	bucket  tokenBucket
}

// errAuthorizeBudget refuses a subscribe whose authorization is over the socket's budget.
var errAuthorizeBudget = newError(CodeRateLimited, "too many subscribe authorizations; retry after a backoff")

// authorizeChannel decides a subscribe: a channel allowed within the cache's TTL
// passes without asking, anything else spends one of the socket's authorizations
// and asks the Authorize callback. It returns errAuthorizeBudget past the budget,
// or the callback's error.
func (c *client) authorizeChannel(channel string) error {
	n, a, now := c.node, &c.auth, time.Now()
	if at, ok := a.allowed[channel]; ok && now.Sub(at) < n.cfg.AuthorizeCacheTTL {
		n.metrics.authorizations.WithLabelValues("cached").Inc()
		return nil
	}
	if !a.bucket.allow(now) {
		n.metrics.authorizations.WithLabelValues("limited").Inc()
		return errAuthorizeBudget
	}
	if err := n.authorize(c.ctx, c.info, channel); err != nil {
		n.metrics.authorizations.WithLabelValues("refused").Inc()
		return err
	}
	n.metrics.authorizations.WithLabelValues("allowed").Inc()
	a.remember(channel, now, n.cfg.AuthorizeCacheTTL, n.cfg.MaxSubscriptions)
	return nil
}

// remember records that channel was allowed at now, keeping at most twice the
// subscription cap: past it, expired entries go, and if none had, all of them.
func (a *authorizations) remember(channel string, now time.Time, ttl time.Duration, maxSubs int) {
	if a.allowed == nil {
		a.allowed = make(map[string]time.Time)
	}
	if len(a.allowed) >= 2*maxSubs {
		for ch, at := range a.allowed {
			if now.Sub(at) >= ttl {
				delete(a.allowed, ch)
			}
		}
		if len(a.allowed) >= 2*maxSubs {
			clear(a.allowed)
		}
	}
	a.allowed[channel] = now
}

func (n *Node) authorize(ctx context.Context, info ClientInfo, channel string) error {
	cb := n.cfg.Callbacks.Authorize
	if cb == nil {
		return errors.New("hub: no Authorize callback installed")
	}
	ctx, cancel := context.WithTimeout(ctx, n.cfg.CallbackTimeout)
	defer cancel()
	return cb(ctx, info, channel)
}
