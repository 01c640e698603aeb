-- The team server's tables (see the SQLite store's 0005): webhook deliveries, stored before they
-- are acknowledged and processed after; API tokens (their SHA-256 only).
--
-- `seq` orders deliveries by arrival (an identity: numbers may have gaps). A re-delivery with the
-- same source and delivery id is counted in `duplicates`, not stored again. `claimed_by` and
-- `lease_until` hold a processing claim, taken with row locks (FOR UPDATE SKIP LOCKED). Headers are
-- a JSON array of [name, value] pairs. Times are microseconds since 1970.

CREATE TABLE deliveries (
    seq          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source       TEXT    NOT NULL,
    delivery_id  TEXT,
    received_at  BIGINT  NOT NULL,
    state        TEXT    NOT NULL CHECK (state IN ('pending', 'accepted', 'ignored', 'failed')),
    detail       TEXT,
    processed_at BIGINT,
    attempts     BIGINT  NOT NULL DEFAULT 0,
    duplicates   BIGINT  NOT NULL DEFAULT 0,
    headers      TEXT    NOT NULL,
    body         BYTEA   NOT NULL,
    claimed_by   TEXT,
    lease_until  BIGINT
);

CREATE UNIQUE INDEX deliveries_source_id ON deliveries (source, delivery_id)
    WHERE delivery_id IS NOT NULL;
CREATE INDEX deliveries_pending ON deliveries (state, seq);

CREATE TABLE api_tokens (
    name       TEXT   PRIMARY KEY,
    scope      TEXT   NOT NULL,
    hash       TEXT   NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
