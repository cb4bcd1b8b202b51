-- +goose Up
-- Settlement: an order's escrow is released once, to the seller (completion: the buyer
-- accepts, or auto-complete) and/or back to the buyer (cancel with refund, admin
-- refund). The seller's share waits in seller:{id}:pending for the clearing period,
-- then moves to seller:{id}:available, from which the seller withdraws (a Stripe
-- payout, external:stripe). The platform's fee lands in platform:fees.

ALTER TABLE ledger_transactions DROP CONSTRAINT ledger_transactions_kind_check;
ALTER TABLE ledger_transactions ADD CONSTRAINT ledger_transactions_kind_check
    CHECK (kind IN ('escrow_funding', 'order_completion', 'refund', 'clearing', 'withdrawal'));

ALTER TABLE ledger_postings DROP CONSTRAINT ledger_postings_account_check;
ALTER TABLE ledger_postings ADD CONSTRAINT ledger_postings_account_check
    CHECK (account ~ '^(external:[a-z]+|escrow:order:[0-9a-f-]{36}|seller:[0-9a-f-]{36}:(pending|available)|platform:fees)$');

-- 00007's trigger inserted the posting as a new balance row ON CONFLICT DO UPDATE, and
-- Postgres checks the proposed row's CHECK before it finds the conflict: any negative
-- posting to an account other than external:* failed even when the balance covered it
-- (none happened before settlement). Update first; insert only a new account's row.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION ledger_apply_posting() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    LOOP
        UPDATE ledger_balances SET balance_minor = balance_minor + NEW.amount_minor
        WHERE account = NEW.account AND currency = NEW.currency;
        IF FOUND THEN
            RETURN NEW;
        END IF;
        INSERT INTO ledger_balances (account, currency, balance_minor)
        VALUES (NEW.account, NEW.currency, NEW.amount_minor)
        ON CONFLICT (account, currency) DO NOTHING;
        IF FOUND THEN
            RETURN NEW;
        END IF;
        -- another transaction created the row meanwhile: update it
    END LOOP;
END $$;
-- +goose StatementEnd

-- How the escrow was released, written once with the final status: refunded_minor went
-- back to the buyer, fee_minor to the platform, seller_minor to the seller's pending
-- balance; settled_at starts the clearing period and cleared_at ends it.
ALTER TABLE orders
    ADD COLUMN refunded_minor bigint      NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0),
    ADD COLUMN fee_minor      bigint      NOT NULL DEFAULT 0 CHECK (fee_minor >= 0),
    ADD COLUMN seller_minor   bigint      NOT NULL DEFAULT 0 CHECK (seller_minor >= 0),
    ADD COLUMN settled_at     timestamptz,
    ADD COLUMN cleared_at     timestamptz,
    ADD CONSTRAINT orders_settlement_sums CHECK (
        settled_at IS NULL OR paid_at IS NULL OR refunded_minor + fee_minor + seller_minor = price_minor);
CREATE INDEX orders_auto_complete_idx ON orders (delivered_at) WHERE status = 'delivered';
CREATE INDEX orders_clearing_idx ON orders (settled_at) WHERE cleared_at IS NULL AND seller_minor > 0;

-- The one final action taken on an order (complete, auto_complete, cancel, refund): the
-- primary key makes it at most one, whatever races; the key and request hash let the
-- client that took it retry and get the same answer.
CREATE TABLE order_settlements (
    order_id        uuid        PRIMARY KEY REFERENCES orders (id),
    action          text        NOT NULL CHECK (action IN ('complete', 'auto_complete', 'cancel', 'refund')),
    user_id         uuid        REFERENCES users (id), -- NULL for auto_complete
    idempotency_key text        NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    request_hash    text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- A refund of an order's escrow to the buyer through Stripe: at most one per order.
CREATE TABLE refunds (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id     uuid        NOT NULL UNIQUE REFERENCES orders (id),
    amount_minor bigint      NOT NULL CHECK (amount_minor > 0),
    currency     char(3)     NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    reason       text        NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
    requested_by uuid        NOT NULL REFERENCES users (id),
    provider_ref text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- A seller's withdrawal from their available balance. pending reserves the amount (it
-- counts against the available balance) while the Stripe payout is made; paid posts
-- the ledger (seller available → external:stripe); failed releases the reservation and
-- posted nothing.
CREATE TABLE withdrawals (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id         uuid        NOT NULL REFERENCES users (id),
    idempotency_key text        NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    request_hash    text        NOT NULL,
    amount_minor    bigint      NOT NULL CHECK (amount_minor > 0),
    currency        char(3)     NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'paid', 'failed')),
    provider_ref    text,
    failure         text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, idempotency_key)
);
CREATE INDEX withdrawals_user_idx ON withdrawals (user_id, created_at DESC);
CREATE INDEX withdrawals_pending_idx ON withdrawals (user_id, currency) WHERE status = 'pending';

-- +goose Down
-- Postings are append-only, so the old CHECKs come back NOT VALID: rows of the new
-- kinds and accounts stay, new ones are refused.
DROP TABLE withdrawals;
DROP TABLE refunds;
DROP TABLE order_settlements;
DROP INDEX orders_clearing_idx;
DROP INDEX orders_auto_complete_idx;
ALTER TABLE orders
    DROP CONSTRAINT orders_settlement_sums,
    DROP COLUMN cleared_at,
    DROP COLUMN settled_at,
    DROP COLUMN seller_minor,
    DROP COLUMN fee_minor,
    DROP COLUMN refunded_minor;
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION ledger_apply_posting() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ledger_balances (account, currency, balance_minor)
    VALUES (NEW.account, NEW.currency, NEW.amount_minor)
    ON CONFLICT (account, currency) DO UPDATE
        SET balance_minor = ledger_balances.balance_minor + EXCLUDED.balance_minor;
    RETURN NEW;
END $$;
-- +goose StatementEnd
ALTER TABLE ledger_postings DROP CONSTRAINT ledger_postings_account_check;
ALTER TABLE ledger_postings ADD CONSTRAINT ledger_postings_account_check
    CHECK (account ~ '^(external:[a-z]+|escrow:order:[0-9a-f-]{36})$') NOT VALID;
ALTER TABLE ledger_transactions DROP CONSTRAINT ledger_transactions_kind_check;
ALTER TABLE ledger_transactions ADD CONSTRAINT ledger_transactions_kind_check
    CHECK (kind IN ('escrow_funding')) NOT VALID;
