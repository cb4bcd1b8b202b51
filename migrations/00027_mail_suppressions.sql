-- +goose Up
-- Addresses that must not be mailed (issue 15): a permanent bounce (an RFC 3464
-- delivery status notification with Action: failed and a 5.x.x status) or a complaint
-- (an RFC 5965 feedback report). Keyed by the lower-cased address, not by user: an
-- address is what bounces. Notification mail skips these addresses; a user clears
-- theirs by verifying the address again or changing it.
CREATE TABLE mail_suppressions (
    email       text        PRIMARY KEY CHECK (email = lower(email)),
    reason      text        NOT NULL CHECK (reason IN ('bounce', 'complaint')),
    status      text        NOT NULL DEFAULT '', -- the DSN's Status (5.1.1) or the feedback type (abuse)
    diagnostic  text        NOT NULL DEFAULT '', -- the remote server's words, cut to 500 characters
    reports     integer     NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE mail_suppressions;
