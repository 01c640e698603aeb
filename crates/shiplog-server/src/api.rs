//! The routes: webhooks, the JSON API under `/api/v1`, the ingest log page, health checks and the
//! Prometheus scrape. Every route but the health checks needs a token of the right scope once any
//! token exists (`Authorization: Bearer <token>`; 401 without one, 403 with a weaker one).

// A handler's early answer is a whole `Response`: boxing it would only add noise.
#![allow(clippy::result_large_err)]

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, MatchedPath, Path, Query as QueryParams, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use jiff::Timestamp;
use shiplog_store::{DeliveryFilter, DeliveryRecord, DeliveryState, TokenScope};
use tower_http::timeout::RequestBodyTimeoutLayer;

use crate::auth::{self, HeaderLookup};
use crate::hooks::{self, HookSource};
use crate::{AppState, BODY_TIMEOUT, EngineError, MAX_BODY_BYTES, Query};

/// A JSON error answer: `{"error": "...", "status": N}`.
pub(crate) fn error_response(status: StatusCode, message: String) -> Response {
    (
        status,
        axum::Json(serde_json::json!({"error": message, "status": status.as_u16()})),
    )
        .into_response()
}

pub(crate) fn engine_error(e: EngineError) -> Response {
    match e {
        EngineError::BadInput(m) => error_response(StatusCode::BAD_REQUEST, m),
        EngineError::Internal(m) => {
            tracing::error!(error = %m, "engine failure");
            error_response(StatusCode::INTERNAL_SERVER_ERROR, m)
        }
    }
}

fn store_error(e: shiplog_store::StoreError) -> Response {
    tracing::error!(error = %e, "store failure");
    error_response(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
}

/// Checks the request's token allows `needed`.
pub(crate) async fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    needed: TokenScope,
) -> Result<(), Response> {
    match state.auth_required().await {
        Ok(false) => return Ok(()),
        Ok(true) => {}
        Err(e) => return Err(store_error(e)),
    }
    // The dashboard's cookie grants reads only: a form on another site cannot make a browser
    // write with it (and it is SameSite=Strict besides).
    let bearer = headers
        .header("authorization")
        .and_then(|v| v.strip_prefix("Bearer "));
    let cookie = || {
        (needed == TokenScope::Read)
            .then(|| crate::dashboard::token_cookie(headers))
            .flatten()
    };
    let Some(token) = bearer.or_else(cookie) else {
        return Err(error_response(
            StatusCode::UNAUTHORIZED,
            format!(
                "this endpoint needs a token of scope {needed}: send `Authorization: Bearer <token>` (create one with `shiplog serve token create`)"
            ),
        ));
    };
    match state
        .store
        .token_by_hash(&auth::token_hash(token.trim()))
        .await
    {
        Ok(Some(t)) if t.scope.allows(needed) => Ok(()),
        Ok(Some(t)) => Err(error_response(
            StatusCode::FORBIDDEN,
            format!(
                "the token {:?} has scope {}; this endpoint needs {needed}",
                t.name, t.scope
            ),
        )),
        Ok(None) => Err(error_response(
            StatusCode::UNAUTHORIZED,
            "the token is unknown or revoked".to_owned(),
        )),
        Err(e) => Err(store_error(e)),
    }
}

