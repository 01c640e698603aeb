-- Who or what recorded a deployment: 'ci', 'ci:<system>' (ci:github-actions) or 'manual'; NULL
-- when the source cannot tell (git tags and merges, import files without recorded_by, webhooks
-- that do not say). Rows written before this migration are NULL: unknown.

ALTER TABLE deployments ADD COLUMN recorded_by TEXT;
