//! What the team server stores beside the records: webhook deliveries (kept before they are
//! acknowledged, processed after) and API tokens.
//!
//! A delivery is committed durably by [`ServerStore::store_delivery`] before the server answers
//! 2xx, so an acknowledged delivery is never lost; turning it into records happens later, from the
//! stored bytes, by whichever server process [`ServerStore::claim_deliveries`] gives it to. Claims
//! are leases: a process killed mid-way leaves its claims to expire, and another (or the same,
//! restarted) process picks them up. [`ServerStore::finish_delivery`] writes the delivery's records
//! and its outcome in one transaction, so a delivery is either still to do or done with its
//! records, never half.

use async_trait::async_trait;
use jiff::Timestamp;

use crate::{ApplySummary, EventBatch, Store, StoreError};

/// Where a delivery is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeliveryState {
    /// Stored, not yet processed (or claimed by a process whose lease has not run out).
    Pending,
    /// Processed into records.
    Accepted,
    /// Processed: nothing in it is a record (an event shiplog does not use, a deployment still
    /// running); the detail says why.
    Ignored,
    /// Processing failed (bad payload, unknown service); kept as a dead letter with its error, to
    /// be reprocessed after a fix.
    Failed,
}

impl DeliveryState {
    /// Every state, in order.
    pub const ALL: [DeliveryState; 4] = [
        DeliveryState::Pending,
        DeliveryState::Accepted,
        DeliveryState::Ignored,
        DeliveryState::Failed,
    ];

    /// The name stored and shown: `pending`, `accepted`, `ignored`, `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Accepted => "accepted",
            DeliveryState::Ignored => "ignored",
            DeliveryState::Failed => "failed",
        }
    }

    /// The state named `name` (see [`DeliveryState::as_str`]).
    pub fn parse(name: &str) -> Option<DeliveryState> {
        DeliveryState::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl std::fmt::Display for DeliveryState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A delivery as received, to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    /// The hook it came to: `github`, `gitlab`, `pagerduty`, `cdevents`, or `api` for
    /// `POST /api/v1/events`.
    pub source: String,
    /// The source's delivery id (`X-GitHub-Delivery`, GitLab's idempotency key or event UUID,
    /// PagerDuty's `X-Webhook-Id`, CloudEvents `source` + `id`). A second delivery with the same
    /// source and id is a duplicate: not stored again.
    pub delivery_id: Option<String>,
    /// When the server received it.
    pub received_at: Timestamp,
    /// The request headers that matter for parsing (event type, content type), never credentials.
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: Vec<u8>,
}

/// What [`ServerStore::store_delivery`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredDelivery {
    /// Stored under this sequence number.
    New(i64),
    /// A delivery with the same source and delivery id was stored before, under this number.
    Duplicate(i64),
}

/// A stored delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    /// The store's sequence number, increasing in order of arrival.
    pub seq: i64,
    /// See [`NewDelivery::source`].
    pub source: String,
    /// See [`NewDelivery::delivery_id`].
    pub delivery_id: Option<String>,
    /// When it was received.
    pub received_at: Timestamp,
    /// Its state.
    pub state: DeliveryState,
    /// Why it was ignored or failed, or what it became when accepted.
    pub detail: Option<String>,
    /// When it was last processed.
    pub processed_at: Option<Timestamp>,
    /// How many times processing was started.
    pub attempts: i64,
    /// Times a duplicate of it arrived (and was answered 2xx without being stored again).
    pub duplicates: i64,
    /// Its headers.
    pub headers: Vec<(String, String)>,
    /// Its body's length in bytes.
    pub body_len: i64,
    /// Its body: empty in the lists of [`ServerStore::deliveries`], whole from
    /// [`ServerStore::delivery`] and [`ServerStore::claim_deliveries`].
    pub body: Vec<u8>,
}

/// Which deliveries [`ServerStore::deliveries`] lists, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryFilter {
    /// Only this state.
    pub state: Option<DeliveryState>,
    /// Only this source.
    pub source: Option<String>,
    /// Only deliveries with a sequence number below this (paging).
    pub before_seq: Option<i64>,
    /// At most this many (0: the backend's default of 100).
    pub limit: u32,
}

/// Deliveries counted by source and state, for the Prometheus scrape and the ingest page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryCount {
    /// The source.
    pub source: String,
    /// The state.
    pub state: DeliveryState,
    /// How many deliveries.
    pub count: i64,
    /// How many duplicates of them arrived.
    pub duplicates: i64,
}

/// What an API token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TokenScope {
    /// Read metrics, explanations, the ingest log.
    Read,
    /// Post events (`POST /api/v1/events`, `shiplog record --server`); also read.
    EventsWrite,
    /// Everything, including reprocessing deliveries.
    Admin,
}

impl TokenScope {
    /// Every scope, weakest first.
    pub const ALL: [TokenScope; 3] = [TokenScope::Read, TokenScope::EventsWrite, TokenScope::Admin];

