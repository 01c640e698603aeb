//! Turning stored deliveries into records, after they were acknowledged.
//!
//! One loop per server process claims a few pending deliveries at a time (a lease: if the process
//! dies, the claim runs out and the delivery is claimed again, by this process restarted or by
//! another), hands each to the engine, and writes its records and its outcome in one transaction.
//! A delivery the engine cannot read is kept as failed, with the error, for `reprocess` after a
//! fix. The loop sleeps until a delivery arrives (or a second passes: another process may have
//! stored one).

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use shiplog_store::{DeliveryRecord, DeliveryState, EventBatch};
use tokio::sync::watch;

use crate::AppState;

/// Deliveries claimed at once.
const CLAIM: u32 = 32;

/// How long the loop sleeps with nothing to do when no delivery wakes it.
const IDLE: Duration = Duration::from_secs(1);

/// A name for this process's claims: host-less, unique enough (pid and a random part).
fn worker_name() -> String {
    let mut bytes = [0u8; 4];
    // A failure leaves zeros: the pid alone still tells processes on one host apart.
    let _ = getrandom::fill(&mut bytes);
    format!("{}-{}", std::process::id(), hex::encode(bytes))
}

/// Processes deliveries until `stop` turns true; the claimed deliveries in hand are finished first.
pub(crate) async fn run(state: Arc<AppState>, mut stop: watch::Receiver<bool>) {
    let worker = worker_name();
    loop {
        if *stop.borrow() {
            break;
        }
        let now = Timestamp::now();
        let lease = SignedDuration::try_from(state.config.processing_lease)
            .ok()
            .and_then(|d| now.checked_add(d).ok())
            .unwrap_or(now);
        match state
            .store
            .claim_deliveries(&worker, now, lease, CLAIM)
            .await
        {
            Ok(claimed) if !claimed.is_empty() => {
                for delivery in claimed {
                    process_one(&state, delivery).await;
                }
                continue;
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "cannot claim deliveries"),
        }
        tokio::select! {
            () = state.wake.notified() => {}
            () = tokio::time::sleep(IDLE) => {}
            _ = stop.changed() => {}
        }
    }
}

/// Processes one claimed delivery and records its outcome.
pub(crate) async fn process_one(state: &AppState, delivery: DeliveryRecord) {
    let started = Instant::now();
    let seq = delivery.seq;
    let source = delivery.source.clone();
    // Other processes on the same database wait until this delivery's merge is written.
    let processing = match state.store.lock_processing().await {
        Ok(lock) => lock,
        Err(e) => {
            // Left claimed: the lease runs out and it is tried again.
            tracing::error!(seq, error = %e, "cannot take the processing lock");
            return;
        }
    };
    let (outcome, detail, batch, fetch) = match state.engine.process(&delivery).await {
        Ok(p) => (p.state, p.detail, p.batch, p.fetch),
        Err(e) => (
            DeliveryState::Failed,
            e.to_string(),
            EventBatch::default(),
            false,
        ),
    };
    let now = Timestamp::now();
    let written = state
        .store
        .finish_delivery(seq, outcome, &detail, now, &batch)
        .await;
    let outcome = match written {
        Ok(summary) => {
            let changed = [
                summary.deployments,
                summary.incidents,
                summary.practice_changes,
                summary.pull_requests,
            ]
            .iter()
            .any(|c| c.inserted + c.updated > 0);
            if changed {
                state.answers.invalidate();
            }
            outcome
        }
        Err(e) => {
            let detail = format!("its records could not be stored: {e}");
            tracing::error!(seq, source, error = %e, "cannot store a delivery's records");
            if let Err(e) = state
                .store
                .finish_delivery(
                    seq,
                    DeliveryState::Failed,
                    &detail,
                    now,
                    &EventBatch::default(),
                )
                .await
            {
                // Left claimed: the lease runs out and it is tried again.
                tracing::error!(seq, error = %e, "cannot mark a delivery failed");
                return;
            }
            DeliveryState::Failed
        }
    };
    state
        .telemetry
        .processed(&source, outcome, started.elapsed());
    match outcome {
        DeliveryState::Failed => tracing::warn!(seq, source, detail, "delivery failed"),
        _ => tracing::debug!(seq, source, state = %outcome, detail, "delivery processed"),
    }
    drop(processing);
    let lag = now.duration_since(delivery.received_at);
    state.telemetry.lag(lag.as_secs_f64());
    if fetch {
        fetch_now(state).await;
    }
}

async fn fetch_now(state: &AppState) {
    match state.engine.fetch().await {
        Ok(()) => state.answers.invalidate(),
        Err(e) => tracing::warn!(error = %e, "cannot fetch the repository"),
    }
}

/// Fetches the mirrors every `fetch_interval` until `stop`.
pub(crate) async fn fetch_loop(state: Arc<AppState>, mut stop: watch::Receiver<bool>) {
    let every = state.config.fetch_interval;
    loop {
        tokio::select! {
            () = tokio::time::sleep(every) => fetch_now(&state).await,
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
    }
}
