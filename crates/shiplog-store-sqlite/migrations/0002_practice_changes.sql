-- Practice changes: "on 2026-03-03 api and web started doing trunk-based development".
--
-- Identified by their name (normalised: trimmed, inner whitespace collapsed). Dates are calendar
-- days as YYYY-MM-DD text (UTC). The scope is at most one of `services` (service names separated by
-- single spaces, sorted) and `team`; with neither the change applies to every service.

CREATE TABLE practice_changes (
    name       TEXT NOT NULL PRIMARY KEY,
    started_on TEXT NOT NULL,
    ended_on   TEXT,
    services   TEXT,
    team       TEXT,
    capability TEXT,
    note       TEXT
);
