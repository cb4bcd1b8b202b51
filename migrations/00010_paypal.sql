-- +goose Up
-- PayPal as a second way to pay. A PayPal payment's provider_ref is the PayPal order
-- id (webhooks name it in supplementary_data and the order in custom_id); approve_url
-- is where the buyer approves it at PayPal; capture_ref is the capture that took the
-- money, which refunds go back through. Stripe payments leave both NULL. The ledger's
-- outside world for PayPal money is external:paypal, which 00007's account pattern
-- already admits.

ALTER TABLE payments DROP CONSTRAINT payments_provider_check;
ALTER TABLE payments ADD CONSTRAINT payments_provider_check CHECK (provider IN ('stripe', 'paypal'));
ALTER TABLE payments
    ADD COLUMN approve_url text CHECK (length(approve_url) <= 2048),
    ADD COLUMN capture_ref text CHECK (length(capture_ref) BETWEEN 1 AND 64),
    ADD CONSTRAINT payments_paypal_approve_url CHECK (provider <> 'paypal' OR approve_url IS NOT NULL),
    ADD CONSTRAINT payments_capture_when_paid CHECK (capture_ref IS NULL OR status = 'succeeded');
CREATE UNIQUE INDEX payments_paypal_ref_idx ON payments (provider_ref) WHERE provider = 'paypal';

-- +goose Down
-- Refused while PayPal payments exist: they cannot be expressed without these columns.
DROP INDEX payments_paypal_ref_idx;
ALTER TABLE payments DROP CONSTRAINT payments_capture_when_paid;
ALTER TABLE payments DROP CONSTRAINT payments_paypal_approve_url;
ALTER TABLE payments DROP COLUMN capture_ref, DROP COLUMN approve_url;
ALTER TABLE payments DROP CONSTRAINT payments_provider_check;
ALTER TABLE payments ADD CONSTRAINT payments_provider_check CHECK (provider IN ('stripe'));
