package store

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/gigstream/hub/market"
)

// unreadChanges collects what one transaction does to unread counts: the change of each
// user's unread total, and the unread events to store on their user channels with the
// seqs already taken there. Per-conversation counters (conversation_members.unread_count)
// are changed by the statement that changes the read pointers or the messages.
//
// Locks: a transaction takes the conversation channel's seq first, then the user
// channels' seqs it needs, then (in apply, one statement, in user id order) the totals
// rows. Taking them in that order everywhere is what keeps concurrent sends and reads
// of crossing conversations free of deadlocks.
type unreadChanges struct {
	conversationID string
	deltas         map[string]int
	events         []unreadEvent
}

// unreadEvent is one unread event to store: its user, the seq taken on their channel,
// and their unread count in the conversation.
type unreadEvent struct {
	userID string
	seq    uint64
	count  int
}

// add changes userID's unread total by delta.
func (c *unreadChanges) add(userID string, delta int) {
	if c.deltas == nil {
		c.deltas = map[string]int{}
	}
	c.deltas[userID] += delta
}

// event stores an unread event for userID with their new count in the conversation and
// their new total.
func (c *unreadChanges) event(userID string, seq uint64, count int) {
	c.events = append(c.events, unreadEvent{userID, seq, count})
}

// unreadQuery changes unread totals ($1 users in id order, $2 deltas) and stores the
// unread events ($4 users, $5 seqs, $6 counts in the conversation $3) with the new
// totals, returning those events.
const unreadQuery = `
	WITH t AS (
		INSERT INTO unread_totals AS t (user_id, total)
		SELECT user_id, delta FROM unnest($1::uuid[], $2::bigint[]) AS d(user_id, delta) ORDER BY user_id
		ON CONFLICT (user_id) DO UPDATE SET total = t.total + EXCLUDED.total
		RETURNING user_id, total)
	INSERT INTO events (channel, seq, type, data, trace)
	SELECT 'user:' || r.user_id, r.seq, 'unread',
		jsonb_build_object('total', t.total, 'conversation_id', $3::text, 'count', r.count), $7
	FROM unnest($4::uuid[], $5::bigint[], $6::bigint[]) AS r(user_id, seq, count) JOIN t ON t.user_id = r.user_id
	RETURNING channel, seq, type, data, trace`

// apply runs unreadQuery (st, prepared) in tx and returns the stored events.
func (c *unreadChanges) apply(ctx context.Context, tx *sqlx.Tx, st *sqlx.Stmt) ([]market.Event, error) {
	if len(c.deltas) == 0 && len(c.events) == 0 {
		return nil, nil
	}
	users := make([]string, 0, len(c.deltas))
	for u := range c.deltas {
		users = append(users, u)
	}
	slices.SortFunc(users, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	deltas := make([]int64, len(users))
	for i, u := range users {
		deltas[i] = int64(c.deltas[u])
	}
	evUsers := make([]string, len(c.events))
	evSeqs := make([]int64, len(c.events))
	evCounts := make([]int64, len(c.events))
	for i, e := range c.events {
		evUsers[i], evSeqs[i], evCounts[i] = e.userID, int64(e.seq), int64(e.count)
	}
	events := []market.Event{}
	err := tx.StmtxContext(ctx, st).SelectContext(ctx, &events, pq.Array(users), pq.Array(deltas), c.conversationID,
		pq.Array(evUsers), pq.Array(evSeqs), pq.Array(evCounts), traceParent(ctx))
	if err != nil {
		return nil, fmt.Errorf("unread counters: %w", err)
	}
	if len(events) != len(c.events) {
		return nil, fmt.Errorf("unread counters: %d events stored for %d", len(events), len(c.events))
	}
	return events, nil
}

// unreadTotal is userID's unread messages over all their conversations.
func unreadTotal(ctx context.Context, q querier, userID string) (int, error) {
	var n int
	err := q.GetContext(ctx, &n, `SELECT COALESCE((SELECT total FROM unread_totals WHERE user_id = $1), 0)`, userID)
	if err != nil {
		return 0, fmt.Errorf("total unread: %w", err)
	}
	return n, nil
}
