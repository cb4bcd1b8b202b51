-- +goose Up
-- Money the buyer got back at the provider (a refund made in Stripe's or PayPal's
-- dashboard, a chargeback lost) gets a credit note too (issue 12), so an order may
-- have several credit notes: its own refund's and one per provider reversal. It keeps
-- one invoice. reversal_id names the reversal a credit note is for, once.
ALTER TABLE invoices DROP CONSTRAINT invoices_order_id_kind_key;
CREATE UNIQUE INDEX invoices_one_invoice_per_order ON invoices (order_id) WHERE kind = 'invoice';
ALTER TABLE invoices
    ADD COLUMN reversal_id uuid UNIQUE REFERENCES payment_reversals (id),
    ADD CONSTRAINT invoices_reversal_credit_note CHECK (reversal_id IS NULL OR kind = 'credit_note');

-- +goose Down
ALTER TABLE invoices DROP CONSTRAINT invoices_reversal_credit_note, DROP COLUMN reversal_id;
DROP INDEX invoices_one_invoice_per_order;
ALTER TABLE invoices ADD CONSTRAINT invoices_order_id_kind_key UNIQUE (order_id, kind);
