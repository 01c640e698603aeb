-- The team server's tables: webhook deliveries, stored before they are acknowledged and processed
-- after; API tokens (their SHA-256 only).
--
-- `seq` orders deliveries by arrival. `delivery_id` is the source's own id of the delivery (GitHub's
-- X-GitHub-Delivery, ...): a re-delivery with the same source and id is counted in `duplicates`,
-- not stored again. `claimed_by`/`lease_until` hold a processing claim; an expired lease is claimed
-- again, so a process killed mid-way loses nothing. Times are microseconds since 1970.

CREATE TABLE deliveries (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    source       TEXT    NOT NULL,
    delivery_id  TEXT,
    received_at  INTEGER NOT NULL,
    state        TEXT    NOT NULL CHECK (state IN ('pending', 'accepted', 'ignored', 'failed')),
    detail       TEXT,
    processed_at INTEGER,
    attempts     INTEGER NOT NULL DEFAULT 0,
    duplicates   INTEGER NOT NULL DEFAULT 0,
    headers      TEXT    NOT NULL,
    body         BLOB    NOT NULL,
    claimed_by   TEXT,
    lease_until  INTEGER
);

CREATE UNIQUE INDEX deliveries_source_id ON deliveries (source, delivery_id)
    WHERE delivery_id IS NOT NULL;
CREATE INDEX deliveries_pending ON deliveries (state, seq);

CREATE TABLE api_tokens (
    name       TEXT    PRIMARY KEY,
    scope      TEXT    NOT NULL,
    hash       TEXT    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
