-- Pull and merge requests, and links between incidents that report the same outage (see the SQLite
-- store's 0003). `commits` holds shas separated by single spaces; `labels` a sorted JSON array.

ALTER TABLE incidents ADD COLUMN duplicate_of TEXT;

CREATE TABLE pull_requests (
    id                  TEXT    NOT NULL PRIMARY KEY,
    repository          TEXT    NOT NULL,
    number              BIGINT,
    title               TEXT,
    opened_at           BIGINT  NOT NULL,
    ready_for_review_at BIGINT,
    draft               BOOLEAN NOT NULL,
    first_review_at     BIGINT,
    merged_at           BIGINT,
    closed_at           BIGINT,
    merge_commit        TEXT,
    head_sha            TEXT,
    head_branch         TEXT,
    base_branch         TEXT,
    commits             TEXT    NOT NULL,
    first_commit_at     BIGINT,
    additions           BIGINT,
    deletions           BIGINT,
    labels              TEXT    NOT NULL
);

CREATE INDEX pull_requests_merge_commit ON pull_requests (merge_commit);
