//! Experiments in PostgreSQL: the `experiment_hypotheses` and `experiment_reviews` tables (migration
//! 0006).
//!
//! Kept apart from the records because they are append-only logs, not upserts: a hypothesis
//! version is never rewritten (an edit is a new version), so the order check here is what makes
//! "a hypothesis cannot be changed silently" hold for every writer.

use std::collections::BTreeMap;

use jiff::civil::Date;
use shiplog_core::experiment::{
    ComparisonPlan, Expectation, Experiment, Hypothesis, Outcome, Review,
};
use shiplog_core::{PracticeChange, PracticeName};
use shiplog_store::{HypothesisVersionError, NoSuchExperiment, StoreError};
use sqlx::PgPool;
use sqlx::postgres::{PgConnection, PgRow};

use crate::{StoredRow, lock_events, practice, query_error};

fn count(r: &StoredRow<'_>, column: &'static str) -> Result<u32, StoreError> {
    let value: i32 = r.get(column)?;
    u32::try_from(value).map_err(|_| r.corrupt(column, format!("{value} is not a count")))
}

fn decode_hypothesis(row: &PgRow) -> Result<(String, Hypothesis), StoreError> {
    let r = StoredRow::new(row, "experiment_hypotheses", "name")?;
    let expectations = r
        .get::<String>("expectations")?
        .lines()
        .map(|line| r.check("expectations", line, Expectation::parse))
        .collect::<Result<Vec<_>, _>>()?;
    let hypothesis = Hypothesis {
        version: count(&r, "version")?,
        written_at: r.time("written_at")?,
        started_on: r.parsed("started_on", |t: &str| t.parse::<Date>())?,
        expectations,
        planned_days: count(&r, "planned_days")?,
        before_days: count(&r, "before_days")?,
        transition_days: count(&r, "transition_days")?,
        comparison: r.parsed("comparison", ComparisonPlan::decode)?,
    };
    hypothesis
        .validate()
        .map_err(|e| r.corrupt("expectations", e.to_string()))?;
    Ok((r.key().to_owned(), hypothesis))
}

fn decode_review(row: &PgRow) -> Result<(String, Review), StoreError> {
    let r = StoredRow::new(row, "experiment_reviews", "name")?;
    let review = Review {
        reviewed_at: r.time("reviewed_at")?,
        hypothesis_version: count(&r, "hypothesis_version")?,
        outcome: r.parsed("outcome", |t| {
            Outcome::from_code(t).ok_or("expected reached, not-reached or cannot-tell-yet")
        })?,
        provisional: r.flag("provisional")?,
    };
    Ok((r.key().to_owned(), review))
}

/// Every experiment, by start date then name.
pub(crate) async fn all(pool: &PgPool) -> Result<Vec<Experiment>, StoreError> {
    let changes: BTreeMap<String, Date> = practice::all(pool)
        .await?
        .into_iter()
        .map(|c| (c.name.as_str().to_owned(), c.started_on))
        .collect();
    let mut experiments: BTreeMap<String, Experiment> = BTreeMap::new();
    let rows = sqlx::query(
        "SELECT name, version, written_at, started_on, expectations, planned_days, \
         before_days, transition_days, comparison FROM experiment_hypotheses \
         ORDER BY name, version",
    )
    .fetch_all(pool)
    .await
    .map_err(query_error("read experiments"))?;
    for row in &rows {
        let (name, hypothesis) = decode_hypothesis(row)?;
        let Some(started_on) = changes.get(&name) else {
            return Err(StoreError::Corrupt {
                table: "experiment_hypotheses",
                key: name,
                what: "name",
                detail: "no practice change has this name".to_owned(),
            });
        };
        let entry = match experiments.entry(name.clone()) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => e.insert(Experiment {
                name: PracticeName::new(&name).map_err(|err| StoreError::Corrupt {
                    table: "experiment_hypotheses",
                    key: name.clone(),
                    what: "name",
                    detail: err.to_string(),
                })?,
                started_on: *started_on,
                hypotheses: Vec::new(),
                reviews: Vec::new(),
            }),
        };
        entry.hypotheses.push(hypothesis);
    }
    let rows = sqlx::query(
        "SELECT name, reviewed_at, hypothesis_version, outcome, provisional \
         FROM experiment_reviews ORDER BY name, seq",
    )
    .fetch_all(pool)
    .await
    .map_err(query_error("read experiment reviews"))?;
    for row in &rows {
        let (name, review) = decode_review(row)?;
        if let Some(e) = experiments.get_mut(&name) {
            e.reviews.push(review);
        }
    }
    let mut list: Vec<Experiment> = experiments.into_values().collect();
    list.sort_by(|a, b| (a.started_on, &a.name).cmp(&(b.started_on, &b.name)));
    Ok(list)
}

