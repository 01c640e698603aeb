//! `POST /hooks/{github,gitlab,pagerduty,cdevents}`: authenticate, store, acknowledge.
//!
//! Nothing is parsed here beyond what finding the delivery id needs: a delivery the parsers
//! cannot read is still stored (and later shown as failed with the parser's error), because a
//! sender that gets 4xx answers disables its hook (GitLab does after a few), and a delivery
//! answered 2xx must never vanish. Credentials are never stored: only the headers the parsers
//! read are kept.

// A handler's early answer is a whole `Response`: boxing it would only add noise.
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use shiplog_store::{NewDelivery, StoredDelivery};

use crate::AppState;
use crate::api::{RawBody, error_response};
use crate::auth::{self, HeaderLookup};

/// A webhook source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HookSource {
    GitHub,
    GitLab,
    PagerDuty,
    CdEvents,
}

impl HookSource {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            HookSource::GitHub => "github",
            HookSource::GitLab => "gitlab",
            HookSource::PagerDuty => "pagerduty",
            HookSource::CdEvents => "cdevents",
        }
    }
}

/// Headers kept with a delivery: what the parsers read, never a credential.
fn kept(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(
        name.as_str(),
        "content-type"
            | "user-agent"
            | "x-github-event"
            | "x-github-delivery"
            | "x-github-hook-id"
            | "x-gitlab-event"
            | "x-gitlab-event-uuid"
            | "x-gitlab-webhook-uuid"
            | "idempotency-key"
            | "x-webhook-id"
            | "x-webhook-subscription"
            | "webhook-id"
            | "webhook-timestamp"
    ) || name.starts_with("ce-")
}

/// The media type of a `Content-Type` value, lowercased, without parameters.
fn media_type(headers: &HeaderMap) -> Option<String> {
    headers.header("content-type").map(|v| {
        v.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    })
}

/// Refuses bodies that are not JSON (415), saying what to configure.
fn check_content_type(source: HookSource, headers: &HeaderMap) -> Result<(), Response> {
    let media = media_type(headers);
    let ok = matches!(
        (source, media.as_deref()),
        (_, Some("application/json"))
            | (HookSource::CdEvents, Some("application/cloudevents+json"))
    );
    if ok {
        return Ok(());
    }
    let hint = match source {
        HookSource::GitHub => {
            "; in the webhook's settings on GitHub choose Content type: application/json"
        }
        HookSource::CdEvents => {
            " or application/cloudevents+json (structured mode); batches are not supported"
        }
        _ => "",
    };
    Err(error_response(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        format!(
            "expected Content-Type: application/json{hint}; got {}",
            media.map_or_else(|| "none".to_owned(), |m| format!("{m:?}"))
        ),
    ))
}

