//! Practice changes in PostgreSQL: the `practice_changes` table (migration 0002).
//!
//! Kept out of the event code in `lib.rs` because practice changes are keyed by name, not id, and
//! are few: each is compared and written on its own, inside the caller's transaction, so a batch
//! mixing events and practice changes is still all or nothing.

use std::collections::HashMap;

use jiff::civil::Date;
use shiplog_core::{
    Capability, PracticeChange, PracticeName, PracticeScope, ServiceName, TeamName,
};
use shiplog_store::{StoreError, WriteCounts};
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::{PgPool, Row};

use crate::{StoredRow, query_error};

const TABLE: &str = "practice_changes";
const COLUMNS: &str = "name, started_on, ended_on, services, team, capability, note";

/// A practice change as its row's values (after the name).
type Encoded = [Option<String>; 6];

fn encode(change: &PracticeChange) -> Encoded {
    let (services, team) = match &change.scope {
        PracticeScope::AllServices => (None, None),
        PracticeScope::Services { services } => (
            Some(
                services
                    .iter()
                    .map(ServiceName::as_str)
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            None,
        ),
        PracticeScope::Team { team } => (None, Some(team.as_str().to_owned())),
    };
    [
        Some(change.started_on.to_string()),
        change.ended_on.map(|d| d.to_string()),
        services,
        team,
        change.capability.as_ref().map(|c| c.as_str().to_owned()),
        change.note.clone(),
    ]
}

fn raw(row: &PgRow) -> Option<Encoded> {
    let get = |i: usize| row.try_get::<Option<String>, _>(i).ok();
    Some([get(1)?, get(2)?, get(3)?, get(4)?, get(5)?, get(6)?])
}

/// Inserts or updates `changes` in order (a later one with the same name wins) inside the caller's
/// transaction, counting what each did.
pub(crate) async fn upsert(
    conn: &mut PgConnection,
    changes: &[PracticeChange],
) -> Result<WriteCounts, StoreError> {
    let mut counts = WriteCounts::default();
    let mut seen: HashMap<String, Option<Encoded>> = HashMap::new();
    for change in changes {
        let name = change.name.as_str().to_owned();
        let before = match seen.get(&name) {
            Some(state) => state.clone(),
            None => {
                let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {COLUMNS} FROM {TABLE} WHERE name = $1"
                )))
                .bind(&name)
                .fetch_optional(&mut *conn)
                .await
                .map_err(query_error("read practice changes before writing"))?;
                // An unreadable row is overwritten, and counts as updated.
                row.map(|r| raw(&r).unwrap_or_default())
            }
        };
        let encoded = encode(change);
        match &before {
            None => counts.inserted += 1,
            Some(old) if *old == encoded => {
                counts.unchanged += 1;
                continue;
            }
            Some(_) => counts.updated += 1,
        }
        let mut query = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO {TABLE} ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (name) DO UPDATE SET started_on = excluded.started_on, \
             ended_on = excluded.ended_on, services = excluded.services, team = excluded.team, \
             capability = excluded.capability, note = excluded.note"
        )))
        .bind(&name);
        for value in &encoded {
            query = query.bind(value.clone());
        }
        query
            .execute(&mut *conn)
            .await
            .map_err(query_error("write practice changes"))?;
        seen.insert(name, Some(encoded));
    }
    Ok(counts)
}

fn date(text: &str) -> Result<Date, String> {
    text.parse::<Date>()
        .map_err(|e| format!("expected a date like 2026-03-03: {e}"))
}

fn decode(row: &PgRow) -> Result<PracticeChange, StoreError> {
    let r = StoredRow::new(row, TABLE, "name")?;
    let name = r.check("name", r.key(), PracticeName::new)?;
    let started_on = r
        .parsed_opt("started_on", date)?
        .ok_or_else(|| r.corrupt("started_on", "missing"))?;
    let scope = match (
        r.get::<Option<String>>("services")?,
        r.get::<Option<String>>("team")?,
    ) {
        (None, None) => PracticeScope::AllServices,
        (Some(list), None) => PracticeScope::services(
            list.split(' ')
                .map(|s| r.check("services", s, ServiceName::new))
                .collect::<Result<_, _>>()?,
        ),
        (None, Some(team)) => PracticeScope::Team {
            team: r.check("team", &team, TeamName::new)?,
        },
        (Some(_), Some(_)) => {
            return Err(r.corrupt("team", "a practice change has services or a team, not both"));
        }
    };
    let change = PracticeChange {
        name,
        started_on,
        ended_on: r.parsed_opt("ended_on", date)?,
        scope,
        capability: r.parsed_opt("capability", Capability::new)?,
        note: r.get("note")?,
    };
    change
        .validate()
        .map_err(|e| r.corrupt("ended_on", e.to_string()))?;
    Ok(change)
}

/// Every practice change, by start date then name.
pub(crate) async fn all(pool: &PgPool) -> Result<Vec<PracticeChange>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM {TABLE} ORDER BY started_on, name COLLATE \"C\""
    )))
    .fetch_all(pool)
    .await
    .map_err(query_error("read practice changes"))?
    .iter()
    .map(decode)
    .collect()
}
