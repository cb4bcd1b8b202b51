-- +goose Up
-- platform:refunds_owed holds what the platform owes buyers of cancelled orders but
-- cannot refund through the provider: a payment that arrived after its order was
-- cancelled whose charge was charged back, once the chargeback is closed (Stripe
-- refuses refunds of a disputed charge, won or lost). An ordinary account, never
-- negative; an admin pays it back outside the provider (README, Money).
ALTER TABLE ledger_postings DROP CONSTRAINT ledger_postings_account_check;
ALTER TABLE ledger_postings ADD CONSTRAINT ledger_postings_account_check
    CHECK (account ~ '^(external:[a-z]+|escrow:order:[0-9a-f-]{36}|seller:[0-9a-f-]{36}:(pending|available|debt)|platform:(fees|losses|service_fees|refunds_owed)|tax:payable:[A-Z]{2}|transit:withdrawal:[0-9a-f-]{36})$');

-- +goose Down
ALTER TABLE ledger_postings DROP CONSTRAINT ledger_postings_account_check;
ALTER TABLE ledger_postings ADD CONSTRAINT ledger_postings_account_check
    CHECK (account ~ '^(external:[a-z]+|escrow:order:[0-9a-f-]{36}|seller:[0-9a-f-]{36}:(pending|available|debt)|platform:(fees|losses|service_fees)|tax:payable:[A-Z]{2}|transit:withdrawal:[0-9a-f-]{36})$') NOT VALID;
