//! The report's model: everything a report page shows, computed once from the attributed delivery
//! model and then handed to a renderer (HTML, Markdown, or JSON with `--format json`).
//!
//! Building the model is the only step that computes; the renderers only lay it out. The future
//! `shiplog serve` builds the same model from its store and renders the same pages.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use shiplog_core::definitions::compute_with;
use shiplog_core::explain::{self, ChangeItem, DeploymentItem, FailureItem, IncidentItem};
use shiplog_core::impact::ImpactReport;
use shiplog_core::metrics::{DoraMetrics, LeadTimeStart, Scope};
use shiplog_core::{
    CommitGraph, DeliveryModel, Period, PracticeChange, PracticeScope, ServiceName, Sha, TeamName,
    TimeWindow,
};

use super::definitions::{Definition, definitions};
use super::links::WebLinks;

/// Building the model failed.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The window cannot be split into periods.
    #[error("cannot split the window into periods: {0}")]
    Window(#[from] shiplog_core::window::WindowError),
}

/// Which periods the trend charts use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrendPeriod {
    /// ISO weeks.
    Week,
    /// Calendar months.
    Month,
}

impl TrendPeriod {
    /// Weeks for windows up to half a year, months beyond.
    pub fn for_window(window: &TimeWindow) -> Self {
        if window.days() <= 183.0 {
            Self::Week
        } else {
            Self::Month
        }
    }

    fn core(self) -> Period {
        match self {
            Self::Week => Period::Week,
            Self::Month => Period::Month,
        }
    }

    /// `week` or `month`.
    pub fn noun(self) -> &'static str {
        match self {
            Self::Week => "week",
            Self::Month => "month",
        }
    }
}

/// What [`build`] needs: the attributed records, the scope, and the choices of the command.
pub struct ReportInputs<'a> {
    /// Attribution over every deployment and incident.
    pub model: &'a DeliveryModel,
    /// The commit history.
    pub graph: &'a CommitGraph,
    /// Service, team, environment and window.
    pub scope: &'a Scope,
    /// When lead time starts.
    pub start: LeadTimeStart,
    /// Whose definitions the numbers follow.
    pub definitions: shiplog_core::Definitions,
    /// Trend periods.
    pub period: TrendPeriod,
    /// Every recorded practice change (those in the window and scope become markers).
    pub practices: &'a [PracticeChange],
    /// Teams and their services, to resolve team-scoped practice changes.
    pub teams: &'a BTreeMap<TeamName, Vec<ServiceName>>,
    /// The impact report of each practice change in the window (computed by `shiplog impact`'s
    /// functions).
    pub impacts: Vec<ImpactReport>,
    /// The repository's web address, for links.
    pub web: Option<WebLinks>,
    /// The first line of a commit's message.
    pub summary: &'a dyn Fn(&Sha) -> Option<String>,
    /// Rows of each drill-down list (the newest first are kept; the rest are counted).
    pub row_limit: usize,
    /// When the report was made.
    pub generated_at: Timestamp,
}

/// Which way a metric is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    /// More is better (deployment frequency).
    Higher,
    /// Less is better (lead time, rates, recovery).
    Lower,
}

/// The unit of a metric's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Deployments per week.
    PerWeek,
    /// Seconds (shown as min, h, d).
    Seconds,
    /// A proportion 0..1 (shown as %).
    Proportion,
}

/// The five metrics, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Deployments per week.
    DeploymentFrequency,
    /// Median change lead time.
    ChangeLeadTime,
    /// Failed share of deployments.
    ChangeFailRate,
    /// Median failed deployment recovery time.
    FailedDeploymentRecoveryTime,
    /// Unplanned share of deployments.
    ReworkRate,
}

impl Metric {
    /// The five.
    pub const ALL: [Metric; 5] = [
        Self::DeploymentFrequency,
        Self::ChangeLeadTime,
        Self::ChangeFailRate,
        Self::FailedDeploymentRecoveryTime,
        Self::ReworkRate,
    ];

