-- Practice changes (see the SQLite store's 0002): keyed by name; dates are YYYY-MM-DD text.

CREATE TABLE practice_changes (
    name       TEXT NOT NULL PRIMARY KEY,
    started_on TEXT NOT NULL,
    ended_on   TEXT,
    services   TEXT,
    team       TEXT,
    capability TEXT,
    note       TEXT
);
