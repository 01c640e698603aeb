//! Renders what shiplog computed — metrics, the items behind them, impact reports — as a terminal
//! table, JSON, CSV or (for [`impact`]) Markdown.
//!
//! Rendering never computes: it receives the same values `--format json` prints, so what a table
//! shows is exactly what a script would see.

pub mod impact;
pub mod page;

use std::fmt::Write as _;

use comfy_table::{Cell, CellAlignment, ContentArrangement, Table};
use serde::Serialize;
use shiplog_core::definitions::Difference;
use shiplog_core::explain::{ChangeItem, DeploymentItem, FailureItem, IncidentItem};
use shiplog_core::metrics::DoraMetrics;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A table for people.
    Table,
    /// JSON for programs (a documented contract).
    Json,
    /// CSV for spreadsheets.
    Csv,
}

/// Rendering failed (only CSV and JSON encoding can fail).
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// JSON encoding failed.
    #[error("cannot encode JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// CSV encoding failed.
    #[error("cannot encode CSV: {0}")]
    Csv(#[from] csv::Error),
    /// CSV output was not UTF-8 (cannot happen with our values).
    #[error("CSV output is not UTF-8")]
    Utf8,
}

/// A duration in seconds, in the largest unit that keeps it readable: `45 s`, `12 min`, `3.2 h`,
/// `2.3 d`.
pub fn human_duration(seconds: f64) -> String {
    let abs = seconds.abs();
    if abs < 60.0 {
        format!("{seconds:.0} s")
    } else if abs < 3600.0 {
        format!("{:.0} min", seconds / 60.0)
    } else if abs < 86_400.0 {
        format!("{:.1} h", seconds / 3600.0)
    } else {
        format!("{:.1} d", seconds / 86_400.0)
    }
}

fn opt_duration(seconds: Option<f64>) -> String {
    seconds.map_or_else(|| "–".to_owned(), human_duration)
}

fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "–".to_owned(), |r| format!("{:.1} %", r * 100.0))
}

/// Horizontal rules above, below and under the header only.
const TABLE_STYLE: &str = "  ── ══      ──    ";

fn table() -> Table {
    let mut table = Table::new();
    table
        .load_preset(TABLE_STYLE)
        .set_content_arrangement(ContentArrangement::Dynamic);
    table
}

fn scope_title(m: &DoraMetrics) -> String {
    let days = (m.window.until.as_second() - m.window.since.as_second()) as f64 / 86_400.0;
    let who = match (&m.team, &m.service) {
        (Some(team), None) => format!("team {team}"),
        (Some(team), Some(service)) => format!("{service} (team {team})"),
        (None, Some(service)) => service.to_string(),
        (None, None) => "all services".to_owned(),
    };
    format!(
        "{} · {} · {} → {} ({:.0} days)",
        who,
        m.environment,
        m.window.since.strftime("%Y-%m-%d %H:%M"),
        m.window.until.strftime("%Y-%m-%d %H:%M"),
        days
    )
}

