-- +goose Up
-- The buyer pays what the quote showed (issue 12): the price, the platform's service fee
-- and the tax on both. The order keeps what was charged; the payment moves the price into
-- the order's escrow, the service fee to platform:service_fees (the platform's revenue
-- from buyers) and the tax to tax:payable:{country} (owed to that country's tax office).
-- A refund of part r of the price returns the same fraction of the service fee (half up)
-- and the tax on both refunded parts, line by line as the quote computed it; a full
-- refund returns everything.
ALTER TABLE orders
    ADD COLUMN service_fee_minor  bigint  NOT NULL DEFAULT 0 CHECK (service_fee_minor >= 0),
    ADD COLUMN tax_minor          bigint  NOT NULL DEFAULT 0 CHECK (tax_minor >= 0),
    ADD COLUMN tax_rate_bps       integer NOT NULL DEFAULT 0 CHECK (tax_rate_bps BETWEEN 0 AND 10000),
    ADD COLUMN tax_country        text    NOT NULL DEFAULT '' CHECK (tax_country ~ '^([A-Z]{2})?$'),
    ADD COLUMN reverse_charge     boolean NOT NULL DEFAULT false,
    ADD COLUMN refunded_fee_minor bigint  NOT NULL DEFAULT 0,
    ADD COLUMN refunded_tax_minor bigint  NOT NULL DEFAULT 0,
    ADD CONSTRAINT orders_refunded_fee_bounds CHECK (refunded_fee_minor BETWEEN 0 AND service_fee_minor),
    ADD CONSTRAINT orders_refunded_tax_bounds CHECK (refunded_tax_minor BETWEEN 0 AND tax_minor),
    ADD CONSTRAINT orders_taxed_country CHECK (tax_minor = 0 OR tax_country <> '');

ALTER TABLE ledger_postings DROP CONSTRAINT ledger_postings_account_check;
ALTER TABLE ledger_postings ADD CONSTRAINT ledger_postings_account_check
    CHECK (account ~ '^(external:[a-z]+|escrow:order:[0-9a-f-]{36}|seller:[0-9a-f-]{36}:(pending|available|debt)|platform:(fees|losses|service_fees)|tax:payable:[A-Z]{2}|transit:withdrawal:[0-9a-f-]{36})$');

-- Invoices and credit notes. The platform issues them alone, in its own name, as the
-- seller of record to the buyer; each kind has one series per year (INV-2026,
-- CN-2026). Numbers are gapless: the next number is taken by updating the series'
-- counter row in the same transaction that settles the order, so a rollback returns
-- the number and concurrent settlements queue on the row (a sequence would leave gaps).
CREATE TABLE invoice_counters (
    series      text   PRIMARY KEY CHECK (series ~ '^(INV|CN)-[0-9]{4}$'),
    last_number bigint NOT NULL CHECK (last_number > 0)
);

-- One invoice per order (issued when it settles with money kept by the platform or the
-- seller, or refunded: what the buyer was charged) and one credit note per refund,
-- referencing the invoice. document is the issued content (parties, lines, amounts in
-- minor units), never changed; object_key names the rendered PDF in the private bucket
-- once the background job stored it; emailed_at is when the buyer was sent it.
CREATE TABLE invoices (
    id                 uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id           uuid        NOT NULL REFERENCES orders (id),
    kind               text        NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
    series             text        NOT NULL REFERENCES invoice_counters (series),
    number             bigint      NOT NULL CHECK (number > 0),
    credits_invoice_id uuid        REFERENCES invoices (id),
    currency           char(3)     NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    net_minor          bigint      NOT NULL CHECK (net_minor >= 0),
    tax_minor          bigint      NOT NULL CHECK (tax_minor >= 0),
    total_minor        bigint      NOT NULL CHECK (total_minor = net_minor + tax_minor),
    document           jsonb       NOT NULL,
    object_key         text,
    rendered_at        timestamptz,
    emailed_at         timestamptz,
    issued_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (series, number),
    UNIQUE (order_id, kind),
    CHECK ((kind = 'credit_note') = (credits_invoice_id IS NOT NULL)),
    CHECK ((object_key IS NULL) = (rendered_at IS NULL))
);
CREATE INDEX invoices_order_idx ON invoices (order_id, issued_at);

-- +goose Down
DROP TABLE invoices;
DROP TABLE invoice_counters;
ALTER TABLE ledger_postings DROP CONSTRAINT ledger_postings_account_check;
ALTER TABLE ledger_postings ADD CONSTRAINT ledger_postings_account_check
    CHECK (account ~ '^(external:[a-z]+|escrow:order:[0-9a-f-]{36}|seller:[0-9a-f-]{36}:(pending|available|debt)|platform:(fees|losses)|transit:withdrawal:[0-9a-f-]{36})$') NOT VALID;
ALTER TABLE orders
    DROP CONSTRAINT orders_taxed_country,
    DROP CONSTRAINT orders_refunded_tax_bounds,
    DROP CONSTRAINT orders_refunded_fee_bounds,
    DROP COLUMN refunded_tax_minor,
    DROP COLUMN refunded_fee_minor,
    DROP COLUMN reverse_charge,
    DROP COLUMN tax_country,
    DROP COLUMN tax_rate_bps,
    DROP COLUMN tax_minor,
    DROP COLUMN service_fee_minor;
