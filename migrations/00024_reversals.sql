-- +goose Up
-- The outside world, reconciled: money a provider takes back from an order's payment
-- outside GigStream's own refunds (a chargeback, a refund made in the provider's
-- dashboard, a PayPal reversal) and every provider event we receive but do not act on.
--
-- A reversal takes its amount from the order's escrow while the order is not settled
-- (the order is frozen while a chargeback is open), otherwise from the seller's share:
-- seller:{id}:pending, then what of seller:{id}:available no withdrawal reserves, then
-- seller:{id}:debt, which goes below zero and is repaid first by later earnings as
-- they clear. What the seller never earned (the platform's fee, or an order already
-- refunded) is the platform's loss, platform:losses. The two debt accounts are the
-- only ones besides external:* that may be negative, and they may never be positive.
CREATE TABLE payment_reversals (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id      uuid        NOT NULL REFERENCES orders (id),
    provider      text        NOT NULL CHECK (provider IN ('stripe', 'paypal')),
    kind          text        NOT NULL CHECK (kind IN ('chargeback', 'refund')),
    provider_ref  text        NOT NULL CHECK (length(provider_ref) BETWEEN 1 AND 255),
    status        text        NOT NULL CHECK (status IN ('open', 'won', 'lost', 'final')),
    provider_status text      NOT NULL DEFAULT '' CHECK (length(provider_status) <= 64),
    reason        text        NOT NULL DEFAULT '' CHECK (length(reason) <= 255),
    amount_minor  bigint      NOT NULL CHECK (amount_minor > 0),
    currency      char(3)     NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    -- Where the amount was taken from (all zero for a chargeback won before money moved).
    from_escrow   bigint      NOT NULL DEFAULT 0 CHECK (from_escrow >= 0),
    from_seller   bigint      NOT NULL DEFAULT 0 CHECK (from_seller >= 0),
    from_platform bigint      NOT NULL DEFAULT 0 CHECK (from_platform >= 0),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    closed_at     timestamptz,
    UNIQUE (provider, provider_ref),
    CHECK ((status = 'open') = (closed_at IS NULL)),
    CHECK (from_escrow + from_seller + from_platform IN (0, amount_minor))
);
CREATE INDEX payment_reversals_order_idx ON payment_reversals (order_id);
CREATE INDEX payment_reversals_open_idx ON payment_reversals (order_id) WHERE status = 'open';

-- Every verified event is kept with what it was about (object_ref: the provider's id
-- of the event's object), so an admin can list those we received but did not handle.
ALTER TABLE provider_events ADD COLUMN object_ref text CHECK (length(object_ref) <= 255);
CREATE INDEX provider_events_outcome_idx ON provider_events (outcome, received_at DESC, event_id DESC);

-- The final action a provider took on an order: cancelled the payment, refunded it
-- outside GigStream, or won a chargeback on an order that was not settled.
ALTER TABLE order_settlements DROP CONSTRAINT order_settlements_action_check;
ALTER TABLE order_settlements ADD CONSTRAINT order_settlements_action_check
    CHECK (action IN ('complete', 'auto_complete', 'cancel', 'refund', 'resolve', 'provider'));

ALTER TABLE ledger_transactions DROP CONSTRAINT ledger_transactions_kind_check;
ALTER TABLE ledger_transactions ADD CONSTRAINT ledger_transactions_kind_check
    CHECK (kind IN ('escrow_funding', 'order_completion', 'refund', 'clearing', 'withdrawal',
                    'withdrawal_paid', 'withdrawal_returned', 'reversal', 'reversal_won'));
ALTER TABLE ledger_postings DROP CONSTRAINT ledger_postings_account_check;
ALTER TABLE ledger_postings ADD CONSTRAINT ledger_postings_account_check
    CHECK (account ~ '^(external:[a-z]+|escrow:order:[0-9a-f-]{36}|seller:[0-9a-f-]{36}:(pending|available|debt)|platform:(fees|losses)|transit:withdrawal:[0-9a-f-]{36})$');
ALTER TABLE ledger_balances DROP CONSTRAINT ledger_balances_check;
ALTER TABLE ledger_balances ADD CONSTRAINT ledger_balances_check CHECK (
    CASE WHEN account LIKE 'external:%' THEN true
         WHEN account LIKE 'seller:%:debt' OR account = 'platform:losses' THEN balance_minor <= 0
         ELSE balance_minor >= 0 END);

-- +goose Down
ALTER TABLE ledger_balances DROP CONSTRAINT ledger_balances_check;
ALTER TABLE ledger_balances ADD CONSTRAINT ledger_balances_check
    CHECK (balance_minor >= 0 OR account LIKE 'external:%') NOT VALID;
ALTER TABLE ledger_postings DROP CONSTRAINT ledger_postings_account_check;
ALTER TABLE ledger_postings ADD CONSTRAINT ledger_postings_account_check
    CHECK (account ~ '^(external:[a-z]+|escrow:order:[0-9a-f-]{36}|seller:[0-9a-f-]{36}:(pending|available)|platform:fees|transit:withdrawal:[0-9a-f-]{36})$') NOT VALID;
ALTER TABLE ledger_transactions DROP CONSTRAINT ledger_transactions_kind_check;
ALTER TABLE ledger_transactions ADD CONSTRAINT ledger_transactions_kind_check
    CHECK (kind IN ('escrow_funding', 'order_completion', 'refund', 'clearing', 'withdrawal',
                    'withdrawal_paid', 'withdrawal_returned')) NOT VALID;
ALTER TABLE order_settlements DROP CONSTRAINT order_settlements_action_check;
ALTER TABLE order_settlements ADD CONSTRAINT order_settlements_action_check
    CHECK (action IN ('complete', 'auto_complete', 'cancel', 'refund', 'resolve')) NOT VALID;
DROP INDEX provider_events_outcome_idx;
ALTER TABLE provider_events DROP COLUMN object_ref;
DROP TABLE payment_reversals;
