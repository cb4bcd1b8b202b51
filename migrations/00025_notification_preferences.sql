-- +goose Up
-- Notification preferences per category and channel (issue 15). A row is a switch the
-- user set; a category and channel without a row is on. Account security is never
-- stored: it cannot be switched off. The two order switches of 00011 become rows of
-- every order category, then go.
CREATE TABLE notification_preferences (
    user_id  uuid    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    category text    NOT NULL CHECK (category IN ('messages', 'orders', 'deliveries', 'disputes', 'reviews', 'payments', 'saved_searches')),
    channel  text    NOT NULL CHECK (channel IN ('in_app', 'push', 'email')),
    enabled  boolean NOT NULL,
    PRIMARY KEY (user_id, category, channel)
);

INSERT INTO notification_preferences (user_id, category, channel, enabled)
SELECT u.id, c.category, 'email', false FROM users u
    CROSS JOIN (VALUES ('orders'), ('deliveries'), ('disputes'), ('reviews'), ('payments')) AS c (category)
WHERE NOT u.notify_order_email;
INSERT INTO notification_preferences (user_id, category, channel, enabled)
SELECT u.id, c.category, 'push', false FROM users u
    CROSS JOIN (VALUES ('orders'), ('deliveries'), ('disputes'), ('reviews'), ('payments')) AS c (category)
WHERE NOT u.notify_order_push;
ALTER TABLE users DROP COLUMN notify_order_email;
ALTER TABLE users DROP COLUMN notify_order_push;

-- Quiet hours (minutes after local midnight, in time_zone, an IANA name) hold pushes
-- until they end; both ends NULL means none. language picks the templates of mail.
ALTER TABLE users ADD COLUMN quiet_hours_start smallint CHECK (quiet_hours_start BETWEEN 0 AND 1439);
ALTER TABLE users ADD COLUMN quiet_hours_end smallint CHECK (quiet_hours_end BETWEEN 0 AND 1439);
ALTER TABLE users ADD COLUMN time_zone text NOT NULL DEFAULT 'UTC';
ALTER TABLE users ADD COLUMN language text NOT NULL DEFAULT 'en';
ALTER TABLE users ADD CONSTRAINT users_quiet_hours_check
    CHECK ((quiet_hours_start IS NULL AND quiet_hours_end IS NULL)
        OR (quiet_hours_start IS NOT NULL AND quiet_hours_end IS NOT NULL AND quiet_hours_start <> quiet_hours_end));

-- A notification whose category the user switched off in-app is kept (its push and
-- e-mail need it) but not listed, counted or announced on the user's channel.
ALTER TABLE notifications ADD COLUMN in_app boolean NOT NULL DEFAULT true;

-- A muted conversation sends its member no push and no e-mail; in-app counts go on.
ALTER TABLE conversation_members ADD COLUMN muted_at timestamptz;

-- +goose Down
DELETE FROM notifications WHERE NOT in_app;
ALTER TABLE notifications DROP COLUMN in_app;
ALTER TABLE conversation_members DROP COLUMN muted_at;
ALTER TABLE users DROP CONSTRAINT users_quiet_hours_check;
ALTER TABLE users DROP COLUMN language;
ALTER TABLE users DROP COLUMN time_zone;
ALTER TABLE users DROP COLUMN quiet_hours_end;
ALTER TABLE users DROP COLUMN quiet_hours_start;
ALTER TABLE users ADD COLUMN notify_order_email boolean NOT NULL DEFAULT true;
ALTER TABLE users ADD COLUMN notify_order_push boolean NOT NULL DEFAULT true;
UPDATE users u SET notify_order_email = false
    WHERE EXISTS (SELECT 1 FROM notification_preferences p WHERE p.user_id = u.id AND p.category = 'orders' AND p.channel = 'email' AND NOT p.enabled);
UPDATE users u SET notify_order_push = false
    WHERE EXISTS (SELECT 1 FROM notification_preferences p WHERE p.user_id = u.id AND p.category = 'orders' AND p.channel = 'push' AND NOT p.enabled);
DROP TABLE notification_preferences;
