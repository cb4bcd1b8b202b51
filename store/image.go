package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/riverqueue/river"

	"github.com/gigstream/hub/market"
)

// ImageJob is the queued job (river, in Postgres) that makes a clean gig image's or
// avatar's responsive variants, dimensions and placeholder. It is queued in the
// transaction that marks the upload clean, so an infected or unscanned original never
// gets one.
type ImageJob struct {
	UploadID string `json:"upload_id"`
}

// Kind names the job in river's tables.
func (ImageJob) Kind() string { return "upload_image" }

// ImageJobAttempts is how often an image job runs before its image is recorded as
// failed; with river's attempt⁴-second backoff the last try comes about ten minutes
// after the first.
const ImageJobAttempts = 5

// InsertOpts puts the job in the media queue and bounds its retries.
func (ImageJob) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueMedia, MaxAttempts: ImageJobAttempts}
}

// pictureColumn is a JSON expression of the ready image of the upload aliased alias
// (dimensions, placeholder, variants widest first, WebP before JPEG), NULL until its
// variants are made; market.Picture scans it.
func pictureColumn(alias string) string {
	return `CASE WHEN ` + alias + `.image_status = 'ready' THEN json_build_object(
		'width', ` + alias + `.image_width, 'height', ` + alias + `.image_height,
		'placeholder', COALESCE(` + alias + `.placeholder, ''),
		'variants', (SELECT COALESCE(json_agg(json_build_object('width', v.width, 'height', v.height,
			'format', v.format, 'sha256', v.sha256) ORDER BY v.width DESC, v.format DESC), '[]')
			FROM image_variants v WHERE v.upload_id = ` + alias + `.id)) END`
}

// variantKeys is an array expression of the object keys of the variants of the upload
// aliased alias, for the queries that delete uploads with their objects.
func variantKeys(alias string) string {
	return `ARRAY(SELECT v.object_key FROM image_variants v WHERE v.upload_id = ` + alias + `.id)`
}

// startMedia runs what a clean upload starts in the transaction that made it clean: a
// video's probe (startVideo), an image's variants (startImage).
func (db *DB) startMedia(ctx context.Context, tx *sqlx.Tx, u *market.Upload) error {
	if err := db.startVideo(ctx, tx, u); err != nil {
		return err
	}
	return startImage(ctx, tx, u)
}

// startImage marks a gig image or avatar that just became clean as pending and queues
// its ImageJob in tx; other uploads are left alone.
func startImage(ctx context.Context, tx *sqlx.Tx, u *market.Upload) error {
	if !market.HasVariants(*u) {
		return nil
	}
	err := tx.GetContext(ctx, u, `UPDATE uploads SET image_status = 'pending' WHERE id = $1 RETURNING `+uploadColumns, u.ID)
	if err != nil {
		return fmt.Errorf("mark image pending: %w", err)
	}
	return insertJob(ctx, tx, ImageJob{UploadID: u.ID})
}

// FinishImage records the dimensions, placeholder and variants the image job made of
// a clean, pending image, with its upload.image event, in one transaction. An upload
// that is missing, not clean or not pending wraps ErrNotFound.
func (db *DB) FinishImage(ctx context.Context, id string, made market.ImageMade) (market.Upload, market.Event, error) {
	var u market.Upload
	var ev market.Event
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &u, `
			UPDATE uploads SET image_status = 'ready', image_width = $2, image_height = $3,
				placeholder = NULLIF($4, ''), image_error = NULL, updated_at = now()
			WHERE id = $1 AND status = 'clean' AND image_status = 'pending' RETURNING `+uploadColumns,
			id, made.Width, made.Height, made.Placeholder)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("pending image %s: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("record image: %w", err)
		}
		if err := insertVariants(ctx, tx, id, made.Variants); err != nil {
			return err
		}
		ev, err = appendEvent(ctx, tx, market.UserChannel(u.OwnerID), "upload.image", u)
		return err
	})
	return u, ev, err
}

// insertVariants replaces the variant rows of upload id.
func insertVariants(ctx context.Context, tx *sqlx.Tx, id string, variants []market.StoredVariant) error {
	var widths, heights []int64
	var sizes []int64
	var formats, keys, hashes []string
	for _, v := range variants {
		widths, heights, sizes = append(widths, int64(v.Width)), append(heights, int64(v.Height)), append(sizes, v.Size)
		formats, keys, hashes = append(formats, v.Format), append(keys, v.Key), append(hashes, v.SHA256)
	}
	_, err := tx.ExecContext(ctx, `
		WITH gone AS (DELETE FROM image_variants WHERE upload_id = $1)
		INSERT INTO image_variants (upload_id, width, height, format, object_key, sha256, size)
		SELECT $1, * FROM unnest($2::int[], $3::int[], $4::text[], $5::text[], $6::text[], $7::bigint[])`,
		id, pq.Array(widths), pq.Array(heights), pq.Array(formats), pq.Array(keys), pq.Array(hashes), pq.Array(sizes))
	if err != nil {
		return fmt.Errorf("record image variants: %w", err)
	}
	return nil
}

// FailImage records why a pending image gets no variants, with its upload.image event.
// An upload that is missing or not pending wraps ErrNotFound.
func (db *DB) FailImage(ctx context.Context, id, reason string) (market.Upload, market.Event, error) {
	if len(reason) > 500 {
		reason = reason[:500]
	}
	var u market.Upload
	var ev market.Event
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &u, `
			UPDATE uploads SET image_status = 'failed', image_error = $2, updated_at = now()
			WHERE id = $1 AND image_status = 'pending' RETURNING `+uploadColumns, id, reason)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("pending image %s: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("record image failure: %w", err)
		}
		ev, err = appendEvent(ctx, tx, market.UserChannel(u.OwnerID), "upload.image", u)
		return err
	})
	return u, ev, err
}

// PublicVariant returns a variant with the hash and format whose image anyone may see
// now: a clean gig image of a published gig, or a clean avatar, whose owner is neither
// disabled nor deleted (the rule of market.Uploads.Visible). Identical bytes uploaded
// twice share a hash; any public copy serves them. Otherwise it wraps ErrNotFound.
func (db *DB) PublicVariant(ctx context.Context, sha256, format string) (market.PublicVariant, error) {
	var v market.PublicVariant
	err := db.x.GetContext(ctx, &v, `
		SELECT v.object_key, v.format, v.size
		FROM image_variants v
		JOIN uploads up ON up.id = v.upload_id AND up.status = 'clean'
		JOIN users o ON o.id = up.owner_id AND o.disabled_at IS NULL AND o.deleted_at IS NULL
		LEFT JOIN gigs g ON g.id = up.gig_id
		WHERE v.sha256 = $1 AND v.format = $2
			AND (up.kind = 'avatar' OR (up.kind = 'gig_image' AND g.status = 'published'))
		LIMIT 1`, sha256, format)
	if errors.Is(err, sql.ErrNoRows) {
		return v, fmt.Errorf("public variant %s: %w", sha256, ErrNotFound)
	}
	if err != nil {
		return v, fmt.Errorf("public variant %s: %w", sha256, err)
	}
	return v, nil
}

var _ market.ImageStore = (*DB)(nil)
