-- +goose Up
-- abuse_reports is the queue of users' reports of gigs, messages and profiles. Each
-- keeps a copy of what was reported (excerpt: a gig's title, a message's text, a
-- username) as it was then, so an admin judges what the reporter saw even when it was
-- edited or deleted since, and reads a message without opening the conversation.
CREATE TABLE abuse_reports (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    reporter_id     uuid        NOT NULL REFERENCES users (id),
    target_kind     text        NOT NULL CHECK (target_kind IN ('gig', 'message', 'user')),
    target_id       uuid        NOT NULL,
    target_owner_id uuid        NOT NULL REFERENCES users (id),
    excerpt         text        NOT NULL,
    reason          text        NOT NULL CHECK (reason IN ('spam', 'scam', 'offensive', 'intellectual_property', 'other')),
    details         text        NOT NULL DEFAULT '',
    status          text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'actioned', 'dismissed')),
    resolution_note text,
    resolved_by     uuid        REFERENCES users (id),
    resolved_at     timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'open') = (resolved_at IS NULL))
);
-- One open report per reporter and target: reporting again while it is open is the same report.
CREATE UNIQUE INDEX abuse_reports_open_once ON abuse_reports (reporter_id, target_kind, target_id) WHERE status = 'open';
-- The admins' queue pages each status oldest first.
CREATE INDEX abuse_reports_queue_idx ON abuse_reports (status, created_at, id);

-- +goose Down
DROP TABLE abuse_reports;
