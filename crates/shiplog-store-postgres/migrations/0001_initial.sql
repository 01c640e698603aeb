-- shiplog's initial schema, PostgreSQL edition: the same tables and columns as the SQLite store's
-- migrations (crates/shiplog-store-sqlite/migrations), translated to PostgreSQL types.
--
-- Timestamps are unix microseconds (BIGINT); booleans are BOOLEAN; shas are 40 lowercase hex
-- characters. Reads order ties by id in byte order (COLLATE "C"), as SQLite's BINARY collation does.

CREATE TABLE deployments (
    id          TEXT    NOT NULL PRIMARY KEY,
    service     TEXT    NOT NULL,
    environment TEXT    NOT NULL,
    sha         TEXT    NOT NULL,
    finished_at BIGINT  NOT NULL,
    started_at  BIGINT,
    status      TEXT    NOT NULL,
    unplanned   BOOLEAN NOT NULL,
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

-- A repository's cached commit history: opaque segments written by the git reader, numbered from 0.
-- Unlike SQLite (files beside the database) the bytes are in the row: the server's database may be
-- on another machine.
CREATE TABLE history_segments (
    repository TEXT   NOT NULL,
    seq        BIGINT NOT NULL,
    commits    BIGINT NOT NULL,
    data       BYTEA  NOT NULL,
    PRIMARY KEY (repository, seq)
);
