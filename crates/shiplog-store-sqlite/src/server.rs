//! The team server's tables in SQLite (migration 0005): deliveries and API tokens.
//!
//! SQLite has one writer at a time, so a claim is an `UPDATE ... RETURNING` inside a
//! `BEGIN IMMEDIATE` transaction: no two claims can interleave. Headers are kept as a JSON array
//! of `[name, value]` pairs.

use async_trait::async_trait;
use jiff::Timestamp;
use shiplog_store::{
    ApplySummary, DeliveryCount, DeliveryFilter, DeliveryRecord, DeliveryState, EventBatch,
    NewDelivery, ServerStore, StoreError, StoredDelivery, TokenRecord, TokenScope,
};
use sqlx::Row;
use sqlx::sqlite::{SqliteConnection, SqliteRow};

use crate::{SqliteStore, apply_in, corrupt, query_error};

/// Deliveries listed when the filter gives no limit.
const DEFAULT_LIST: u32 = 100;

const COLUMNS: &str = "seq, source, delivery_id, received_at, state, detail, processed_at, \
                       attempts, duplicates, headers, length(body) AS body_len";

fn micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

fn time(seq: i64, column: &'static str, value: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_microsecond(value)
        .map_err(|e| corrupt("deliveries", &seq.to_string(), column, e.to_string()))
}

/// Reads a delivery row; `with_body` when the row has a `body` column.
fn decode(row: &SqliteRow, with_body: bool) -> Result<DeliveryRecord, StoreError> {
    let seq: i64 = row
        .try_get("seq")
        .map_err(|e| corrupt("deliveries", "(unreadable seq)", "seq", e.to_string()))?;
    let key = seq.to_string();
    let bad = |column: &'static str| {
        let key = key.clone();
        move |e: sqlx::Error| corrupt("deliveries", &key, column, e.to_string())
    };
    let state: String = row.try_get("state").map_err(bad("state"))?;
    let state = DeliveryState::parse(&state).ok_or_else(|| {
        corrupt(
            "deliveries",
            &key,
            "state",
            format!("unknown state {state:?}"),
        )
    })?;
    let headers: String = row.try_get("headers").map_err(bad("headers"))?;
    let headers: Vec<(String, String)> = serde_json::from_str(&headers)
        .map_err(|e| corrupt("deliveries", &key, "headers", e.to_string()))?;
    let processed_at: Option<i64> = row.try_get("processed_at").map_err(bad("processed_at"))?;
    Ok(DeliveryRecord {
        seq,
        source: row.try_get("source").map_err(bad("source"))?,
        delivery_id: row.try_get("delivery_id").map_err(bad("delivery_id"))?,
        received_at: time(
            seq,
            "received_at",
            row.try_get("received_at").map_err(bad("received_at"))?,
        )?,
        state,
        detail: row.try_get("detail").map_err(bad("detail"))?,
        processed_at: processed_at
            .map(|v| time(seq, "processed_at", v))
            .transpose()?,
        attempts: row.try_get("attempts").map_err(bad("attempts"))?,
        duplicates: row.try_get("duplicates").map_err(bad("duplicates"))?,
        headers,
        body_len: row.try_get("body_len").map_err(bad("body_len"))?,
        body: if with_body {
            row.try_get("body").map_err(bad("body"))?
        } else {
            Vec::new()
        },
    })
}

fn decode_token(row: &SqliteRow) -> Result<TokenRecord, StoreError> {
    let name: String = row
        .try_get("name")
        .map_err(|e| corrupt("api_tokens", "(unreadable name)", "name", e.to_string()))?;
    let bad = |column: &'static str| {
        let name = name.clone();
        move |e: sqlx::Error| corrupt("api_tokens", &name, column, e.to_string())
    };
    let scope: String = row.try_get("scope").map_err(bad("scope"))?;
    let scope = TokenScope::parse(&scope).ok_or_else(|| {
        corrupt(
            "api_tokens",
            &name,
            "scope",
            format!("unknown scope {scope:?}"),
        )
    })?;
    let at = |column: &'static str, v: i64| {
        Timestamp::from_microsecond(v)
            .map_err(|e| corrupt("api_tokens", &name, column, e.to_string()))
    };
    let created: i64 = row.try_get("created_at").map_err(bad("created_at"))?;
    let revoked: Option<i64> = row.try_get("revoked_at").map_err(bad("revoked_at"))?;
    Ok(TokenRecord {
        scope,
        hash: row.try_get("hash").map_err(bad("hash"))?,
        created_at: at("created_at", created)?,
        revoked_at: revoked.map(|v| at("revoked_at", v)).transpose()?,
        name: name.clone(),
    })
}

