-- +goose Up
-- event_outbox is a queue table: every durable event writes a key that the outbox
-- publisher deletes ~100 ms later, and it vacuums the table every 1,000 deletions.
-- Such a vacuum finds the table's tail pages empty and truncates them, which takes an
-- ACCESS EXCLUSIVE lock on event_outbox: every insert of a key (every send, through the
-- events trigger) waits while the vacuum asks for it, takes it and, with fsync on,
-- flushes WAL and shrinks the file. The pages would be filled again within a second.
-- Keep them: vacuum (the publisher's and autovacuum) frees their space for reuse and
-- never truncates. After a backlog (a relay outage) the file stays as large as the
-- backlog was until `VACUUM (TRUNCATE true) event_outbox` (docs/operations.md).
ALTER TABLE event_outbox SET (vacuum_truncate = false);

-- +goose Down
ALTER TABLE event_outbox RESET (vacuum_truncate);