/// Records each request's duration by its route pattern (never its concrete path: no ids in
/// labels).
async fn timed(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    state.telemetry.request(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

pub(crate) fn router(state: Arc<AppState>) -> Router {
    let hook = |source: HookSource| post(move |s, h, b| hooks::receive(source, s, h, b));
    Router::new()
        .route("/hooks/github", hook(HookSource::GitHub))
        .route("/hooks/gitlab", hook(HookSource::GitLab))
        .route("/hooks/pagerduty", hook(HookSource::PagerDuty))
        .route("/hooks/cdevents", hook(HookSource::CdEvents))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(scrape))
        .route("/ingest", get(ingest_page))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/events", post(events))
        .route(
            "/api/v1/metrics",
            get(|s, h, q| read(Query::Metrics, s, h, q)),
        )
        .route(
            "/api/v1/explain/{what}",
            get(|Path(what): Path<String>, s, h, q| read(Query::Explain(what), s, h, q)),
        )
        .route(
            "/api/v1/impact/{practice}",
            get(|Path(p): Path<String>, s, h, q| read(Query::Impact(p), s, h, q)),
        )
        .route(
            "/api/v1/practices",
            get(|s, h, q| read(Query::Practices, s, h, q)),
        )
        .route(
            "/api/v1/services",
            get(|s, h, q| read(Query::Services, s, h, q)),
        )
        .merge(crate::dashboard::routes())
        .route("/api/v1/deliveries", get(list_deliveries))
        .route("/api/v1/deliveries/{seq}", get(one_delivery))
        .route("/api/v1/deliveries/{seq}/reprocess", post(reprocess_one))
        .route(
            "/api/v1/deliveries/reprocess-failed",
            post(reprocess_failed),
        )
        .fallback(|| async {
            error_response(
                StatusCode::NOT_FOUND,
                "no such endpoint; see /api/v1/openapi.json".to_owned(),
            )
        })
        .layer(middleware::from_fn_with_state(state.clone(), timed))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(RequestBodyTimeoutLayer::new(BODY_TIMEOUT))
        .with_state(state)
}

async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    if state.stopping.load(std::sync::atomic::Ordering::Relaxed) {
        return error_response(StatusCode::SERVICE_UNAVAILABLE, "shutting down".to_owned());
    }
    match state.store.oldest_pending().await {
        Ok(_) => (StatusCode::OK, "ready\n").into_response(),
        Err(e) => store_error(e),
    }
}

async fn scrape(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Err(r) = authorize(&state, &headers, TokenScope::Read).await {
        return r;
    }
    let counts = match state.store.delivery_counts().await {
        Ok(c) => c,
        Err(e) => return store_error(e),
    };
    let oldest = match state.store.oldest_pending().await {
        Ok(o) => o.map_or(0.0, |t| {
            Timestamp::now().duration_since(t).as_secs_f64().max(0.0)
        }),
        Err(e) => return store_error(e),
    };
    let gauges = match state.engine.gauges().await {
        Ok(g) => g,
        Err(e) => return engine_error(e),
    };
    match crate::prom::encode(&state.telemetry, &counts, oldest, &gauges) {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(_) => error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            "cannot encode the metrics".to_owned(),
        ),
    }
}

async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::openapi::DOCUMENT,
    )
        .into_response()
}

/// `POST /api/v1/events`: records in the import schema, stored all or nothing; the answer says
/// what changed, or every problem with its line and field.
async fn events(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    QueryParams(params): QueryParams<Vec<(String, String)>>,
    RawBody(body): RawBody,
) -> Response {
    if let Err(r) = authorize(&state, &headers, TokenScope::EventsWrite).await {
        return r;
    }
    let batch = match state.engine.events(&body, &params).await {
        Ok(b) => b,
        Err(EngineError::BadInput(m)) => {
            return error_response(StatusCode::UNPROCESSABLE_ENTITY, m);
        }
        Err(e) => return engine_error(e),
    };
    match state.store.apply(&batch).await {
        Ok(summary) => {
            state.answers.invalidate();
            let counts = |c: shiplog_store::WriteCounts| serde_json::json!({"new": c.inserted, "updated": c.updated, "unchanged": c.unchanged});
            axum::Json(serde_json::json!({
                "deployments": counts(summary.deployments),
                "incidents": counts(summary.incidents),
                "practice_changes": counts(summary.practice_changes),
                "pull_requests": counts(summary.pull_requests),
            }))
            .into_response()
        }
        Err(e) => store_error(e),
    }
}

/// A read answered by the engine with the JSON the CLI prints.
async fn read(
    query: Query,
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    QueryParams(params): QueryParams<Vec<(String, String)>>,
) -> Response {
    if let Err(r) = authorize(&state, &headers, TokenScope::Read).await {
        return r;
    }
    match crate::dashboard::answer(&state, query, &params).await {
        Ok(json) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        Err(r) => r,
    }
}

