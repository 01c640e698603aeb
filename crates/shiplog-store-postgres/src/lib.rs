//! shiplog's PostgreSQL store, for the team server: the same tables, the same contract
//! ([`shiplog_store::Store`] and [`shiplog_store::ServerStore`]) and the same shared test suites as
//! the embedded SQLite store, on a database several server processes can share.
//!
//! Where SQLite has one writer at a time, PostgreSQL runs writers side by side, so the places where
//! the contract needs order take it explicitly: batches of records are applied under a
//! transaction-level advisory lock (their inserted/updated/unchanged counts compare against what is
//! stored, which must not change between the read and the write), history appends lock their
//! repository, and delivery claims take row locks with `FOR UPDATE SKIP LOCKED`.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use async_trait::async_trait;
use jiff::Timestamp;
use shiplog_core::experiment::{Experiment, Hypothesis, Review};
use shiplog_core::{
    CapabilityAnswer, Deployment, DeploymentId, DeploymentSource, DeploymentStatus, Environment,
    Incident, IncidentId, PracticeChange, PracticeName, PullRequest, Recorder, ServiceName, Sha,
};
use shiplog_store::{
    ApplySummary, EventBatch, HistorySegment, HistorySeqError, Store, StoreError, WriteCounts,
};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow};
use sqlx::{Connection, Postgres, QueryBuilder, Row};

mod experiments;
mod practice;

mod pull_requests;

mod assessments;
mod sync_state;

mod server;

#[cfg(feature = "test-support")]
pub mod test_support;

/// The schema, embedded from `migrations/` at build time.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Connections kept open per store (per server process).
const MAX_CONNECTIONS: u32 = 8;

/// Rows per multi-row statement: the widest table (pull requests, 19 columns) stays far under
/// PostgreSQL's limit of 65,535 bound parameters per statement.
const CHUNK_ROWS: usize = 1_000;

/// The advisory lock key every batch of records is written under (any fixed number; "shiplog").
const EVENTS_LOCK: i64 = 0x0073_6869_706c_6f67;

/// A shiplog store in a PostgreSQL database. Cheap to share: it holds a connection pool.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    location: String,
}

/// `url` with its password replaced by `***`, fit for messages and logs.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let rest_start = scheme_end + 3;
    let rest = &url[rest_start..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else {
        return url.to_owned();
    };
    let userinfo = &authority[..at];
    match userinfo.find(':') {
        Some(colon) => format!(
            "{}{}:***{}",
            &url[..rest_start],
            &userinfo[..colon],
            &rest[at..]
        ),
        None => url.to_owned(),
    }
}

/// Why the server could not be reached or used, said in the user's terms with what to do.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
struct ConnectProblem {
    message: String,
    #[source]
    source: sqlx::Error,
}

fn describe_connect_error(e: &sqlx::Error) -> String {
    let hint = "hint: give a URL like postgres://USER:PASSWORD@HOST:5432/DATABASE";
    match e {
        sqlx::Error::Configuration(detail) => {
            format!("the URL is not a PostgreSQL URL ({detail})\n{hint}")
        }
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            "no PostgreSQL server answers there (connection refused)\nhint: start the server, or check the host and port of the URL".to_owned()
        }
        sqlx::Error::Io(io) => format!("cannot reach the server: {io}"),
        sqlx::Error::Tls(detail) => format!("TLS with the server failed: {detail}"),
        sqlx::Error::PoolTimedOut => {
            "the server did not answer in time\nhint: check the host and port of the URL, and that a firewall lets them through".to_owned()
        }
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some("3D000") => format!(
                "{}\nhint: create the database first (createdb, or CREATE DATABASE), or name an existing one in the URL",
                db.message()
            ),
            Some("28P01") | Some("28000") => format!(
                "{}\nhint: check the user and password in the URL, and the server's pg_hba.conf",
                db.message()
            ),
            Some("42501") => format!(
                "{}\nhint: the user needs the right to create tables in the database (shiplog creates its schema on first connect)",
                db.message()
            ),
            _ => db.message().to_owned(),
        },
        other => other.to_string(),
    }
}

