-- Sync cursors: what `shiplog sync` remembers between runs (per endpoint: the time of the last
-- successful sync, the first page's ETag, deployments not finished yet), so the next run asks only
-- for what changed.
--
-- `scope` names what was synced (e.g. "github https://api.github.com acme/shop"), `key` one
-- endpoint of it, `value` the cursor as JSON. The store does not read the values; they are saved
-- in the same transaction as the records the sync fetched.

CREATE TABLE sync_state (
    scope TEXT NOT NULL,
    key   TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (scope, key)
);
