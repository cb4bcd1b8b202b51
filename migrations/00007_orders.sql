-- +goose Up
-- Orders and the money that funds them: an order is a snapshot of the package a buyer
-- bought; a payment is its Stripe PaymentIntent; provider_events makes each verified
-- webhook apply at most once; the ledger is double-entry in integer minor units, and
-- the database itself refuses postings that do not balance, that would be changed or
-- deleted, or that would overdraw an account other than the outside world's.
-- Deliveries are the numbered versions of the seller's work, with their files.

CREATE TABLE orders (
    id                uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    buyer_id          uuid        NOT NULL REFERENCES users (id),
    seller_id         uuid        NOT NULL REFERENCES users (id),
    gig_id            uuid        NOT NULL REFERENCES gigs (id),
    -- The package as it is now; NULL once the seller replaced the gig's packages. The
    -- snapshot columns below are what was bought.
    package_id        uuid        REFERENCES gig_packages (id) ON DELETE SET NULL,
    gig_title         text        NOT NULL,
    package_tier      text        NOT NULL CHECK (package_tier IN ('basic', 'standard', 'premium')),
    package_title     text        NOT NULL,
    price_minor       bigint      NOT NULL CHECK (price_minor > 0),
    currency          char(3)     NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    revisions_allowed integer     NOT NULL CHECK (revisions_allowed >= 0),
    revisions_used    integer     NOT NULL DEFAULT 0 CHECK (revisions_used BETWEEN 0 AND revisions_allowed),
    delivery_days     integer     NOT NULL CHECK (delivery_days > 0),
    status            text        NOT NULL DEFAULT 'placed'
                                  CHECK (status IN ('placed', 'paid', 'delivered', 'revision_requested', 'completed', 'cancelled')),
    due_at            timestamptz, -- set when the order is paid: paid_at + delivery_days
    paid_at           timestamptz,
    delivered_at      timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (buyer_id <> seller_id),
    CHECK ((status = 'placed') = (paid_at IS NULL) OR status = 'cancelled')
);
CREATE INDEX orders_buyer_idx ON orders (buyer_id, created_at DESC);
CREATE INDEX orders_seller_idx ON orders (seller_id, created_at DESC);