/// A migration failed; says which database, in the user's terms.
#[derive(Debug, thiserror::Error)]
#[error("{location}: {}", describe_migrate_error(.source))]
struct MigrateAtError {
    location: String,
    source: sqlx::migrate::MigrateError,
}

/// The schema problems a user can meet, said in their terms with what to do.
fn describe_migrate_error(e: &sqlx::migrate::MigrateError) -> String {
    use sqlx::migrate::MigrateError as M;
    let known = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
    match e {
        M::VersionMissing(v) | M::VersionNotPresent(v) if *v > known => format!(
            "written by a newer shiplog (schema {v}; this shiplog knows schema {known}); upgrade shiplog"
        ),
        M::VersionMissing(v) | M::VersionNotPresent(v) | M::VersionMismatch(v) => format!(
            "its schema step {v} is not the one this shiplog has (a development build wrote it?); use the shiplog that wrote it, or point the server at a new database"
        ),
        M::Dirty(v) => format!(
            "an update of its schema (step {v}) was interrupted, so it is half updated; restore the database from a backup, or point the server at a new database"
        ),
        M::Execute(e) => format!("updating its schema failed: {}", describe_connect_error(e)),
        other => other.to_string(),
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://USER:PASSWORD@HOST:PORT/DATABASE`) with a
    /// pool of connections and brings the schema up to date (several processes may do so at once:
    /// the migrations take a lock).
    ///
    /// Fails with [`StoreError::Open`] when the server cannot be reached or refuses the login, and
    /// [`StoreError::Migrate`] when the schema cannot be updated (e.g. a newer shiplog migrated it
    /// further). Both name the URL with its password redacted.
    pub async fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        let location = redact_url(url);
        let open_error = |source: sqlx::Error| StoreError::Open {
            location: location.clone(),
            source: Box::new(ConnectProblem {
                message: describe_connect_error(&source),
                source,
            }),
        };
        let options = PgConnectOptions::from_str(url).map_err(open_error)?;
        // One connection first: the pool retries until its timeout and then only says it timed
        // out, where a single attempt says why (refused, no such database, wrong password).
        PgConnection::connect_with(&options)
            .await
            .map_err(open_error)?
            .close()
            .await
            .map_err(open_error)?;
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(std::time::Duration::from_secs(30))
            .connect_with(options)
            .await
            .map_err(open_error)?;
        MIGRATOR.run(&pool).await.map_err(|source| {
            StoreError::Migrate(Box::new(MigrateAtError {
                location: location.clone(),
                source,
            }))
        })?;
        Ok(PostgresStore { pool, location })
    }

    /// The database's URL, password redacted.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Closes every connection, waiting for them to finish. Dropping the store also closes it,
    /// without waiting.
    pub async fn close(self) {
        self.pool.close().await;
    }
}

fn query_error(operation: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| StoreError::Query {
        operation,
        source: Box::new(e),
    }
}

fn corrupt(table: &'static str, key: &str, what: &'static str, detail: String) -> StoreError {
    StoreError::Corrupt {
        table,
        key: key.to_owned(),
        what,
        detail,
    }
}

/// Takes the lock every writer of records holds until its transaction ends.
async fn lock_events(conn: &mut PgConnection, operation: &'static str) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(EVENTS_LOCK)
        .execute(conn)
        .await
        .map_err(query_error(operation))?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Writing events: records are encoded to column values, compared with the stored ones, and only
// new or changed rows are written, in multi-row upserts (as in the SQLite store).
// ---------------------------------------------------------------------------------------------

/// One column's value as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Text(Option<String>),
    Int(Option<i64>),
    Bool(Option<bool>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Int,
    Bool,
}

/// A table of events: its key is the first column, `id`.
struct Table {
    name: &'static str,
    columns: &'static [(&'static str, Kind)],
}

