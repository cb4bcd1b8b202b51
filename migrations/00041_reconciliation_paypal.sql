-- +goose Up
-- Reconciliation with PayPal (market/reconciliation.go): a PayPal withdrawal's payout
-- batch is a reconciled object of its own kind, and a run reads the PayPal
-- withdrawals created within its window.
ALTER TABLE reconciliation_differences DROP CONSTRAINT reconciliation_differences_object_kind_check;
ALTER TABLE reconciliation_differences ADD CONSTRAINT reconciliation_differences_object_kind_check
    CHECK (object_kind IN ('payment', 'transfer', 'payout'));
CREATE INDEX withdrawals_paypal_payout_idx ON withdrawals (created_at) WHERE provider = 'paypal' AND provider_ref IS NOT NULL;

-- +goose Down
DROP INDEX withdrawals_paypal_payout_idx;
DELETE FROM reconciliation_differences WHERE object_kind = 'payout';
ALTER TABLE reconciliation_differences DROP CONSTRAINT reconciliation_differences_object_kind_check;
ALTER TABLE reconciliation_differences ADD CONSTRAINT reconciliation_differences_object_kind_check
    CHECK (object_kind IN ('payment', 'transfer'));
