-- The number of files a pull request changed, when its source says (GitHub's `changed_files`,
-- GitLab's `changes_count` when exact, import files' `changed_files`); NULL when unknown. Rows
-- written before this migration are NULL: unknown, never 0.

ALTER TABLE pull_requests ADD COLUMN changed_files BIGINT;