const DEPLOYMENTS: Table = Table {
    name: "deployments",
    columns: &[
        ("id", Kind::Text),
        ("service", Kind::Text),
        ("environment", Kind::Text),
        ("sha", Kind::Text),
        ("finished_at", Kind::Int),
        ("started_at", Kind::Int),
        ("status", Kind::Text),
        ("unplanned", Kind::Bool),
        ("source", Kind::Text),
        ("recorded_by", Kind::Text),
    ],
};

const INCIDENTS: Table = Table {
    name: "incidents",
    columns: &[
        ("id", Kind::Text),
        ("service", Kind::Text),
        ("environment", Kind::Text),
        ("opened_at", Kind::Int),
        ("resolved_at", Kind::Int),
        ("deployment_id", Kind::Text),
        ("sha", Kind::Text),
        ("title", Kind::Text),
        ("duplicate_of", Kind::Text),
    ],
};

impl Table {
    fn column_list(&self) -> String {
        self.columns
            .iter()
            .map(|(name, _)| *name)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn text(value: &str) -> Value {
    Value::Text(Some(value.to_owned()))
}

fn micros(value: Timestamp) -> Value {
    Value::Int(Some(value.as_microsecond()))
}

/// A record encoded as its row: `(id, every column's value in the table's order)`.
type Encoded = (String, Vec<Value>);

fn encode_deployment(d: &Deployment) -> Encoded {
    let id = d.id.as_str().to_owned();
    let row = vec![
        Value::Text(Some(id.clone())),
        text(d.service.as_str()),
        text(d.environment.as_str()),
        Value::Text(Some(d.sha.to_string())),
        micros(d.finished_at),
        Value::Int(d.started_at.map(Timestamp::as_microsecond)),
        text(d.status.as_str()),
        Value::Bool(Some(d.unplanned)),
        text(d.source.as_str()),
        Value::Text(d.recorded_by.as_ref().map(Recorder::to_text)),
    ];
    (id, row)
}

fn encode_incident(i: &Incident) -> Encoded {
    let id = i.id.as_str().to_owned();
    let row = vec![
        Value::Text(Some(id.clone())),
        text(i.service.as_str()),
        text(i.environment.as_str()),
        micros(i.opened_at),
        Value::Int(i.resolved_at.map(Timestamp::as_microsecond)),
        Value::Text(i.deployment_id.as_ref().map(|d| d.as_str().to_owned())),
        Value::Text(i.sha.map(|s| s.to_string())),
        Value::Text(i.title.clone()),
        Value::Text(i.duplicate_of.as_ref().map(|d| d.as_str().to_owned())),
    ];
    (id, row)
}

/// A stored row as raw values, or `None` if a value cannot be read as its column's type.
fn raw_row(table: &Table, row: &PgRow) -> Option<Vec<Value>> {
    table
        .columns
        .iter()
        .enumerate()
        .map(|(i, (_, kind))| match kind {
            Kind::Text => row.try_get::<Option<String>, _>(i).ok().map(Value::Text),
            Kind::Int => row.try_get::<Option<i64>, _>(i).ok().map(Value::Int),
            Kind::Bool => row.try_get::<Option<bool>, _>(i).ok().map(Value::Bool),
        })
        .collect()
}

/// Inserts or updates `records` (in order; a later record with the same id wins) inside the
/// caller's transaction (holding the events lock), and counts what each record did.
async fn upsert(
    conn: &mut PgConnection,
    table: &Table,
    records: &[Encoded],
) -> Result<WriteCounts, StoreError> {
    let mut counts = WriteCounts::default();
    if records.is_empty() {
        return Ok(counts);
    }
    let columns = table.column_list();

    // Every id once, in first-seen order.
    let mut ids: Vec<&str> = Vec::new();
    let mut seen: HashMap<&str, ()> = HashMap::with_capacity(records.len());
    for (id, _) in records {
        if seen.insert(id.as_str(), ()).is_none() {
            ids.push(id);
        }
    }

    // What the store holds for those ids: `Some(row)`, or `None` for an unreadable row.
    let mut stored: HashMap<String, Option<Vec<Value>>> = HashMap::new();
    for chunk in ids.chunks(CHUNK_ROWS * 10) {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {columns} FROM {} WHERE id = ANY($1)",
            table.name
        )))
        .bind(chunk)
        .fetch_all(&mut *conn)
        .await
        .map_err(query_error("read events before writing"))?;
        for row in &rows {
            if let Ok(id) = row.try_get::<String, _>(0) {
                stored.insert(id, raw_row(table, row));
            }
        }
    }

    // Count record by record against the state so far; remember each id's final row.
    let mut current: HashMap<&str, Option<&[Value]>> = stored
        .iter()
        .map(|(id, row)| (id.as_str(), row.as_deref()))
        .collect();
    for (id, row) in records {
        match current.insert(id.as_str(), Some(row.as_slice())) {
            None => counts.inserted += 1,
            Some(Some(before)) if before == row.as_slice() => counts.unchanged += 1,
            Some(_) => counts.updated += 1,
        }
    }
    let changed: Vec<&[Value]> = ids
        .iter()
        .filter_map(|id| {
            let last = current.get(id).copied().flatten()?;
            let before = stored.get(*id).and_then(|row| row.as_deref());
            (before != Some(last)).then_some(last)
        })
        .collect();

    let updates = table
        .columns
        .iter()
        .skip(1)
        .map(|(name, _)| format!("{name} = excluded.{name}"))
        .collect::<Vec<_>>()
        .join(", ");
    for chunk in changed.chunks(CHUNK_ROWS) {
        let mut query =
            QueryBuilder::<Postgres>::new(format!("INSERT INTO {} ({columns}) ", table.name));
        query.push_values(chunk, |mut tuple, row| {
            for value in *row {
                match value {
                    Value::Text(v) => tuple.push_bind(v.clone()),
                    Value::Int(v) => tuple.push_bind(*v),
                    Value::Bool(v) => tuple.push_bind(*v),
                };
            }
        });
        query.push(format!(" ON CONFLICT (id) DO UPDATE SET {updates}"));
        query
            .build()
            .execute(&mut *conn)
            .await
            .map_err(query_error("write events"))?;
    }
    Ok(counts)
}

