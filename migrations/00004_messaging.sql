-- +goose Up
-- Conversations between two users (opened from a gig or a profile) and per-order
-- threads; their messages; read pointers; blocks; device tokens for push.

CREATE TABLE conversations (
    id               uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    kind             text        NOT NULL CHECK (kind IN ('direct', 'order')),
    direct_key       text        UNIQUE, -- "<smaller user id>:<larger user id>" for direct ones
    order_id         uuid        UNIQUE,
    gig_id           uuid        REFERENCES gigs (id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    last_activity_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'direct') = (direct_key IS NOT NULL)),
    CHECK ((kind = 'order') = (order_id IS NOT NULL))
);

CREATE TABLE conversation_members (
    conversation_id uuid   NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id         uuid   NOT NULL REFERENCES users (id),
    last_read_seq   bigint NOT NULL DEFAULT 0 CHECK (last_read_seq >= 0),
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX conversation_members_user_idx ON conversation_members (user_id);

-- seq is the conversation channel's seq of the message's message.created event, so
-- history pages by it are stable while new messages arrive.
CREATE TABLE messages (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    conversation_id uuid        NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq             bigint      NOT NULL,
    sender_id       uuid        NOT NULL REFERENCES users (id),
    client_id       uuid        NOT NULL,
    text            text        NOT NULL,
    attachments     jsonb       NOT NULL DEFAULT '[]',
    created_at      timestamptz NOT NULL DEFAULT now(),
    edited_at       timestamptz,
    deleted_at      timestamptz,
    UNIQUE (sender_id, client_id),
    UNIQUE (conversation_id, seq)
);

CREATE TABLE blocks (
    blocker_id uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_id uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (blocker_id, blocked_id),
    CHECK (blocker_id <> blocked_id)
);

CREATE TABLE device_tokens (
    token       text        PRIMARY KEY CHECK (length(token) BETWEEN 1 AND 4096),
    user_id     uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    platform    text        NOT NULL CHECK (platform IN ('android', 'ios', 'web')),
    app_version text        NOT NULL DEFAULT '',
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX device_tokens_user_idx ON device_tokens (user_id);

ALTER TABLE users ADD COLUMN hide_push_previews boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE users DROP COLUMN hide_push_previews;
DROP TABLE device_tokens;
DROP TABLE blocks;
DROP TABLE messages;
DROP TABLE conversation_members;
DROP TABLE conversations;
