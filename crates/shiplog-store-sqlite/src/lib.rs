//! shiplog's embedded store: one SQLite file, SQLite bundled into the binary, schema migrated on
//! open.
//!
//! This is what makes the CLI zero-setup: it implements [`shiplog_store::Store`] without a database
//! server. The team server's PostgreSQL backend implements the same trait with the same tables, and
//! both pass the shared test suite (`shiplog_store::testsuite`).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

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
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow,
};
use sqlx::{QueryBuilder, Row, Sqlite};

mod experiments;
mod history;

mod practice;

mod pull_requests;

mod assessments;
mod sync_state;

mod server;

/// The schema, embedded from `migrations/` at build time.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How long a write waits for another connection (or process) to release the database: long
/// enough for a CI fleet recording deployments at once (each write takes milliseconds).
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// Connections kept open: enough for readers to run beside the one writer WAL allows.
const MAX_CONNECTIONS: u32 = 4;

/// Rows per multi-row statement, well under SQLite's (and PostgreSQL's) limit on bound parameters.
const CHUNK_ROWS: usize = 1_000;

/// A shiplog store in a SQLite file. Cheap to share: it holds a connection pool.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    path: PathBuf,
    /// Writers of this process queue here, in order, instead of in SQLite's busy handler (which
    /// sleeps up to 100 ms between tries): under many concurrent writes (the server acknowledging
    /// webhooks while it processes them) that keeps every write's wait short and fair. Other
    /// processes still meet the busy timeout.
    writes: std::sync::Arc<tokio::sync::Mutex<()>>,
}

/// A directory on the way to the database file could not be created.
#[derive(Debug, thiserror::Error)]
#[error("cannot create the directory {}: {source}", dir.display())]
struct CreateDirError {
    dir: PathBuf,
    #[source]
    source: std::io::Error,
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
            "its schema step {v} is not the one this shiplog has (a development build wrote it?); use the shiplog that wrote it, or move the file away to start a new store (git history is read again; recorded deployments and incidents are not)"
        ),
        M::Dirty(v) => format!(
            "an update of its schema (step {v}) was interrupted, so it is half updated; restore the file from a backup, or move it away to start a new store (git history is read again; recorded deployments and incidents are not)"
        ),
        other => other.to_string(),
    }
}

/// The store path cannot hold a database, said in the user's terms with a hint.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct PathProblem(String);

/// Why the database file at `path` cannot be opened for writing, when that can be told before
/// SQLite tries (which would only say "unable to open database file").
fn path_problem(path: &Path) -> Option<String> {
    let hint = "hint: point --db (or SHIPLOG_DB) at a file in a directory you can write, e.g. .shiplog/shiplog.db";
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Some(format!(
            "it is a directory, not a store file\n{hint} (such as {}/shiplog.db)",
            path.display()
        )),
        Ok(meta) if meta.permissions().readonly() => Some(format!(
            "the file is read-only; shiplog writes to its store on every run (it caches history)\nhint: make it writable (chmod u+w {}), or copy it somewhere writable and point --db at the copy",
            path.display()
        )),
        Ok(_) => std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .err()
            .map(|e| format!("cannot open the file for writing: {e}\n{hint}")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
            let dir = dir.unwrap_or(Path::new("."));
            // Probe the directory: SQLite needs to create the file and its journal there.
            let probe = dir.join(format!(".shiplog-probe-{}", std::process::id()));
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&probe)
            {
                Ok(_) => {
                    let _ = std::fs::remove_file(&probe);
                    None
                }
                Err(e) => Some(format!(
                    "cannot create the store in {}: {e} (the directory is read-only or not yours)\n{hint}",
                    dir.display()
                )),
            }
        }
        Err(_) => None,
    }
}

