-- +goose Up
-- Billing profiles: the name, postal address, country (ISO 3166-1 alpha-2) and tax id
-- a user's invoices and credit notes carry, as buyer or seller. The country decides the
-- buyer's tax rate (TAX_RATES); a tax id marks a business (reverse charge where it
-- applies). One row per user; account deletion removes it.
CREATE TABLE billing_profiles (
    user_id       uuid        PRIMARY KEY REFERENCES users (id),
    name          text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    address_line1 text        NOT NULL CHECK (length(address_line1) BETWEEN 1 AND 200),
    address_line2 text        NOT NULL DEFAULT '' CHECK (length(address_line2) <= 200),
    city          text        NOT NULL CHECK (length(city) BETWEEN 1 AND 100),
    postal_code   text        NOT NULL DEFAULT '' CHECK (length(postal_code) <= 20),
    region        text        NOT NULL DEFAULT '' CHECK (length(region) <= 100),
    country       char(2)     NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    tax_id        text        NOT NULL DEFAULT '' CHECK (tax_id ~ '^[A-Z0-9.-]{0,32}$'),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE billing_profiles;
