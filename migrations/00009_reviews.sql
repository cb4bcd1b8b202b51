-- +goose Up
-- Reviews: a buyer rates a completed order once (1 to 5 stars, an optional comment),
-- and its seller may answer once. The order is the unit, so a review can only come
-- from someone who bought and received the work; gig and seller are copied from the
-- order for the catalogue's queries.

CREATE TABLE reviews (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id     uuid        NOT NULL UNIQUE REFERENCES orders (id),
    gig_id       uuid        NOT NULL REFERENCES gigs (id),
    seller_id    uuid        NOT NULL REFERENCES users (id),
    buyer_id     uuid        NOT NULL REFERENCES users (id),
    rating       smallint    NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment      text        NOT NULL DEFAULT '' CHECK (length(comment) <= 2000),
    response     text        CHECK (length(response) BETWEEN 1 AND 2000),
    responded_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK ((response IS NULL) = (responded_at IS NULL))
);
CREATE INDEX reviews_gig_idx ON reviews (gig_id, created_at DESC, id DESC);
CREATE INDEX reviews_seller_idx ON reviews (seller_id, created_at);

-- +goose Down
DROP TABLE reviews;