    /// Its title.
    pub fn title(self) -> &'static str {
        match self {
            Self::DeploymentFrequency => "Deployment frequency",
            Self::ChangeLeadTime => "Change lead time",
            Self::ChangeFailRate => "Change fail rate",
            Self::FailedDeploymentRecoveryTime => "Failed deployment recovery time",
            Self::ReworkRate => "Deployment rework rate",
        }
    }

    /// The id of its definition in the page (and its heading in docs/metrics.md).
    pub fn anchor(self) -> &'static str {
        match self {
            Self::DeploymentFrequency => "deployment-frequency",
            Self::ChangeLeadTime => "change-lead-time",
            Self::ChangeFailRate => "change-fail-rate",
            Self::FailedDeploymentRecoveryTime => "failed-deployment-recovery-time",
            Self::ReworkRate => "deployment-rework-rate",
        }
    }

    /// Its unit.
    pub fn unit(self) -> Unit {
        match self {
            Self::DeploymentFrequency => Unit::PerWeek,
            Self::ChangeLeadTime | Self::FailedDeploymentRecoveryTime => Unit::Seconds,
            Self::ChangeFailRate | Self::ReworkRate => Unit::Proportion,
        }
    }

    /// Which way is better.
    pub fn better(self) -> Better {
        match self {
            Self::DeploymentFrequency => Better::Higher,
            _ => Better::Lower,
        }
    }

    /// This metric's value in `m`, `None` when there is nothing to measure.
    pub fn value(self, m: &DoraMetrics) -> Option<f64> {
        match self {
            Self::DeploymentFrequency => Some(m.deployment_frequency.per_week),
            Self::ChangeLeadTime => m.change_lead_time.median_seconds,
            Self::ChangeFailRate => m.change_fail_rate.rate,
            Self::FailedDeploymentRecoveryTime => m.failed_deployment_recovery_time.median_seconds,
            Self::ReworkRate => m.rework_rate.rate,
        }
    }

    /// The counts behind this metric's value in `m`, in words.
    pub fn basis(self, m: &DoraMetrics) -> String {
        match self {
            Self::DeploymentFrequency => format!(
                "{} on {}",
                counted(
                    m.deployment_frequency.deployments,
                    "deployment",
                    "deployments"
                ),
                counted(m.deployment_frequency.deployment_days, "day", "days")
            ),
            Self::ChangeLeadTime => {
                let l = &m.change_lead_time;
                let mut text = counted(l.changes, "change", "changes");
                if let (Some(p75), Some(p90)) = (l.p75_seconds, l.p90_seconds) {
                    text.push_str(&format!(
                        " (p75 {}, p90 {})",
                        crate::human_duration(p75),
                        crate::human_duration(p90)
                    ));
                }
                text
            }
            Self::ChangeFailRate => format!(
                "{} of {} failed",
                m.change_fail_rate.failed,
                counted(m.change_fail_rate.deployments, "deployment", "deployments")
            ),
            Self::FailedDeploymentRecoveryTime => {
                let r = &m.failed_deployment_recovery_time;
                format!(
                    "{}, {} not recovered",
                    counted(r.recoveries, "recovery", "recoveries"),
                    r.unrecovered
                )
            }
            Self::ReworkRate => format!(
                "{} of {} unplanned",
                m.rework_rate.unplanned,
                counted(m.rework_rate.deployments, "deployment", "deployments")
            ),
        }
    }

    /// The DORA band of `m`, in words, where DORA defines one.
    pub fn band(self, m: &DoraMetrics) -> Option<&'static str> {
        match self {
            Self::DeploymentFrequency => m.deployment_frequency.band.map(|b| b.describe()),
            Self::ChangeLeadTime => m.change_lead_time.band.map(|b| b.describe()),
            Self::FailedDeploymentRecoveryTime => {
                m.failed_deployment_recovery_time.band.map(|b| b.describe())
            }
            Self::ChangeFailRate | Self::ReworkRate => None,
        }
    }

    /// A value in its unit, for people: `3.5 / week`, `2.1 d`, `12.5 %`; `–` when missing.
    pub fn format(self, value: Option<f64>) -> String {
        match value {
            None => "–".to_owned(),
            Some(v) => format_value(self.unit(), v),
        }
    }
}

