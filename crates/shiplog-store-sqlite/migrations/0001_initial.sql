-- shiplog's initial schema.
--
-- Kept portable: the PostgreSQL backend has the same tables and columns in its own migrations.
-- Timestamps are unix microseconds (BIGINT); booleans are 0/1 (INTEGER here, BOOLEAN in
-- PostgreSQL); shas are 40 lowercase hex characters. Ids compare in byte order (SQLite's BINARY
-- collation), which is the order reads return ties in.

CREATE TABLE deployments (
    id          TEXT    NOT NULL PRIMARY KEY,
    service     TEXT    NOT NULL,
    environment TEXT    NOT NULL,
    sha         TEXT    NOT NULL,
    finished_at BIGINT  NOT NULL,
    started_at  BIGINT,
    status      TEXT    NOT NULL,
    unplanned   INTEGER NOT NULL,
    source      TEXT    NOT NULL
);

CREATE INDEX deployments_service_environment_finished_at
    ON deployments (service, environment, finished_at);

CREATE TABLE incidents (
    id            TEXT   NOT NULL PRIMARY KEY,
    service       TEXT   NOT NULL,
    environment   TEXT   NOT NULL,
    opened_at     BIGINT NOT NULL,
    resolved_at   BIGINT,
    deployment_id TEXT,
    sha           TEXT,
    title         TEXT
);

CREATE INDEX incidents_service_environment_opened_at
    ON incidents (service, environment, opened_at);

-- A repository's cached commit history: opaque segments written by the git reader, numbered
-- from 0. Their bytes are files under `<database>.history/` (see src/history.rs); `file` names one.
CREATE TABLE history_segments (
    repository TEXT   NOT NULL,
    seq        BIGINT NOT NULL,
    commits    BIGINT NOT NULL,
    file       TEXT   NOT NULL,
    bytes      BIGINT NOT NULL,
    PRIMARY KEY (repository, seq)
);