// ---------------------------------------------------------------------------------------------
// Reading events back through the validated constructors.
// ---------------------------------------------------------------------------------------------

/// One stored row being read back: every problem names the table, the row's key and the column.
pub(crate) struct StoredRow<'r> {
    row: &'r PgRow,
    table: &'static str,
    key: String,
}

impl<'r> StoredRow<'r> {
    /// `row` of `table`, keyed by its text column `key_column` (`id`, `name`).
    pub(crate) fn new(
        row: &'r PgRow,
        table: &'static str,
        key_column: &'static str,
    ) -> Result<Self, StoreError> {
        let key = row.try_get::<String, _>(key_column).map_err(|e| {
            corrupt(
                table,
                &format!("(unreadable {key_column})"),
                key_column,
                e.to_string(),
            )
        })?;
        Ok(Self { row, table, key })
    }

    /// The row's key.
    pub(crate) fn key(&self) -> &str {
        &self.key
    }

    /// The error for a bad value in `column`.
    pub(crate) fn corrupt(&self, column: &'static str, detail: impl Into<String>) -> StoreError {
        corrupt(self.table, &self.key, column, detail.into())
    }

    /// Column `column` as stored.
    pub(crate) fn get<T>(&self, column: &'static str) -> Result<T, StoreError>
    where
        T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
    {
        self.row
            .try_get(column)
            .map_err(|e| self.corrupt(column, e.to_string()))
    }

    /// Validates `value`, read from `column`, with `make`.
    pub(crate) fn check<T, E: std::fmt::Display>(
        &self,
        column: &'static str,
        value: &str,
        make: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<T, StoreError> {
        make(value).map_err(|e| self.corrupt(column, e.to_string()))
    }

    /// Text column `column` through its validated constructor `make`.
    pub(crate) fn parsed<T, E: std::fmt::Display>(
        &self,
        column: &'static str,
        make: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<T, StoreError> {
        self.check(column, &self.get::<String>(column)?, make)
    }

    /// Nullable text column `column` through `make`.
    pub(crate) fn parsed_opt<T, E: std::fmt::Display>(
        &self,
        column: &'static str,
        make: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<Option<T>, StoreError> {
        self.get::<Option<String>>(column)?
            .map(|v| self.check(column, &v, make))
            .transpose()
    }

    /// A time stored as microseconds since 1970.
    pub(crate) fn time(&self, column: &'static str) -> Result<Timestamp, StoreError> {
        self.micros(column, self.get(column)?)
    }

    /// A nullable time stored as microseconds since 1970.
    pub(crate) fn opt_time(&self, column: &'static str) -> Result<Option<Timestamp>, StoreError> {
        self.get::<Option<i64>>(column)?
            .map(|v| self.micros(column, v))
            .transpose()
    }

    fn micros(&self, column: &'static str, value: i64) -> Result<Timestamp, StoreError> {
        Timestamp::from_microsecond(value).map_err(|e| {
            self.corrupt(
                column,
                format!("{value} microseconds since 1970 is out of range: {e}"),
            )
        })
    }

    /// A boolean column.
    pub(crate) fn flag(&self, column: &'static str) -> Result<bool, StoreError> {
        self.get::<bool>(column)
    }
}

fn decode_deployment(row: &PgRow) -> Result<Deployment, StoreError> {
    let r = StoredRow::new(row, "deployments", "id")?;
    Ok(Deployment {
        id: r.check("id", r.key(), DeploymentId::new)?,
        service: r.parsed("service", ServiceName::new)?,
        environment: r.parsed("environment", Environment::new)?,
        sha: r.parsed("sha", Sha::from_hex)?,
        finished_at: r.time("finished_at")?,
        started_at: r.opt_time("started_at")?,
        status: r.parsed("status", DeploymentStatus::from_str)?,
        unplanned: r.flag("unplanned")?,
        source: r.parsed("source", DeploymentSource::from_str)?,
        recorded_by: r.parsed_opt("recorded_by", Recorder::from_str)?,
    })
}

fn decode_incident(row: &PgRow) -> Result<Incident, StoreError> {
    let r = StoredRow::new(row, "incidents", "id")?;
    Ok(Incident {
        id: r.check("id", r.key(), IncidentId::new)?,
        service: r.parsed("service", ServiceName::new)?,
        environment: r.parsed("environment", Environment::new)?,
        opened_at: r.time("opened_at")?,
        resolved_at: r.opt_time("resolved_at")?,
        deployment_id: r.parsed_opt("deployment_id", DeploymentId::new)?,
        sha: r.parsed_opt("sha", Sha::from_hex)?,
        title: r.get("title")?,
        duplicate_of: r.parsed_opt("duplicate_of", IncidentId::new)?,
    })
}

fn seq_error(repository: &str, expected: i64, found: i64, operation: &'static str) -> StoreError {
    StoreError::Query {
        operation,
        source: Box::new(HistorySeqError {
            repository: repository.to_owned(),
            expected,
            found,
        }),
    }
}

/// Writes `batch` inside the caller's transaction, taking the events lock first.
pub(crate) async fn apply_in(
    conn: &mut PgConnection,
    batch: &EventBatch,
) -> Result<ApplySummary, StoreError> {
    if batch.is_empty() {
        return Ok(ApplySummary::default());
    }
    let deployments: Vec<Encoded> = batch.deployments.iter().map(encode_deployment).collect();
    let incidents: Vec<Encoded> = batch.incidents.iter().map(encode_incident).collect();
    let pull_requests: Vec<Encoded> = batch
        .pull_requests
        .iter()
        .map(pull_requests::encode)
        .collect::<Result<_, _>>()?;
    lock_events(&mut *conn, "lock the records for writing").await?;
    Ok(ApplySummary {
        deployments: upsert(conn, &DEPLOYMENTS, &deployments).await?,
        incidents: upsert(conn, &INCIDENTS, &incidents).await?,
        practice_changes: practice::upsert(conn, &batch.practice_changes).await?,
        pull_requests: upsert(conn, &pull_requests::PULL_REQUESTS, &pull_requests).await?,
    })
}

impl PostgresStore {
    /// Applies `batch`, then saves the sync cursors `sync` (scope and key → value) when given, in
    /// one transaction.
    async fn apply_with(
        &self,
        batch: &EventBatch,
        sync: Option<(&str, &BTreeMap<String, String>)>,
    ) -> Result<ApplySummary, StoreError> {
        if batch.is_empty() && sync.is_none_or(|(_, state)| state.is_empty()) {
            return Ok(ApplySummary::default());
        }
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(query_error("begin writing events"))?;
        let summary = apply_in(&mut tx, batch).await?;
        if let Some((scope, state)) = sync {
            sync_state::save(&mut tx, scope, state).await?;
        }
        tx.commit()
            .await
            .map_err(query_error("commit writing events"))?;
        Ok(summary)
    }

    /// Takes the lock of `repository`'s history until the transaction ends.
    async fn lock_history(
        conn: &mut PgConnection,
        repository: &str,
        operation: &'static str,
    ) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 7))")
            .bind(repository)
            .execute(conn)
            .await
            .map_err(query_error(operation))?;
        Ok(())
    }
}

async fn insert_segment(
    conn: &mut PgConnection,
    repository: &str,
    segment: &HistorySegment,
    operation: &'static str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO history_segments (repository, seq, commits, data) VALUES ($1, $2, $3, $4)",
    )
    .bind(repository)
    .bind(segment.seq)
    .bind(segment.commits)
    .bind(segment.data.as_ref())
    .execute(conn)
    .await
    .map_err(query_error(operation))?;
    Ok(())
}

