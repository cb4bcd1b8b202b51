-- +goose Up
-- Video uploads (gig videos, video attachments) get a poster, a duration and a
-- web-playable rendition from a background job (river, whose own tables `gigstream
-- migrate up` applies beside these). video_status is NULL for uploads that are no video,
-- 'pending' from the transaction that marks a video clean (and enqueues its job) until
-- the job records 'ready' or 'failed' (with video_error). poster_key and rendition_key
-- point to server-made objects beside the original, which stays as uploaded.

ALTER TABLE uploads
    ADD COLUMN video_status  text   CHECK (video_status IN ('pending', 'ready', 'failed')),
    ADD COLUMN poster_key    text,
    ADD COLUMN rendition_key text,
    ADD COLUMN duration_ms   bigint CHECK (duration_ms >= 0),
    ADD COLUMN video_error   text,
    ADD CONSTRAINT uploads_video_ready_check
        CHECK (video_status IS DISTINCT FROM 'ready' OR (poster_key IS NOT NULL AND duration_ms IS NOT NULL));

-- +goose Down
ALTER TABLE uploads
    DROP CONSTRAINT uploads_video_ready_check,
    DROP COLUMN video_error,
    DROP COLUMN duration_ms,
    DROP COLUMN rendition_key,
    DROP COLUMN poster_key,
    DROP COLUMN video_status;
