-- +goose Up
-- What the platform paid back to buyers outside the payment providers, out of what
-- platform:refunds_owed holds for their orders (migration 00051): an admin records each
-- payment (a bank transfer, a PayPal payment, a cheque), which posts
-- platform:refunds_owed -> external:offline in the same transaction. A retry under the
-- same Idempotency-Key for the order finds its row and records nothing more.
CREATE TABLE refund_owed_payments (
    id              uuid        PRIMARY KEY,
    order_id        uuid        NOT NULL REFERENCES orders (id),
    admin_id        uuid        NOT NULL REFERENCES users (id),
    amount_minor    bigint      NOT NULL CHECK (amount_minor > 0),
    currency        char(3)     NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    method          text        NOT NULL CHECK (method IN ('bank_transfer', 'paypal', 'cheque', 'other')),
    reference       text        NOT NULL CHECK (length(reference) BETWEEN 1 AND 255),
    idempotency_key text        NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (order_id, idempotency_key)
);

ALTER TABLE ledger_transactions DROP CONSTRAINT ledger_transactions_kind_check;
ALTER TABLE ledger_transactions ADD CONSTRAINT ledger_transactions_kind_check
    CHECK (kind IN ('escrow_funding', 'order_completion', 'refund', 'clearing', 'withdrawal',
                    'withdrawal_paid', 'withdrawal_returned', 'reversal', 'reversal_won',
                    'refund_owed_paid'));

-- +goose Down
ALTER TABLE ledger_transactions DROP CONSTRAINT ledger_transactions_kind_check;
ALTER TABLE ledger_transactions ADD CONSTRAINT ledger_transactions_kind_check
    CHECK (kind IN ('escrow_funding', 'order_completion', 'refund', 'clearing', 'withdrawal',
                    'withdrawal_paid', 'withdrawal_returned', 'reversal', 'reversal_won')) NOT VALID;
DROP TABLE refund_owed_payments;