/// A value in `unit`, for people.
pub fn format_value(unit: Unit, value: f64) -> String {
    match unit {
        Unit::PerWeek => format!("{value:.1} / week"),
        Unit::Seconds => crate::human_duration(value),
        Unit::Proportion => format!("{:.1} %", value * 100.0),
    }
}

fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// One headline tile: a metric's value now, its band, and the change against the previous window.
#[derive(Debug, Clone, Serialize)]
pub struct Tile {
    /// Which metric.
    pub metric: Metric,
    /// Its title.
    pub title: &'static str,
    /// The value in this window (`None`: nothing to measure).
    pub value: Option<f64>,
    /// The value for people.
    pub value_text: String,
    /// The DORA band, where DORA defines one.
    pub band: Option<&'static str>,
    /// The counts behind the value.
    pub basis: String,
    /// The value in the previous window of the same length.
    pub previous: Option<f64>,
    /// The previous value for people.
    pub previous_text: String,
    /// The change against the previous window in words (`+1.2 / week`, `−30 %`), when both exist.
    pub change_text: Option<String>,
    /// Whether the change is for the better (`None`: no change, or nothing to compare).
    pub improved: Option<bool>,
    /// The anchor of the definition in the page.
    pub definition: &'static str,
}

/// One point of a trend: a period and the metric's value there.
#[derive(Debug, Clone, Serialize)]
pub struct TrendPoint {
    /// The period's label (`2026-W10`, `2026-03`).
    pub period: String,
    /// Its start.
    pub since: Timestamp,
    /// Its end (exclusive).
    pub until: Timestamp,
    /// The value; `None` when missing (no data for the period), which is never drawn as zero.
    pub value: Option<f64>,
    /// The counts behind the value.
    pub basis: String,
    /// Why the value is missing, when it is.
    pub missing: Option<&'static str>,
}

/// One metric's trend.
#[derive(Debug, Clone, Serialize)]
pub struct Trend {
    /// Which metric.
    pub metric: Metric,
    /// Its title.
    pub title: &'static str,
    /// Its unit.
    pub unit: Unit,
    /// One point per period, oldest first.
    pub points: Vec<TrendPoint>,
}

/// A recorded practice change, drawn as a marker on every chart.
#[derive(Debug, Clone, Serialize)]
pub struct Marker {
    /// The practice's name.
    pub name: String,
    /// Its first day (00:00 UTC).
    pub at: Timestamp,
    /// Which services changed, in words.
    pub services: String,
}

/// The stages of lead time in one period (medians, seconds), where pull-request data exists.
#[derive(Debug, Clone, Serialize)]
pub struct StagePoint {
    /// The period's label, or `window` for the whole window.
    pub period: String,
    /// Pull requests behind the stages.
    pub pull_requests: u64,
    /// First commit → ready for review.
    pub coding: Option<f64>,
    /// Ready for review → first review.
    pub pickup: Option<f64>,
    /// First review → merged.
    pub review: Option<f64>,
    /// Merged → deployed.
    pub deploy: Option<f64>,
}

/// A change row of the drill-down, with its summary and links.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeRow {
    /// The change.
    #[serde(flatten)]
    pub item: ChangeItem,
    /// The first line of its message.
    pub summary: Option<String>,
    /// Its commit's web page.
    pub commit_url: Option<String>,
    /// Its pull request's web page.
    pub pull_request_url: Option<String>,
}

/// A list of the drill-down, cut to the row limit (the newest rows are kept).
#[derive(Debug, Clone, Serialize)]
pub struct Listed<T> {
    /// The rows shown.
    pub rows: Vec<T>,
    /// How many rows there are in all.
    pub total: usize,
}

impl<T> Listed<T> {
    fn newest(mut all: Vec<T>, limit: usize) -> Self {
        let total = all.len();
        if total > limit {
            all.drain(..total - limit);
        }
        Self { rows: all, total }
    }

    /// Rows not shown.
    pub fn hidden(&self) -> usize {
        self.total - self.rows.len()
    }
}