impl SqliteStore {
    /// Opens the store at `path`, creating the file and its parent directories if missing, and
    /// brings the schema up to date. The database uses WAL journaling, enforces foreign keys, and
    /// waits up to [`BUSY_TIMEOUT`] (60 seconds) for a lock held by another connection or process.
    ///
    /// Fails with [`StoreError::Open`] (naming `path`) when the file cannot be created or is not a
    /// SQLite database, and [`StoreError::Migrate`] (naming `path`) when the schema cannot be
    /// updated, e.g. because a newer shiplog has migrated it further than this one knows.
    pub async fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let location = path.display().to_string();
        let open_error = |source: Box<dyn std::error::Error + Send + Sync>| StoreError::Open {
            location: location.clone(),
            source,
        };
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|source| {
                open_error(Box::new(CreateDirError {
                    dir: dir.to_owned(),
                    source,
                }))
            })?;
        }
        if let Some(problem) = path_problem(path) {
            return Err(open_error(Box::new(PathProblem(problem))));
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect_with(options)
            .await
            .map_err(|e| open_error(Box::new(e)))?;
        MIGRATOR.run(&pool).await.map_err(|source| {
            StoreError::Migrate(Box::new(MigrateAtError {
                location: location.clone(),
                source,
            }))
        })?;
        Ok(SqliteStore {
            pool,
            path: path.to_owned(),
            writes: std::sync::Arc::new(tokio::sync::Mutex::new(())),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Closes every connection, waiting for them to finish (checkpointing the WAL). Dropping the
    /// store also closes it, without waiting.
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

// ---------------------------------------------------------------------------------------------
// Writing events: records are encoded to column values, compared with the stored ones, and only
// new or changed rows are written, in multi-row upserts.
// ---------------------------------------------------------------------------------------------

/// One column's value as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Text(Option<String>),
    Int(Option<i64>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Int,
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
        ("unplanned", Kind::Int),
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
        Value::Int(Some(i64::from(d.unplanned))),
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

/// A stored row as raw values, or `None` if a value is not even of its column's type (such a row
/// is overwritten by any record with its id).
fn raw_row(table: &Table, row: &SqliteRow) -> Option<Vec<Value>> {
    table
        .columns
        .iter()
        .enumerate()
        .map(|(i, (_, kind))| match kind {
            Kind::Text => row.try_get::<Option<String>, _>(i).ok().map(Value::Text),
            Kind::Int => row.try_get::<Option<i64>, _>(i).ok().map(Value::Int),
        })
        .collect()
}

/// Inserts or updates `records` (in order; a later record with the same id wins) inside the
/// caller's transaction, and counts what each record did.
async fn upsert(
    conn: &mut SqliteConnection,
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
    for chunk in ids.chunks(CHUNK_ROWS) {
        let mut query = QueryBuilder::<Sqlite>::new(format!(
            "SELECT {columns} FROM {} WHERE id IN (",
            table.name
        ));
        let mut list = query.separated(", ");
        for id in chunk {
            list.push_bind(*id);
        }
        query.push(")");
        let rows = query
            .build()
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
            QueryBuilder::<Sqlite>::new(format!("INSERT INTO {} ({columns}) ", table.name));
        query.push_values(chunk, |mut tuple, row| {
            for value in *row {
                match value {
                    Value::Text(v) => tuple.push_bind(v.clone()),
                    Value::Int(v) => tuple.push_bind(*v),
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
    row: &'r SqliteRow,
    table: &'static str,
    key: String,
}

impl<'r> StoredRow<'r> {
    /// `row` of `table`, keyed by its text column `key_column` (`id`, `name`).
    pub(crate) fn new(
        row: &'r SqliteRow,
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
        T: sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite>,
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

    /// A boolean stored as 0 or 1.
    pub(crate) fn flag(&self, column: &'static str) -> Result<bool, StoreError> {
        match self.get::<i64>(column)? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(self.corrupt(column, format!("expected 0 or 1, got {other}"))),
        }
    }
}

fn decode_deployment(row: &SqliteRow) -> Result<Deployment, StoreError> {
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

fn decode_incident(row: &SqliteRow) -> Result<Incident, StoreError> {
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

impl SqliteStore {
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
        let _writing = self.writes.lock().await;
        // IMMEDIATE takes the write lock before reading, so no other writer can change the rows
        // compared between the read and the write.
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
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
}

/// Writes `batch` inside the caller's transaction (opened with `BEGIN IMMEDIATE`).
pub(crate) async fn apply_in(
    conn: &mut SqliteConnection,
    batch: &EventBatch,
) -> Result<ApplySummary, StoreError> {
    let deployments: Vec<Encoded> = batch.deployments.iter().map(encode_deployment).collect();
    let incidents: Vec<Encoded> = batch.incidents.iter().map(encode_incident).collect();
    let pull_requests: Vec<Encoded> = batch
        .pull_requests
        .iter()
        .map(pull_requests::encode)
        .collect::<Result<_, _>>()?;
    Ok(ApplySummary {
        deployments: upsert(conn, &DEPLOYMENTS, &deployments).await?,
        incidents: upsert(conn, &INCIDENTS, &incidents).await?,
        practice_changes: practice::upsert(conn, &batch.practice_changes).await?,
        pull_requests: upsert(conn, &pull_requests::PULL_REQUESTS, &pull_requests).await?,
    })
}

#[async_trait]
impl Store for SqliteStore {
    async fn apply(&self, batch: &EventBatch) -> Result<ApplySummary, StoreError> {
        self.apply_with(batch, None).await
    }

    async fn sync_state(&self, scope: &str) -> Result<BTreeMap<String, String>, StoreError> {
        sync_state::load(&self.pool, scope).await
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
        let _writing = self.writes.lock().await;
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(query_error(OPERATION))?;
        experiments::add_hypothesis(&mut tx, name, hypothesis, practice).await?;
        tx.commit().await.map_err(query_error(OPERATION))
    }

    async fn add_review(&self, name: &PracticeName, review: &Review) -> Result<(), StoreError> {
        const OPERATION: &str = "write a review";
        let _writing = self.writes.lock().await;
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(query_error(OPERATION))?;
        experiments::add_review(&mut tx, name, review).await?;
        tx.commit().await.map_err(query_error(OPERATION))
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
            "SELECT {} FROM deployments ORDER BY finished_at, id",
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
            "SELECT {} FROM incidents ORDER BY opened_at, id",
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
        self.read_history(repository).await
    }

    async fn append_history(
        &self,
        repository: &str,
        segment: &HistorySegment,
    ) -> Result<(), StoreError> {
        self.append_history_file(repository, segment).await
    }

    async fn replace_history(
        &self,
        repository: &str,
        segments: &[HistorySegment],
    ) -> Result<(), StoreError> {
        self.replace_history_files(repository, segments).await
    }
}
