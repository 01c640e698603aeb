-- Experiments: practice changes with a pre-registered hypothesis (shiplog experiment).
--
-- An experiment is named like its practice change (practice_changes.name), which gives its start
-- date. Its hypothesis is append-only: each edit is a new version with the time it was written
-- (unix microseconds) and the start date it was registered for (YYYY-MM-DD), so an edit after the
-- start, or a practice change moved after registration, can always be shown. `expectations` holds one
-- canonical expectation a line ("change_lead_time -30%"); `comparison` is none, auto or
-- "with:SERVICE SERVICE". Reviews are numbered per experiment from 1.

CREATE TABLE experiment_hypotheses (
    name            TEXT    NOT NULL,
    version         INTEGER NOT NULL,
    written_at      INTEGER NOT NULL,
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
    reviewed_at        INTEGER NOT NULL,
    hypothesis_version INTEGER NOT NULL,
    outcome            TEXT    NOT NULL,
    provisional        INTEGER NOT NULL,
    PRIMARY KEY (name, seq)
);