/// Stores one delivery inside the caller's transaction (or counts a duplicate).
async fn store_one(
    conn: &mut SqliteConnection,
    delivery: &NewDelivery,
) -> Result<StoredDelivery, StoreError> {
    let headers = serde_json::to_string(&delivery.headers).map_err(|e| StoreError::Query {
        operation: "encode delivery headers",
        source: Box::new(e),
    })?;
    // One statement: a new delivery is inserted (its `duplicates` 0); one whose source and id are
    // stored already counts one more duplicate instead (then at least 1).
    let row = sqlx::query(
        "INSERT INTO deliveries (source, delivery_id, received_at, state, headers, body) \
         VALUES ($1, $2, $3, 'pending', $4, $5) \
         ON CONFLICT (source, delivery_id) WHERE delivery_id IS NOT NULL \
         DO UPDATE SET duplicates = duplicates + 1 \
         RETURNING seq, duplicates",
    )
    .bind(&delivery.source)
    .bind(&delivery.delivery_id)
    .bind(micros(delivery.received_at))
    .bind(headers)
    .bind(&delivery.body)
    .fetch_one(&mut *conn)
    .await
    .map_err(query_error("store a delivery"))?;
    let seq: i64 = row.try_get(0).map_err(query_error("store a delivery"))?;
    let duplicates: i64 = row.try_get(1).map_err(query_error("store a delivery"))?;
    Ok(if duplicates > 0 {
        StoredDelivery::Duplicate(seq)
    } else {
        StoredDelivery::New(seq)
    })
}

#[async_trait]
impl ServerStore for SqliteStore {
    async fn store_delivery(&self, delivery: &NewDelivery) -> Result<StoredDelivery, StoreError> {
        let stored = self
            .store_deliveries(std::slice::from_ref(delivery))
            .await?;
        stored.into_iter().next().ok_or_else(|| StoreError::Query {
            operation: "store a delivery",
            source: "no result for the delivery".into(),
        })
    }

    async fn store_deliveries(
        &self,
        deliveries: &[NewDelivery],
    ) -> Result<Vec<StoredDelivery>, StoreError> {
        let _writing = self.writes.lock().await;
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(query_error("begin storing deliveries"))?;
        let mut stored = Vec::with_capacity(deliveries.len());
        for delivery in deliveries {
            stored.push(store_one(&mut tx, delivery).await?);
        }
        tx.commit()
            .await
            .map_err(query_error("commit deliveries"))?;
        Ok(stored)
    }

