-- +goose Up
-- The account export reads a user's own reports page by page (reporter_id, id > key).
CREATE INDEX abuse_reports_reporter_idx ON abuse_reports (reporter_id, id);

-- +goose Down
DROP INDEX abuse_reports_reporter_idx;