-- A retried POST /orders with the same key returns the same order; request_hash tells
-- a retry from a different request that reuses the key.
CREATE TABLE order_idempotency_keys (
    user_id      uuid        NOT NULL REFERENCES users (id),
    key          text        NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash text        NOT NULL,
    order_id     uuid        REFERENCES orders (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);

-- provider_ref (the PaymentIntent id) is indexed but not unique: Stripe's ids are, but
-- stripe-mock, which the tests run against, makes up ids without any guarantee. Webhooks
-- find the order by the PaymentIntent's metadata and must match this row's ref.
CREATE TABLE payments (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id      uuid        NOT NULL UNIQUE REFERENCES orders (id),
    provider      text        NOT NULL CHECK (provider IN ('stripe')),
    provider_ref  text        NOT NULL,
    client_secret text        NOT NULL,
    amount_minor  bigint      NOT NULL CHECK (amount_minor > 0),
    currency      char(3)     NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status        text        NOT NULL DEFAULT 'requires_payment'
                              CHECK (status IN ('requires_payment', 'succeeded', 'failed')),
    failure       text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payments_provider_ref_idx ON payments (provider, provider_ref);

CREATE TABLE provider_events (
    provider    text        NOT NULL,
    event_id    text        NOT NULL,
    type        text        NOT NULL,
    order_id    uuid,
    outcome     text        NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, event_id)
);

CREATE TABLE ledger_transactions (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    kind       text        NOT NULL CHECK (kind IN ('escrow_funding')),
    order_id   uuid        REFERENCES orders (id),
    reference  text        NOT NULL UNIQUE, -- e.g. the provider event that caused it
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Accounts are named: external:stripe (the outside world), escrow:order:{id}.
CREATE TABLE ledger_postings (
    id             bigserial   PRIMARY KEY,
    transaction_id uuid        NOT NULL REFERENCES ledger_transactions (id),
    account        text        NOT NULL CHECK (account ~ '^(external:[a-z]+|escrow:order:[0-9a-f-]{36})$'),
    amount_minor   bigint      NOT NULL CHECK (amount_minor <> 0),
    currency       char(3)     NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_postings_account_idx ON ledger_postings (account, currency);
CREATE INDEX ledger_postings_transaction_idx ON ledger_postings (transaction_id);

-- Balances are kept by trigger; the row lock on a balance serializes writers of one
-- account, and the CHECK refuses to overdraw anything but the outside world.
CREATE TABLE ledger_balances (
    account       text    NOT NULL,
    currency      char(3) NOT NULL,
    balance_minor bigint  NOT NULL,
    PRIMARY KEY (account, currency),
    CHECK (balance_minor >= 0 OR account LIKE 'external:%')
);

-- +goose StatementBegin
CREATE FUNCTION ledger_apply_posting() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ledger_balances (account, currency, balance_minor)
    VALUES (NEW.account, NEW.currency, NEW.amount_minor)
    ON CONFLICT (account, currency) DO UPDATE
        SET balance_minor = ledger_balances.balance_minor + EXCLUDED.balance_minor;
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER ledger_postings_balance AFTER INSERT ON ledger_postings
    FOR EACH ROW EXECUTE FUNCTION ledger_apply_posting();

-- Checked at commit, so a transaction's postings may be inserted one by one.
-- +goose StatementBegin
CREATE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    SELECT currency, sum(amount_minor) AS total INTO bad FROM ledger_postings
    WHERE transaction_id = NEW.transaction_id GROUP BY currency HAVING sum(amount_minor) <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger transaction % does not balance in %: %', NEW.transaction_id, bad.currency, bad.total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE CONSTRAINT TRIGGER ledger_postings_balanced AFTER INSERT ON ledger_postings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced();

-- A transaction without postings would balance trivially; at least two are required.
-- +goose StatementBegin
CREATE FUNCTION ledger_check_postings() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT count(*) FROM ledger_postings WHERE transaction_id = NEW.id) < 2 THEN
        RAISE EXCEPTION 'ledger transaction % has fewer than two postings', NEW.id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE CONSTRAINT TRIGGER ledger_transactions_have_postings AFTER INSERT ON ledger_transactions
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_postings();

-- +goose StatementBegin
CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
-- +goose StatementEnd
CREATE TRIGGER ledger_postings_append_only BEFORE UPDATE OR DELETE ON ledger_postings
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_postings_no_truncate BEFORE TRUNCATE ON ledger_postings
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_transactions_append_only BEFORE UPDATE OR DELETE ON ledger_transactions
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();

CREATE TABLE deliveries (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id   uuid        NOT NULL REFERENCES orders (id),
    version    integer     NOT NULL CHECK (version > 0),
    note       text        NOT NULL DEFAULT '' CHECK (length(note) <= 5000),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (order_id, version)
);

-- An upload belongs to at most one delivery, ever.
CREATE TABLE delivery_files (
    delivery_id uuid    NOT NULL REFERENCES deliveries (id),
    upload_id   uuid    NOT NULL UNIQUE REFERENCES uploads (id),
    position    integer NOT NULL CHECK (position >= 0),
    PRIMARY KEY (delivery_id, upload_id)
);

CREATE TABLE revision_requests (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id      uuid        NOT NULL REFERENCES orders (id),
    after_version integer     NOT NULL CHECK (after_version > 0),
    note          text        NOT NULL DEFAULT '' CHECK (length(note) <= 5000),
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX revision_requests_order_idx ON revision_requests (order_id);

ALTER TABLE uploads ADD CONSTRAINT uploads_order_fk FOREIGN KEY (order_id) REFERENCES orders (id);

-- +goose Down
ALTER TABLE uploads DROP CONSTRAINT uploads_order_fk;
DROP TABLE revision_requests;
DROP TABLE delivery_files;
DROP TABLE deliveries;
DROP TABLE ledger_balances;
DROP TABLE ledger_postings;
DROP TABLE ledger_transactions;
DROP FUNCTION ledger_refuse_change();
DROP FUNCTION ledger_check_postings();
DROP FUNCTION ledger_check_balanced();
DROP FUNCTION ledger_apply_posting();
DROP TABLE provider_events;
DROP TABLE payments;
DROP TABLE order_idempotency_keys;
DROP TABLE orders;