/// The lists of `shiplog explain`.
#[derive(Debug, Clone, Serialize)]
pub struct DrillDown {
    /// Changes and their lead times.
    pub changes: Listed<ChangeRow>,
    /// Changes shipped by baseline deployments (not listed).
    pub baseline_changes: u64,
    /// Deployments.
    pub deployments: Listed<DeploymentItem>,
    /// Failed deployments.
    pub failures: Listed<FailureItem>,
    /// Incidents.
    pub incidents: Listed<IncidentItem>,
}

/// The deployments timeline: every deployment in the window, failures with their recovery spans.
#[derive(Debug, Clone, Serialize)]
pub struct Timeline {
    /// Services, one lane each.
    pub services: Vec<String>,
    /// Deployments, oldest first.
    pub deployments: Vec<TimelineDeployment>,
}

/// One deployment on the timeline.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineDeployment {
    /// Its id.
    pub id: String,
    /// Its lane.
    pub service: String,
    /// When it finished.
    pub at: Timestamp,
    /// Whether it failed (incident, rollback, revert or a failed status).
    pub failed: bool,
    /// Whether it counts (a deployment with a failed status does not).
    pub counts: bool,
    /// When a failed deployment was recovered.
    pub recovered_at: Option<Timestamp>,
}

/// Everything a report page shows.
#[derive(Debug, Clone, Serialize)]
pub struct ReportModel {
    /// The page title: who, where, when.
    pub title: String,
    /// The service, if one.
    pub service: Option<String>,
    /// The team, if one.
    pub team: Option<String>,
    /// The environment.
    pub environment: String,
    /// The window.
    pub since: Timestamp,
    /// Its end (exclusive).
    pub until: Timestamp,
    /// The previous window of the same length.
    pub previous_since: Option<Timestamp>,
    /// When the report was made.
    pub generated_at: Timestamp,
    /// When lead time starts.
    pub lead_time_start: LeadTimeStart,
    /// The metrics of the window.
    pub current: DoraMetrics,
    /// The metrics of the previous window.
    pub previous: Option<DoraMetrics>,
    /// The five tiles.
    pub tiles: Vec<Tile>,
    /// Trend periods.
    pub period: TrendPeriod,
    /// One trend per metric.
    pub trends: Vec<Trend>,
    /// Practice changes in the window.
    pub markers: Vec<Marker>,
    /// The deployments timeline.
    pub timeline: Timeline,
    /// Lead-time stages per period; empty without pull-request data.
    pub stages: Vec<StagePoint>,
    /// Impact reports of the practice changes in the window.
    pub impacts: Vec<ImpactReport>,
    /// The lists behind the numbers.
    pub drill_down: DrillDown,
    /// The repository's web address, when known.
    pub web_url: Option<String>,
    /// The guide for the report's scope (what `shiplog guide --format json` prints), when made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guide: Option<shiplog_guide::report::GuideReport>,
    /// The definitions of the metrics (docs/metrics.md).
    pub definitions: Vec<Definition>,
}

/// Midnight UTC of a date.
fn midnight(date: jiff::civil::Date) -> Option<Timestamp> {
    date.to_zoned(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp())
}

/// The practice changes that start in the scope's window and concern its services, oldest first.
pub fn practices_in<'p>(
    scope: &Scope,
    practices: &'p [PracticeChange],
    teams: &BTreeMap<TeamName, Vec<ServiceName>>,
) -> Vec<&'p PracticeChange> {
    let mut found: Vec<&PracticeChange> = practices
        .iter()
        .filter(|p| concerns(p, scope, teams))
        .filter(|p| midnight(p.started_on).is_some_and(|at| scope.window.contains(at)))
        .collect();
    found.sort_by_key(|p| p.started_on);
    found
}

/// Whether a practice change concerns the scope's services.
fn concerns(
    practice: &PracticeChange,
    scope: &Scope,
    teams: &BTreeMap<TeamName, Vec<ServiceName>>,
) -> bool {
    let applies = |s: &ServiceName| match &practice.scope {
        PracticeScope::Team { team } => teams.get(team).is_some_and(|list| list.contains(s)),
        other => other.includes(s) == Some(true),
    };
    match (&scope.service, &scope.team) {
        (Some(service), _) => applies(service),
        (None, Some(team)) => team.services.iter().any(applies),
        (None, None) => true,
    }
}