/// One scope's five metrics as a table with the counts behind each number.
fn metrics_table(m: &DoraMetrics) -> String {
    let f = &m.deployment_frequency;
    let l = &m.change_lead_time;
    let c = &m.change_fail_rate;
    let r = &m.failed_deployment_recovery_time;
    let w = &m.rework_rate;
    let mut t = table();
    t.set_header(["Metric", "Value", "DORA band", "Based on"]);
    t.add_row([
        "Deployment frequency".to_owned(),
        format!("{:.1} / week", f.per_week),
        f.band.map_or("–", |b| b.describe()).to_owned(),
        {
            let mut basis = format!(
                "{} on {}; median interval {}",
                counted(f.deployments, "deployment", "deployments"),
                counted(f.deployment_days, "day", "days"),
                opt_duration(f.median_interval_seconds)
            );
            if f.excluded_before_commit > 0 {
                let _ = write!(
                    basis,
                    "; {} excluded: finished before {} commit",
                    counted(f.excluded_before_commit, "deployment", "deployments"),
                    if f.excluded_before_commit == 1 {
                        "its"
                    } else {
                        "their"
                    }
                );
            }
            basis
        },
    ]);
    let mut lead_basis = counted(l.changes, "change", "changes");
    if l.changes > 0 {
        let _ = write!(
            lead_basis,
            " (p75 {}, p90 {}, mean {})",
            opt_duration(l.p75_seconds),
            opt_duration(l.p90_seconds),
            opt_duration(l.mean_seconds)
        );
    }
    let _ = write!(
        lead_basis,
        "; {} baseline and {} negative excluded; from {} time",
        l.baseline_excluded,
        l.excluded_negative,
        match l.start {
            shiplog_core::LeadTimeStart::Author => "author",
            shiplog_core::LeadTimeStart::Committer => "committer",
        }
    );
    t.add_row([
        "Change lead time (median)".to_owned(),
        opt_duration(l.median_seconds),
        l.band.map_or("–", |b| b.describe()).to_owned(),
        lead_basis,
    ]);
    if let Some(stages) = &l.stages {
        for (name, stage, what) in [
            (
                "  coding",
                &stages.coding,
                "first commit → ready for review",
            ),
            (
                "  pickup",
                &stages.pickup,
                "ready for review → first review",
            ),
            ("  review", &stages.review, "first review → merged"),
            ("  deploy", &stages.deploy, "merged → deployed"),
        ] {
            t.add_row([
                format!("{name} (median)"),
                opt_duration(stage.median_seconds),
                String::new(),
                format!(
                    "{what}: {} of {} pull requests (p75 {}, p90 {})",
                    stage.count,
                    stages.pull_requests,
                    opt_duration(stage.p75_seconds),
                    opt_duration(stage.p90_seconds)
                ),
            ]);
        }
    }
    t.add_row([
        "Change fail rate".to_owned(),
        percent(c.rate),
        String::new(),
        format!(
            "{} of {} failed",
            c.failed,
            counted(c.deployments, "deployment", "deployments")
        ),
    ]);
    t.add_row([
        "Failed deployment recovery (median)".to_owned(),
        opt_duration(r.median_seconds),
        r.band.map_or("–", |b| b.describe()).to_owned(),
        format!(
            "{} (p90 {}); {} not recovered",
            counted(r.recoveries, "recovery", "recoveries"),
            opt_duration(r.p90_seconds),
            r.unrecovered
        ),
    ]);
    t.add_row([
        "Deployment rework rate".to_owned(),
        percent(w.rate),
        String::new(),
        format!(
            "{} of {} unplanned",
            w.unplanned,
            counted(w.deployments, "deployment", "deployments")
        ),
    ]);
    t.add_row([
        "Incidents".to_owned(),
        m.incidents.total.to_string(),
        String::new(),
        format!(
            "{} not attributed to a deployment",
            m.incidents.unattributed
        ),
    ]);
    if let Some(col) = t.column_mut(1) {
        col.set_cell_alignment(CellAlignment::Right);
    }
    format!("{}\n\n{t}\n", scope_title(m))
}

/// A trend: one row per period.
fn trend_table(rows: &[DoraMetrics]) -> String {
    let mut t = table();
    t.set_header([
        "Period",
        "Deploys",
        "/ week",
        "Lead time p50",
        "Changes",
        "Fail rate",
        "Recovery p50",
        "Rework",
        "Incidents",
    ]);
    for m in rows {
        t.add_row(vec![
            Cell::new(m.period.clone().unwrap_or_default()),
            Cell::new(m.deployment_frequency.deployments),
            Cell::new(format!("{:.1}", m.deployment_frequency.per_week)),
            Cell::new(opt_duration(m.change_lead_time.median_seconds)),
            Cell::new(m.change_lead_time.changes),
            Cell::new(percent(m.change_fail_rate.rate)),
            Cell::new(opt_duration(
                m.failed_deployment_recovery_time.median_seconds,
            )),
            Cell::new(percent(m.rework_rate.rate)),
            Cell::new(m.incidents.total),
        ]);
    }
    for col in 1..9 {
        if let Some(c) = t.column_mut(col) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    let title = rows.first().map(scope_title).unwrap_or_default();
    let title = title.split(" · ").take(2).collect::<Vec<_>>().join(" · ");
    format!("{title}\n\n{t}\n")
}

/// The flat CSV row of one scope's metrics.
#[derive(Serialize)]
struct MetricsCsvRow<'a> {
    period: Option<&'a str>,
    since: String,
    until: String,
    service: Option<&'a str>,
    environment: &'a str,
    deployments: u64,
    deployment_days: u64,
    per_week: f64,
    per_day: f64,
    median_interval_seconds: Option<f64>,
    frequency_band: Option<String>,
    changes: u64,
    lead_time_excluded_negative: u64,
    lead_time_baseline_excluded: u64,
    lead_time_median_seconds: Option<f64>,
    lead_time_p75_seconds: Option<f64>,
    lead_time_p90_seconds: Option<f64>,
    lead_time_mean_seconds: Option<f64>,
    lead_time_band: Option<String>,
    pull_requests: Option<u64>,
    coding_median_seconds: Option<f64>,
    pickup_median_seconds: Option<f64>,
    review_median_seconds: Option<f64>,
    deploy_median_seconds: Option<f64>,
    failed_deployments: u64,
    change_fail_rate: Option<f64>,
    recoveries: u64,
    unrecovered: u64,
    recovery_median_seconds: Option<f64>,
    recovery_p90_seconds: Option<f64>,
    recovery_band: Option<String>,
    unplanned_deployments: u64,
    rework_rate: Option<f64>,
    incidents: u64,
    unattributed_incidents: u64,
}

