-- Pull and merge requests, and links between incidents that report the same outage.
--
-- Same conventions as 0001: timestamps are unix microseconds, booleans 0/1, shas 40 lowercase hex
-- characters. `commits` holds the branch's commit shas in order, separated by single spaces (empty
-- when the source did not list them); `labels` is a JSON array of strings, sorted. No column names a
-- person: who reviewed or wrote a pull request is never stored.

ALTER TABLE incidents ADD COLUMN duplicate_of TEXT;

CREATE TABLE pull_requests (
    id                  TEXT    NOT NULL PRIMARY KEY,
    repository          TEXT    NOT NULL,
    number              BIGINT,
    title               TEXT,
    opened_at           BIGINT  NOT NULL,
    ready_for_review_at BIGINT,
    draft               INTEGER NOT NULL,
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

-- Lead-time stages join pull requests to the commit graph by their merge commit.
CREATE INDEX pull_requests_merge_commit ON pull_requests (merge_commit);
