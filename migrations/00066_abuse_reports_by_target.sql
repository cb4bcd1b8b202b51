-- +goose Up
-- A takedown resolves every open report of its gig in the same transaction: find them
-- by target without walking the whole open queue.
CREATE INDEX abuse_reports_open_target_idx ON abuse_reports (target_kind, target_id) WHERE status = 'open';

-- +goose Down
DROP INDEX abuse_reports_open_target_idx;
