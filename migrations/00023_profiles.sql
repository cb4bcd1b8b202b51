-- +goose Up
-- Public profiles: where a user lives, the languages they speak and the skills they
-- offer, set with PATCH /me. The avatar is their latest clean avatar upload (the index
-- finds it in one probe).
ALTER TABLE users
    ADD COLUMN country   text   CHECK (country ~ '^[A-Z]{2}$'),
    ADD COLUMN languages text[] NOT NULL DEFAULT '{}' CHECK (cardinality(languages) <= 10),
    ADD COLUMN skills    text[] NOT NULL DEFAULT '{}' CHECK (cardinality(skills) <= 30);
CREATE INDEX uploads_avatar_idx ON uploads (owner_id, created_at DESC) WHERE kind = 'avatar' AND status = 'clean';

-- Gig views per gig and UTC day. Each node counts views in memory and adds its counts
-- here in one statement every GIG_VIEW_FLUSH_INTERVAL, so a popular gig costs one row
-- update per node and interval, not one per view.
CREATE TABLE gig_views (
    gig_id uuid   NOT NULL REFERENCES gigs (id) ON DELETE CASCADE,
    day    date   NOT NULL,
    views  bigint NOT NULL CHECK (views >= 0),
    PRIMARY KEY (gig_id, day)
);

-- +goose Down
DROP TABLE gig_views;
DROP INDEX uploads_avatar_idx;
ALTER TABLE users DROP COLUMN skills, DROP COLUMN languages, DROP COLUMN country;