fn band_name<T: Serialize>(band: Option<T>) -> Option<String> {
    band.and_then(|b| match serde_json::to_value(b) {
        Ok(serde_json::Value::String(s)) => Some(s),
        _ => None,
    })
}

fn csv_of<T: Serialize>(rows: impl IntoIterator<Item = T>) -> Result<String, RenderError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        writer.serialize(row)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| RenderError::Csv(e.into_error().into()))?;
    String::from_utf8(bytes).map_err(|_| RenderError::Utf8)
}

fn metrics_csv(rows: &[DoraMetrics]) -> Result<String, RenderError> {
    csv_of(rows.iter().map(|m| {
        MetricsCsvRow {
            period: m.period.as_deref(),
            since: m.window.since.to_string(),
            until: m.window.until.to_string(),
            service: m.service.as_ref().map(|s| s.as_str()),
            environment: m.environment.as_str(),
            deployments: m.deployment_frequency.deployments,
            deployment_days: m.deployment_frequency.deployment_days,
            per_week: m.deployment_frequency.per_week,
            per_day: m.deployment_frequency.per_day,
            median_interval_seconds: m.deployment_frequency.median_interval_seconds,
            frequency_band: band_name(m.deployment_frequency.band),
            changes: m.change_lead_time.changes,
            lead_time_excluded_negative: m.change_lead_time.excluded_negative,
            lead_time_baseline_excluded: m.change_lead_time.baseline_excluded,
            lead_time_median_seconds: m.change_lead_time.median_seconds,
            lead_time_p75_seconds: m.change_lead_time.p75_seconds,
            lead_time_p90_seconds: m.change_lead_time.p90_seconds,
            lead_time_mean_seconds: m.change_lead_time.mean_seconds,
            lead_time_band: band_name(m.change_lead_time.band),
            pull_requests: m.change_lead_time.stages.as_ref().map(|s| s.pull_requests),
            coding_median_seconds: m
                .change_lead_time
                .stages
                .as_ref()
                .and_then(|s| s.coding.median_seconds),
            pickup_median_seconds: m
                .change_lead_time
                .stages
                .as_ref()
                .and_then(|s| s.pickup.median_seconds),
            review_median_seconds: m
                .change_lead_time
                .stages
                .as_ref()
                .and_then(|s| s.review.median_seconds),
            deploy_median_seconds: m
                .change_lead_time
                .stages
                .as_ref()
                .and_then(|s| s.deploy.median_seconds),
            failed_deployments: m.change_fail_rate.failed,
            change_fail_rate: m.change_fail_rate.rate,
            recoveries: m.failed_deployment_recovery_time.recoveries,
            unrecovered: m.failed_deployment_recovery_time.unrecovered,
            recovery_median_seconds: m.failed_deployment_recovery_time.median_seconds,
            recovery_p90_seconds: m.failed_deployment_recovery_time.p90_seconds,
            recovery_band: band_name(m.failed_deployment_recovery_time.band),
            unplanned_deployments: m.rework_rate.unplanned,
            rework_rate: m.rework_rate.rate,
            incidents: m.incidents.total,
            unattributed_incidents: m.incidents.unattributed,
        }
    }))
}

