-- +goose Up
-- An invoice's series must have its counter row: that foreign key is now checked at
-- commit, like the numbering (00081). Checked at the invoice's insert, it took a
-- KEY SHARE lock on the year's counter row early in every settlement, while other
-- settlements' commits were updating that row (numbering), which made the row's lock
-- a multixact of up to every settlement in flight, rebuilt by each commit's update of
-- the row; and the numbering's own update of the just-inserted invoice checked the key
-- again inside the commit, while the counter row is held. Now both checks run at
-- commit, the second one after the numbering on a row the transaction holds already.
ALTER TABLE invoices ALTER CONSTRAINT invoices_series_fkey DEFERRABLE INITIALLY DEFERRED;

-- +goose Down
ALTER TABLE invoices ALTER CONSTRAINT invoices_series_fkey NOT DEFERRABLE INITIALLY IMMEDIATE;
