-- +goose Up
-- Users, the catalogue of categories and gigs with their priced packages: the
-- demo dataset and every later feature stand on these tables.

CREATE TABLE users (
    id                uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    email             text        NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    username          text        NOT NULL CHECK (username ~ '^[a-z0-9_]{3,30}$'),
    display_name      text        NOT NULL CHECK (length(display_name) BETWEEN 1 AND 80),
    password_hash     text,
    bio               text        NOT NULL DEFAULT '',
    is_buyer          boolean     NOT NULL DEFAULT true,
    is_seller         boolean     NOT NULL DEFAULT false,
    is_admin          boolean     NOT NULL DEFAULT false,
    email_verified_at timestamptz,
    disabled_at       timestamptz,
    deleted_at        timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE UNIQUE INDEX users_username_key ON users (username);

CREATE TABLE categories (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    slug       text        NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9-]{2,60}$'),
    name       text        NOT NULL,
    parent_id  uuid        REFERENCES categories (id),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE gigs (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    seller_id    uuid        NOT NULL REFERENCES users (id),
    category_id  uuid        NOT NULL REFERENCES categories (id),
    slug         text        NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9-]{3,100}$'),
    title        text        NOT NULL CHECK (length(title) BETWEEN 10 AND 120),
    description  text        NOT NULL,
    status       text        NOT NULL DEFAULT 'draft'
                             CHECK (status IN ('draft', 'published', 'paused')),
    published_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX gigs_seller_idx ON gigs (seller_id);
CREATE INDEX gigs_category_published_idx ON gigs (category_id) WHERE status = 'published';

-- Money is integer minor units with an ISO 4217 currency, never a float.
CREATE TABLE gig_packages (
    id            uuid    PRIMARY KEY DEFAULT gen_random_uuid(),
    gig_id        uuid    NOT NULL REFERENCES gigs (id) ON DELETE CASCADE,
    tier          text    NOT NULL CHECK (tier IN ('basic', 'standard', 'premium')),
    title         text    NOT NULL,
    description   text    NOT NULL DEFAULT '',
    price_minor   bigint  NOT NULL CHECK (price_minor > 0),
    currency      char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    delivery_days integer NOT NULL CHECK (delivery_days BETWEEN 1 AND 90),
    revisions     integer NOT NULL CHECK (revisions BETWEEN 0 AND 20),
    UNIQUE (gig_id, tier)
);

-- +goose Down
DROP TABLE gig_packages;
DROP TABLE gigs;
DROP TABLE categories;
DROP TABLE users;
