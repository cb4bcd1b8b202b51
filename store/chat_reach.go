package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivertype"

	"github.com/gigstream/hub/market"
)

// ChatPushJob is the queued job (river) that pushes one member about the burst of
// messages in one conversation. Follow is 1 for the follow-up queued while the burst's
// job was already running (see ScheduleChatReach), 0 otherwise.
type ChatPushJob struct {
	UserID         string `json:"user_id" river:"unique"`
	ConversationID string `json:"conversation_id" river:"unique"`
	Follow         int    `json:"follow" river:"unique"`
}

// Kind names the job in river's tables.
func (ChatPushJob) Kind() string { return "chat_push" }

// InsertOpts puts the job in the push queue, unique per member, conversation and
// follow-up while it waits or runs: the messages of a burst share one job. Retries back
// off (river's attempt⁴ seconds), so a push not sent within an hour is given up.
func (ChatPushJob) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueuePush, MaxAttempts: 8, UniqueOpts: burstUnique}
}

// ChatEmailJob is the queued job that e-mails one member a digest of what is still
// unread in one conversation; Follow is as in ChatPushJob.
type ChatEmailJob struct {
	UserID         string `json:"user_id" river:"unique"`
	ConversationID string `json:"conversation_id" river:"unique"`
	Follow         int    `json:"follow" river:"unique"`
}

// Kind names the job in river's tables.
func (ChatEmailJob) Kind() string { return "chat_email" }

// InsertOpts puts the job in the mail queue, unique like ChatPushJob.
func (ChatEmailJob) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueMail, MaxAttempts: 10, UniqueOpts: burstUnique}
}

// burstUnique makes a burst's job absorb the later messages of the burst until it has
// run: unique by its arguments while pending, scheduled, available, running or
// retryable, but not once completed (the next message starts the next burst).
var burstUnique = river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
	rivertype.JobStateScheduled, rivertype.JobStateRetryable,
}}

// arrivalRow is a message.created event with its position.
type arrivalRow struct {
	eventPosition
	SenderID  string    `db:"sender_id"`
	CreatedAt time.Time `db:"created_at"`
}

// ScheduleChatReach implements market.ChatReachStore. Events are ordered by the
// transaction id itself (events.tx_id), a number, not by the text selected under its
// name. Only events below the oldest
// running transaction are read, as in RouteEvents, so a send that commits late is still
// seen, once. A follow-up whose job is already running (it may have read the
// conversation before this message) gets a second job, Follow 1, so no message is left
// without its push or digest.
func (db *DB) ScheduleChatReach(ctx context.Context, cursor string, limit int, plan func([]market.ChatArrival) []market.ChatReach) (int, bool, error) {
	n, ok := 0, false
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		pos, locked, err := lockEventCursor(ctx, tx, cursor)
		if err != nil || !locked {
			return err
		}
		ok = true
		rows := []arrivalRow{}
		err = tx.SelectContext(ctx, &rows, chatArrivalsQuery, pos.TxID, pos.Channel, pos.Seq, limit)
		if err != nil || len(rows) == 0 {
			return wrapErr("messages to reach", err)
		}
		n = len(rows)
		arrivals, err := chatArrivals(ctx, tx, rows)
		if err != nil {
			return err
		}
		if err := queueChatReach(ctx, tx, plan(arrivals)); err != nil {
			return err
		}
		return advanceEventCursor(ctx, tx, cursor, rows[len(rows)-1].eventPosition)
	})
	return n, ok, err
}

// chatArrivalsQuery reads up to $4 message.created events after the cursor position
// ($1 tx_id, $2 channel, $3 seq) in transaction order, below the oldest running
// transaction (through events_chat_reach_idx).
const chatArrivalsQuery = `SELECT tx_id::text AS tx_id, channel, seq, data->>'sender_id' AS sender_id, created_at
	FROM events
	WHERE (tx_id, channel, seq) > ($1::xid8, $2, $3) AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
	  AND type = 'message.created'
	ORDER BY events.tx_id, events.channel, events.seq LIMIT $4`

// chatArrivals adds to each message the members of its conversation but the sender.
func chatArrivals(ctx context.Context, tx *sqlx.Tx, rows []arrivalRow) ([]market.ChatArrival, error) {
	out := make([]market.ChatArrival, 0, len(rows))
	convs := map[string][]string{}
	var ids []string
	for _, r := range rows {
		id, _ := strings.CutPrefix(r.Channel, "conversation:")
		if !isUUID(id) {
			continue
		}
		if _, seen := convs[id]; !seen {
			convs[id] = nil
			ids = append(ids, id)
		}
		out = append(out, market.ChatArrival{ConversationID: id, Seq: r.Seq, SenderID: r.SenderID, At: r.CreatedAt})
	}
	var members []struct {
		ConversationID string `db:"conversation_id"`
		UserID         string `db:"user_id"`
	}
	err := tx.SelectContext(ctx, &members, `SELECT conversation_id::text AS conversation_id, user_id::text AS user_id
		FROM conversation_members WHERE conversation_id = ANY($1::uuid[])`, pq.Array(ids))
	if err != nil {
		return nil, fmt.Errorf("members to reach: %w", err)
	}
	for _, m := range members {
		convs[m.ConversationID] = append(convs[m.ConversationID], m.UserID)
	}
	for i := range out {
		for _, u := range convs[out[i].ConversationID] {
			if u != out[i].SenderID {
				out[i].Recipients = append(out[i].Recipients, u)
			}
		}
	}
	return out, nil
}

// queueChatReach inserts the jobs of the planned follow-ups in tx. A duplicate of a
// job still waiting is absorbed by it; a duplicate of a running one becomes its
// follow-up (Follow 1).
func queueChatReach(ctx context.Context, tx *sqlx.Tx, reach []market.ChatReach) error {
	if len(reach) == 0 {
		return nil
	}
	jobs, err := river.NewClient(riverdatabasesql.New(nil), &river.Config{})
	if err != nil {
		return fmt.Errorf("job client: %w", err)
	}
	return queueBursts(ctx, jobs, tx, "chat reach", len(reach), func(i, follow int) river.InsertManyParams {
		return reachJob(reach[i], follow)
	})
}

// reachJob is the job of one follow-up, due when it says.
func reachJob(r market.ChatReach, follow int) river.InsertManyParams {
	var args river.JobArgs = ChatPushJob{UserID: r.UserID, ConversationID: r.ConversationID, Follow: follow}
	if r.Channel == market.ReachEmail {
		args = ChatEmailJob{UserID: r.UserID, ConversationID: r.ConversationID, Follow: follow}
	}
	opts := args.(river.JobArgsWithInsertOpts).InsertOpts()
	opts.ScheduledAt = r.Due
	return river.InsertManyParams{Args: args, InsertOpts: &opts}
}
