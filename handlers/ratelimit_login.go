package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
)

// The delays: once a scope has used its free failures, each further failure doubles
// its wait, from the first delay up to loginMaxDelay. A client's first wait is a
// second (a person who mistyped barely notices); the account-wide wait of unknown
// clients starts at a minute, since only many addresses together reach it.
// A scope forgets its failures loginFailureMemory after the last one.
const (
	loginClientDelay   = time.Second
	loginAccountDelay  = time.Minute
	loginMaxDelay      = 15 * time.Minute
	loginFailureMemory = time.Hour
)

// loginFailureScript counts one failure of a scope (KEYS[1]) and, once the scope has
// used its free failures, sets its wait (KEYS[2]) to first × 2^(failures − free),
// capped. ARGV: free failures, memory ms, first delay ms, max delay ms.
var loginFailureScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local over = n - tonumber(ARGV[1])
if over < 0 then return 0 end
local d = tonumber(ARGV[3]) * 2 ^ math.min(over, 40)
d = math.min(d, tonumber(ARGV[4]))
redis.call('SET', KEYS[2], '1', 'PX', math.floor(d))
return math.floor(d)
`)

// loginThrottle counts failed sign-ins per account and client in Redis, shared by
// every node, so that guessing is slow while the owner is never locked out of their
// own account from a device they signed in with before: an attacker cannot hold that
// device's secret, so its failures are counted apart. Unknown clients are counted per
// address (IPv6 per /64) and, all together, per account.
type loginThrottle struct {
	rdb    redis.UniversalClient // nil: no throttle (unit tests)
	limits RateLimits            // FailedLogins per client, FailedLoginsPerAccount for unknown clients
	log    *slog.Logger
}

// loginScope is one failure counter: its key and rules.
type loginScope struct {
	key         string
	free        int
	first       time.Duration
	clientScope bool // cleared by a success from this client
}

// loginAttempt is who is signing in to which account.
type loginAttempt struct {
	account string // hash of the normalized address
	device  string // hash of a known device's secret for this account, or ""
	address string // the client's address, an IPv6 one as its /64
}

func newLoginAttempt(email, knownDevice, address string) loginAttempt {
	a := loginAttempt{account: shortHash(email), address: address}
	if knownDevice != "" {
		a.device = shortHash(knownDevice)
	}
	return a
}

// shortHash keeps addresses and secrets out of Redis keys.
func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}

// scopes are the counters an attempt is judged by: a known device's own, or the
// address's and the account's unknown-client counter.
func (t *loginThrottle) scopes(a loginAttempt) []loginScope {
	// The account is the hash tag: a scope's counter and its :wait key, which one script
	// touches together, share a Redis Cluster slot.
	base := "gs:login:{" + a.account + "}"
	if a.device != "" {
		return []loginScope{{key: base + ":dev:" + a.device, free: t.limits.FailedLogins, first: loginClientDelay, clientScope: true}}
	}
	return []loginScope{
		{key: base + ":ip:" + a.address, free: t.limits.FailedLogins, first: loginClientDelay, clientScope: true},
		{key: base + ":unknown", free: t.limits.FailedLoginsPerAccount, first: loginAccountDelay},
	}
}

// wait returns how long the attempt must wait before its password is checked, or 0.
// It returns an error when Redis cannot tell: sign-in then fails closed.
func (t *loginThrottle) wait(ctx context.Context, a loginAttempt) (time.Duration, error) {
	if t.rdb == nil {
		return 0, nil
	}
	scopes := t.scopes(a)
	pipe := t.rdb.Pipeline()
	ttls := make([]*redis.DurationCmd, len(scopes))
	for i, s := range scopes {
		ttls[i] = pipe.PTTL(ctx, s.key+":wait")
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, fmt.Errorf("login throttle: %w", err)
	}
	var longest time.Duration
	for _, ttl := range ttls {
		longest = max(longest, ttl.Val())
	}
	return longest, nil
}

// failed counts a failed attempt in each of its scopes.
func (t *loginThrottle) failed(ctx context.Context, a loginAttempt) {
	if t.rdb == nil {
		return
	}
	for _, s := range t.scopes(a) {
		args := []any{s.free, loginFailureMemory.Milliseconds(), s.first.Milliseconds(), loginMaxDelay.Milliseconds()}
		if err := loginFailureScript.Run(ctx, t.rdb, []string{s.key, s.key + ":wait"}, args...).Err(); err != nil {
			t.log.ErrorContext(ctx, "login throttle not updated", "err", err)
			return
		}
	}
}

// succeeded clears the client's own counter: the client proved it holds the password.
// The account-wide counter of unknown clients is left to run out.
func (t *loginThrottle) succeeded(ctx context.Context, a loginAttempt) {
	if t.rdb == nil {
		return
	}
	for _, s := range t.scopes(a) {
		if !s.clientScope {
			continue
		}
		if err := t.rdb.Del(ctx, s.key, s.key+":wait").Err(); err != nil {
			t.log.ErrorContext(ctx, "login throttle not cleared", "err", err)
		}
	}
}
