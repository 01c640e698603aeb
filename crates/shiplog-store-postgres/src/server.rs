//! The team server's tables in PostgreSQL (migration 0005): deliveries and API tokens.
//!
//! Several server processes may share the database, so a claim is one `UPDATE` whose rows come from
//! `SELECT ... FOR UPDATE SKIP LOCKED`: a row another process is claiming right now is skipped, not
//! waited for, and a row it has claimed has a lease in the future, so it is not picked again until
//! that lease ends. A duplicate delivery is counted by the same `INSERT ... ON CONFLICT` that would
//! store it, so two processes receiving the same delivery at once store it once.

use async_trait::async_trait;
use jiff::Timestamp;
use shiplog_store::{
    ApplySummary, DeliveryCount, DeliveryFilter, DeliveryRecord, DeliveryState, EventBatch,
    NewDelivery, ProcessingLock, ServerStore, StoreError, StoredDelivery, TokenRecord, TokenScope,
};
use sqlx::Row;
use sqlx::postgres::{PgConnection, PgRow};

use crate::{PostgresStore, apply_in, corrupt, query_error};

/// The advisory lock key of delivery processing (any constant unique to shiplog: "shiplogp").
const PROCESSING_LOCK: i64 = 0x7368_6970_6c6f_6770;

/// The open transaction holding [`PROCESSING_LOCK`].
struct HeldProcessingLock(#[allow(dead_code)] sqlx::Transaction<'static, sqlx::Postgres>);

impl ProcessingLock for HeldProcessingLock {}

/// Deliveries listed when the filter gives no limit.
const DEFAULT_LIST: u32 = 100;

const COLUMNS: &str = "seq, source, delivery_id, received_at, state, detail, processed_at, \
                       attempts, duplicates, headers, octet_length(body)::BIGINT AS body_len";

const TOKEN_COLUMNS: &str = "name, scope, hash, created_at, revoked_at";

fn micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

fn time(seq: i64, column: &'static str, value: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_microsecond(value)
        .map_err(|e| corrupt("deliveries", &seq.to_string(), column, e.to_string()))
}

/// Reads a delivery row; `with_body` when the row has a `body` column.
fn decode(row: &PgRow, with_body: bool) -> Result<DeliveryRecord, StoreError> {
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

fn decode_token(row: &PgRow) -> Result<TokenRecord, StoreError> {
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

/// Stores one delivery inside the caller's transaction, or counts a duplicate: one statement, so
/// a concurrent store of the same source and id waits on the unique index and then counts.
async fn store_one(
    conn: &mut PgConnection,
    delivery: &NewDelivery,
) -> Result<StoredDelivery, StoreError> {
    let headers = serde_json::to_string(&delivery.headers).map_err(|e| StoreError::Query {
        operation: "encode delivery headers",
        source: Box::new(e),
    })?;
    // `xmax` is 0 on a freshly inserted row version and set on one the conflict branch updated.
    let row = sqlx::query(
        "INSERT INTO deliveries (source, delivery_id, received_at, state, headers, body) \
         VALUES ($1, $2, $3, 'pending', $4, $5) \
         ON CONFLICT (source, delivery_id) WHERE delivery_id IS NOT NULL \
         DO UPDATE SET duplicates = deliveries.duplicates + 1 \
         RETURNING seq, (xmax = 0) AS inserted",
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
    let inserted: bool = row.try_get(1).map_err(query_error("store a delivery"))?;
    Ok(if inserted {
        StoredDelivery::New(seq)
    } else {
        StoredDelivery::Duplicate(seq)
    })
}

/// Stores a group of deliveries inside the caller's transaction: every delivery with an id in one
/// multi-row statement (one round trip however large the group), those without an id one by one.
///
/// Rows are inserted in one order (source, then delivery id) by every server process, so two
/// groups holding the same ids cannot deadlock. A repeated id within the group is stored once (its
/// first occurrence) and the repeats are counted as duplicates of it, as they would be had they
/// arrived one after another; `ON CONFLICT DO UPDATE` cannot touch one row twice in a statement,
/// so the repeats are taken out before it.
async fn store_group(
    conn: &mut PgConnection,
    deliveries: &[NewDelivery],
) -> Result<Vec<StoredDelivery>, StoreError> {
    use std::collections::HashMap;
    let mut first: HashMap<(&str, &str), usize> = HashMap::new();
    let mut repeats: Vec<(usize, usize)> = Vec::new();
    let mut without_id: Vec<usize> = Vec::new();
    let (mut sources, mut ids, mut received, mut headers, mut bodies) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (i, delivery) in deliveries.iter().enumerate() {
        let Some(id) = delivery.delivery_id.as_deref() else {
            without_id.push(i);
            continue;
        };
        match first.entry((delivery.source.as_str(), id)) {
            std::collections::hash_map::Entry::Occupied(seen) => repeats.push((i, *seen.get())),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(i);
                sources.push(delivery.source.as_str());
                ids.push(id);
                received.push(micros(delivery.received_at));
                headers.push(serde_json::to_string(&delivery.headers).map_err(|e| {
                    StoreError::Query {
                        operation: "encode delivery headers",
                        source: Box::new(e),
                    }
                })?);
                bodies.push(delivery.body.as_slice());
            }
        }
    }
    let mut stored: Vec<Option<StoredDelivery>> = vec![None; deliveries.len()];
    if !ids.is_empty() {
        // `xmax` is 0 on a freshly inserted row version and set on one the conflict branch updated.
        let rows = sqlx::query(
            "INSERT INTO deliveries (source, delivery_id, received_at, state, headers, body) \
             SELECT source, delivery_id, received_at, 'pending', headers, body \
             FROM UNNEST($1::TEXT[], $2::TEXT[], $3::BIGINT[], $4::TEXT[], $5::BYTEA[]) \
                  AS t(source, delivery_id, received_at, headers, body) \
             ORDER BY source, delivery_id \
             ON CONFLICT (source, delivery_id) WHERE delivery_id IS NOT NULL \
             DO UPDATE SET duplicates = deliveries.duplicates + 1 \
             RETURNING seq, source, delivery_id, (xmax = 0) AS inserted",
        )
        .bind(&sources)
        .bind(&ids)
        .bind(&received)
        .bind(&headers)
        .bind(&bodies)
        .fetch_all(&mut *conn)
        .await
        .map_err(query_error("store deliveries"))?;
        for row in &rows {
            let seq: i64 = row.try_get(0).map_err(query_error("store deliveries"))?;
            let source: &str = row.try_get(1).map_err(query_error("store deliveries"))?;
            let id: &str = row.try_get(2).map_err(query_error("store deliveries"))?;
            let inserted: bool = row.try_get(3).map_err(query_error("store deliveries"))?;
            let &i = first.get(&(source, id)).ok_or_else(|| StoreError::Query {
                operation: "store deliveries",
                source: format!("the database returned a delivery not in the group: {source} {id}")
                    .into(),
            })?;
            stored[i] = Some(if inserted {
                StoredDelivery::New(seq)
            } else {
                StoredDelivery::Duplicate(seq)
            });
        }
    }
    let mut counted: HashMap<i64, i64> = HashMap::new();
    for &(i, of) in &repeats {
        let seq = match stored[of] {
            Some(StoredDelivery::New(seq) | StoredDelivery::Duplicate(seq)) => seq,
            None => continue,
        };
        stored[i] = Some(StoredDelivery::Duplicate(seq));
        *counted.entry(seq).or_default() += 1;
    }
    for (seq, extra) in counted {
        sqlx::query("UPDATE deliveries SET duplicates = duplicates + $1 WHERE seq = $2")
            .bind(extra)
            .bind(seq)
            .execute(&mut *conn)
            .await
            .map_err(query_error("count duplicate deliveries"))?;
    }
    for i in without_id {
        stored[i] = Some(store_one(conn, &deliveries[i]).await?);
    }
    stored
        .into_iter()
        .map(|s| {
            s.ok_or_else(|| StoreError::Query {
                operation: "store deliveries",
                source: "a delivery of the group has no result".into(),
            })
        })
        .collect()
}

#[async_trait]
impl ServerStore for PostgresStore {
    async fn lock_processing(&self) -> Result<Box<dyn ProcessingLock>, StoreError> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(query_error("begin the processing lock"))?;
        // A transaction-level lock: released when the transaction ends, which dropping the guard
        // does (rolling back), as does the connection closing when the process dies.
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(PROCESSING_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(query_error("take the processing lock"))?;
        Ok(Box::new(HeldProcessingLock(tx)))
    }

    async fn store_delivery(&self, delivery: &NewDelivery) -> Result<StoredDelivery, StoreError> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(query_error("store a delivery"))?;
        store_one(&mut conn, delivery).await
    }

    async fn store_deliveries(
        &self,
        deliveries: &[NewDelivery],
    ) -> Result<Vec<StoredDelivery>, StoreError> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(query_error("begin storing deliveries"))?;
        let stored = store_group(&mut tx, deliveries).await?;
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
        // One statement is one transaction: the rows picked are locked until it commits, and by
        // then carry the new lease, which a concurrent claim re-checks before taking a row.
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE deliveries SET claimed_by = $1, lease_until = $2, attempts = attempts + 1 \
             WHERE seq IN (SELECT seq FROM deliveries WHERE state = 'pending' \
                           AND (lease_until IS NULL OR lease_until < $3) ORDER BY seq LIMIT $4 \
                           FOR UPDATE SKIP LOCKED) \
             RETURNING {COLUMNS}, body"
        )))
        .bind(worker)
        .bind(micros(lease_until))
        .bind(micros(now))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("claim deliveries"))?;
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
        let mut tx = self
            .pool
            .begin()
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
             WHERE ($1::TEXT IS NULL OR state = $1) AND ($2::TEXT IS NULL OR source = $2) \
             AND ($3::BIGINT IS NULL OR seq < $3) ORDER BY seq DESC LIMIT $4"
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
            "SELECT source, state, count(*) AS n, sum(duplicates)::BIGINT AS d FROM deliveries \
             GROUP BY source, state ORDER BY source COLLATE \"C\", state COLLATE \"C\"",
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
        let value: Option<i64> =
            sqlx::query_scalar("SELECT min(received_at) FROM deliveries WHERE state = 'pending'")
                .fetch_one(&self.pool)
                .await
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
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY name COLLATE \"C\""
        )))
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("list tokens"))?
        .iter()
        .map(decode_token)
        .collect()
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE hash = $1 AND revoked_at IS NULL"
        )))
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
