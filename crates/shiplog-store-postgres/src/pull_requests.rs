//! Pull and merge requests in PostgreSQL: the `pull_requests` table (migration 0003;
//! `changed_files` from 0009).
//!
//! Written by the same compare-then-upsert code as deployments and incidents (a pull request is
//! keyed by its id, and re-imports are common), so only this table's encoding lives here: lists as
//! text (commit shas separated by spaces, labels as a JSON array), counts as 64-bit integers.

use jiff::Timestamp;
use shiplog_core::{PullRequest, PullRequestId, RepositoryName, Sha};
use shiplog_store::StoreError;
use sqlx::PgPool;
use sqlx::postgres::PgRow;

use crate::{Encoded, Kind, StoredRow, Table, Value, query_error, text};

pub(crate) const PULL_REQUESTS: Table = Table {
    name: "pull_requests",
    columns: &[
        ("id", Kind::Text),
        ("repository", Kind::Text),
        ("number", Kind::Int),
        ("title", Kind::Text),
        ("opened_at", Kind::Int),
        ("ready_for_review_at", Kind::Int),
        ("draft", Kind::Bool),
        ("first_review_at", Kind::Int),
        ("merged_at", Kind::Int),
        ("closed_at", Kind::Int),
        ("merge_commit", Kind::Text),
        ("head_sha", Kind::Text),
        ("head_branch", Kind::Text),
        ("base_branch", Kind::Text),
        ("commits", Kind::Text),
        ("first_commit_at", Kind::Int),
        ("additions", Kind::Int),
        ("deletions", Kind::Int),
        ("changed_files", Kind::Int),
        ("labels", Kind::Text),
    ],
};

/// A count too large for the database's 64-bit signed integers.
#[derive(Debug, thiserror::Error)]
#[error("pull request {id}: {what} {value} does not fit in a 64-bit signed integer")]
struct TooLarge {
    id: String,
    what: &'static str,
    value: u64,
}

fn int(id: &str, what: &'static str, value: Option<u64>) -> Result<Value, StoreError> {
    value
        .map(|v| {
            i64::try_from(v).map_err(|_| StoreError::Query {
                operation: "encode pull requests",
                source: Box::new(TooLarge {
                    id: id.to_owned(),
                    what,
                    value: v,
                }),
            })
        })
        .transpose()
        .map(Value::Int)
}

fn time(value: Option<Timestamp>) -> Value {
    Value::Int(value.map(Timestamp::as_microsecond))
}

pub(crate) fn encode(p: &PullRequest) -> Result<Encoded, StoreError> {
    let id = p.id.as_str().to_owned();
    let commits = p
        .commits
        .iter()
        .map(Sha::to_string)
        .collect::<Vec<_>>()
        .join(" ");
    let mut labels = p.labels.clone();
    labels.sort();
    labels.dedup();
    let labels = serde_json::to_string(&labels).map_err(|e| StoreError::Query {
        operation: "encode pull requests",
        source: Box::new(e),
    })?;
    let row = vec![
        Value::Text(Some(id.clone())),
        text(p.repository.as_str()),
        int(&id, "number", p.number)?,
        Value::Text(p.title.clone()),
        time(Some(p.opened_at)),
        time(p.ready_for_review_at),
        Value::Bool(Some(p.draft)),
        time(p.first_review_at),
        time(p.merged_at),
        time(p.closed_at),
        Value::Text(p.merge_commit.map(|s| s.to_string())),
        Value::Text(p.head_sha.map(|s| s.to_string())),
        Value::Text(p.head_branch.clone()),
        Value::Text(p.base_branch.clone()),
        Value::Text(Some(commits)),
        time(p.first_commit_at),
        int(&id, "additions", p.additions)?,
        int(&id, "deletions", p.deletions)?,
        int(&id, "changed_files", p.changed_files)?,
        Value::Text(Some(labels)),
    ];
    Ok((id, row))
}

const T: &str = "pull_requests";

pub(crate) fn decode(row: &PgRow) -> Result<PullRequest, StoreError> {
    let r = StoredRow::new(row, T, "id")?;
    let count = |column: &'static str| -> Result<Option<u64>, StoreError> {
        r.get::<Option<i64>>(column)?
            .map(|v| r.check(column, &v.to_string(), str::parse::<u64>))
            .transpose()
    };
    let commits = r
        .get::<String>("commits")?
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(|s| r.check("commits", s, Sha::from_hex))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(PullRequest {
        id: r.check("id", r.key(), PullRequestId::new)?,
        repository: r.parsed("repository", RepositoryName::new)?,
        number: count("number")?,
        title: r.get("title")?,
        opened_at: r.time("opened_at")?,
        ready_for_review_at: r.opt_time("ready_for_review_at")?,
        draft: r.flag("draft")?,
        first_review_at: r.opt_time("first_review_at")?,
        merged_at: r.opt_time("merged_at")?,
        closed_at: r.opt_time("closed_at")?,
        merge_commit: r.parsed_opt("merge_commit", Sha::from_hex)?,
        head_sha: r.parsed_opt("head_sha", Sha::from_hex)?,
        head_branch: r.get("head_branch")?,
        base_branch: r.get("base_branch")?,
        commits,
        first_commit_at: r.opt_time("first_commit_at")?,
        additions: count("additions")?,
        deletions: count("deletions")?,
        changed_files: count("changed_files")?,
        labels: r.parsed("labels", |text: &str| {
            serde_json::from_str::<Vec<String>>(text)
        })?,
    })
}

/// Every pull request, ordered by opening time then id.
pub(crate) async fn all(pool: &PgPool) -> Result<Vec<PullRequest>, StoreError> {
    let sql = format!(
        "SELECT {} FROM {T} ORDER BY opened_at, id COLLATE \"C\"",
        PULL_REQUESTS.column_list()
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(pool)
        .await
        .map_err(query_error("read pull requests"))?
        .iter()
        .map(decode)
        .collect()
}
