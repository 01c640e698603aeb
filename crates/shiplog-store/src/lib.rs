//! The storage trait every shiplog backend implements, and the test suite each must pass.
//!
//! shiplog keeps its records (deployments, incidents, practice changes, the cached commit history,
//! sync cursors) behind one trait so that the zero-setup CLI (embedded SQLite) and the team server
//! (PostgreSQL) share every line above storage. Backends live in their own crates; this one holds
//! only the contract, so depending on it costs nothing. The [`testsuite`] module (feature
//! `testsuite`) is the contract's executable form: every backend runs the same tests against a real
//! database.

use std::collections::BTreeMap;

use async_trait::async_trait;
use shiplog_core::experiment::{Experiment, Hypothesis, Review};
use shiplog_core::{
    CapabilityAnswer, Deployment, Incident, PracticeChange, PracticeName, PullRequest,
};

pub mod server;
#[cfg(feature = "testsuite")]
pub mod server_testsuite;
#[cfg(feature = "testsuite")]
pub mod testsuite;

pub use server::{
    DeliveryCount, DeliveryFilter, DeliveryRecord, DeliveryState, NewDelivery, ProcessingLock,
    ServerStore, StoredDelivery, TokenRecord, TokenScope,
};

/// A failure of the store, with what was being done.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or created.
    #[error("cannot open the store at {location}: {source}")]
    Open {
        /// Where the store is (a path or a redacted URL).
        location: String,
        /// The backend's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The schema could not be brought up to date.
    #[error("cannot update the store's schema: {0}")]
    Migrate(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A read or write failed.
    #[error("store {operation} failed: {source}")]
    Query {
        /// What was being done, e.g. "write deployments".
        operation: &'static str,
        /// The backend's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A stored row does not hold a valid value (the database was edited by hand or is damaged).
    #[error("the store holds an invalid {what} in {table} row {key}: {detail}")]
    Corrupt {
        /// The table.
        table: &'static str,
        /// The row's key.
        key: String,
        /// The column or value.
        what: &'static str,
        /// What is wrong.
        detail: String,
    },
}

/// Why a history segment was refused: its `seq` is not where it must go. The `source` of the
/// [`StoreError::Query`] that [`Store::append_history`] and [`Store::replace_history`] return.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("history segment of {repository:?} out of order: expected seq {expected}, got {found}")]
pub struct HistorySeqError {
    /// The repository whose history was being written.
    pub repository: String,
    /// The `seq` the segment had to have.
    pub expected: i64,
    /// The `seq` it had.
    pub found: i64,
}

/// Why a hypothesis version was refused: it is not one past the experiment's last version (1 for a
/// new experiment). The `source` of the [`StoreError::Query`] that [`Store::add_hypothesis`]
/// returns. A hypothesis is never changed in place: an edit is a new version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("hypothesis of experiment {name:?} out of order: expected version {expected}, got {found}")]
pub struct HypothesisVersionError {
    /// The experiment.
    pub name: String,
    /// The version the hypothesis had to have.
    pub expected: u32,
    /// The version it had.
    pub found: u32,
}

/// Why a review was refused: the experiment has no hypothesis (it was never started). The
/// `source` of the [`StoreError::Query`] that [`Store::add_review`] returns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no experiment is named {0:?}")]
pub struct NoSuchExperiment(pub String);

/// Records written together: all of them or none.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventBatch {
    /// Deployments to insert, or update when their id exists.
    pub deployments: Vec<Deployment>,
    /// Incidents to insert, or update when their id exists.
    pub incidents: Vec<Incident>,
    /// Practice changes to insert, or update when their name exists.
    pub practice_changes: Vec<PracticeChange>,
    /// Pull and merge requests to insert, or update when their id exists.
    pub pull_requests: Vec<PullRequest>,
}

impl EventBatch {
    /// Whether the batch holds nothing.
    pub fn is_empty(&self) -> bool {
        self.deployments.is_empty()
            && self.incidents.is_empty()
            && self.practice_changes.is_empty()
            && self.pull_requests.is_empty()
    }
}

/// What applying a batch changed, per kind of record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteCounts {
    /// New records.
    pub inserted: u64,
    /// Existing records whose values changed.
    pub updated: u64,
    /// Records already stored exactly so.
    pub unchanged: u64,
}

/// What applying a batch changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApplySummary {
    /// Deployments.
    pub deployments: WriteCounts,
    /// Incidents.
    pub incidents: WriteCounts,
    /// Practice changes.
    pub practice_changes: WriteCounts,
    /// Pull and merge requests.
    pub pull_requests: WriteCounts,
}

