-- +goose Up
-- Balances are moved once per statement instead of once per posting: the row-level
-- trigger ledger_postings_balance (00007, last 00054) called ledger_apply_posting for
-- every posting, each call its own UPDATE (or deferred INSERT) planned and run through
-- PL/pgSQL. ledger_apply_postings runs once per INSERT into ledger_postings over its
-- transition table: one INSERT of the deferred postings into ledger_deferred, a fold of
-- each platform or tax account that the statement moves toward its bound (as before,
-- the row must hold the whole balance before its CHECK judges it), then one UPDATE that
-- adds each account's and currency's sum of the other postings to its balance row.
-- Rows that do not exist yet are created one by one as before (update, else insert,
-- else another transaction created it meanwhile: update again); the Go side locks and
-- creates the rows at zero first (lockPostedBalances), so that path is rare.
--
-- The rules stay where they were: ledger_balances' CHECK (no negative non-external
-- account but the documented debt accounts, which are never positive) now judges each
-- account's balance after the statement's postings instead of after each posting, the
-- deferred constraint triggers still check at commit that every ledger transaction has
-- two postings or more and sums to zero per currency, and postings stay append-only.

-- +goose StatementBegin
CREATE FUNCTION ledger_apply_postings() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    a record;
    missing_accounts text[];
    missing_currencies char(3)[];
    missing_totals bigint[];
BEGIN
    INSERT INTO ledger_deferred (posting_id, account, currency, amount_minor)
    SELECT id, account, currency, amount_minor FROM new_postings WHERE ledger_defers(account, amount_minor);
    FOR a IN SELECT DISTINCT account, currency FROM new_postings
             WHERE (account LIKE 'platform:%' OR account LIKE 'tax:%') AND NOT ledger_defers(account, amount_minor)
             ORDER BY currency, account LOOP
        PERFORM ledger_fold(a.account, a.currency);
    END LOOP;
    WITH s AS (
        SELECT account, currency, sum(amount_minor)::bigint AS total FROM new_postings
        WHERE NOT ledger_defers(account, amount_minor) GROUP BY account, currency),
    u AS (
        UPDATE ledger_balances b SET balance_minor = b.balance_minor + s.total
        FROM s WHERE b.account = s.account AND b.currency = s.currency
        RETURNING b.account, b.currency)
    SELECT array_agg(s.account ORDER BY s.currency, s.account), array_agg(s.currency ORDER BY s.currency, s.account),
        array_agg(s.total ORDER BY s.currency, s.account)
    INTO missing_accounts, missing_currencies, missing_totals
    FROM s WHERE NOT EXISTS (SELECT 1 FROM u WHERE u.account = s.account AND u.currency = s.currency);
    FOR i IN 1 .. coalesce(cardinality(missing_accounts), 0) LOOP
        LOOP
            UPDATE ledger_balances SET balance_minor = balance_minor + missing_totals[i]
            WHERE account = missing_accounts[i] AND currency = missing_currencies[i];
            EXIT WHEN FOUND;
            INSERT INTO ledger_balances (account, currency, balance_minor)
            VALUES (missing_accounts[i], missing_currencies[i], missing_totals[i])
            ON CONFLICT (account, currency) DO NOTHING;
            EXIT WHEN FOUND;
            -- another transaction created the row meanwhile: update it
        END LOOP;
    END LOOP;
    RETURN NULL;
END $$;
-- +goose StatementEnd

DROP TRIGGER ledger_postings_balance ON ledger_postings;
CREATE TRIGGER ledger_postings_balance AFTER INSERT ON ledger_postings
    REFERENCING NEW TABLE AS new_postings
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_apply_postings();

-- +goose Down
DROP TRIGGER ledger_postings_balance ON ledger_postings;
CREATE TRIGGER ledger_postings_balance AFTER INSERT ON ledger_postings
    FOR EACH ROW EXECUTE FUNCTION ledger_apply_posting();
DROP FUNCTION ledger_apply_postings();
