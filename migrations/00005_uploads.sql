-- +goose Up
-- Uploads: one row per file a user sends, whatever the path (multipart form, raw PUT,
-- tus). The row is written as 'uploading' before the first byte is taken and points to
-- an object (object_key) only once clamd said clean, in the same transaction that marks
-- it clean. A rejected upload keeps its row (reason and signature, no object); an upload
-- that failed for infrastructure reasons (clamd or S3 down, body cut short) has its row
-- removed, so neither an object without a row nor a row without an object survives.
-- order_id has no foreign key yet: there is no orders table; the orders feature adds it.

CREATE TABLE uploads (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id        uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind            text        NOT NULL
                                CHECK (kind IN ('avatar', 'gig_image', 'gig_video', 'attachment', 'deliverable')),
    status          text        NOT NULL DEFAULT 'uploading'
                                CHECK (status IN ('uploading', 'scanning', 'clean', 'rejected')),
    object_key      text        UNIQUE,
    size            bigint      CHECK (size >= 0),
    sha256          text        CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    content_type    text,
    filename        text        NOT NULL DEFAULT '' CHECK (length(filename) <= 255),
    rejection       text,
    signature       text,
    gig_id          uuid        REFERENCES gigs (id) ON DELETE CASCADE,
    conversation_id uuid        REFERENCES conversations (id) ON DELETE CASCADE,
    order_id        uuid,
    tus_id          text        UNIQUE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'clean') = (object_key IS NOT NULL)),
    CHECK (status <> 'clean' OR (size IS NOT NULL AND sha256 IS NOT NULL AND content_type IS NOT NULL))
);
CREATE INDEX uploads_owner_idx ON uploads (owner_id, created_at);
CREATE INDEX uploads_gig_idx ON uploads (gig_id) WHERE gig_id IS NOT NULL;
CREATE INDEX uploads_conversation_idx ON uploads (conversation_id) WHERE conversation_id IS NOT NULL;
CREATE INDEX uploads_order_idx ON uploads (order_id) WHERE order_id IS NOT NULL;

-- The state of resumable (tus) uploads between requests: offset, parts of the S3
-- multipart upload, tail object. state is media/tus's Upload as JSON; the columns beside
-- it are what queries filter on.
CREATE TABLE tus_uploads (
    id         text        PRIMARY KEY,
    owner_id   uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status     text        NOT NULL CHECK (status IN ('uploading', 'scanning', 'clean', 'rejected')),
    expires_at timestamptz NOT NULL,
    state      jsonb       NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tus_uploads_expiry_idx ON tus_uploads (expires_at) WHERE status = 'uploading';

-- +goose Down
DROP TABLE tus_uploads;
DROP TABLE uploads;
