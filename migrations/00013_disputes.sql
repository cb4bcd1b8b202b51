-- +goose Up
-- Disputes: the buyer of a paid, delivered or revision_requested order opens one and
-- the order becomes disputed (nothing settles it but the dispute's end). The seller
-- answers once; the buyer may withdraw it, and the order returns to prior_status; an
-- admin resolves it, which is the order's one final action in order_settlements
-- (action 'resolve'): refund_minor back to the buyer, the rest to the seller. At most
-- one dispute of an order is open; a withdrawn one may be followed by another.

ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check
    CHECK (status IN ('placed', 'paid', 'delivered', 'revision_requested', 'disputed', 'completed', 'cancelled'));
CREATE INDEX orders_status_idx ON orders (status, updated_at DESC, id DESC);

ALTER TABLE order_settlements DROP CONSTRAINT order_settlements_action_check;
ALTER TABLE order_settlements ADD CONSTRAINT order_settlements_action_check
    CHECK (action IN ('complete', 'auto_complete', 'cancel', 'refund', 'resolve'));

CREATE TABLE disputes (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id        uuid        NOT NULL REFERENCES orders (id),
    opened_by       uuid        NOT NULL REFERENCES users (id),
    reason          text        NOT NULL CHECK (length(reason) BETWEEN 10 AND 2000),
    prior_status    text        NOT NULL CHECK (prior_status IN ('paid', 'delivered', 'revision_requested')),
    status          text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'withdrawn', 'resolved')),
    open_key        text        NOT NULL CHECK (length(open_key) BETWEEN 1 AND 255),
    open_hash       text        NOT NULL,
    response        text        CHECK (length(response) BETWEEN 1 AND 2000),
    response_key    text        CHECK (length(response_key) BETWEEN 1 AND 255),
    response_hash   text,
    responded_at    timestamptz,
    withdraw_key    text        CHECK (length(withdraw_key) BETWEEN 1 AND 255),
    withdrawn_at    timestamptz,
    resolved_by     uuid        REFERENCES users (id),
    refund_minor    bigint      CHECK (refund_minor >= 0),
    resolution_note text        CHECK (length(resolution_note) BETWEEN 1 AND 1000),
    resolved_at     timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((response IS NULL) = (responded_at IS NULL)),
    CHECK ((status = 'withdrawn') = (withdrawn_at IS NOT NULL)),
    CHECK ((status = 'resolved') = (resolved_at IS NOT NULL))
);
CREATE UNIQUE INDEX disputes_one_open_idx ON disputes (order_id) WHERE status = 'open';
CREATE INDEX disputes_order_idx ON disputes (order_id, created_at DESC);

-- GET /me/ledger pages an account's postings newest first.
CREATE INDEX ledger_postings_account_id_idx ON ledger_postings (account, id DESC);

-- +goose Down
-- Refused while an order is disputed: its status cannot be expressed without 00013.
DROP INDEX ledger_postings_account_id_idx;
DROP TABLE disputes;
ALTER TABLE order_settlements DROP CONSTRAINT order_settlements_action_check;
ALTER TABLE order_settlements ADD CONSTRAINT order_settlements_action_check
    CHECK (action IN ('complete', 'auto_complete', 'cancel', 'refund')) NOT VALID;
DROP INDEX orders_status_idx;
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check
    CHECK (status IN ('placed', 'paid', 'delivered', 'revision_requested', 'completed', 'cancelled'));
