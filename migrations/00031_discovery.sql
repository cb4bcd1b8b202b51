-- +goose Up
-- Favorites (saved gigs), saved searches and retired categories (issue 14).

-- A favorite is a gig a user keeps. A click is one row of the user's own; the gig's
-- count is read from favorites_gig_idx (index-only), so no hot row is written per click.
CREATE TABLE favorites (
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    gig_id     uuid        NOT NULL REFERENCES gigs (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, gig_id)
);
CREATE INDEX favorites_page_idx ON favorites (user_id, created_at DESC, gig_id DESC);
CREATE INDEX favorites_gig_idx ON favorites (gig_id);

-- A saved search is a catalogue filter (the parameters of GET /gigs, as JSON) its owner
-- is told about when a newly published gig matches it.
CREATE TABLE saved_searches (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    filter     jsonb       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX saved_searches_page_idx ON saved_searches (user_id, created_at DESC, id DESC);

-- When an operator retires (archives) a category (GET/POST /admin/categories…,
-- README "Gig catalogue"): it leaves public lists, its gigs keep it.
ALTER TABLE categories ADD COLUMN archived_at timestamptz;

-- +goose Down
ALTER TABLE categories DROP COLUMN archived_at;
DROP TABLE saved_searches;
DROP TABLE favorites;
