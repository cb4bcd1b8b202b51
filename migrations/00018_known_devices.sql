-- +goose Up
-- Known devices: a browser (the __Host-gs_device cookie) or an app (X-Device-Token)
-- that completed a password sign-in of the account. Failed sign-ins are counted per
-- account and device or address, so an attacker who fails on someone's address never
-- slows its owner down on a device the owner has used. Only a SHA-256 of the device
-- secret is stored; one browser may be known to several accounts.

CREATE TABLE known_devices (
    user_id      uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   bytea       NOT NULL CHECK (length(token_hash) = 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, token_hash)
);
CREATE INDEX known_devices_token_idx ON known_devices (token_hash);

-- +goose Down
DROP TABLE known_devices;
