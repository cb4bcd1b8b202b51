-- +goose Up
-- Catalogue discovery: tags, the facets' columns on the gig row, the change marker the
-- nodes' search indexes follow, and the SQL index that ranks the searches they leave to
-- the database (quoted phrases; see store/gig_search.go).
--
-- tags: a seller's keywords (market.CheckTags: at most 5, lower case). They join the
-- searched text between the title (A) and the description, which moves to C.
ALTER TABLE gigs ADD COLUMN tags text[] NOT NULL DEFAULT '{}';

-- +goose StatementBegin
CREATE FUNCTION gig_tags_text(tags text[]) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT array_to_string(tags, ' ') $$;
-- +goose StatementEnd

DROP INDEX gigs_search_idx;
ALTER TABLE gigs DROP COLUMN search;
ALTER TABLE gigs ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english'::regconfig, title), 'A') ||
    setweight(to_tsvector('english'::regconfig, gig_tags_text(tags)), 'B') ||
    setweight(to_tsvector('english'::regconfig,
        regexp_replace(regexp_replace(description, '<[^>]*>', ' ', 'g'), '&[#a-zA-Z0-9]+;', ' ', 'g')), 'C')
) STORED;

-- delivery_days: the fastest package's, kept beside the cheapest price by the packages'
-- trigger. rating_mean: the plain mean in hundredths of a star (NULL without reviews),
-- which the minimum-rating filter and the rating facet compare.
ALTER TABLE gigs ADD COLUMN delivery_days integer,
    ADD COLUMN rating_mean integer GENERATED ALWAYS AS
        (CASE WHEN rating_count > 0 THEN (rating_total * 100 / rating_count)::integer END) STORED;

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION gigs_set_cheapest() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    gig uuid;
BEGIN
    FOREACH gig IN ARRAY ARRAY[CASE WHEN TG_OP <> 'INSERT' THEN OLD.gig_id END,
                               CASE WHEN TG_OP <> 'DELETE' THEN NEW.gig_id END] LOOP
        CONTINUE WHEN gig IS NULL;
        UPDATE gigs SET (price_minor, price_currency, delivery_days) =
            (SELECT min(p.price_minor), min(p.currency), min(p.delivery_days) FROM gig_packages p WHERE p.gig_id = gig)
        WHERE id = gig;
    END LOOP;
    RETURN NULL;
END $$;
-- +goose StatementEnd

UPDATE gigs g SET delivery_days = (SELECT min(p.delivery_days) FROM gig_packages p WHERE p.gig_id = g.id);

-- The search index: RUM where the extension can be created (it stores lexeme positions,
-- so it returns matches already ordered by rank), else GIN. A database can opt out with
-- ALTER DATABASE … SET gigstream.search_rum = 'off' (the fallback's tests do). The store
-- looks for gigs_search_rum_idx at start-up and ranks accordingly.
-- +goose StatementBegin
DO $$
BEGIN
    IF coalesce(current_setting('gigstream.search_rum', true), '') <> 'off'
        AND EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'rum') THEN
        BEGIN
            CREATE EXTENSION IF NOT EXISTS rum;
        EXCEPTION WHEN OTHERS THEN
            RAISE NOTICE 'rum is available but cannot be created here (%): searches use GIN', SQLERRM;
        END;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'rum')
        AND coalesce(current_setting('gigstream.search_rum', true), '') <> 'off' THEN
        CREATE INDEX gigs_search_rum_idx ON gigs USING rum (search rum_tsvector_ops) WHERE status = 'published';
    ELSE
        CREATE INDEX gigs_search_idx ON gigs USING gin (search) WHERE status = 'published';
    END IF;
END $$;
-- +goose StatementEnd


-- search_xid: the transaction that last wrote the row. Each node keeps an in-memory
-- search index (store/gigindex) and reads the rows written since the oldest transaction
-- that was still running at its previous read, so a slow commit is never skipped.
-- A seller who is disabled or deleted touches their gigs, which leave the index.
ALTER TABLE gigs ADD COLUMN search_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX gigs_search_xid_idx ON gigs (search_xid);
-- +goose StatementBegin
CREATE FUNCTION gigs_touch_search() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_xid := pg_current_xact_id();
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER gigs_search_xid BEFORE UPDATE ON gigs FOR EACH ROW EXECUTE FUNCTION gigs_touch_search();
-- +goose StatementBegin
CREATE FUNCTION users_touch_gigs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE gigs SET search_xid = pg_current_xact_id() WHERE seller_id = NEW.id;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER users_gigs_search AFTER UPDATE OF disabled_at, deleted_at ON users FOR EACH ROW
    WHEN (OLD.disabled_at IS DISTINCT FROM NEW.disabled_at OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at)
    EXECUTE FUNCTION users_touch_gigs();

-- +goose Down
DROP TRIGGER users_gigs_search ON users;
DROP FUNCTION users_touch_gigs();
DROP TRIGGER gigs_search_xid ON gigs;
DROP FUNCTION gigs_touch_search();
DROP INDEX gigs_search_xid_idx;
ALTER TABLE gigs DROP COLUMN search_xid;
DROP INDEX IF EXISTS gigs_search_rum_idx;
DROP INDEX IF EXISTS gigs_search_idx;
ALTER TABLE gigs DROP COLUMN search;
ALTER TABLE gigs ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english'::regconfig, title), 'A') ||
    setweight(to_tsvector('english'::regconfig,
        regexp_replace(regexp_replace(description, '<[^>]*>', ' ', 'g'), '&[#a-zA-Z0-9]+;', ' ', 'g')), 'B')
) STORED;
CREATE INDEX gigs_search_idx ON gigs USING gin (search);
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION gigs_set_cheapest() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    gig uuid;
BEGIN
    FOREACH gig IN ARRAY ARRAY[CASE WHEN TG_OP <> 'INSERT' THEN OLD.gig_id END,
                               CASE WHEN TG_OP <> 'DELETE' THEN NEW.gig_id END] LOOP
        CONTINUE WHEN gig IS NULL;
        UPDATE gigs SET (price_minor, price_currency) =
            (SELECT min(p.price_minor), min(p.currency) FROM gig_packages p WHERE p.gig_id = gig)
        WHERE id = gig;
    END LOOP;
    RETURN NULL;
END $$;
-- +goose StatementEnd
ALTER TABLE gigs DROP COLUMN rating_mean, DROP COLUMN delivery_days, DROP COLUMN tags;
DROP FUNCTION gig_tags_text(text[]);