#[async_trait]
impl Store for PostgresStore {
    async fn apply(&self, batch: &EventBatch) -> Result<ApplySummary, StoreError> {
        self.apply_with(batch, None).await
    }

    async fn experiments(&self) -> Result<Vec<Experiment>, StoreError> {
        experiments::all(&self.pool).await
    }

    async fn add_hypothesis(
        &self,
        name: &PracticeName,
        hypothesis: &Hypothesis,
        practice: Option<&PracticeChange>,
    ) -> Result<(), StoreError> {
        const OPERATION: &str = "write a hypothesis";
        let mut tx = self.pool.begin().await.map_err(query_error(OPERATION))?;
        experiments::add_hypothesis(&mut tx, name, hypothesis, practice).await?;
        tx.commit().await.map_err(query_error(OPERATION))
    }

    async fn add_review(&self, name: &PracticeName, review: &Review) -> Result<(), StoreError> {
        const OPERATION: &str = "write a review";
        let mut tx = self.pool.begin().await.map_err(query_error(OPERATION))?;
        experiments::add_review(&mut tx, name, review).await?;
        tx.commit().await.map_err(query_error(OPERATION))
    }

    async fn sync_state(&self, scope: &str) -> Result<BTreeMap<String, String>, StoreError> {
        sync_state::load(&self.pool, scope).await
    }