    async fn claim_deliveries(
        &self,
        worker: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        let _writing = self.writes.lock().await;
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(query_error("begin claiming deliveries"))?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE deliveries SET claimed_by = $1, lease_until = $2, attempts = attempts + 1 \
             WHERE seq IN (SELECT seq FROM deliveries WHERE state = 'pending' \
                           AND (lease_until IS NULL OR lease_until < $3) ORDER BY seq LIMIT $4) \
             RETURNING {COLUMNS}, body"
        )))
        .bind(worker)
        .bind(micros(lease_until))
        .bind(micros(now))
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(query_error("claim deliveries"))?;
        tx.commit()
            .await
            .map_err(query_error("commit claiming deliveries"))?;
        let mut claimed = rows
            .iter()
            .map(|r| decode(r, true))
            .collect::<Result<Vec<_>, _>>()?;
        claimed.sort_by_key(|d| d.seq);
        Ok(claimed)
    }

    async fn finish_delivery(
        &self,
        seq: i64,
        state: DeliveryState,
        detail: &str,
        processed_at: Timestamp,
        batch: &EventBatch,
    ) -> Result<ApplySummary, StoreError> {
        let _writing = self.writes.lock().await;
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(query_error("begin finishing a delivery"))?;
        let summary = apply_in(&mut tx, batch).await?;
        sqlx::query(
            "UPDATE deliveries SET state = $1, detail = $2, processed_at = $3, \
             claimed_by = NULL, lease_until = NULL WHERE seq = $4",
        )
        .bind(state.as_str())
        .bind(detail)
        .bind(micros(processed_at))
        .bind(seq)
        .execute(&mut *tx)
        .await
        .map_err(query_error("finish a delivery"))?;
        tx.commit()
            .await
            .map_err(query_error("commit finishing a delivery"))?;
        Ok(summary)
    }

    async fn requeue_deliveries(&self, seq: Option<i64>) -> Result<u64, StoreError> {
        let query = match seq {
            Some(seq) => sqlx::query(
                "UPDATE deliveries SET state = 'pending', claimed_by = NULL, lease_until = NULL \
                 WHERE seq = $1",
            )
            .bind(seq),
            None => sqlx::query(
                "UPDATE deliveries SET state = 'pending', claimed_by = NULL, lease_until = NULL \
                 WHERE state = 'failed'",
            ),
        };
        let done = query
            .execute(&self.pool)
            .await
            .map_err(query_error("requeue deliveries"))?;
        Ok(done.rows_affected())
    }

    async fn delivery(&self, seq: i64) -> Result<Option<DeliveryRecord>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS}, body FROM deliveries WHERE seq = $1"
        )))
        .bind(seq)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error("read a delivery"))?;
        row.map(|r| decode(&r, true)).transpose()
    }

    async fn deliveries(&self, filter: &DeliveryFilter) -> Result<Vec<DeliveryRecord>, StoreError> {
        let limit = if filter.limit == 0 {
            DEFAULT_LIST
        } else {
            filter.limit
        };
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM deliveries \
             WHERE ($1 IS NULL OR state = $1) AND ($2 IS NULL OR source = $2) \
             AND ($3 IS NULL OR seq < $3) ORDER BY seq DESC LIMIT $4"
        )))
        .bind(filter.state.map(DeliveryState::as_str))
        .bind(filter.source.as_deref())
        .bind(filter.before_seq)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("list deliveries"))?;
        rows.iter().map(|r| decode(r, false)).collect()
    }

    async fn delivery_counts(&self) -> Result<Vec<DeliveryCount>, StoreError> {
        let rows = sqlx::query(
            "SELECT source, state, count(*) AS n, sum(duplicates) AS d FROM deliveries \
             GROUP BY source, state ORDER BY source, state",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("count deliveries"))?;
        rows.iter()
            .map(|row| {
                let source: String = row
                    .try_get("source")
                    .map_err(query_error("count deliveries"))?;
                let state: String = row
                    .try_get("state")
                    .map_err(query_error("count deliveries"))?;
                let state = DeliveryState::parse(&state).ok_or_else(|| {
                    corrupt(
                        "deliveries",
                        &source,
                        "state",
                        format!("unknown state {state:?}"),
                    )
                })?;
                Ok(DeliveryCount {
                    count: row.try_get("n").map_err(query_error("count deliveries"))?,
                    duplicates: row
                        .try_get::<Option<i64>, _>("d")
                        .map_err(query_error("count deliveries"))?
                        .unwrap_or(0),
                    source,
                    state,
                })
            })
            .collect()
    }

    async fn oldest_pending(&self) -> Result<Option<Timestamp>, StoreError> {
        let row = sqlx::query("SELECT min(received_at) FROM deliveries WHERE state = 'pending'")
            .fetch_one(&self.pool)
            .await
            .map_err(query_error("read the oldest pending delivery"))?;
        let value: Option<i64> = row
            .try_get(0)
            .map_err(query_error("read the oldest pending delivery"))?;
        value.map(|v| time(0, "received_at", v)).transpose()
    }

    async fn create_token(&self, token: &TokenRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO api_tokens (name, scope, hash, created_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&token.name)
        .bind(token.scope.as_str())
        .bind(&token.hash)
        .bind(micros(token.created_at))
        .bind(token.revoked_at.map(micros))
        .execute(&self.pool)
        .await
        .map_err(query_error("create a token"))?;
        Ok(())
    }

    async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        sqlx::query("SELECT * FROM api_tokens ORDER BY name")
            .fetch_all(&self.pool)
            .await
            .map_err(query_error("list tokens"))?
            .iter()
            .map(decode_token)
            .collect()
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        sqlx::query("SELECT * FROM api_tokens WHERE hash = $1 AND revoked_at IS NULL")
            .bind(hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error("look up a token"))?
            .as_ref()
            .map(decode_token)
            .transpose()
    }

    async fn revoke_token(&self, name: &str, at: Timestamp) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL",
        )
        .bind(micros(at))
        .bind(name)
        .execute(&self.pool)
        .await
        .map_err(query_error("revoke a token"))?;
        Ok(done.rows_affected() > 0)
    }
}
