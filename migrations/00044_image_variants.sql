-- +goose Up
-- Gig images and avatars get responsive variants from a background job (river, media
-- queue), made only from the clean original: image_status is NULL for uploads that are
-- no such image, 'pending' from the transaction that marks the image clean (and queues
-- its job) until the job records 'ready' (dimensions, BlurHash placeholder, variants)
-- or 'failed' (image_error: unreadable, over the pixel budget).
--
-- image_variants holds one row per stored variant: width × height in a format, the
-- object key beside the original and the SHA-256 of its bytes, which names it in its
-- public URL (/media/{sha256}.webp|.jpg). Rows go with their upload.

ALTER TABLE uploads
    ADD COLUMN image_status text   CHECK (image_status IN ('pending', 'ready', 'failed')),
    ADD COLUMN image_width  int    CHECK (image_width > 0),
    ADD COLUMN image_height int    CHECK (image_height > 0),
    ADD COLUMN placeholder  text   CHECK (length(placeholder) <= 100),
    ADD COLUMN image_error  text,
    ADD CONSTRAINT uploads_image_ready_check
        CHECK (image_status IS DISTINCT FROM 'ready' OR (image_width IS NOT NULL AND image_height IS NOT NULL));

CREATE TABLE image_variants (
    upload_id  uuid   NOT NULL REFERENCES uploads (id) ON DELETE CASCADE,
    width      int    NOT NULL CHECK (width > 0),
    height     int    NOT NULL CHECK (height > 0),
    format     text   NOT NULL CHECK (format IN ('webp', 'jpeg')),
    object_key text   NOT NULL,
    sha256     text   NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size       bigint NOT NULL CHECK (size > 0),
    PRIMARY KEY (upload_id, width, format)
);
CREATE INDEX image_variants_sha256_idx ON image_variants (sha256);

-- +goose Down
DROP TABLE image_variants;
ALTER TABLE uploads
    DROP CONSTRAINT uploads_image_ready_check,
    DROP COLUMN image_error,
    DROP COLUMN placeholder,
    DROP COLUMN image_height,
    DROP COLUMN image_width,
    DROP COLUMN image_status;