async fn last_version(conn: &mut PgConnection, name: &str) -> Result<u32, StoreError> {
    let last: Option<i32> =
        sqlx::query_scalar("SELECT MAX(version) FROM experiment_hypotheses WHERE name = $1")
            .bind(name)
            .fetch_one(&mut *conn)
            .await
            .map_err(query_error("read hypothesis versions"))?;
    Ok(last.and_then(|v| u32::try_from(v).ok()).unwrap_or(0))
}

/// A count as PostgreSQL's INTEGER.
fn pg_int(value: u32) -> Result<i32, StoreError> {
    i32::try_from(value).map_err(|e| StoreError::Query {
        operation: "write an experiment",
        source: Box::new(e),
    })
}

/// Adds a hypothesis version (and the practice change) inside the caller's transaction, under the
/// records' lock (so two writers cannot both add the same version).
pub(crate) async fn add_hypothesis(
    conn: &mut PgConnection,
    name: &PracticeName,
    hypothesis: &Hypothesis,
    practice_change: Option<&PracticeChange>,
) -> Result<(), StoreError> {
    const OPERATION: &str = "write a hypothesis";
    lock_events(&mut *conn, OPERATION).await?;
    let expected = last_version(conn, name.as_str()).await?.saturating_add(1);
    if hypothesis.version != expected {
        return Err(StoreError::Query {
            operation: OPERATION,
            source: Box::new(HypothesisVersionError {
                name: name.as_str().to_owned(),
                expected,
                found: hypothesis.version,
            }),
        });
    }
    if let Some(change) = practice_change {
        practice::upsert(conn, std::slice::from_ref(change)).await?;
    }
    sqlx::query(
        "INSERT INTO experiment_hypotheses (name, version, written_at, started_on, \
         expectations, planned_days, before_days, transition_days, comparison) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(name.as_str())
    .bind(pg_int(hypothesis.version)?)
    .bind(hypothesis.written_at.as_microsecond())
    .bind(hypothesis.started_on.to_string())
    .bind(hypothesis.expectations_text())
    .bind(pg_int(hypothesis.planned_days)?)
    .bind(pg_int(hypothesis.before_days)?)
    .bind(pg_int(hypothesis.transition_days)?)
    .bind(hypothesis.comparison.encode())
    .execute(&mut *conn)
    .await
    .map_err(query_error(OPERATION))?;
    Ok(())
}

/// Appends a review inside the caller's transaction.
pub(crate) async fn add_review(
    conn: &mut PgConnection,
    name: &PracticeName,
    review: &Review,
) -> Result<(), StoreError> {
    const OPERATION: &str = "write a review";
    lock_events(&mut *conn, OPERATION).await?;
    if last_version(conn, name.as_str()).await? == 0 {
        return Err(StoreError::Query {
            operation: OPERATION,
            source: Box::new(NoSuchExperiment(name.as_str().to_owned())),
        });
    }
    sqlx::query(
        "INSERT INTO experiment_reviews (name, seq, reviewed_at, hypothesis_version, outcome, \
         provisional) VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM experiment_reviews \
         WHERE name = $1), $2, $3, $4, $5)",
    )
    .bind(name.as_str())
    .bind(review.reviewed_at.as_microsecond())
    .bind(pg_int(review.hypothesis_version)?)
    .bind(review.outcome.code())
    .bind(review.provisional)
    .execute(&mut *conn)
    .await
    .map_err(query_error(OPERATION))?;
    Ok(())
}
