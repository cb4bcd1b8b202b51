-- +goose Up
-- The shared read cache (README "Read cache") keeps public pages (a gig by id or slug,
-- a profile by username, the category list) in Redis under a generation per key. Every
-- write that changes what such a page shows sends the page's keys on the channel
-- gigstream_read_cache with NOTIFY, which PostgreSQL delivers only once the writing
-- transaction commits (and never if it rolls back); every node LISTENs and starts a
-- new generation of each key, so a reader that read the database before the commit
-- can no longer store what it read. Inserts of gigs, packages and uploads need no
-- notice: nothing cached names a gig before it exists, and a new upload is not shown
-- until an update marks it clean (bulk COPY loads therefore send nothing).

-- +goose StatementBegin
-- read_cache_gig sends the keys of a gig's page (by id and by slug) and, with
-- with_profile, of its seller's profile (which lists their gigs and reviews).
CREATE FUNCTION read_cache_gig(gig uuid, with_profile boolean) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT g.slug, u.username FROM gigs g JOIN users u ON u.id = g.seller_id WHERE g.id = gig LOOP
        PERFORM pg_notify('gigstream_read_cache', 'gig:' || gig);
        PERFORM pg_notify('gigstream_read_cache', 'gig:' || r.slug);
        IF with_profile THEN
            PERFORM pg_notify('gigstream_read_cache', 'profile:' || r.username);
        END IF;
    END LOOP;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
-- read_cache_gigs_row sends a changed or deleted gig's keys, old slug and old seller
-- included (the row may be gone, so they are sent from the row itself).
CREATE FUNCTION read_cache_gigs_row() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT OLD.id, OLD.slug, OLD.seller_id UNION SELECT NEW.id, NEW.slug, NEW.seller_id LOOP
        CONTINUE WHEN r.id IS NULL;
        PERFORM pg_notify('gigstream_read_cache', 'gig:' || r.id);
        PERFORM pg_notify('gigstream_read_cache', 'gig:' || r.slug);
        PERFORM pg_notify('gigstream_read_cache', 'profile:' || u.username) FROM users u WHERE u.id = r.seller_id;
    END LOOP;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER gigs_read_cache AFTER UPDATE OR DELETE ON gigs
    FOR EACH ROW EXECUTE FUNCTION read_cache_gigs_row();

-- +goose StatementBegin
-- read_cache_gig_child_row sends the keys of the gig a changed package, favorite or
-- review belongs to; favorites change only the gig's own page (its favorite count).
CREATE FUNCTION read_cache_gig_child_row() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM read_cache_gig(OLD.gig_id, TG_TABLE_NAME <> 'favorites');
    END IF;
    IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.gig_id IS DISTINCT FROM OLD.gig_id) THEN
        PERFORM read_cache_gig(NEW.gig_id, TG_TABLE_NAME <> 'favorites');
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER gig_packages_read_cache AFTER UPDATE OR DELETE ON gig_packages
    FOR EACH ROW EXECUTE FUNCTION read_cache_gig_child_row();
CREATE TRIGGER favorites_read_cache AFTER INSERT OR DELETE ON favorites
    FOR EACH ROW EXECUTE FUNCTION read_cache_gig_child_row();
CREATE TRIGGER reviews_read_cache AFTER INSERT OR UPDATE OR DELETE ON reviews
    FOR EACH ROW EXECUTE FUNCTION read_cache_gig_child_row();

-- +goose StatementBegin
-- read_cache_uploads_row sends the keys of the gig whose media changed, or of the
-- profile whose avatar changed; other uploads (attachments, deliverables) send nothing.
CREATE FUNCTION read_cache_uploads_row() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT OLD.gig_id, OLD.kind, OLD.owner_id UNION SELECT NEW.gig_id, NEW.kind, NEW.owner_id LOOP
        IF r.gig_id IS NOT NULL THEN
            PERFORM read_cache_gig(r.gig_id, true);
        ELSIF r.kind = 'avatar' THEN
            PERFORM pg_notify('gigstream_read_cache', 'profile:' || u.username) FROM users u WHERE u.id = r.owner_id;
        END IF;
    END LOOP;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER uploads_read_cache AFTER UPDATE OR DELETE ON uploads
    FOR EACH ROW EXECUTE FUNCTION read_cache_uploads_row();

-- +goose StatementBegin
-- read_cache_users_row sends a user's profile keys (old and new username) and the
-- pages of all their gigs (which show the seller, and only while they are active) when
-- something a page shows changed.
CREATE FUNCTION read_cache_users_row() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    g uuid;
BEGIN
    IF TG_OP = 'UPDATE' AND (OLD.username, OLD.display_name, OLD.bio, OLD.is_seller, OLD.disabled_at, OLD.deleted_at,
            OLD.country, OLD.languages, OLD.skills, OLD.created_at)
        IS NOT DISTINCT FROM (NEW.username, NEW.display_name, NEW.bio, NEW.is_seller, NEW.disabled_at, NEW.deleted_at,
            NEW.country, NEW.languages, NEW.skills, NEW.created_at) THEN
        RETURN NULL;
    END IF;
    PERFORM pg_notify('gigstream_read_cache', 'profile:' || OLD.username);
    IF TG_OP = 'UPDATE' THEN
        PERFORM pg_notify('gigstream_read_cache', 'profile:' || NEW.username);
    END IF;
    FOR g IN SELECT id FROM gigs WHERE seller_id = OLD.id LOOP
        PERFORM read_cache_gig(g, false);
    END LOOP;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER users_read_cache AFTER UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION read_cache_users_row();

-- +goose StatementBegin
-- read_cache_categories_row sends the category list's key and, for a changed or
-- deleted category, the pages of its gigs and their sellers' profiles (which show
-- the category's name, slug and parent).
CREATE FUNCTION read_cache_categories_row() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    g uuid;
BEGIN
    PERFORM pg_notify('gigstream_read_cache', 'categories');
    FOR g IN SELECT id FROM gigs WHERE category_id = OLD.id LOOP
        PERFORM read_cache_gig(g, true);
    END LOOP;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER categories_read_cache AFTER UPDATE OR DELETE ON categories
    FOR EACH ROW EXECUTE FUNCTION read_cache_categories_row();

-- +goose StatementBegin
CREATE FUNCTION read_cache_categories_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('gigstream_read_cache', 'categories');
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER categories_insert_read_cache AFTER INSERT ON categories
    FOR EACH STATEMENT EXECUTE FUNCTION read_cache_categories_insert();

-- +goose Down
DROP TRIGGER categories_insert_read_cache ON categories;
DROP TRIGGER categories_read_cache ON categories;
DROP TRIGGER users_read_cache ON users;
DROP TRIGGER uploads_read_cache ON uploads;
DROP TRIGGER reviews_read_cache ON reviews;
DROP TRIGGER favorites_read_cache ON favorites;
DROP TRIGGER gig_packages_read_cache ON gig_packages;
DROP TRIGGER gigs_read_cache ON gigs;
DROP FUNCTION read_cache_categories_insert();
DROP FUNCTION read_cache_categories_row();
DROP FUNCTION read_cache_users_row();
DROP FUNCTION read_cache_uploads_row();
DROP FUNCTION read_cache_gig_child_row();
DROP FUNCTION read_cache_gigs_row();
DROP FUNCTION read_cache_gig(uuid, boolean);