/// One appended piece of a repository's cached commit history: an opaque blob written by the git
/// reader. Segments are read back in `seq` order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistorySegment {
    /// Position in the repository's sequence of segments, from 0.
    pub seq: i64,
    /// Commits the segment holds (for reporting without decoding it).
    pub commits: i64,
    /// The encoded commits. A backend may hand out memory-mapped bytes: segments are large and read
    /// whole on every run.
    pub data: bytes::Bytes,
}

/// The storage contract. Every method is atomic: it fully happens or leaves the store as it was.
///
/// Timestamps are kept to the microsecond: a finer part is dropped when stored (and ignored when
/// deciding whether a record changed).
#[async_trait]
pub trait Store: Send + Sync {
    /// Inserts or updates every record of `batch` in one transaction.
    ///
    /// Records are taken in order, each compared with what the store holds at that point
    /// (including earlier records of the same batch): a new id counts as `inserted`, an id whose
    /// values differ as `updated`, an id stored exactly so as `unchanged`. So for each kind of
    /// record the three counts add up to the number of records in the batch, and when an id occurs
    /// twice the later record wins.
    async fn apply(&self, batch: &EventBatch) -> Result<ApplySummary, StoreError>;

    /// Every stored deployment, ordered by finish time then id.
    async fn deployments(&self) -> Result<Vec<Deployment>, StoreError>;

    /// Every stored incident, ordered by opening time then id.
    async fn incidents(&self) -> Result<Vec<Incident>, StoreError>;

    /// Every stored practice change, ordered by start date then name.
    async fn practice_changes(&self) -> Result<Vec<PracticeChange>, StoreError>;

    /// Every stored pull or merge request, ordered by opening time then id.
    async fn pull_requests(&self) -> Result<Vec<PullRequest>, StoreError>;

    /// The cached history segments of `repository`, in `seq` order.
    async fn history(&self, repository: &str) -> Result<Vec<HistorySegment>, StoreError>;

    /// Appends a segment to `repository`'s history. Its `seq` must be one past the last (0 for an
    /// empty history); otherwise this fails with a [`StoreError::Query`] whose source is a
    /// [`HistorySeqError`], and nothing changes.
    async fn append_history(
        &self,
        repository: &str,
        segment: &HistorySegment,
    ) -> Result<(), StoreError>;

    /// Replaces all of `repository`'s history with `segments` (compaction, or a rebuild after the
    /// repository changed under the cache). The segments' `seq`s must be 0, 1, 2, ... in order
    /// (otherwise: a [`HistorySeqError`] as for [`Store::append_history`], and nothing changes); an
    /// empty slice clears the history.
    async fn replace_history(
        &self,
        repository: &str,
        segments: &[HistorySegment],
    ) -> Result<(), StoreError>;

    /// Every experiment, ordered by start date then name, each with its hypothesis versions
    /// (by version) and reviews (oldest first). Its start date is its practice change's.
    async fn experiments(&self) -> Result<Vec<Experiment>, StoreError>;

    /// Adds a version of the hypothesis of experiment `name`. Versions are append-only: the
    /// version must be one past the last (1 for a new experiment), otherwise this fails with a
    /// [`StoreError::Query`] whose source is a [`HypothesisVersionError`], and nothing changes.
    /// With `practice` (whose name must be `name`), the practice change is inserted or updated in
    /// the same transaction, as [`Store::apply`] would: an experiment starts with both or neither.
    async fn add_hypothesis(
        &self,
        name: &PracticeName,
        hypothesis: &Hypothesis,
        practice: Option<&PracticeChange>,
    ) -> Result<(), StoreError>;

    /// Appends a review of experiment `name`; fails with a [`NoSuchExperiment`] source when it has
    /// no hypothesis.
    async fn add_review(&self, name: &PracticeName, review: &Review) -> Result<(), StoreError>;

    /// The sync cursors saved under `scope` (e.g. one GitHub repository): key → value, both opaque
    /// to the store. Empty for a scope never saved.
    async fn sync_state(&self, scope: &str) -> Result<BTreeMap<String, String>, StoreError>;

    /// [`Store::apply`]s `batch` and saves `state` under `scope` in the same transaction: each key
    /// is inserted or replaced, keys not in `state` are kept. So a sync's records and the cursors
    /// that say what it fetched are stored together or not at all.
    async fn apply_synced(
        &self,
        batch: &EventBatch,
        scope: &str,
        state: &BTreeMap<String, String>,
    ) -> Result<ApplySummary, StoreError>;

    /// Saves self-assessment answers in one transaction: an answer to the same capability
    /// statement on the same day replaces the stored one (`updated`, or `unchanged` when equal);
    /// another day adds a row (`inserted`), so earlier assessments are kept.
    async fn save_assessment(
        &self,
        answers: &[CapabilityAnswer],
    ) -> Result<WriteCounts, StoreError>;

    /// Every stored self-assessment answer, ordered by day, capability, then statement.
    async fn assessments(&self) -> Result<Vec<CapabilityAnswer>, StoreError>;
}
