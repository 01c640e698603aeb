//! `GET /metrics`: the Prometheus scrape.
//!
//! Two kinds of series, kept apart on purpose:
//! - **DORA gauges**, computed at scrape time from the store by the time each event happened
//!   (the engine's [`crate::Engine::gauges`]), per service, environment, team and trailing window.
//!   They are never counters bumped when a delivery arrives: history loaded later would count as
//!   if it happened now. No label holds a sha, a pull request or an incident id.
//! - **The server's own** counters and histograms: deliveries received (by source and outcome),
//!   processed (by source and state), processing lag, request durations.

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use shiplog_store::{DeliveryCount, DeliveryState};

use crate::GaugeSample;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReceivedLabels {
    source: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProcessedLabels {
    source: String,
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DoraLabels {
    service: String,
    environment: String,
    team: String,
    window: String,
}

/// One DORA metric's gauges.
type DoraFamily = Family<DoraLabels, Gauge<f64, AtomicU64>>;

fn seconds_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// The server's own counters, shared by every request.
pub(crate) struct Telemetry {
    received: Family<ReceivedLabels, Counter>,
    processed: Family<ProcessedLabels, Counter>,
    processing: Family<ProcessedLabels, Histogram, fn() -> Histogram>,
    requests: Family<RequestLabels, Histogram, fn() -> Histogram>,
    last_lag: Gauge<f64, AtomicU64>,
}

impl Default for Telemetry {
    fn default() -> Self {
        Self {
            received: Family::default(),
            processed: Family::default(),
            processing: Family::new_with_constructor(seconds_buckets as fn() -> Histogram),
            requests: Family::new_with_constructor(seconds_buckets as fn() -> Histogram),
            last_lag: Gauge::default(),
        }
    }
}

impl Telemetry {
    /// A delivery arrived at `source`: `stored`, `duplicate`, `rejected` or `error`.
    pub(crate) fn received(&self, source: &str, outcome: &str) {
        self.received
            .get_or_create(&ReceivedLabels {
                source: source.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// A delivery was processed into `state` in `took`.
    pub(crate) fn processed(&self, source: &str, state: DeliveryState, took: Duration) {
        let labels = ProcessedLabels {
            source: source.to_owned(),
            state: state.as_str().to_owned(),
        };
        self.processed.get_or_create(&labels).inc();
        self.processing
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }

    /// The last processed delivery waited `seconds` from arrival to its records.
    pub(crate) fn lag(&self, seconds: f64) {
        self.last_lag.set(seconds);
    }

    /// A request finished.
    pub(crate) fn request(&self, method: &str, route: &str, status: u16, took: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status: status.to_string(),
            })
            .observe(took.as_secs_f64());
    }
}

/// The scrape: the server's series, the stored deliveries by state, the processing lag of the
/// oldest pending delivery, and the DORA gauges.
pub(crate) fn encode(
    telemetry: &Telemetry,
    counts: &[DeliveryCount],
    oldest_pending_seconds: f64,
    gauges: &[GaugeSample],
) -> Result<String, std::fmt::Error> {
    let mut registry = Registry::default();
    registry.register(
        "shiplog_server_deliveries_received",
        "Webhook deliveries received, by source and outcome (stored, duplicate, rejected, error)",
        telemetry.received.clone(),
    );
    registry.register(
        "shiplog_server_deliveries_processed",
        "Deliveries processed by this process, by source and resulting state",
        telemetry.processed.clone(),
    );
    registry.register(
        "shiplog_server_delivery_processing_seconds",
        "Time to turn one delivery into records",
        telemetry.processing.clone(),
    );
    registry.register(
        "shiplog_server_http_request_duration_seconds",
        "HTTP request durations, by method, route and status",
        telemetry.requests.clone(),
    );
    registry.register(
        "shiplog_server_last_delivery_lag_seconds",
        "From arrival to records, for the last delivery this process processed",
        telemetry.last_lag.clone(),
    );
    let stored: Family<ProcessedLabels, Gauge> = Family::default();
    for c in counts {
        stored
            .get_or_create(&ProcessedLabels {
                source: c.source.clone(),
                state: c.state.as_str().to_owned(),
            })
            .set(c.count);
    }
    registry.register(
        "shiplog_server_deliveries_stored",
        "Deliveries in the store, by source and state (failed ones are the dead-letter list)",
        stored,
    );
    let lag: Gauge<f64, AtomicU64> = Gauge::default();
    lag.set(oldest_pending_seconds);
    registry.register(
        "shiplog_server_pending_delivery_age_seconds",
        "Age of the oldest delivery not processed yet (0 when none is pending)",
        lag,
    );
    let mut families: Vec<(&'static str, &'static str, DoraFamily)> = Vec::new();
    for g in gauges {
        let family = match families.iter().position(|(n, _, _)| *n == g.name) {
            Some(i) => &families[i].2,
            None => {
                families.push((g.name, g.help, Family::default()));
                &families[families.len() - 1].2
            }
        };
        family
            .get_or_create(&DoraLabels {
                service: g.service.clone(),
                environment: g.environment.clone(),
                team: g.team.clone(),
                window: g.window.to_owned(),
            })
            .set(g.value);
    }
    for (name, help, family) in families {
        registry.register(name, help, family);
    }
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &registry)?;
    Ok(out)
}
