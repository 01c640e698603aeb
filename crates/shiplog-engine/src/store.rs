//! The store a command or the server uses: the SQLite file (`--db PATH`, the default) or a PostgreSQL
//! database (`--db postgres://...`, the team server's shared store), behind the one `Store`
//! contract so every command works on either.

use std::collections::BTreeMap;

use async_trait::async_trait;
use jiff::Timestamp;
use shiplog_core::experiment::{Experiment, Hypothesis, Review};
use shiplog_core::{Deployment, Incident, PracticeChange, PracticeName, PullRequest};
use shiplog_store::{
    ApplySummary, DeliveryCount, DeliveryFilter, DeliveryRecord, DeliveryState, EventBatch,
    HistorySegment, NewDelivery, ServerStore, Store, StoreError, StoredDelivery, TokenRecord,
    WriteCounts,
};
use shiplog_store_postgres::PostgresStore;
use shiplog_store_sqlite::SqliteStore;

/// Either backend.
#[derive(Debug, Clone)]
pub enum AnyStore {
    /// A SQLite file.
    Sqlite(SqliteStore),
    /// A PostgreSQL database.
    Postgres(PostgresStore),
}

/// Whether `location` names a PostgreSQL database rather than a file.
pub fn is_postgres_url(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

impl AnyStore {
    /// Where it is, for messages (a PostgreSQL URL without its password).
    pub fn location(&self) -> String {
        match self {
            AnyStore::Sqlite(s) => s.path().display().to_string(),
            AnyStore::Postgres(p) => p.location().to_owned(),
        }
    }
}

macro_rules! delegate {
    ($self:ident, $s:ident => $call:expr) => {
        match $self {
            AnyStore::Sqlite($s) => $call,
            AnyStore::Postgres($s) => $call,
        }
    };
}

#[async_trait]
impl Store for AnyStore {
    async fn apply(&self, batch: &EventBatch) -> Result<ApplySummary, StoreError> {
        delegate!(self, s => s.apply(batch).await)
    }
    async fn deployments(&self) -> Result<Vec<Deployment>, StoreError> {
        delegate!(self, s => s.deployments().await)
    }
    async fn incidents(&self) -> Result<Vec<Incident>, StoreError> {
        delegate!(self, s => s.incidents().await)
    }
    async fn practice_changes(&self) -> Result<Vec<PracticeChange>, StoreError> {
        delegate!(self, s => s.practice_changes().await)
    }
    async fn pull_requests(&self) -> Result<Vec<PullRequest>, StoreError> {
        delegate!(self, s => s.pull_requests().await)
    }
    async fn history(&self, repository: &str) -> Result<Vec<HistorySegment>, StoreError> {
        delegate!(self, s => s.history(repository).await)
    }
    async fn append_history(
        &self,
        repository: &str,
        segment: &HistorySegment,
    ) -> Result<(), StoreError> {
        delegate!(self, s => s.append_history(repository, segment).await)
    }
    async fn replace_history(
        &self,
        repository: &str,
        segments: &[HistorySegment],
    ) -> Result<(), StoreError> {
        delegate!(self, s => s.replace_history(repository, segments).await)
    }
    async fn experiments(&self) -> Result<Vec<Experiment>, StoreError> {
        delegate!(self, s => s.experiments().await)
    }
    async fn add_hypothesis(
        &self,
        name: &PracticeName,
        hypothesis: &Hypothesis,
        practice: Option<&PracticeChange>,
    ) -> Result<(), StoreError> {
        delegate!(self, s => s.add_hypothesis(name, hypothesis, practice).await)
    }
    async fn add_review(&self, name: &PracticeName, review: &Review) -> Result<(), StoreError> {
        delegate!(self, s => s.add_review(name, review).await)
    }
    async fn sync_state(&self, scope: &str) -> Result<BTreeMap<String, String>, StoreError> {
        delegate!(self, s => s.sync_state(scope).await)
    }
    async fn save_assessment(
        &self,
        answers: &[shiplog_core::CapabilityAnswer],
    ) -> Result<WriteCounts, StoreError> {
        delegate!(self, s => s.save_assessment(answers).await)
    }
    async fn assessments(&self) -> Result<Vec<shiplog_core::CapabilityAnswer>, StoreError> {
        delegate!(self, s => s.assessments().await)
    }
    async fn apply_synced(
        &self,
        batch: &EventBatch,
        scope: &str,
        state: &BTreeMap<String, String>,
    ) -> Result<ApplySummary, StoreError> {
        delegate!(self, s => s.apply_synced(batch, scope, state).await)
    }
}

#[async_trait]
impl ServerStore for AnyStore {
    async fn lock_processing(&self) -> Result<Box<dyn shiplog_store::ProcessingLock>, StoreError> {
        delegate!(self, s => s.lock_processing().await)
    }
    async fn store_delivery(&self, delivery: &NewDelivery) -> Result<StoredDelivery, StoreError> {
        delegate!(self, s => s.store_delivery(delivery).await)
    }
    async fn store_deliveries(
        &self,
        deliveries: &[NewDelivery],
    ) -> Result<Vec<StoredDelivery>, StoreError> {
        delegate!(self, s => s.store_deliveries(deliveries).await)
    }
    async fn claim_deliveries(
        &self,
        worker: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        delegate!(self, s => s.claim_deliveries(worker, now, lease_until, limit).await)
    }
    async fn finish_delivery(
        &self,
        seq: i64,
        state: DeliveryState,
        detail: &str,
        processed_at: Timestamp,
        batch: &EventBatch,
    ) -> Result<ApplySummary, StoreError> {
        delegate!(self, s => s.finish_delivery(seq, state, detail, processed_at, batch).await)
    }
    async fn requeue_deliveries(&self, seq: Option<i64>) -> Result<u64, StoreError> {
        delegate!(self, s => s.requeue_deliveries(seq).await)
    }
    async fn delivery(&self, seq: i64) -> Result<Option<DeliveryRecord>, StoreError> {
        delegate!(self, s => s.delivery(seq).await)
    }
    async fn deliveries(&self, filter: &DeliveryFilter) -> Result<Vec<DeliveryRecord>, StoreError> {
        delegate!(self, s => s.deliveries(filter).await)
    }
    async fn delivery_counts(&self) -> Result<Vec<DeliveryCount>, StoreError> {
        delegate!(self, s => s.delivery_counts().await)
    }
    async fn oldest_pending(&self) -> Result<Option<Timestamp>, StoreError> {
        delegate!(self, s => s.oldest_pending().await)
    }
    async fn create_token(&self, token: &TokenRecord) -> Result<(), StoreError> {
        delegate!(self, s => s.create_token(token).await)
    }
    async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        delegate!(self, s => s.tokens().await)
    }
    async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        delegate!(self, s => s.token_by_hash(hash).await)
    }
    async fn revoke_token(&self, name: &str, at: Timestamp) -> Result<bool, StoreError> {
        delegate!(self, s => s.revoke_token(name, at).await)
    }
}
