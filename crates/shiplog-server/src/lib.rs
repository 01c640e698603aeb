//! shiplog's team server: one always-on place that receives every delivery event as it happens
//! and answers "how are we delivering" for every service and team.
//!
//! The server is the HTTP edge and the bookkeeping around it — webhook authentication, deliveries
//! stored before they are acknowledged and processed after, the ingest log, API tokens, the
//! Prometheus scrape, graceful shutdown. It computes no metric itself: every number comes from an
//! [`Engine`], which the `shiplog` binary implements with the very code `shiplog metrics`,
//! `shiplog explain` and `shiplog import` run, so the API and the CLI cannot disagree.
//!
//! Data flow of a webhook: authenticate (401 and nothing stored when that fails) → store the raw
//! delivery durably ([`shiplog_store::ServerStore::store_delivery`]) → answer 202 → the
//! [`processor`] claims it, the engine turns it into records, and the records and the delivery's
//! outcome are written in one transaction.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use shiplog_store::{DeliveryRecord, DeliveryState, EventBatch, ServerStore, StoreError};

mod api;
pub mod auth;
pub mod config;
mod dashboard;
mod hooks;
mod openapi;
pub mod processor;
mod prom;

pub use config::{ConfigError, RepositoryConfig, ServerConfig};

/// Largest request body accepted (GitHub sends webhook payloads of up to 25 MB).
pub const MAX_BODY_BYTES: usize = 25 * 1024 * 1024;

/// How long an answer of a read endpoint is served again without recomputing it, at most: the
/// server's own writes (records from deliveries or `POST /api/v1/events`, a mirror fetch) make it
/// recompute at once; this bounds how stale an answer can be after writes by other processes, and
/// for windows that end "now".
pub const ANSWER_TTL: Duration = Duration::from_secs(30);

/// How long a client may take to send a whole request body before it is cut off (408).
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// What the engine made of one stored delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct Processed {
    /// `Accepted` when it held records, `Ignored` when it held none (the detail says why).
    pub state: DeliveryState,
    /// What it became ("1 deployment"), or why nothing was taken ("a GitHub push").
    pub detail: String,
    /// The records to write with the delivery's outcome.
    pub batch: EventBatch,
    /// The delivery announced new commits (a push): fetch the repository's mirror.
    pub fetch: bool,
}

/// An engine failure: the request's fault (400, with the CLI's own error text) or the server's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// The input is wrong; the text names what and where.
    #[error("{0}")]
    BadInput(String),
    /// Something else failed.
    #[error("{0}")]
    Internal(String),
}

/// A read the API passes to the engine: the endpoint and its query parameters as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// `GET /api/v1/metrics`.
    Metrics,
    /// `GET /api/v1/explain/{what}`.
    Explain(String),
    /// `GET /api/v1/impact/{practice}`.
    Impact(String),
    /// `GET /api/v1/practices`.
    Practices,
    /// `GET /api/v1/services`.
    Services,
    /// A page of the dashboard, as HTML.
    Page(Page),
    /// A table of a dashboard page as CSV (`GET /export/{table}.csv`): `metrics`, `trend`,
    /// `changes`, `deployments`, `failures` or `incidents`.
    Export(String),
}

/// A page of the dashboard: the report's page for a scope, or the list of every team and service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    /// `/`: every team and service with its headline metrics.
    Home,
    /// `/services/{name}`.
    Service(String),
    /// `/teams/{name}`.
    Team(String),
    /// `/practices/{name}`: the report around a practice change, with its impact story.
    Practice(String),
    /// `/guide`: `shiplog guide` for the scope the query names.
    Guide,
}

/// One DORA gauge value for the Prometheus scrape.
#[derive(Debug, Clone, PartialEq)]
pub struct GaugeSample {
    /// The metric's name, e.g. `shiplog_deployment_frequency_per_day`.
    pub name: &'static str,
    /// What it measures, for `# HELP`.
    pub help: &'static str,
    /// Service.
    pub service: String,
    /// Environment.
    pub environment: String,
    /// The team owning the service, or empty.
    pub team: String,
    /// The trailing window's label: `7d`, `28d`, `90d`.
    pub window: &'static str,
    /// The value (base units: seconds, ratios from 0 to 1, deployments per day).
    pub value: f64,
}

/// The trailing windows the Prometheus gauges cover.
pub const GAUGE_WINDOWS: [(&str, i64); 3] = [("7d", 7), ("28d", 28), ("90d", 90)];

/// The analysis behind the server. The `shiplog` binary implements it with the code of its
/// commands.
#[async_trait]
pub trait Engine: Send + Sync + 'static {
    /// Turns a stored delivery into records (the parsers of `shiplog import`, unchanged).
    async fn process(&self, delivery: &DeliveryRecord) -> Result<Processed, EngineError>;

    /// Reads `POST /api/v1/events`: the import schema (one record, JSON Lines, or CSV with
    /// `format=csv`), all or nothing. `params` are the request's query parameters
    /// (`format`, `name` for messages, `allow-before-commit`).
    async fn events(
        &self,
        body: &[u8],
        params: &[(String, String)],
    ) -> Result<EventBatch, EngineError>;

    /// Answers a read with the JSON `shiplog` prints for the same question.
    async fn query(
        &self,
        query: &Query,
        params: &[(String, String)],
    ) -> Result<String, EngineError>;

    /// The five metrics per service and environment over [`GAUGE_WINDOWS`] ending now, by the
    /// time each event happened.
    async fn gauges(&self) -> Result<Vec<GaugeSample>, EngineError>;

    /// Fetches the repositories' mirrors.
    async fn fetch(&self) -> Result<(), EngineError>;
}