/// Renders one scope's metrics (`trend == false`) or a trend of periods.
///
/// JSON: a single object for one scope, an array of objects for a trend.
pub fn metrics(rows: &[DoraMetrics], trend: bool, format: Format) -> Result<String, RenderError> {
    match format {
        Format::Json if trend => Ok(serde_json::to_string_pretty(rows)? + "\n"),
        Format::Json => match rows.first() {
            Some(m) => Ok(serde_json::to_string_pretty(m)? + "\n"),
            None => Ok("null\n".to_owned()),
        },
        Format::Csv => metrics_csv(rows),
        Format::Table if trend => Ok(trend_table(rows)),
        Format::Table => Ok(rows
            .iter()
            .map(metrics_table)
            .collect::<Vec<_>>()
            .join("\n")),
    }
}

fn ts(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M").to_string()
}

fn join<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// A list that may be cut for the terminal: `limit` rows shown, the rest counted.
fn limited<T>(items: &[T], limit: Option<usize>) -> (&[T], usize) {
    match limit {
        Some(n) if n < items.len() => (&items[..n], items.len() - n),
        _ => (items, 0),
    }
}

fn more_note(hidden: usize) -> String {
    if hidden == 0 {
        String::new()
    } else {
        format!("… and {hidden} more (use --limit 0 to list all)\n")
    }
}

/// A change row's CSV/JSON form with an optional summary line.
#[derive(Serialize)]
struct ChangeOut<'a> {
    #[serde(flatten)]
    item: &'a ChangeItem,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<&'a str>,
}

/// Renders the changes behind lead time. `summaries[i]` is the first message line of change `i`
/// (may be shorter than `items` or empty).
pub fn changes(
    items: &[ChangeItem],
    summaries: &[Option<String>],
    baseline_excluded: u64,
    format: Format,
    limit: Option<usize>,
) -> Result<String, RenderError> {
    let out = |k: usize| ChangeOut {
        item: &items[k],
        summary: summaries.get(k).and_then(|s| s.as_deref()),
    };
    match format {
        // An array of items, as every `explain` command prints (the baseline's changes are no
        // items: `metrics` counts them in `baseline_excluded`).
        Format::Json => Ok(serde_json::to_string_pretty(
            &(0..items.len()).map(out).collect::<Vec<_>>(),
        )? + "\n"),
        Format::Csv => csv_of(items.iter().enumerate().map(|(k, c)| ChangeCsv {
            sha: c.sha.to_string(),
            started_at: c.started_at.map(|t| t.to_string()),
            start: band_name(Some(c.start)).unwrap_or_default(),
            pull_request: c.pull_request.as_deref(),
            pull_request_opened_at: c.pull_request_opened_at.map(|t| t.to_string()),
            pull_request_first_review_at: c.pull_request_first_review_at.map(|t| t.to_string()),
            pull_request_merged_at: c.pull_request_merged_at.map(|t| t.to_string()),
            squashed_branch: c.squashed_branch.as_deref(),
            coding_seconds: c.stages.coding_seconds,
            pickup_seconds: c.stages.pickup_seconds,
            review_seconds: c.stages.review_seconds,
            deploy_seconds: c.stages.deploy_seconds,
            deployment: c.deployment.as_str(),
            service: c.service.as_str(),
            environment: c.environment.as_str(),
            deployed_at: c.deployed_at.to_string(),
            lead_time_seconds: c.lead_time_seconds,
            excluded: c.excluded,
            summary: summaries.get(k).and_then(|s| s.as_deref()),
        })),
        Format::Table => {
            let (shown, hidden) = limited(items, limit);
            let mut t = table();
            // Pull-request stages only when some change has a pull request.
            let prs = items
                .iter()
                .any(|c| c.pull_request.is_some() || c.squashed_branch.is_some());
            let mut header = vec!["Commit", "Lead time"];
            if prs {
                let squashes = items.iter().any(|c| c.squashed_branch.is_some());
                header.push(if squashes { "PR or branch" } else { "PR" });
                header.extend(["Coding", "Pickup", "Review", "Deploy"]);
            }
            header.extend(["Deployment", "Deployed", "Summary"]);
            t.set_header(header);
            for (k, c) in shown.iter().enumerate() {
                let mut row = vec![
                    c.sha.short(10),
                    c.lead_time_seconds
                        .map_or_else(|| c.excluded.unwrap_or("–").to_owned(), human_duration),
                ];
                if prs {
                    row.push(match (&c.pull_request, &c.squashed_branch) {
                        (Some(pr), _) => pr.clone(),
                        (None, Some(branch)) => format!("branch {branch}"),
                        (None, None) => String::new(),
                    });
                    for stage in [
                        c.stages.coding_seconds,
                        c.stages.pickup_seconds,
                        c.stages.review_seconds,
                        c.stages.deploy_seconds,
                    ] {
                        row.push(if c.pull_request.is_some() {
                            opt_duration(stage)
                        } else {
                            String::new()
                        });
                    }
                }
                row.extend([
                    c.deployment.to_string(),
                    ts(c.deployed_at),
                    summaries.get(k).and_then(|s| s.clone()).unwrap_or_default(),
                ]);
                t.add_row(row);
            }
            Ok(format!(
                "{t}\n{}{} listed; {} not listed (shipped by the first deployment of their chain)\n",
                more_note(hidden),
                counted(items.len() as u64, "change", "changes"),
                counted(baseline_excluded, "baseline change", "baseline changes")
            ))
        }
    }
}

