//! Self-assessment answers in SQLite: the `guide_assessments` table (migration 0006), one row per
//! capability statement and day.
//!
//! Kept apart from the event code because answers are keyed by (capability, statement, day) and
//! written by `shiplog guide assess` alone, in one transaction per assessment.

use shiplog_core::{Capability, CapabilityAnswer};
use shiplog_store::{StoreError, WriteCounts};
use sqlx::{Row, SqlitePool};

use crate::{corrupt, query_error};

const TABLE: &str = "guide_assessments";

/// Inserts or replaces `answers` in one transaction, counting what each did.
pub(crate) async fn save(
    pool: &SqlitePool,
    answers: &[CapabilityAnswer],
) -> Result<WriteCounts, StoreError> {
    let mut tx = pool
        .begin()
        .await
        .map_err(query_error("begin writing assessments"))?;
    let mut counts = WriteCounts::default();
    for a in answers {
        let (capability, statement, day) = (
            a.capability.as_str(),
            i64::from(a.statement),
            a.answered_on.to_string(),
        );
        let before: Option<i64> = sqlx::query_scalar(
            "SELECT rating FROM guide_assessments WHERE capability = $1 AND statement = $2 AND answered_on = $3",
        )
        .bind(capability)
        .bind(statement)
        .bind(&day)
        .fetch_optional(&mut *tx)
        .await
        .map_err(query_error("read assessments before writing"))?;
        match before {
            None => counts.inserted += 1,
            Some(r) if r == i64::from(a.rating) => {
                counts.unchanged += 1;
                continue;
            }
            Some(_) => counts.updated += 1,
        }
        sqlx::query(
            "INSERT INTO guide_assessments (capability, statement, answered_on, rating) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (capability, statement, answered_on) DO UPDATE SET rating = excluded.rating",
        )
        .bind(capability)
        .bind(statement)
        .bind(&day)
        .bind(i64::from(a.rating))
        .execute(&mut *tx)
        .await
        .map_err(query_error("write assessments"))?;
    }
    tx.commit()
        .await
        .map_err(query_error("commit assessments"))?;
    Ok(counts)
}

/// Every answer, by day, capability and statement.
pub(crate) async fn all(pool: &SqlitePool) -> Result<Vec<CapabilityAnswer>, StoreError> {
    let rows = sqlx::query(
        "SELECT capability, statement, answered_on, rating FROM guide_assessments \
         ORDER BY answered_on, capability, statement",
    )
    .fetch_all(pool)
    .await
    .map_err(query_error("read assessments"))?;
    rows.iter()
        .map(|row| {
            let capability: String = row
                .try_get(0)
                .map_err(|e| corrupt(TABLE, "?", "capability", e.to_string()))?;
            let key = capability.clone();
            let bad = |what: &'static str, detail: String| corrupt(TABLE, &key, what, detail);
            let statement: i64 = row
                .try_get(1)
                .map_err(|e| bad("statement", e.to_string()))?;
            let day: String = row
                .try_get(2)
                .map_err(|e| bad("answered_on", e.to_string()))?;
            let rating: i64 = row.try_get(3).map_err(|e| bad("rating", e.to_string()))?;
            let answer = CapabilityAnswer {
                capability: Capability::new(&capability)
                    .map_err(|e| bad("capability", e.to_string()))?,
                statement: u32::try_from(statement)
                    .map_err(|_| bad("statement", format!("{statement} is out of range")))?,
                rating: u8::try_from(rating)
                    .map_err(|_| bad("rating", format!("{rating} is out of range")))?,
                answered_on: day
                    .parse()
                    .map_err(|e: jiff::Error| bad("answered_on", e.to_string()))?,
            };
            answer
                .validate()
                .map_err(|e| bad("rating", e.to_string()))?;
            Ok(answer)
        })
        .collect()
}
