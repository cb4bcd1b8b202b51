-- +goose Up
-- Sellers get paid: where a seller's withdrawals go (a Stripe Connect Express account
-- or a PayPal e-mail), and withdrawals that leave the platform in two steps.
--
-- payout_methods keeps one row per seller: the connected account Stripe made for them
-- (kept when they switch to PayPal, so switching back needs no new onboarding), what
-- account.updated last said about it, their PayPal e-mail, the method in use and when
-- it last changed (withdrawals wait WITHDRAWAL_DESTINATION_LOCK after a change).
CREATE TABLE payout_methods (
    user_id                  uuid        PRIMARY KEY REFERENCES users (id),
    method                   text        CHECK (method IN ('stripe', 'paypal')),
    stripe_account_id        text        UNIQUE CHECK (stripe_account_id ~ '^acct_[A-Za-z0-9]{1,64}$'),
    stripe_details_submitted boolean     NOT NULL DEFAULT false,
    stripe_payouts_enabled   boolean     NOT NULL DEFAULT false,
    stripe_requirements      text[]      NOT NULL DEFAULT '{}',
    stripe_disabled_reason   text,
    stripe_event_at          timestamptz, -- the newest account.updated applied
    paypal_email             text        CHECK (length(paypal_email) BETWEEN 3 AND 254),
    changed_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now(),
    CHECK (method IS DISTINCT FROM 'stripe' OR stripe_account_id IS NOT NULL),
    CHECK (method IS DISTINCT FROM 'paypal' OR paypal_email IS NOT NULL)
);

-- A withdrawal is now: pending (reserved; the provider not yet asked, or asked without
-- an answer), review (reserved; waiting for an admin above the approval threshold),
-- in_transit (the money left the seller's available balance for
-- transit:withdrawal:{id}: a transfer and payout at Stripe, or a PayPal payout item),
-- then paid (transit → external) or failed (transit → available again, or nothing
-- posted when the provider refused at once), or rejected by an admin (nothing posted).
-- provider and destination are the payout method when it was requested; rows from
-- before have neither (they were platform payouts, posted straight to external:stripe).
ALTER TABLE withdrawals DROP CONSTRAINT withdrawals_status_check;
ALTER TABLE withdrawals ADD CONSTRAINT withdrawals_status_check
    CHECK (status IN ('pending', 'review', 'in_transit', 'paid', 'failed', 'rejected'));
ALTER TABLE withdrawals
    ADD COLUMN provider     text CHECK (provider IN ('stripe', 'paypal')),
    ADD COLUMN destination  text,
    ADD COLUMN transfer_ref text,
    ADD COLUMN reviewed_by  uuid REFERENCES users (id),
    ADD COLUMN reviewed_at  timestamptz,
    ADD CONSTRAINT withdrawals_destination CHECK ((provider IS NULL) = (destination IS NULL));
DROP INDEX withdrawals_pending_idx;
CREATE INDEX withdrawals_reserved_idx ON withdrawals (user_id, currency) WHERE status IN ('pending', 'review');
CREATE INDEX withdrawals_review_idx ON withdrawals (created_at) WHERE status = 'review';
CREATE INDEX withdrawals_transit_idx ON withdrawals (updated_at) WHERE status = 'in_transit';

ALTER TABLE ledger_transactions DROP CONSTRAINT ledger_transactions_kind_check;
ALTER TABLE ledger_transactions ADD CONSTRAINT ledger_transactions_kind_check
    CHECK (kind IN ('escrow_funding', 'order_completion', 'refund', 'clearing', 'withdrawal',
                    'withdrawal_paid', 'withdrawal_returned'));
ALTER TABLE ledger_postings DROP CONSTRAINT ledger_postings_account_check;
ALTER TABLE ledger_postings ADD CONSTRAINT ledger_postings_account_check
    CHECK (account ~ '^(external:[a-z]+|escrow:order:[0-9a-f-]{36}|seller:[0-9a-f-]{36}:(pending|available)|platform:fees|transit:withdrawal:[0-9a-f-]{36})$');

-- +goose Down
ALTER TABLE ledger_postings DROP CONSTRAINT ledger_postings_account_check;
ALTER TABLE ledger_postings ADD CONSTRAINT ledger_postings_account_check
    CHECK (account ~ '^(external:[a-z]+|escrow:order:[0-9a-f-]{36}|seller:[0-9a-f-]{36}:(pending|available)|platform:fees)$') NOT VALID;
ALTER TABLE ledger_transactions DROP CONSTRAINT ledger_transactions_kind_check;
ALTER TABLE ledger_transactions ADD CONSTRAINT ledger_transactions_kind_check
    CHECK (kind IN ('escrow_funding', 'order_completion', 'refund', 'clearing', 'withdrawal')) NOT VALID;
DROP INDEX withdrawals_transit_idx;
DROP INDEX withdrawals_review_idx;
DROP INDEX withdrawals_reserved_idx;
CREATE INDEX withdrawals_pending_idx ON withdrawals (user_id, currency) WHERE status = 'pending';
ALTER TABLE withdrawals
    DROP CONSTRAINT withdrawals_destination,
    DROP COLUMN reviewed_at,
    DROP COLUMN reviewed_by,
    DROP COLUMN transfer_ref,
    DROP COLUMN destination,
    DROP COLUMN provider;
ALTER TABLE withdrawals DROP CONSTRAINT withdrawals_status_check;
ALTER TABLE withdrawals ADD CONSTRAINT withdrawals_status_check
    CHECK (status IN ('pending', 'paid', 'failed')) NOT VALID;
DROP TABLE payout_methods;
