-- Experiments (see the SQLite store's 0006): append-only hypothesis versions and reviews, keyed by
-- the practice change's name; times are unix microseconds.

CREATE TABLE experiment_hypotheses (
    name            TEXT    NOT NULL,
    version         INTEGER NOT NULL,
    written_at      BIGINT  NOT NULL,
    started_on      TEXT    NOT NULL,
    expectations    TEXT    NOT NULL,
    planned_days    INTEGER NOT NULL,
    before_days     INTEGER NOT NULL,
    transition_days INTEGER NOT NULL,
    comparison      TEXT    NOT NULL,
    PRIMARY KEY (name, version)
);

CREATE TABLE experiment_reviews (
    name               TEXT    NOT NULL,
    seq                INTEGER NOT NULL,
    reviewed_at        BIGINT  NOT NULL,
    hypothesis_version INTEGER NOT NULL,
    outcome            TEXT    NOT NULL,
    provisional        BOOLEAN NOT NULL,
    PRIMARY KEY (name, seq)
);
