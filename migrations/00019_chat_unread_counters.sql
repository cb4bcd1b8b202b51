-- +goose Up
-- Unread counters kept in the transaction that changes them, so that a send, a read
-- receipt and the conversation list no longer count a member's backlog of messages.
-- conversation_members.unread_count is a member's unread messages in one conversation:
-- messages from others, not deleted, after last_read_seq. unread_totals.total is the sum
-- of a user's unread_count over their conversations. Both change only under the
-- conversation channel's seq lock (channel_seqs), the totals row after the user channel's.

ALTER TABLE conversation_members ADD COLUMN unread_count integer NOT NULL DEFAULT 0;

CREATE TABLE unread_totals (
    user_id uuid   PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    total   bigint NOT NULL DEFAULT 0
);

UPDATE conversation_members m SET unread_count = c.n
FROM (
    SELECT m.conversation_id, m.user_id, count(*) AS n
    FROM conversation_members m JOIN messages x ON x.conversation_id = m.conversation_id
    WHERE x.seq > m.last_read_seq AND x.sender_id <> m.user_id AND x.deleted_at IS NULL
    GROUP BY m.conversation_id, m.user_id
) c
WHERE m.conversation_id = c.conversation_id AND m.user_id = c.user_id;

INSERT INTO unread_totals (user_id, total)
SELECT user_id, sum(unread_count) FROM conversation_members GROUP BY user_id;

-- The notification router reads only order and balance events, in global order from its
-- cursor; without an index of just those, every poll walked past every chat event since
-- the last routable one (286 ms a poll under chat load, the third cost of Postgres).
CREATE INDEX events_routable_idx ON events (tx_id, channel, seq)
    WHERE type LIKE 'order.%' OR type = 'balance.updated';

-- +goose Down
DROP INDEX events_routable_idx;
DROP TABLE unread_totals;
ALTER TABLE conversation_members DROP COLUMN unread_count;
