-- +goose Up
-- Indexes that earn their writes (docs/operations.md, "Indexes that earn their writes").
-- Every durable chat send inserts two events, each entering every index on events and
-- two rows of event_outbox; every index pays its upkeep on every send.
--
-- events_tx_idx (tx_id, channel, seq) served no query: the two readers in transaction
-- order (the notification router and the chat reach router) each read through their
-- own partial index (events_routable_idx, events_chat_reach_idx), and every other
-- reader goes by the primary key. Dropped.
--
-- events_created_idx was a btree on created_at for one reader, the hourly retention
-- prune (created_at < a cutoff). Events are append-only and created_at follows their
-- physical order, so a BRIN index answers that range from a few summary tuples per
-- 128 pages and costs an insert almost nothing (a summary is widened only when a new
-- page range starts; autosummarize summarizes it in the background).
--
-- event_outbox_age_idx serves the relay (Unpublished: the oldest keys first, ORDER BY
-- created_at, channel, seq LIMIT n), which otherwise read and sorted the whole outbox
-- on every period, and the prune's deletion of old keys.
--
-- events_routable_idx is rebuilt with the notification router's predicate as it is now
-- (order, balance, gig and report events): since gig.% and report.resolved joined the
-- router's WHERE, the old partial index (order and balance only) no longer matched it and
-- the router's poll was planned as a sequential scan of events (every chat event).
DROP INDEX events_routable_idx;
CREATE INDEX events_routable_idx ON events (tx_id, channel, seq)
    WHERE type LIKE 'order.%' OR type = 'balance.updated' OR type LIKE 'gig.%' OR type = 'report.resolved';
DROP INDEX events_tx_idx;
DROP INDEX events_created_idx;
CREATE INDEX events_created_brin ON events USING brin (created_at) WITH (autosummarize = on);
CREATE INDEX event_outbox_age_idx ON event_outbox (created_at, channel, seq);

-- +goose Down
DROP INDEX event_outbox_age_idx;
DROP INDEX events_created_brin;
CREATE INDEX events_created_idx ON events (created_at);
CREATE INDEX events_tx_idx ON events (tx_id, channel, seq);
DROP INDEX events_routable_idx;
CREATE INDEX events_routable_idx ON events (tx_id, channel, seq)
    WHERE type LIKE 'order.%' OR type = 'balance.updated';