/// A failure to start or run the server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The listening address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Listening on a non-loopback address with no API token.
    #[error(
        "refusing to listen on {0}, which is not a loopback address, while no API token exists: anyone who can reach it could read and write\nhint: create one first with `shiplog serve token create --name NAME --scope admin`, or listen on 127.0.0.1"
    )]
    NoToken(SocketAddr),
    /// Listening on a non-loopback address with a webhook source unauthenticated.
    #[error(
        "refusing to listen on {addr}, which is not a loopback address, while {sender} webhooks have no secret: anyone could post deliveries\nhint: set [sources.{sender}] in shiplog-server.toml (docs/server.md#webhooks)"
    )]
    Unauthenticated {
        /// The address.
        addr: SocketAddr,
        /// The source without a secret.
        sender: &'static str,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Serving failed.
    #[error("the server failed: {0}")]
    Serve(#[source] std::io::Error),
}

/// Everything a request handler needs.
pub(crate) struct AppState {
    pub store: Arc<dyn ServerStore>,
    pub engine: Arc<dyn Engine>,
    pub config: ServerConfig,
    /// Wakes the processor when a delivery is stored.
    pub wake: tokio::sync::Notify,
    /// Once a token exists, every API request needs one (sticky: tokens are never deleted).
    pub tokens_exist: AtomicBool,
    pub telemetry: prom::Telemetry,
    /// Stores webhook deliveries, committing those that arrive together at once.
    pub committer: hooks::Committer,
    /// Set when shutdown began: `/readyz` answers 503 so a load balancer stops sending.
    pub stopping: AtomicBool,
    /// Recent answers of the read endpoints (see [`api::AnswerCache`]).
    pub answers: api::AnswerCache,
}

impl AppState {
    /// Whether API requests must carry a token: once any token was created.
    pub(crate) async fn auth_required(&self) -> Result<bool, StoreError> {
        if self.tokens_exist.load(Ordering::Relaxed) {
            return Ok(true);
        }
        let exist = !self.store.tokens().await?.is_empty();
        if exist {
            self.tokens_exist.store(true, Ordering::Relaxed);
        }
        Ok(exist)
    }
}

/// A server bound to its address, ready to run.
pub struct Server {
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
}

impl Server {
    /// Binds `config.listen`, after checking it is safe to: on a non-loopback address, an API
    /// token must exist and every webhook source must have a secret.
    pub async fn bind(
        config: ServerConfig,
        store: Arc<dyn ServerStore>,
        engine: Arc<dyn Engine>,
    ) -> Result<Server, ServerError> {
        let addr = config.listen;
        let tokens_exist = !store.tokens().await?.is_empty();
        if !addr.ip().is_loopback() {
            if !tokens_exist {
                return Err(ServerError::NoToken(addr));
            }
            let s = &config.secrets;
            for (source, secrets) in [
                ("github", &s.github),
                ("pagerduty", &s.pagerduty),
                ("cdevents", &s.cdevents),
            ] {
                if secrets.is_empty() {
                    return Err(ServerError::Unauthenticated {
                        addr,
                        sender: source,
                    });
                }
            }
            if s.gitlab_tokens.is_empty() && s.gitlab_signing.is_empty() {
                return Err(ServerError::Unauthenticated {
                    addr,
                    sender: "gitlab",
                });
            }
        }
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| ServerError::Bind { addr, source })?;
        Ok(Server {
            listener,
            state: Arc::new(AppState {
                committer: hooks::Committer::start(store.clone()),
                store,
                engine,
                config,
                wake: tokio::sync::Notify::new(),
                tokens_exist: AtomicBool::new(tokens_exist),
                telemetry: prom::Telemetry::default(),
                stopping: AtomicBool::new(false),
                answers: api::AnswerCache::default(),
            }),
        })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> Result<SocketAddr, ServerError> {
        self.listener.local_addr().map_err(ServerError::Serve)
    }

    /// Serves until `shutdown` completes: then stops accepting, finishes in-flight requests and
    /// the delivery being processed, and returns.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let state = self.state;
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let processor = tokio::spawn(processor::run(state.clone(), stop_rx.clone()));
        let fetcher = tokio::spawn(processor::fetch_loop(state.clone(), stop_rx));
        let app = api::router(state.clone());
        let signal_state = state.clone();
        let result = axum::serve(
            self.listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            shutdown.await;
            signal_state.stopping.store(true, Ordering::Relaxed);
            tracing::info!("shutting down: no new connections; finishing in-flight requests");
        })
        .await;
        let _ = stop_tx.send(true);
        state.wake.notify_one();
        if let Err(e) = processor.await {
            tracing::error!(error = %e, "the delivery processor ended abnormally");
        }
        if let Err(e) = fetcher.await {
            tracing::error!(error = %e, "the mirror fetcher ended abnormally");
        }
        tracing::info!("stopped");
        result.map_err(ServerError::Serve)
    }
}
