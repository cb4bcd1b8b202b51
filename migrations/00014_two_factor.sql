-- +goose Up
-- Two-factor authentication (TOTP, RFC 6238) with single-use recovery codes. The TOTP
-- secret is sealed with AES-256-GCM under TWO_FACTOR_KEY (the user's id is the
-- additional data, so a sealed secret cannot be moved to another user); enabled_at is
-- NULL while an enrolment waits for its first code. last_step refuses a code's reuse:
-- only a later time step than the last accepted one passes. failures and locked_until
-- bound guessing. Recovery codes are stored as SHA-256 of random 60-bit codes, used
-- once. A session that passed a second factor recently (verified_at) may move money.

CREATE TABLE two_factor (
    user_id       uuid        PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_sealed bytea       NOT NULL CHECK (length(secret_sealed) BETWEEN 29 AND 128),
    enabled_at    timestamptz,
    last_step     bigint      NOT NULL DEFAULT 0,
    failures      integer     NOT NULL DEFAULT 0 CHECK (failures >= 0),
    locked_until  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE two_factor_recovery_codes (
    user_id   uuid        NOT NULL REFERENCES two_factor (user_id) ON DELETE CASCADE,
    code_hash bytea       NOT NULL CHECK (length(code_hash) = 32),
    used_at   timestamptz,
    PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE two_factor_sessions (
    session_id  uuid        PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    user_id     uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    verified_at timestamptz NOT NULL
);
CREATE INDEX two_factor_sessions_user_idx ON two_factor_sessions (user_id);

-- +goose Down
DROP TABLE two_factor_sessions;
DROP TABLE two_factor_recovery_codes;
DROP TABLE two_factor;