/// The change from `previous` to `current` in words, and whether it is for the better.
fn change(
    metric: Metric,
    current: Option<f64>,
    previous: Option<f64>,
) -> (Option<String>, Option<bool>) {
    let (Some(now), Some(before)) = (current, previous) else {
        return (None, None);
    };
    let delta = now - before;
    let improved = if delta.abs() < 1e-9 {
        None
    } else {
        Some((delta > 0.0) == (metric.better() == Better::Higher))
    };
    let sign = if delta > 0.0 {
        "+"
    } else if delta < 0.0 {
        "−"
    } else {
        "±"
    };
    let text = match metric.unit() {
        Unit::PerWeek => format!("{sign}{:.1} / week", delta.abs()),
        Unit::Seconds => format!("{sign}{}", crate::human_duration(delta.abs())),
        Unit::Proportion => format!("{sign}{:.1} points", delta.abs() * 100.0),
    };
    (Some(text), improved)
}

fn stage_point(period: String, m: &DoraMetrics) -> Option<StagePoint> {
    let s = m.change_lead_time.stages.as_ref()?;
    Some(StagePoint {
        period,
        pull_requests: s.pull_requests,
        coding: s.coding.median_seconds,
        pickup: s.pickup.median_seconds,
        review: s.review.median_seconds,
        deploy: s.deploy.median_seconds,
    })
}

