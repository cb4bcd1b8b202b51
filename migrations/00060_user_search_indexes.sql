-- +goose Up
-- The admins' user search (GET /admin/users?q=) matches lower(email) and
-- lower(username) by prefix and lower(display_name) anywhere. Trigram GIN indexes
-- serve all three (a BitmapOr of the three), for q of 3 characters or more; shorter
-- ones match too many users to look up and walk users_created_idx in the list's order
-- instead, as the empty q (everyone, oldest first) does. pg_trgm is a trusted
-- extension (PostgreSQL 13+): a database owner may create it, also on managed hosts.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX users_email_trgm_idx ON users USING gin (lower(email) gin_trgm_ops);
CREATE INDEX users_username_trgm_idx ON users USING gin (lower(username) gin_trgm_ops);
CREATE INDEX users_display_name_trgm_idx ON users USING gin (lower(display_name) gin_trgm_ops);
CREATE INDEX users_created_idx ON users (created_at, id);

-- +goose Down
DROP INDEX users_created_idx;
DROP INDEX users_display_name_trgm_idx;
DROP INDEX users_username_trgm_idx;
DROP INDEX users_email_trgm_idx;