#[derive(Serialize)]
struct ChangeCsv<'a> {
    sha: String,
    started_at: Option<String>,
    start: String,
    pull_request: Option<&'a str>,
    pull_request_opened_at: Option<String>,
    pull_request_first_review_at: Option<String>,
    pull_request_merged_at: Option<String>,
    squashed_branch: Option<&'a str>,
    coding_seconds: Option<f64>,
    pickup_seconds: Option<f64>,
    review_seconds: Option<f64>,
    deploy_seconds: Option<f64>,
    deployment: &'a str,
    service: &'a str,
    environment: &'a str,
    deployed_at: String,
    lead_time_seconds: Option<f64>,
    excluded: Option<&'a str>,
    summary: Option<&'a str>,
}

/// Renders deployments with what attribution found.
pub fn deployments(
    items: &[DeploymentItem],
    format: Format,
    limit: Option<usize>,
) -> Result<String, RenderError> {
    match format {
        Format::Json => Ok(serde_json::to_string_pretty(items)? + "\n"),
        Format::Csv => csv_of(items.iter().map(|d| DeploymentCsv {
            id: d.id.as_str(),
            service: d.service.as_str(),
            environment: d.environment.as_str(),
            sha: d.sha.to_string(),
            started_at: d.started_at.map(|t| t.to_string()),
            finished_at: d.finished_at.to_string(),
            status: d.status.as_str(),
            source: d.source.as_str(),
            train: d.train.as_deref(),
            version: d.version.as_deref(),
            baseline: d.baseline,
            previous_deployment: d.previous_deployment.as_ref().map(|p| p.as_str()),
            shipped_changes: d.shipped_changes,
            failed: !d.failures.is_empty(),
            failure_reasons: join(&d.failures),
            unplanned: !d.unplanned.is_empty(),
            unplanned_reasons: join(&d.unplanned),
            before_commit: d.before_commit.map(|t| t.to_string()),
        })),
        Format::Table => {
            let (shown, hidden) = limited(items, limit);
            let mut t = table();
            t.set_header([
                "Deployment",
                "Version",
                "Finished",
                "Commit",
                "Changes",
                "Status",
                "Notes",
            ]);
            for d in shown {
                let mut notes = Vec::new();
                if d.baseline {
                    notes.push("baseline".to_owned());
                }
                if let Some(committed) = d.before_commit {
                    notes.push(format!(
                        "excluded: finished before its commit (committed {})",
                        ts(committed)
                    ));
                }
                notes.extend(d.failures.iter().map(|f| format!("failed: {f}")));
                notes.extend(d.unplanned.iter().map(|u| format!("unplanned: {u}")));
                t.add_row([
                    format!("{} ({})", d.id, d.service),
                    match (&d.train, &d.version) {
                        (Some(train), Some(v)) if !train.is_empty() => format!("{train} {v}"),
                        (_, Some(v)) => v.clone(),
                        _ => String::new(),
                    },
                    ts(d.finished_at),
                    d.sha.short(10),
                    d.shipped_changes.to_string(),
                    d.status.to_string(),
                    notes.join("; "),
                ]);
            }
            Ok(format!(
                "{t}\n{}{}\n",
                more_note(hidden),
                counted(items.len() as u64, "deployment", "deployments")
            ))
        }
    }
}

