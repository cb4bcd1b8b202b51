-- +goose Up
-- Durable real-time events: one row per event, numbered densely per channel, written
-- in the same transaction as the change it announces and published after commit.
-- published_at stays NULL until some node has handed the event to the broker; the
-- outbox relay republishes what a crashed node left behind.

CREATE TABLE channel_seqs (
    channel text   PRIMARY KEY,
    seq     bigint NOT NULL CHECK (seq > 0)
);

CREATE TABLE events (
    channel      text        NOT NULL,
    seq          bigint      NOT NULL CHECK (seq > 0),
    type         text        NOT NULL,
    data         jsonb       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz,
    PRIMARY KEY (channel, seq)
);
CREATE INDEX events_unpublished_idx ON events (created_at) WHERE published_at IS NULL;
CREATE INDEX events_created_idx ON events (created_at);

-- +goose Down
DROP TABLE events;
DROP TABLE channel_seqs;