/// The answers of the read endpoints, kept until the data changes (the server's writes bump the
/// generation) or [`crate::ANSWER_TTL`] passes: a dashboard polling the same question every few
/// seconds costs one analysis per change, not one per poll.
#[derive(Default)]
pub(crate) struct AnswerCache {
    generation: std::sync::atomic::AtomicU64,
    answers: std::sync::Mutex<std::collections::HashMap<String, (Instant, u64, String)>>,
}

/// Answers kept at most (the cache is emptied when full).
const CACHED_ANSWERS: usize = 256;

impl AnswerCache {
    /// The data changed: every kept answer is stale.
    pub(crate) fn invalidate(&self) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(crate) fn get(&self, key: &str) -> Option<String> {
        let answers = self.answers.lock().ok()?;
        let (at, generation, json) = answers.get(key)?;
        (*generation == self.generation() && at.elapsed() < crate::ANSWER_TTL).then(|| json.clone())
    }

    /// Keeps `json`, computed from the data of `generation` (read before computing, so a write
    /// during the computation leaves the answer stale).
    pub(crate) fn put(&self, key: String, generation: u64, json: String) {
        if let Ok(mut answers) = self.answers.lock() {
            if answers.len() >= CACHED_ANSWERS {
                answers.clear();
            }
            answers.insert(key, (Instant::now(), generation, json));
        }
    }
}

fn delivery_json(d: &DeliveryRecord, with_body: bool) -> serde_json::Value {
    let mut v = serde_json::json!({
        "delivery": d.seq,
        "source": d.source,
        "delivery_id": d.delivery_id,
        "received_at": d.received_at.to_string(),
        "state": d.state.as_str(),
        "detail": d.detail,
        "processed_at": d.processed_at.map(|t| t.to_string()),
        "attempts": d.attempts,
        "duplicates": d.duplicates,
        "body_bytes": d.body_len,
        "headers": d.headers.iter().map(|(n, v)| serde_json::json!([n, v])).collect::<Vec<_>>(),
    });
    if with_body && let Some(map) = v.as_object_mut() {
        map.insert(
            "body".to_owned(),
            serde_json::Value::String(String::from_utf8_lossy(&d.body).into_owned()),
        );
    }
    v
}

#[derive(Debug, serde::Deserialize)]
struct ListParams {
    state: Option<String>,
    source: Option<String>,
    before: Option<i64>,
    limit: Option<u32>,
}

fn filter_of(params: ListParams) -> Result<DeliveryFilter, Response> {
    let state = match params.state.as_deref() {
        None | Some("") => None,
        Some(name) => Some(DeliveryState::parse(name).ok_or_else(|| {
            error_response(
                StatusCode::BAD_REQUEST,
                format!("state: expected pending, accepted, ignored or failed, got {name:?}"),
            )
        })?),
    };
    Ok(DeliveryFilter {
        state,
        source: params.source.filter(|s| !s.is_empty()),
        before_seq: params.before,
        limit: params.limit.unwrap_or(100).min(1000),
    })
}

/// `GET /api/v1/deliveries`: the ingest log, newest first.
async fn list_deliveries(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    QueryParams(params): QueryParams<ListParams>,
) -> Response {
    if let Err(r) = authorize(&state, &headers, TokenScope::Read).await {
        return r;
    }
    let filter = match filter_of(params) {
        Ok(f) => f,
        Err(r) => return r,
    };
    match state.store.deliveries(&filter).await {
        Ok(list) => axum::Json(serde_json::json!({
            "deliveries": list.iter().map(|d| delivery_json(d, false)).collect::<Vec<_>>(),
        }))
        .into_response(),
        Err(e) => store_error(e),
    }
}

/// `GET /api/v1/deliveries/{seq}`: one delivery with its body (admin: a body can hold names).
async fn one_delivery(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(seq): Path<i64>,
) -> Response {
    if let Err(r) = authorize(&state, &headers, TokenScope::Admin).await {
        return r;
    }
    match state.store.delivery(seq).await {
        Ok(Some(d)) => axum::Json(delivery_json(&d, true)).into_response(),
        Ok(None) => error_response(StatusCode::NOT_FOUND, format!("no delivery {seq}")),
        Err(e) => store_error(e),
    }
}

