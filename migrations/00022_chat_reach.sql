-- +goose Up
-- Chat reaches members who are away from the durable message.created events, not from
-- the node that took the send: a router reads those events in global order from its own
-- cursor (as the notification router does, see 00011) and queues, in the transaction
-- that advances the cursor, one push job and one e-mail digest job per member and
-- conversation burst. A node that dies right after a send commits leaves the event, so
-- another node queues the push. The partial index keeps each poll to the new messages.
CREATE INDEX events_chat_reach_idx ON events (tx_id, channel, seq) WHERE type = 'message.created';
INSERT INTO notification_cursors (name, tx_id, channel, seq) VALUES ('chat', pg_current_xact_id(), '', 0);

-- The last seq of a conversation a member was e-mailed a digest of: a digest holds
-- only messages after it (and after last_read_seq), so no message is mailed twice.
ALTER TABLE conversation_members ADD COLUMN last_emailed_seq bigint NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE conversation_members DROP COLUMN last_emailed_seq;
DELETE FROM notification_cursors WHERE name = 'chat';
DROP INDEX events_chat_reach_idx;
