-- +goose Up
-- installation holds one row: a random id of this database, made when it is migrated.
-- Keys that name things by natural keys (the read cache's gig:{slug}, profile:{username},
-- categories) start with it, so two databases that share one Redis (staging beside
-- production, or every e2e test's own database) never read each other's pages.
CREATE TABLE installation (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    id        uuid    NOT NULL DEFAULT gen_random_uuid()
);
INSERT INTO installation DEFAULT VALUES;

-- +goose Down
DROP TABLE installation;
