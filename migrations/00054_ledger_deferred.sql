-- +goose Up
-- The accounts every order shares (external:*, platform:*, tax:*) no longer take a
-- row lock for the postings that move them away from their bound: each accept of a
-- currency credited platform:fees (and service fees, tax) under that row's lock,
-- held to commit, so the accepts of a currency queued one behind the other. Such a
-- posting is now written to ledger_deferred (insert-only, no shared row) and folded
-- into the balance row later, under its lock: by the first posting that moves the
-- account toward its bound (which must see the whole balance before the CHECK judges
-- it), or by the sweep (FoldLedger). Postings stay the one record and double-entry
-- is checked on them as before; an account's balance is its row plus its deferred
-- part (ledger_account_balances).
--
-- Only the direction that cannot break a bound is deferred: credits of the accounts
-- that may never be negative, debits of platform:losses (never positive), both
-- directions of the outside world's accounts (no bound). The stored row then never
-- holds more than the true balance in the direction of its bound, so its CHECK still
-- proves the bound of the whole balance.

-- +goose StatementBegin
CREATE FUNCTION ledger_defers(account text, amount bigint) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN account LIKE 'external:%' THEN true
                WHEN account = 'platform:losses' THEN amount < 0
                WHEN account LIKE 'platform:%' OR account LIKE 'tax:%' THEN amount > 0
                ELSE false END
$$;
-- +goose StatementEnd

CREATE TABLE ledger_deferred (
    posting_id   bigint  PRIMARY KEY REFERENCES ledger_postings (id),
    account      text    NOT NULL,
    currency     char(3) NOT NULL,
    amount_minor bigint  NOT NULL,
    CHECK (ledger_defers(account, amount_minor))
);
CREATE INDEX ledger_deferred_account_idx ON ledger_deferred (account, currency);

-- ledger_fold locks account's balance row in currency (creating it at zero) and adds
-- the deferred postings it sees to it. A concurrent writer's deferred postings that
-- are not committed yet stay for a later fold: they are not part of the balance yet.
-- +goose StatementBegin
CREATE FUNCTION ledger_fold(p_account text, p_currency char(3)) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ledger_balances (account, currency, balance_minor) VALUES (p_account, p_currency, 0)
    ON CONFLICT (account, currency) DO UPDATE SET balance_minor = ledger_balances.balance_minor;
    WITH d AS (DELETE FROM ledger_deferred WHERE account = p_account AND currency = p_currency RETURNING amount_minor)
    UPDATE ledger_balances SET balance_minor = balance_minor + s.total
    FROM (SELECT sum(amount_minor) AS total FROM d) s
    WHERE account = p_account AND currency = p_currency AND s.total IS NOT NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION ledger_apply_posting() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF ledger_defers(NEW.account, NEW.amount_minor) THEN
        INSERT INTO ledger_deferred (posting_id, account, currency, amount_minor)
        VALUES (NEW.id, NEW.account, NEW.currency, NEW.amount_minor);
        RETURN NEW;
    END IF;
    IF NEW.account LIKE 'platform:%' OR NEW.account LIKE 'tax:%' THEN
        PERFORM ledger_fold(NEW.account, NEW.currency);
    END IF;
    LOOP
        UPDATE ledger_balances SET balance_minor = balance_minor + NEW.amount_minor
        WHERE account = NEW.account AND currency = NEW.currency;
        IF FOUND THEN
            RETURN NEW;
        END IF;
        INSERT INTO ledger_balances (account, currency, balance_minor)
        VALUES (NEW.account, NEW.currency, NEW.amount_minor)
        ON CONFLICT (account, currency) DO NOTHING;
        IF FOUND THEN
            RETURN NEW;
        END IF;
        -- another transaction created the row meanwhile: update it
    END LOOP;
END $$;
-- +goose StatementEnd

-- Every account's balance: its row plus what is deferred.
CREATE VIEW ledger_account_balances AS
    SELECT account, currency, sum(balance_minor)::bigint AS balance_minor
    FROM (SELECT account, currency, balance_minor FROM ledger_balances
          UNION ALL
          SELECT account, currency, amount_minor FROM ledger_deferred) b
    GROUP BY account, currency;

-- +goose Down
DROP VIEW ledger_account_balances;
-- +goose StatementBegin
DO $$
DECLARE
    a record;
BEGIN
    FOR a IN SELECT DISTINCT account, currency FROM ledger_deferred ORDER BY currency, account LOOP
        PERFORM ledger_fold(a.account, a.currency);
    END LOOP;
END $$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION ledger_apply_posting() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    LOOP
        UPDATE ledger_balances SET balance_minor = balance_minor + NEW.amount_minor
        WHERE account = NEW.account AND currency = NEW.currency;
        IF FOUND THEN
            RETURN NEW;
        END IF;
        INSERT INTO ledger_balances (account, currency, balance_minor)
        VALUES (NEW.account, NEW.currency, NEW.amount_minor)
        ON CONFLICT (account, currency) DO NOTHING;
        IF FOUND THEN
            RETURN NEW;
        END IF;
        -- another transaction created the row meanwhile: update it
    END LOOP;
END $$;
-- +goose StatementEnd
DROP FUNCTION ledger_fold(text, char);
DROP TABLE ledger_deferred;
DROP FUNCTION ledger_defers(text, bigint);
