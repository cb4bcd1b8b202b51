-- +goose Up
-- An admin's takedown of a gig: it is paused and stays so until an admin restores it;
-- the reason is shown to its seller (GET /gigs/{id}, GET /me/gigs, and the 409 of a
-- publish). The check makes "taken down but published" impossible whatever writes.
ALTER TABLE gigs
    ADD COLUMN takedown_reason text,
    ADD COLUMN taken_down_at   timestamptz,
    ADD COLUMN taken_down_by   uuid REFERENCES users (id),
    ADD CONSTRAINT gigs_takedown_hides CHECK (
        taken_down_at IS NULL OR (status = 'paused' AND takedown_reason IS NOT NULL));

-- +goose Down
ALTER TABLE gigs
    DROP CONSTRAINT gigs_takedown_hides,
    DROP COLUMN taken_down_by,
    DROP COLUMN taken_down_at,
    DROP COLUMN takedown_reason;
