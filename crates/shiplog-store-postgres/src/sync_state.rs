//! Sync cursors in PostgreSQL: the `sync_state` table (migration 0004), a key/value map per scope.
//!
//! Kept apart from the event code because the values are opaque: the sync that writes them is the
//! only one that reads them. They are written inside the caller's transaction, after the records,
//! so a sync's cursors never get ahead of what it stored.

use std::collections::BTreeMap;

use shiplog_store::StoreError;
use sqlx::postgres::PgConnection;
use sqlx::{PgPool, Row};

use crate::{corrupt, query_error};

/// Every key and value saved under `scope`.
pub(crate) async fn load(
    pool: &PgPool,
    scope: &str,
) -> Result<BTreeMap<String, String>, StoreError> {
    let rows = sqlx::query("SELECT key, value FROM sync_state WHERE scope = $1 ORDER BY key")
        .bind(scope)
        .fetch_all(pool)
        .await
        .map_err(query_error("read sync state"))?;
    let mut state = BTreeMap::new();
    for row in &rows {
        let key: String = row
            .try_get(0)
            .map_err(|e| corrupt("sync_state", scope, "key", e.to_string()))?;
        let value: String = row
            .try_get(1)
            .map_err(|e| corrupt("sync_state", &key, "value", e.to_string()))?;
        state.insert(key, value);
    }
    Ok(state)
}

/// Inserts or replaces each key of `state` under `scope`, inside the caller's transaction.
pub(crate) async fn save(
    conn: &mut PgConnection,
    scope: &str,
    state: &BTreeMap<String, String>,
) -> Result<(), StoreError> {
    for (key, value) in state {
        sqlx::query(
            "INSERT INTO sync_state (scope, key, value) VALUES ($1, $2, $3) \
             ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value",
        )
        .bind(scope)
        .bind(key)
        .bind(value)
        .execute(&mut *conn)
        .await
        .map_err(query_error("write sync state"))?;
    }
    Ok(())
}
