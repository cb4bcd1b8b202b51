package hub

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// keep adds a durable event to its channel's kept events, ahead of its
// publish in the same pipeline: {prefix}recent:{channel} is a sorted set of
// broker payloads scored by seq, trimmed to the highest KeepRecent seqs and
// expiring RecentTTL after the last one. A republished event (the relay)
// is kept again, harmlessly.
func (b *RedisBroker) keep(ctx context.Context, p redis.Pipeliner, r pubRequest) {
	seq, _, _, err := decodeEnvelope(r.payload)
	if err != nil || seq == 0 || b.cfg.KeepRecent < 0 || r.channel == "" {
		return
	}
	key := b.recentKey(r.channel)
	p.ZAdd(ctx, key, redis.Z{Score: float64(seq), Member: r.payload})
	p.ZRemRangeByRank(ctx, key, 0, int64(-b.cfg.KeepRecent-1))
	p.PExpire(ctx, key, b.cfg.RecentTTL)
}

// recentRequest is one read of kept events waiting for the next batch.
type recentRequest struct {
	channel string
	since   uint64
	limit   int
	done    chan recentResult
}

type recentResult struct {
	events []Event
	known  bool
	err    error
}

// Recent implements RecentBroker. Reads are sent in batches, like
// publishes: everything asked while the previous batch was on its way goes
// in one pipeline, each read one script that sees the key's existence and
// its range at one instant (an expiry between the two would otherwise look
// like "nothing missed") and touches one key, so the pipeline splits by
// shard on a cluster. After a cluster shard failed over, its channels'
// kept events are not trusted for RecentTTL (see distrustSlots).
func (b *RedisBroker) Recent(ctx context.Context, channel string, since uint64, limit int) ([]Event, bool, error) {
	if b.cfg.NoRecentReads || b.cfg.KeepRecent < 0 || !b.trusted(channel) {
		return nil, false, nil
	}
	req := recentRequest{channel: channel, since: since, limit: limit, done: make(chan recentResult, 1)}
	b.recentMu.Lock()
	b.recentQueue = append(b.recentQueue, req)
	start := !b.recentRunning
	b.recentRunning = true
	b.recentMu.Unlock()
	if start {
		go b.readRecent()
	}
	select {
	case r := <-req.done:
		return r.events, r.known, r.err
	case <-ctx.Done():
		return nil, false, fmt.Errorf("hub: read kept events: %w", ctx.Err())
	}
}

// readRecent answers queued reads in batches until none is left.
func (b *RedisBroker) readRecent() {
	for {
		b.recentMu.Lock()
		batch := b.recentQueue
		b.recentQueue = nil
		if len(batch) == 0 {
			b.recentRunning = false
			b.recentMu.Unlock()
			return
		}
		b.recentMu.Unlock()
		for i, r := range b.recentBatch(batch) {
			batch[i].done <- r
		}
	}
}

// recentScript answers one read of kept events: nil when the key does not
// exist, else the members scored above ARGV[1], at most ARGV[2].
var recentScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
return redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], '+inf', 'LIMIT', 0, ARGV[2])
`)

func (b *RedisBroker) recentBatch(batch []recentRequest) []recentResult {
	ctx, cancel := context.WithTimeout(b.ctx, publishTimeout)
	defer cancel()
	reads := b.runRecent(ctx, batch, recentScript.EvalSha)
	if noScript(reads) { // a new or restarted Redis: send the script itself
		reads = b.runRecent(ctx, batch, recentScript.Eval)
	}
	out := make([]recentResult, len(batch))
	for i, r := range batch {
		members, err := reads[i].StringSlice()
		switch {
		case errors.Is(err, redis.Nil):
			out[i] = recentResult{known: false}
		case err != nil:
			out[i].err = fmt.Errorf("hub: read kept events: %w", err)
		default:
			out[i] = b.recentResult(r.channel, true, members)
		}
	}
	return out
}

type scriptCall func(ctx context.Context, c redis.Scripter, keys []string, args ...any) *redis.Cmd

// runRecent sends every read of batch in one pipeline through call.
func (b *RedisBroker) runRecent(ctx context.Context, batch []recentRequest, call scriptCall) []*redis.Cmd {
	reads := make([]*redis.Cmd, len(batch))
	_, _ = b.cfg.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, r := range batch {
			reads[i] = call(ctx, p, []string{b.recentKey(r.channel)}, "("+strconv.FormatUint(r.since, 10), r.limit)
		}
		return nil
	})
	return reads
}

// noScript reports whether a Redis (a shard) did not know the script.
func noScript(cmds []*redis.Cmd) bool {
	for _, c := range cmds {
		if redis.HasErrorPrefix(c.Err(), "NOSCRIPT") {
			return true
		}
	}
	return false
}

// recentResult decodes kept payloads; one this version cannot read makes
// the channel unknown, so History answers instead.
func (b *RedisBroker) recentResult(channel string, known bool, members []string) recentResult {
	events := make([]Event, 0, len(members))
	for _, m := range members {
		seq, _, frame, err := decodeEnvelope([]byte(m))
		if err != nil {
			return recentResult{}
		}
		events = append(events, Event{Seq: seq, frame: frame})
	}
	return recentResult{events: events, known: known}
}