    /// The name stored and given to `--scope`: `read`, `events:write`, `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::Read => "read",
            TokenScope::EventsWrite => "events:write",
            TokenScope::Admin => "admin",
        }
    }

    /// The scope named `name`.
    pub fn parse(name: &str) -> Option<TokenScope> {
        TokenScope::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether a token of this scope may do what `needed` allows.
    pub fn allows(self, needed: TokenScope) -> bool {
        self >= needed
    }
}

impl std::fmt::Display for TokenScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored API token: its hash, never the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// Its unique name (`ci`, `dashboard`).
    pub name: String,
    /// What it may do.
    pub scope: TokenScope,
    /// The SHA-256 of the token, hex.
    pub hash: String,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it was revoked, if it was.
    pub revoked_at: Option<Timestamp>,
}

/// Held while one delivery is read, merged with the records it updates, and written (see
/// [`ServerStore::lock_processing`]); dropping it lets the next process in.
pub trait ProcessingLock: Send {}

/// No lock: the backend is used by one process at a time.
impl ProcessingLock for () {}

/// The server's tables, on every backend. Every method is atomic.
#[async_trait]
pub trait ServerStore: Store {
    /// Waits until no other server process is processing a delivery on this store, and keeps the
    /// others out until the returned guard is dropped (or this process dies).
    ///
    /// Why: a delivery that updates an incident or a pull request is merged with the stored record
    /// (`resolved_at` from one delivery, `opened_at` from an earlier one); two processes merging
    /// updates of one record at the same instant would each write their own merge, and the last
    /// write would lose the other's fields. Processing is short; acknowledging webhooks is never
    /// held up by this lock. The default is no lock, right for a backend that one process uses.
    async fn lock_processing(&self) -> Result<Box<dyn ProcessingLock>, StoreError> {
        Ok(Box::new(()))
    }

    /// Stores `delivery` durably (committed when this returns), unless a delivery with the same
    /// source and delivery id is stored already: then counts one more duplicate of it.
    async fn store_delivery(&self, delivery: &NewDelivery) -> Result<StoredDelivery, StoreError>;

    /// Stores several deliveries in one commit (the server's group commit under load): each
    /// result is what [`ServerStore::store_delivery`] would have returned for it, taken in order
    /// (so a repeated id within the slice is a duplicate of its first). Backends store them in one
    /// transaction, all or none; the default stores them one by one.
    async fn store_deliveries(
        &self,
        deliveries: &[NewDelivery],
    ) -> Result<Vec<StoredDelivery>, StoreError> {
        let mut stored = Vec::with_capacity(deliveries.len());
        for delivery in deliveries {
            stored.push(self.store_delivery(delivery).await?);
        }
        Ok(stored)
    }

    /// Claims up to `limit` deliveries for processing, oldest first: pending ones nobody holds, or
    /// whose holder's lease ended before `now`. Each claimed delivery is leased to `worker` until
    /// `lease_until` and its `attempts` go up by one. Two callers never get the same delivery while
    /// its lease runs (PostgreSQL: row locks with `SKIP LOCKED`).
    async fn claim_deliveries(
        &self,
        worker: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<DeliveryRecord>, StoreError>;

    /// Records the outcome of processing delivery `seq` (`state` is not `Pending`), applying
    /// `batch` in the same transaction. Returns what the batch changed.
    async fn finish_delivery(
        &self,
        seq: i64,
        state: DeliveryState,
        detail: &str,
        processed_at: Timestamp,
        batch: &EventBatch,
    ) -> Result<ApplySummary, StoreError>;

    /// Puts deliveries back to pending (their lease cleared) to be processed again: the one
    /// numbered `seq`, or with `None` every failed one. Returns how many.
    async fn requeue_deliveries(&self, seq: Option<i64>) -> Result<u64, StoreError>;

    /// The delivery numbered `seq`, with its body.
    async fn delivery(&self, seq: i64) -> Result<Option<DeliveryRecord>, StoreError>;

    /// Deliveries matching `filter`, newest first, without bodies.
    async fn deliveries(&self, filter: &DeliveryFilter) -> Result<Vec<DeliveryRecord>, StoreError>;

    /// Deliveries counted by source and state.
    async fn delivery_counts(&self) -> Result<Vec<DeliveryCount>, StoreError>;

    /// When the oldest pending delivery was received (for the processing-lag gauge).
    async fn oldest_pending(&self) -> Result<Option<Timestamp>, StoreError>;

    /// Stores a new token. Fails when a token of that name exists (revoked or not).
    async fn create_token(&self, token: &TokenRecord) -> Result<(), StoreError>;

    /// Every token, by name.
    async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError>;

    /// The unrevoked token whose hash is `hash`.
    async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError>;

    /// Revokes the token named `name` at `at`. Returns whether an unrevoked token had that name.
    async fn revoke_token(&self, name: &str, at: Timestamp) -> Result<bool, StoreError>;
}