/// Computes the report's model. Pure: the same inputs give the same model.
pub fn build(inputs: ReportInputs<'_>) -> Result<ReportModel, ReportError> {
    let ReportInputs {
        model,
        graph,
        scope,
        start,
        period,
        practices,
        teams,
        impacts,
        web,
        summary,
        row_limit,
        generated_at,
        definitions: preset,
    } = inputs;
    let window = scope.window;
    let compute = |model: &DeliveryModel, graph: &CommitGraph, scope: &Scope, start| {
        compute_with(model, graph, scope, start, preset)
    };
    let current = compute(model, graph, scope, start);
    let previous_window = window
        .since
        .checked_sub(window.duration())
        .ok()
        .and_then(|since| TimeWindow::new(since, window.since).ok());
    let previous = previous_window.map(|w| {
        compute(
            model,
            graph,
            &Scope {
                window: w,
                ..scope.clone()
            },
            start,
        )
    });
    let tiles = Metric::ALL
        .iter()
        .map(|&metric| {
            let value = metric.value(&current);
            let before = previous.as_ref().and_then(|p| {
                // A previous window with no deployments has nothing to compare.
                (p.deployment_frequency.deployments > 0).then(|| metric.value(p))?
            });
            let (change_text, improved) = change(metric, value, before);
            Tile {
                metric,
                title: metric.title(),
                value,
                value_text: metric.format(value),
                band: metric.band(&current),
                basis: metric.basis(&current),
                previous: before,
                previous_text: metric.format(before),
                change_text,
                improved,
                definition: metric.anchor(),
            }
        })
        .collect();

    // Trends: one row of metrics per period. Periods before the scope's first deployment (or
    // after its last record) have no data: missing, not zero.
    let first_record = model
        .deployments
        .iter()
        .find(|d| scope.includes(&d.deployment.service, &d.deployment.environment))
        .map(|d| d.deployment.finished_at);
    let rows: Vec<(String, TimeWindow, DoraMetrics)> = window
        .split(period.core())?
        .into_iter()
        .map(|w| {
            let label = period.core().label(w.since);
            let mut m = compute(
                model,
                graph,
                &Scope {
                    window: w,
                    ..scope.clone()
                },
                start,
            );
            m.period = Some(label.clone());
            (label, w, m)
        })
        .collect();
    let trends = Metric::ALL
        .iter()
        .map(|&metric| Trend {
            metric,
            title: metric.title(),
            unit: metric.unit(),
            points: rows
                .iter()
                .map(|(label, w, m)| {
                    let before_records = first_record.is_none_or(|first| w.until <= first);
                    let (value, missing) = if before_records {
                        (None, Some("before the first recorded deployment"))
                    } else {
                        match metric.value(m) {
                            Some(v) => (Some(v), None),
                            None => (
                                None,
                                Some(match metric {
                                    Metric::ChangeLeadTime => "no change shipped",
                                    Metric::FailedDeploymentRecoveryTime => "no recovery",
                                    _ => "no deployment",
                                }),
                            ),
                        }
                    };
                    TrendPoint {
                        period: label.clone(),
                        since: w.since,
                        until: w.until,
                        value,
                        basis: metric.basis(m),
                        missing,
                    }
                })
                .collect(),
        })
        .collect();
    let stages = if current.change_lead_time.stages.is_some() {
        rows.iter()
            .filter_map(|(label, _, m)| stage_point(label.clone(), m))
            .collect()
    } else {
        Vec::new()
    };

    let markers: Vec<Marker> = practices_in(scope, practices, teams)
        .into_iter()
        .filter_map(|p| {
            Some(Marker {
                name: p.name.as_str().to_owned(),
                at: midnight(p.started_on)?,
                services: p.scope.describe(),
            })
        })
        .collect();

    let deployment_items = explain::deployments(model, scope);
    let failure_items = explain::failures(model, scope);
    let recovered: BTreeMap<&str, Option<Timestamp>> = failure_items
        .iter()
        .map(|f| (f.deployment.as_str(), f.recovered_at))
        .collect();
    let mut services: Vec<String> = deployment_items
        .iter()
        .map(|d| d.service.as_str().to_owned())
        .collect();
    services.sort();
    services.dedup();
    let timeline = Timeline {
        services,
        deployments: deployment_items
            .iter()
            .map(|d| TimelineDeployment {
                id: d.id.as_str().to_owned(),
                service: d.service.as_str().to_owned(),
                at: d.finished_at,
                failed: !d.failures.is_empty(),
                counts: d.status == shiplog_core::DeploymentStatus::Success,
                recovered_at: recovered.get(d.id.as_str()).copied().flatten(),
            })
            .collect(),
    };

    // Only the rows shown are built (a window can hold hundreds of thousands of changes).
    let (list, total_changes) = explain::newest_changes(model, graph, scope, start, row_limit);
    let baseline_changes = list.baseline_excluded;
    let changes = Listed {
        total: total_changes,
        rows: list
            .changes
            .into_iter()
            .map(|item| ChangeRow {
                summary: summary(&item.sha),
                commit_url: web.as_ref().map(|w| w.commit(&item.sha)),
                pull_request_url: item
                    .pull_request
                    .as_deref()
                    .and_then(super::links::pull_request_url),
                item,
            })
            .collect(),
    };
    let drill_down = DrillDown {
        changes,
        baseline_changes,
        deployments: Listed::newest(deployment_items, row_limit),
        failures: Listed::newest(failure_items, row_limit),
        incidents: Listed::newest(explain::incidents(model, scope), row_limit),
    };

    let title = scope_title(scope);
    Ok(ReportModel {
        title,
        service: scope.service.as_ref().map(|s| s.as_str().to_owned()),
        team: scope.team.as_ref().map(|t| t.team.as_str().to_owned()),
        environment: scope.environment.as_str().to_owned(),
        since: window.since,
        until: window.until,
        previous_since: previous_window.map(|w| w.since),
        generated_at,
        lead_time_start: start,
        current,
        previous,
        tiles,
        period,
        trends,
        markers,
        timeline,
        stages,
        impacts,
        drill_down,
        web_url: web.map(|w| w.base().to_owned()),
        guide: None,
        definitions: definitions(),
    })
}

fn scope_title(scope: &Scope) -> String {
    let who = match (&scope.team, &scope.service) {
        (Some(team), None) => format!("Team {}", team.team),
        (Some(team), Some(service)) => format!("{service} (team {})", team.team),
        (None, Some(service)) => service.to_string(),
        (None, None) => "All services".to_owned(),
    };
    format!("{who} · {}", scope.environment)
}

/// Whole days in a duration, for window descriptions.
pub fn days(since: Timestamp, until: Timestamp) -> i64 {
    let span: SignedDuration = until.duration_since(since);
    span.as_secs() / 86_400
}