    async fn apply_synced(
        &self,
        batch: &EventBatch,
        scope: &str,
        state: &BTreeMap<String, String>,
    ) -> Result<ApplySummary, StoreError> {
        self.apply_with(batch, Some((scope, state))).await
    }

    async fn deployments(&self) -> Result<Vec<Deployment>, StoreError> {
        let sql = format!(
            "SELECT {} FROM deployments ORDER BY finished_at, id COLLATE \"C\"",
            DEPLOYMENTS.column_list()
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await
            .map_err(query_error("read deployments"))?
            .iter()
            .map(decode_deployment)
            .collect()
    }

    async fn save_assessment(
        &self,
        answers: &[CapabilityAnswer],
    ) -> Result<WriteCounts, StoreError> {
        assessments::save(&self.pool, answers).await
    }

    async fn assessments(&self) -> Result<Vec<CapabilityAnswer>, StoreError> {
        assessments::all(&self.pool).await
    }

    async fn practice_changes(&self) -> Result<Vec<PracticeChange>, StoreError> {
        practice::all(&self.pool).await
    }

    async fn pull_requests(&self) -> Result<Vec<PullRequest>, StoreError> {
        pull_requests::all(&self.pool).await
    }

    async fn incidents(&self) -> Result<Vec<Incident>, StoreError> {
        let sql = format!(
            "SELECT {} FROM incidents ORDER BY opened_at, id COLLATE \"C\"",
            INCIDENTS.column_list()
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await
            .map_err(query_error("read incidents"))?
            .iter()
            .map(decode_incident)
            .collect()
    }

    async fn history(&self, repository: &str) -> Result<Vec<HistorySegment>, StoreError> {
        let rows: Vec<(i64, i64, Vec<u8>)> = sqlx::query_as(
            "SELECT seq, commits, data FROM history_segments WHERE repository = $1 ORDER BY seq",
        )
        .bind(repository)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("read history"))?;
        let mut segments = Vec::with_capacity(rows.len());
        for (index, (seq, commits, data)) in rows.into_iter().enumerate() {
            if i64::try_from(index).ok() != Some(seq) {
                return Err(corrupt(
                    "history_segments",
                    &format!("{repository:?} seq {seq}"),
                    "seq",
                    format!(
                        "segments must be numbered 0, 1, 2, ...; segment {index} has seq {seq}"
                    ),
                ));
            }
            segments.push(HistorySegment {
                seq,
                commits,
                data: data.into(),
            });
        }
        Ok(segments)
    }

    async fn append_history(
        &self,
        repository: &str,
        segment: &HistorySegment,
    ) -> Result<(), StoreError> {
        const OPERATION: &str = "append history";
        let mut tx = self.pool.begin().await.map_err(query_error(OPERATION))?;
        Self::lock_history(&mut tx, repository, OPERATION).await?;
        let last: Option<i64> =
            sqlx::query_scalar("SELECT MAX(seq) FROM history_segments WHERE repository = $1")
                .bind(repository)
                .fetch_one(&mut *tx)
                .await
                .map_err(query_error(OPERATION))?;
        let expected = match last {
            None => 0,
            Some(last) => last.checked_add(1).ok_or_else(|| {
                corrupt(
                    "history_segments",
                    &format!("{repository:?} seq {last}"),
                    "seq",
                    "the largest possible seq is taken".to_owned(),
                )
            })?,
        };
        if segment.seq != expected {
            return Err(seq_error(repository, expected, segment.seq, OPERATION));
        }
        insert_segment(&mut tx, repository, segment, OPERATION).await?;
        tx.commit().await.map_err(query_error(OPERATION))
    }

    async fn replace_history(
        &self,
        repository: &str,
        segments: &[HistorySegment],
    ) -> Result<(), StoreError> {
        const OPERATION: &str = "replace history";
        for (index, segment) in segments.iter().enumerate() {
            let expected = i64::try_from(index).unwrap_or(i64::MAX);
            if segment.seq != expected {
                return Err(seq_error(repository, expected, segment.seq, OPERATION));
            }
        }
        let mut tx = self.pool.begin().await.map_err(query_error(OPERATION))?;
        Self::lock_history(&mut tx, repository, OPERATION).await?;
        sqlx::query("DELETE FROM history_segments WHERE repository = $1")
            .bind(repository)
            .execute(&mut *tx)
            .await
            .map_err(query_error(OPERATION))?;
        for segment in segments {
            insert_segment(&mut tx, repository, segment, OPERATION).await?;
        }
        tx.commit().await.map_err(query_error(OPERATION))
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(
            redact_url("postgres://ship:s3cr:et@db.example:5432/shiplog?sslmode=require"),
            "postgres://ship:***@db.example:5432/shiplog?sslmode=require"
        );
        assert_eq!(
            redact_url("postgres://ship@db/shiplog"),
            "postgres://ship@db/shiplog"
        );
        assert_eq!(redact_url("postgres://db/x@y"), "postgres://db/x@y");
        assert_eq!(redact_url("not a url"), "not a url");
    }
}