async fn reprocess_one(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(seq): Path<i64>,
) -> Response {
    requeue(&state, &headers, Some(seq)).await
}

async fn reprocess_failed(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    requeue(&state, &headers, None).await
}

/// Puts delivery `seq` (or, with `None`, every failed one) back to pending and wakes the
/// processor.
async fn requeue(state: &AppState, headers: &HeaderMap, seq: Option<i64>) -> Response {
    if let Err(r) = authorize(state, headers, TokenScope::Admin).await {
        return r;
    }
    match state.store.requeue_deliveries(seq).await {
        Ok(0) if seq.is_some() => error_response(
            StatusCode::NOT_FOUND,
            format!("no delivery {}", seq.unwrap_or_default()),
        ),
        Ok(n) => {
            state.wake.notify_one();
            axum::Json(serde_json::json!({"requeued": n})).into_response()
        }
        Err(e) => store_error(e),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `GET /ingest`: the ingest log as a page: per delivery, what became of it and why.
async fn ingest_page(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    QueryParams(params): QueryParams<ListParams>,
) -> Response {
    if let Err(r) = authorize(&state, &headers, TokenScope::Read).await {
        return r;
    }
    let filter = match filter_of(params) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let (list, counts) = match (
        state.store.deliveries(&filter).await,
        state.store.delivery_counts().await,
    ) {
        (Ok(l), Ok(c)) => (l, c),
        (Err(e), _) | (_, Err(e)) => return store_error(e),
    };
    let mut html = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>shiplog · ingest log</title>\
         <style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}\
         td,th{padding:4px 8px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}\
         .failed{color:#b00020}.ignored{color:#666}.pending{color:#a60}</style></head><body>\
         <h1>Ingest log</h1><p><a href=\"/\">All teams and services</a></p><p>Every delivery received, newest first: whether it became records, was a duplicate, was ignored or failed, and why. \
         Failed deliveries are kept and can be reprocessed (<code>shiplog serve reprocess</code>).</p><p>",
    );
    for c in &counts {
        html.push_str(&format!(
            "<span class=\"{}\">{} {}: {}</span> · ",
            c.state,
            escape(&c.source),
            c.state,
            c.count
        ));
    }
    html.push_str(
        "</p><table><thead><tr><th>#</th><th>received</th><th>source</th><th>delivery id</th><th>state</th><th>detail</th><th>duplicates</th></tr></thead><tbody>",
    );
    for d in &list {
        html.push_str(&format!(
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            d.state,
            d.seq,
            d.received_at,
            escape(&d.source),
            escape(d.delivery_id.as_deref().unwrap_or("")),
            d.state,
            escape(d.detail.as_deref().unwrap_or("")),
            d.duplicates
        ));
    }
    html.push_str("</tbody></table></body></html>");
    Html(html).into_response()
}

/// A request's whole body, with the rejections said as statuses a sender can act on: 413 over
/// [`MAX_BODY_BYTES`], 408 when the body did not arrive within [`BODY_TIMEOUT`], 400 otherwise —
/// each as a JSON error.
pub(crate) struct RawBody(pub Bytes);

impl<S: Send + Sync> axum::extract::FromRequest<S> for RawBody {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Bytes::from_request(request, state).await {
            Ok(bytes) => Ok(RawBody(bytes)),
            Err(rejection) => {
                let text = rejection.body_text();
                let status = if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    return Err(error_response(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        format!("the body is larger than the limit of {MAX_BODY_BYTES} bytes"),
                    ));
                } else if text.contains("timeout") {
                    StatusCode::REQUEST_TIMEOUT
                } else {
                    StatusCode::BAD_REQUEST
                };
                let message = if status == StatusCode::REQUEST_TIMEOUT {
                    format!(
                        "the body did not arrive within {} seconds",
                        BODY_TIMEOUT.as_secs()
                    )
                } else {
                    text
                };
                Err(error_response(status, message))
            }
        }
    }
}
