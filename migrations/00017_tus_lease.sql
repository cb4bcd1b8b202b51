-- +goose Up
-- A tus upload is claimed by one request at a time with a lease (holder token and
-- expiry, on the database's clock) instead of a session advisory lock, which pinned a
-- pooled connection for as long as a client trickled its PATCH. The holder renews it
-- while it works and every write it makes is fenced by the token.
ALTER TABLE tus_uploads
    ADD COLUMN lease_token text,
    ADD COLUMN lease_until timestamptz;

-- +goose Down
ALTER TABLE tus_uploads
    DROP COLUMN lease_token,
    DROP COLUMN lease_until;
