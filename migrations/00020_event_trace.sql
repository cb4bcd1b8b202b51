-- +goose Up
-- The W3C traceparent of the request that caused a durable event ('' when it was not
-- traced), so an event the relay publishes late still joins that request's trace.
-- A constant default: no table rewrite.
ALTER TABLE events ADD COLUMN trace text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE events DROP COLUMN trace;
