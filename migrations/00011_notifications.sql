-- +goose Up
-- Notifications: what the router made of the durable order events, one row per
-- recipient and event. The router reads events in a global order: every event row gets
-- the id of the transaction that wrote it (tx_id), and the router reads only below the
-- oldest transaction still running (pg_snapshot_xmin), so an event that commits late
-- can never fall behind the cursor. Its cursor row is locked while a batch is routed,
-- and advanced in the same transaction that stores the notifications, so concurrent
-- nodes route each event once.

-- Rows older than this migration get tx_id 0, below the cursor set up here: nothing
-- that happened before notifications existed is announced.
ALTER TABLE events ADD COLUMN tx_id xid8 NOT NULL DEFAULT '0';
ALTER TABLE events ALTER COLUMN tx_id SET DEFAULT pg_current_xact_id();
CREATE INDEX events_tx_idx ON events (tx_id, channel, seq);

CREATE TABLE notification_cursors (
    name    text   PRIMARY KEY,
    tx_id   xid8   NOT NULL,
    channel text   NOT NULL,
    seq     bigint NOT NULL
);
INSERT INTO notification_cursors (name, tx_id, channel, seq) VALUES ('orders', pg_current_xact_id(), '', 0);

CREATE TABLE notifications (
    id             uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id        uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind           text        NOT NULL,
    title          text        NOT NULL,
    body           text        NOT NULL,
    link           text        NOT NULL,
    order_id       uuid,
    source_channel text        NOT NULL,
    source_seq     bigint      NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    read_at        timestamptz,
    -- One notification per recipient and event, whatever happens to the cursor.
    UNIQUE (user_id, source_channel, source_seq, kind)
);
CREATE INDEX notifications_page_idx ON notifications (user_id, created_at DESC, id DESC);
CREATE INDEX notifications_unread_idx ON notifications (user_id) WHERE read_at IS NULL;

-- Per-channel switches for order notifications; in-app ones cannot be turned off.
ALTER TABLE users ADD COLUMN notify_order_email boolean NOT NULL DEFAULT true;
ALTER TABLE users ADD COLUMN notify_order_push boolean NOT NULL DEFAULT true;

-- +goose Down
ALTER TABLE users DROP COLUMN notify_order_push;
ALTER TABLE users DROP COLUMN notify_order_email;
DROP TABLE notifications;
DROP TABLE notification_cursors;
ALTER TABLE events DROP COLUMN tx_id;