/// The source's id for this delivery, which makes a re-delivery a duplicate.
fn delivery_id(source: HookSource, headers: &HeaderMap, body: &[u8]) -> Option<String> {
    let h = |name: &str| {
        headers
            .header(name)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    match source {
        HookSource::GitHub => h("x-github-delivery"),
        HookSource::GitLab => h("idempotency-key")
            .or_else(|| h("x-gitlab-event-uuid"))
            .or_else(|| h("webhook-id")),
        HookSource::PagerDuty => h("x-webhook-id").or_else(|| {
            let doc: serde_json::Value = serde_json::from_slice(body).ok()?;
            doc.pointer("/event/id")?.as_str().map(str::to_owned)
        }),
        HookSource::CdEvents => {
            if let (Some(src), Some(id)) = (h("ce-source"), h("ce-id")) {
                return Some(format!("{src} {id}"));
            }
            let doc: serde_json::Value = serde_json::from_slice(body).ok()?;
            let pick = |a: &str, b: &str| {
                doc.pointer(a)
                    .or_else(|| doc.pointer(b))
                    .and_then(|v| v.as_str())
                    .map(str::to_owned)
            };
            Some(format!(
                "{} {}",
                pick("/source", "/context/source")?,
                pick("/id", "/context/id")?
            ))
        }
    }
}

fn authenticate(
    state: &AppState,
    source: HookSource,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), auth::Refused> {
    let s = &state.config.secrets;
    match source {
        HookSource::GitHub if !s.github.is_empty() => auth::github(&s.github, headers, body),
        HookSource::GitLab if !(s.gitlab_tokens.is_empty() && s.gitlab_signing.is_empty()) => {
            auth::gitlab(
                &s.gitlab_tokens,
                &s.gitlab_signing,
                headers,
                body,
                Timestamp::now().as_second(),
            )
        }
        HookSource::PagerDuty if !s.pagerduty.is_empty() => {
            auth::pagerduty(&s.pagerduty, headers, body)
        }
        HookSource::CdEvents if !s.cdevents.is_empty() => auth::bearer(&s.cdevents, headers),
        // No secret: allowed only on a loopback address (checked when the server binds).
        _ => Ok(()),
    }
}

/// Receives one delivery of `source`.
pub(crate) async fn receive(
    source: HookSource,
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Response {
    let name = source.as_str();
    if let Err(refused) = authenticate(&state, source, &headers, &body) {
        state.telemetry.received(name, "rejected");
        tracing::warn!(source = name, reason = %refused, "webhook refused");
        return error_response(StatusCode::UNAUTHORIZED, refused.0);
    }
    if let Err(response) = check_content_type(source, &headers) {
        state.telemetry.received(name, "rejected");
        return response;
    }
    let delivery = NewDelivery {
        source: name.to_owned(),
        delivery_id: delivery_id(source, &headers, &body),
        received_at: Timestamp::now(),
        headers: headers
            .iter()
            .filter(|(n, _)| kept(n.as_str()))
            .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect(),
        body: body.to_vec(),
    };
    // Kept for the log line; the delivery itself (up to 25 MB) moves to the writer uncopied.
    let delivery_id = delivery.delivery_id.clone();
    match state.committer.store(delivery).await {
        Ok(StoredDelivery::New(seq)) => {
            state.telemetry.received(name, "stored");
            state.wake.notify_one();
            tracing::debug!(source = name, seq, "delivery stored");
            (
                StatusCode::ACCEPTED,
                axum::Json(serde_json::json!({"delivery": seq, "duplicate": false})),
            )
                .into_response()
        }
        Ok(StoredDelivery::Duplicate(seq)) => {
            state.telemetry.received(name, "duplicate");
            tracing::info!(source = name, seq, delivery_id = ?delivery_id, "duplicate delivery: already stored");
            (
                StatusCode::OK,
                axum::Json(serde_json::json!({"delivery": seq, "duplicate": true})),
            )
                .into_response()
        }
        Err(e) => {
            state.telemetry.received(name, "error");
            tracing::error!(source = name, error = %e, "cannot store a delivery");
            // 5xx: the sender retries; nothing was acknowledged.
            error_response(
                StatusCode::SERVICE_UNAVAILABLE,
                "the delivery could not be stored; retry later".to_owned(),
            )
        }
    }
}

/// A delivery waiting for its commit, and where to say how it went.
type Pending = (
    NewDelivery,
    tokio::sync::oneshot::Sender<Result<StoredDelivery, String>>,
);

/// Group commit: deliveries arriving together are stored in one transaction (one disk flush),
/// and each request is answered only once its delivery is committed. Under load this turns N
/// flushes into one; alone, a delivery is committed at once.
pub(crate) struct Committer {
    queue: tokio::sync::mpsc::Sender<Pending>,
}

/// The most deliveries committed together.
const GROUP: usize = 256;

impl Committer {
    /// Starts the committing task on `store`.
    pub(crate) fn start(store: std::sync::Arc<dyn shiplog_store::ServerStore>) -> Committer {
        let (queue, mut incoming) = tokio::sync::mpsc::channel::<Pending>(4 * GROUP);
        tokio::spawn(async move {
            let mut group: Vec<Pending> = Vec::with_capacity(GROUP);
            while incoming.recv_many(&mut group, GROUP).await > 0 {
                let (deliveries, answers): (Vec<NewDelivery>, Vec<_>) =
                    std::mem::take(&mut group).into_iter().unzip();
                match store.store_deliveries(&deliveries).await {
                    Ok(stored) => {
                        for (answer, result) in answers.into_iter().zip(stored) {
                            let _ = answer.send(Ok(result));
                        }
                    }
                    Err(e) => {
                        let text = e.to_string();
                        for answer in answers {
                            let _ = answer.send(Err(text.clone()));
                        }
                    }
                }
            }
        });
        Committer { queue }
    }

    /// Stores `delivery`, returning once it is committed.
    pub(crate) async fn store(&self, delivery: NewDelivery) -> Result<StoredDelivery, String> {
        let (answer, result) = tokio::sync::oneshot::channel();
        self.queue
            .send((delivery, answer))
            .await
            .map_err(|_| "the server is stopping".to_owned())?;
        result
            .await
            .map_err(|_| "the store's writer stopped".to_owned())?
    }
}
