-- +goose Up
-- The facts of a notification that its e-mail writes in the recipient's language
-- (issue 15): an amount in minor units with its currency, a note the other party wrote
-- (a revision request, a dispute reason, a review comment) and a review's rating. The
-- stored title and body stay the in-app text; a row from before this has no facts, and
-- its e-mail says what happened without them.
ALTER TABLE notifications ADD COLUMN facts jsonb NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE notifications DROP COLUMN facts;
