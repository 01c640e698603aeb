-- Sync cursors (see the SQLite store's 0004): opaque values per scope and key.

CREATE TABLE sync_state (
    scope TEXT NOT NULL,
    key   TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (scope, key)
);
