-- +goose Up
-- Reconciliation with the payment providers (market/reconciliation.go): a row per
-- provider object whose amount in GigStream's ledger differs from the provider's own
-- records. A run inserts the differences it finds, refreshes those still open and
-- resolves (resolved_at) the open ones it compared and found equal again.
CREATE TABLE reconciliation_differences (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    provider      text        NOT NULL CHECK (provider IN ('stripe', 'paypal')),
    object_kind   text        NOT NULL CHECK (object_kind IN ('payment', 'transfer')),
    object_ref    text        NOT NULL CHECK (length(object_ref) BETWEEN 1 AND 255),
    order_id      uuid        REFERENCES orders (id) ON DELETE SET NULL,
    withdrawal_id uuid        REFERENCES withdrawals (id) ON DELETE SET NULL,
    currency      char(3)     NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    ours_minor    bigint      NOT NULL,
    theirs_minor  bigint      NOT NULL,
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    resolved_at   timestamptz,
    CHECK (resolved_at IS NOT NULL OR ours_minor <> theirs_minor)
);
CREATE UNIQUE INDEX reconciliation_differences_open_idx
    ON reconciliation_differences (provider, object_kind, object_ref, currency) WHERE resolved_at IS NULL;
CREATE INDEX reconciliation_differences_list_idx ON reconciliation_differences (first_seen_at DESC, id DESC);

-- A run reads the objects created within its window, and an order's external postings.
CREATE INDEX payments_created_idx ON payments (created_at);
CREATE INDEX withdrawals_transfer_idx ON withdrawals (created_at) WHERE transfer_ref IS NOT NULL;
CREATE INDEX ledger_transactions_order_idx ON ledger_transactions (order_id) WHERE order_id IS NOT NULL;

-- +goose Down
DROP INDEX ledger_transactions_order_idx;
DROP INDEX withdrawals_transfer_idx;
DROP INDEX payments_created_idx;
DROP TABLE reconciliation_differences;