#[derive(Serialize)]
struct DeploymentCsv<'a> {
    id: &'a str,
    service: &'a str,
    environment: &'a str,
    sha: String,
    started_at: Option<String>,
    finished_at: String,
    status: &'a str,
    source: &'a str,
    train: Option<&'a str>,
    version: Option<&'a str>,
    baseline: bool,
    previous_deployment: Option<&'a str>,
    shipped_changes: usize,
    failed: bool,
    failure_reasons: String,
    unplanned: bool,
    unplanned_reasons: String,
    before_commit: Option<String>,
}

/// Renders failed deployments with reasons and recovery.
pub fn failures(
    items: &[FailureItem],
    format: Format,
    limit: Option<usize>,
) -> Result<String, RenderError> {
    match format {
        Format::Json => Ok(serde_json::to_string_pretty(items)? + "\n"),
        Format::Csv => csv_of(items.iter().map(|f| FailureCsv {
            deployment: f.deployment.as_str(),
            service: f.service.as_str(),
            environment: f.environment.as_str(),
            sha: f.sha.to_string(),
            finished_at: f.finished_at.to_string(),
            reasons: join(&f.reasons),
            recovered_at: f.recovered_at.map(|t| t.to_string()),
            recovered_by: f.recovered_by.and_then(|k| band_name(Some(k))),
            recovery_seconds: f.recovery_seconds,
        })),
        Format::Table => {
            let (shown, hidden) = limited(items, limit);
            let mut t = table();
            t.set_header([
                "Deployment",
                "Finished",
                "Why it failed",
                "Recovered",
                "Recovery",
            ]);
            for f in shown {
                t.add_row([
                    format!("{} ({})", f.deployment, f.service),
                    ts(f.finished_at),
                    join(&f.reasons),
                    match (f.recovered_at, f.recovered_by) {
                        (Some(at), Some(by)) => {
                            format!("{} by {}", ts(at), band_name(Some(by)).unwrap_or_default())
                        }
                        _ => "not yet".to_owned(),
                    },
                    opt_duration(f.recovery_seconds),
                ]);
            }
            Ok(format!(
                "{t}\n{}{}\n",
                more_note(hidden),
                counted(
                    items.len() as u64,
                    "failed deployment",
                    "failed deployments"
                )
            ))
        }
    }
}

#[derive(Serialize)]
struct FailureCsv<'a> {
    deployment: &'a str,
    service: &'a str,
    environment: &'a str,
    sha: String,
    finished_at: String,
    reasons: String,
    recovered_at: Option<String>,
    recovered_by: Option<String>,
    recovery_seconds: Option<f64>,
}

