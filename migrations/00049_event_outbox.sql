-- +goose Up
-- The outbox of durable events becomes a narrow table of the keys not yet published, so
-- the events table is append-only. Before, every event row was written twice: inserted,
-- then rewritten by the batched published_at update, which was never a HOT update
-- (published_at is in the unpublished index's predicate), so each event cost a second
-- heap tuple and a second entry in each of its indexes (the second-biggest statement of
-- the durable chat send, see docs/operations.md, "Durable chat: where the time goes").
--
-- event_outbox holds (channel, seq) of every event no node has handed to the broker
-- yet: the row is written with the event, by the statement trigger below, so no writer
-- of events can forget it, and deleted when a node has published the event (batched,
-- see MarkPublished). The relay republishes the events whose key stayed longer than its
-- delay (their node died between commit and publish). The table stays small: its rows
-- live for the ~100 ms between commit and the next batch of deletions.

CREATE TABLE event_outbox (
    channel    text        NOT NULL,
    seq        bigint      NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel, seq)
);

INSERT INTO event_outbox (channel, seq, created_at)
SELECT channel, seq, created_at FROM events WHERE published_at IS NULL;

-- +goose StatementBegin
CREATE FUNCTION event_outbox_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO event_outbox (channel, seq, created_at)
    SELECT channel, seq, created_at FROM new_events;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER events_outbox AFTER INSERT ON events
    REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION event_outbox_add();

DROP INDEX events_unpublished_idx;
ALTER TABLE events DROP COLUMN published_at;

-- +goose Down
ALTER TABLE events ADD COLUMN published_at timestamptz;
UPDATE events SET published_at = now()
WHERE NOT EXISTS (SELECT 1 FROM event_outbox o WHERE o.channel = events.channel AND o.seq = events.seq);
CREATE INDEX events_unpublished_idx ON events (created_at) WHERE published_at IS NULL;
DROP TRIGGER events_outbox ON events;
DROP FUNCTION event_outbox_add();
DROP TABLE event_outbox;