/// `1 day`, `2 days`.
fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Renders incidents with their attribution.
pub fn incidents(
    items: &[IncidentItem],
    format: Format,
    limit: Option<usize>,
) -> Result<String, RenderError> {
    match format {
        Format::Json => Ok(serde_json::to_string_pretty(items)? + "\n"),
        Format::Csv => csv_of(items.iter().map(|i| {
            IncidentCsv {
                id: i.id.as_str(),
                service: i.service.as_str(),
                environment: i.environment.as_str(),
                opened_at: i.opened_at.to_string(),
                resolved_at: i.resolved_at.map(|t| t.to_string()),
                title: i.title.as_deref(),
                rule: band_name(Some(&i.rule)).unwrap_or_default(),
                deployment: i.deployment.as_ref().map(|d| d.as_str()),
                unattributed_reason: i.unattributed_reason.as_deref(),
                duplicates: i
                    .duplicates
                    .iter()
                    .map(|d| d.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
            }
        })),
        Format::Table => {
            let (shown, hidden) = limited(items, limit);
            let mut t = table();
            t.set_header(["Incident", "Opened", "Resolved", "Attributed to", "Title"]);
            for i in shown {
                t.add_row([
                    format!("{} ({})", i.id, i.service),
                    ts(i.opened_at),
                    i.resolved_at.map_or_else(|| "open".to_owned(), ts),
                    match (&i.deployment, &i.unattributed_reason) {
                        (Some(d), _) => {
                            format!("{d} (by {})", band_name(Some(&i.rule)).unwrap_or_default())
                        }
                        (None, Some(why)) => format!("nothing: {why}"),
                        (None, None) => "nothing".to_owned(),
                    },
                    match (&i.title, i.duplicates.as_slice()) {
                        (title, []) => title.clone().unwrap_or_default(),
                        (title, also) => format!(
                            "{}{}(also reported as {}: counted once)",
                            title.as_deref().unwrap_or_default(),
                            if title.is_some() { " " } else { "" },
                            also.iter()
                                .map(|d| d.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    },
                ]);
            }
            let unattributed = items.iter().filter(|i| i.deployment.is_none()).count();
            Ok(format!(
                "{t}\n{}{}, {unattributed} not attributed to a deployment\n",
                more_note(hidden),
                counted(items.len() as u64, "incident", "incidents")
            ))
        }
    }
}

#[derive(Serialize)]
struct IncidentCsv<'a> {
    id: &'a str,
    service: &'a str,
    environment: &'a str,
    opened_at: String,
    resolved_at: Option<String>,
    title: Option<&'a str>,
    rule: String,
    deployment: Option<&'a str>,
    unattributed_reason: Option<&'a str>,
    /// Space-separated ids of the same incident reported by other sources.
    duplicates: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(45.0), "45 s");
        assert_eq!(human_duration(720.0), "12 min");
        assert_eq!(human_duration(3.25 * 3600.0), "3.2 h");
        assert_eq!(human_duration(2.5 * 86_400.0), "2.5 d");
        assert_eq!(opt_duration(None), "–");
        assert_eq!(percent(Some(0.25)), "25.0 %");
    }
}

/// One row of `explain --compare-definitions`: an item whose number differs between two presets.
#[derive(Serialize)]
struct DifferenceRow<'a> {
    metric: &'a str,
    item: &'a str,
    definitions: &'a str,
    value: &'a str,
    compared_definitions: &'a str,
    compared_value: &'a str,
}

/// Renders the items whose numbers differ between the `current` definitions and the `compared`
/// ones (`shiplog explain ... --compare-definitions`).
pub fn definition_differences<'a>(
    rows: &[&'a Difference],
    current: &'a str,
    compared: &'a str,
    format: Format,
    limit: Option<usize>,
) -> Result<String, RenderError> {
    fn to_row<'a>(d: &'a Difference, current: &'a str, compared: &'a str) -> DifferenceRow<'a> {
        DifferenceRow {
            metric: d.metric,
            item: d.item.as_str(),
            definitions: current,
            value: d.value.as_str(),
            compared_definitions: compared,
            compared_value: d.compared_value.as_str(),
        }
    }
    let row = |d: &&'a Difference| to_row(d, current, compared);
    match format {
        Format::Json => {
            let rows: Vec<DifferenceRow<'_>> = rows.iter().map(row).collect();
            Ok(serde_json::to_string_pretty(&rows)? + "\n")
        }
        Format::Csv => csv_of(rows.iter().map(row)),
        Format::Table => {
            let (shown, hidden) = limited(rows, limit);
            let mut t = table();
            t.set_header([
                "Item".to_owned(),
                "Metric".to_owned(),
                current.to_owned(),
                compared.to_owned(),
            ]);
            for d in shown {
                t.add_row([
                    d.item.clone(),
                    d.metric.to_owned(),
                    d.value.clone(),
                    d.compared_value.clone(),
                ]);
            }
            Ok(format!(
                "{t}\n{}{} where {current} and {compared} part ways\n",
                more_note(hidden),
                counted(rows.len() as u64, "item", "items")
            ))
        }
    }
}
