//! Renders an impact report: the story a developer can paste into a retro, a blog post or a
//! proposal, the table of numbers behind it, and JSON with every estimate.
//!
//! The story is written only from the verdicts and the numbers of the report: a metric is said to
//! have improved only when its verdict is "improved", and every change it states comes with its
//! interval. Whatever keeps a verdict from crediting the practice is stated as a caveat.

use std::fmt::Write as _;

use comfy_table::CellAlignment;
use shiplog_core::PracticeChange;
use shiplog_core::impact::{
    ComparisonFinding, DataEnd, ImpactReport, MetricImpact, MetricKind, Reason, Scale, Side,
    TrendFinding, Verdict, counted_unit,
};

use crate::RenderError;

/// A duration in seconds, in words: `45 minutes`, `5.2 hours`, `3.1 days`.
pub fn prose_duration(seconds: f64) -> String {
    let hours = seconds / 3600.0;
    if hours < 1.0 {
        format!("{:.0} minutes", seconds / 60.0)
    } else if hours < 48.0 {
        format!("{hours:.1} hours")
    } else {
        format!("{:.1} days", hours / 24.0)
    }
}

fn value_text(metric: MetricKind, value: Option<f64>) -> String {
    let Some(v) = value else {
        return "none".to_owned();
    };
    match metric {
        MetricKind::DeploymentFrequency => format!("{v:.1} a week"),
        MetricKind::ChangeLeadTime | MetricKind::FailedDeploymentRecoveryTime => prose_duration(v),
        MetricKind::ChangeFailRate | MetricKind::ReworkRate => format!("{:.0}%", v * 100.0),
    }
}

fn percent(ratio: f64) -> String {
    let p = (ratio - 1.0) * 100.0;
    let p = if p.abs() < 0.5 { 0.0 } else { p };
    format!("{}{:.0}%", if p < 0.0 { "−" } else { "+" }, p.abs())
}

fn signed(value: f64, decimals: usize) -> String {
    let text = format!("{:.*}", decimals, value.abs());
    // No "−0.0": a value that rounds to zero has no sign to show.
    let zero = text.chars().all(|c| c == '0' || c == '.');
    let sign = if value < 0.0 && !zero { "−" } else { "+" };
    format!("{sign}{text}")
}

/// An effect and its interval: `−71% (95% CI −80% to −58%)`, `×5.1 (95% CI ×3.9 to ×6.7)` or
/// `−4.0 points (95% CI −15.2 to +6.1)`.
pub fn effect_text(scale: Scale, estimate: f64, low: f64, high: f64) -> String {
    match scale {
        // Large or very uncertain ratios read better as factors than as percentages.
        Scale::Ratio if estimate >= 2.0 || high >= 5.0 => format!(
            "×{} (95% CI ×{} to ×{})",
            factor(estimate),
            factor(low),
            factor(high)
        ),
        Scale::Ratio => format!(
            "{} (95% CI {} to {})",
            percent(estimate),
            percent(low),
            percent(high)
        ),
        Scale::Difference => format!(
            "{} points (95% CI {} to {})",
            signed(estimate * 100.0, 1),
            signed(low * 100.0, 1),
            signed(high * 100.0, 1)
        ),
    }
}

/// A factor with as many decimals as it needs: `×12`, `×4.6`, `×0.37`, `×0.023`.
fn factor(x: f64) -> String {
    if x >= 10.0 {
        format!("{x:.0}")
    } else if x >= 1.0 {
        format!("{x:.1}")
    } else if x >= 0.1 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

fn p_text(p: f64) -> String {
    if p < 0.001 {
        "p < 0.001".to_owned()
    } else {
        format!("p = {p:.3}")
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// "api and web", "api, web and billing".
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn date(t: jiff::Timestamp) -> String {
    t.strftime("%-d %B %Y").to_string()
}

fn movement(metric: MetricKind, before: &Side, after: &Side) -> String {
    let (b, a) = (before.value, after.value);
    if b.is_some() && value_text(metric, b) == value_text(metric, a) {
        return format!("stayed at {}", value_text(metric, b));
    }
    let verb = match (b, a) {
        (Some(b), Some(a)) if a > b => "rose",
        (Some(b), Some(a)) if a < b => "fell",
        (Some(_), Some(_)) => "stayed",
        _ => "went",
    };
    format!(
        "{verb} from {} to {}",
        value_text(metric, b),
        value_text(metric, a)
    )
}

/// One metric's sentence of the story.
fn metric_sentence(m: &MetricImpact) -> String {
    let name = capitalised(m.metric.label());
    let verdict = m.verdict.describe();
    match (&m.effect, m.verdict) {
        (_, Verdict::NotEnoughData) | (None, _) => {
            let mut text = format!(
                "{name}: {verdict} ({} before and {} after; at least {} each are needed",
                counted_unit(m.before.n, m.power.unit),
                counted_unit(m.after.n, m.power.unit),
                m.power.minimum
            );
            if m.before.n < m.power.minimum {
                text.push_str("; a longer --before window helps if the records reach back");
            }
            if m.after.n < m.power.minimum
                && let Some(weeks) = m.power.more_weeks
            {
                let _ = write!(
                    text,
                    "; roughly {} more of data after the change",
                    counted_unit(weeks.max(0.0) as u64, "weeks")
                );
            }
            text.push_str(").");
            text
        }
        (Some(e), verdict_kind) => {
            let verdict = verdict_kind.describe();
            let change = effect_text(m.scale, e.estimate, e.low, e.high);
            let head = match verdict_kind {
                Verdict::Improved | Verdict::Worse => format!("{name} {verdict}"),
                _ => format!("{name}: {verdict}"),
            };
            let tested = if !e.in_holm_family {
                "not tested".to_owned()
            } else if e.tested_together == 1 {
                format!("{} (the only metric tested)", p_text(e.p_adjusted))
            } else {
                format!(
                    "{}, Holm-adjusted over {}",
                    p_text(e.p_adjusted),
                    counted_unit(e.tested_together as u64, "metrics")
                )
            };
            let mut text = format!(
                "{head}: it {}, {change}; {tested}.",
                movement(m.metric, &m.before, &m.after),
            );
            if verdict_kind == Verdict::NoDetectableChange {
                text.push(' ');
                text.push_str(&reason_sentence(m));
            }
            text
        }
    }
}

/// Why a metric with an effect estimate shows no detectable change, in a sentence: one for each
/// [`Reason`].
fn reason_sentence(m: &MetricImpact) -> String {
    match m.reason() {
        Reason::Withheld => match m.withheld_by() {
            Some(c) => format!(
                "The difference is not credited to the practice: {}.",
                strip_metric(&c.message, m.metric)
            ),
            None => "The difference is not credited to the practice.".to_owned(),
        },
        Reason::IntervalIncludesNoChange => {
            "The interval still includes no change, so chance cannot be ruled out.".to_owned()
        }
        Reason::LostToMultipleTesting => m.effect.as_ref().map_or_else(String::new, |e| {
            format!(
                "Alone it would pass (p = {:.3}), but not once adjusted for the {} tested together, so chance cannot be ruled out.",
                e.p_value,
                counted_unit(e.tested_together as u64, "metrics")
            )
        }),
        Reason::NoEvents => m
            .caveats
            .iter()
            .find(|c| c.code == "no-events")
            .map_or_else(
                || "There were none in either window, so there is nothing to compare.".to_owned(),
                |c| format!("{}.", capitalised(&strip_metric(&c.message, m.metric))),
            ),
        Reason::Chance => "Chance alone could produce a difference like this.".to_owned(),
        // Not reached for "no detectable change" with an estimate; said plainly all the same.
        Reason::Credited | Reason::NotEnoughData => String::new(),
    }
}

/// A caveat's message without its leading "metric: ".
fn strip_metric(message: &str, metric: MetricKind) -> String {
    message
        .strip_prefix(&format!("{}: ", metric.label()))
        .unwrap_or(message)
        .to_owned()
}

fn before_summary(report: &ImpactReport) -> String {
    let parts: Vec<String> = report
        .analysis
        .metrics
        .iter()
        .filter(|m| m.before.value.is_some())
        .map(|m| match m.metric {
            MetricKind::DeploymentFrequency => match m.before.value {
                Some(v) if v > 0.0 => format!("deployed {v:.1} times a week"),
                _ => "did not deploy".to_owned(),
            },
            metric => format!("{} {}", metric.label(), value_text(metric, m.before.value)),
        })
        .collect();
    and_list(&parts)
}

fn services_text(services: &[shiplog_core::ServiceName]) -> String {
    and_list(&services.iter().map(|s| s.to_string()).collect::<Vec<_>>())
}

fn comparison_sentence(report: &ImpactReport) -> Option<String> {
    if report.comparison_services.is_empty() {
        return None;
    }
    let who = services_text(&report.comparison_services);
    let parts: Vec<String> = report
        .analysis
        .metrics
        .iter()
        .filter_map(|m| {
            let c = m.comparison.as_ref()?;
            let change = c.change?;
            Some(format!(
                "its {} {}, {}",
                m.metric.label(),
                movement(m.metric, &c.before, &c.after),
                effect_text(m.scale, change.estimate, change.low, change.high)
            ))
        })
        .collect();
    let chosen = match report.comparison_choice {
        Some(shiplog_core::impact::ComparisonChoice::Auto) => {
            "the services without a practice change in the windows"
        }
        _ => "chosen for not changing practice",
    };
    Some(if parts.is_empty() {
        format!("The comparison group ({who}, {chosen}) has too little data to compare with.")
    } else {
        format!(
            "Over the same windows the comparison group ({who}, {chosen}): {}.",
            and_list(&parts)
        )
    })
}

/// A window's length in words, `13 weeks`, `1 week`, or in days when it is shorter than a week
/// (`5 days`); None when the window is empty. Synthetic designs ([`Design::weeks`]) have week
/// counts but no times.
///
/// [`Design::weeks`]: shiplog_core::impact::Design::weeks
fn window_length(weeks: u32, since: jiff::Timestamp, until: jiff::Timestamp) -> Option<String> {
    if weeks > 0 {
        return Some(counted_unit(weeks.into(), "weeks"));
    }
    let seconds = until.as_second().checked_sub(since.as_second())?;
    let days = u64::try_from(seconds.checked_add(43_200)? / 86_400).ok()?;
    (days > 0).then(|| counted_unit(days, "days"))
}

/// The story's opening paragraph: the before window, the practice, the after window. Empty
/// windows and windows without deployments are said so, not counted as "the 0 weeks".
fn opening(report: &ImpactReport, bold: &dyn Fn(&str) -> String) -> String {
    let d = &report.analysis.design;
    let p = &report.practice;
    let services = if report.services.is_empty() {
        "the services".to_owned()
    } else {
        services_text(&report.services)
    };
    let summary = before_summary(report);
    let mut opening = match window_length(d.before_weeks, d.before_since, d.change_at) {
        None => format!(
            "There are no records of {services} before {} to compare with.",
            date(d.change_at)
        ),
        Some(length) if summary.is_empty() => format!(
            "In the {length} before {}, {services} recorded no deployments.",
            date(d.change_at)
        ),
        Some(length) => format!(
            "In the {length} before {}, {services} {summary}.",
            date(d.change_at)
        ),
    };
    let _ = write!(
        opening,
        " On {} {} started {}",
        date(d.change_at),
        if report.services.len() == 1 {
            "it"
        } else {
            "they"
        },
        bold(p.name.as_str())
    );
    if let Some(note) = &p.note {
        let _ = write!(opening, " ({})", note.trim_end_matches('.'));
    }
    opening.push('.');
    let transition = if d.transition_days > 0.0 {
        format!(
            " (after a {}-day transition, left out)",
            d.transition_days.round()
        )
    } else {
        String::new()
    };
    match window_length(d.after_weeks, d.after_since, d.after_until) {
        Some(length) => {
            let _ = write!(
                opening,
                " Comparing with the {length} from {} to {}{transition}:",
                date(d.after_since),
                date(d.after_until),
            );
        }
        None => {
            let _ = write!(
                opening,
                " There are no records after {}{transition} to compare with yet:",
                date(d.after_since),
            );
        }
    }
    opening
}

/// The story as paragraphs and bullet items; `emphasis` wraps what Markdown would make bold.
fn story(
    report: &ImpactReport,
    bold: &dyn Fn(&str) -> String,
) -> (Vec<String>, Vec<String>, Vec<String>) {
    let a = &report.analysis;
    let p = &report.practice;
    let opening = opening(report, bold);
    let bullets: Vec<String> = a.metrics.iter().map(metric_sentence).collect();
    let mut closing = Vec::new();
    if let Some(c) = comparison_sentence(report) {
        closing.push(c);
    }
    let improved: Vec<&str> = a
        .metrics
        .iter()
        .filter(|m| m.verdict == Verdict::Improved)
        .map(|m| m.metric.label())
        .collect();
    let worse: Vec<&str> = a
        .metrics
        .iter()
        .filter(|m| m.verdict == Verdict::Worse)
        .map(|m| m.metric.label())
        .collect();
    let summary = match (improved.is_empty(), worse.is_empty()) {
        (true, true) => format!(
            "In short: the data show no change in delivery that can be credited to {} yet.",
            p.name
        ),
        (false, true) => format!(
            "In short: {} improved after the change, beyond the earlier trend{}.",
            and_list(&improved.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
            if report.comparison_services.is_empty() {
                ""
            } else {
                " and beyond the comparison group"
            }
        ),
        (true, false) => format!(
            "In short: {} got worse after the change.",
            and_list(&worse.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        ),
        (false, false) => format!(
            "In short: {} improved and {} got worse after the change.",
            and_list(&improved.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
            and_list(&worse.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        ),
    };
    closing.push(summary);
    let mut paragraphs = vec![opening];
    paragraphs.extend(closing);
    let caveats: Vec<String> = a
        .caveats
        .iter()
        .map(|c| capitalised(&c.message))
        .chain(
            a.metrics
                .iter()
                .flat_map(|m| m.caveats.iter())
                // The metric's own sentence already says there is not enough data.
                .filter(|c| c.code != "not-enough-data")
                .map(|c| capitalised(&c.message)),
        )
        .collect();
    (paragraphs, bullets, caveats)
}

fn trend_cell(m: &MetricImpact) -> &'static str {
    match m.trend.finding {
        TrendFinding::Supports => "beyond the trend",
        TrendFinding::Inconclusive => "cannot separate",
        TrendFinding::AlreadyTrending => "already trending",
        TrendFinding::Contradicts => "contradicts",
        TrendFinding::NotEstimable => "–",
    }
}

fn comparison_cell(m: &MetricImpact) -> &'static str {
    match m.comparison.as_ref().map(|c| c.finding) {
        None => "no group",
        Some(ComparisonFinding::Supports) => "beyond the group",
        Some(ComparisonFinding::Inconclusive) => "not beyond it",
        Some(ComparisonFinding::MovedToo) => "group moved too",
        Some(ComparisonFinding::Contradicts) => "contradicts",
        Some(ComparisonFinding::TrendsNotParallel) => "trends differ",
        Some(ComparisonFinding::NotEnoughData) => "–",
    }
}

fn rows(report: &ImpactReport) -> Vec<[String; 7]> {
    report
        .analysis
        .metrics
        .iter()
        .map(|m| {
            let (change, p) = match &m.effect {
                Some(e) => (
                    effect_text(m.scale, e.estimate, e.low, e.high),
                    p_text(e.p_adjusted),
                ),
                None => ("–".to_owned(), "–".to_owned()),
            };
            [
                capitalised(m.metric.label()),
                value_text(m.metric, m.before.value),
                value_text(m.metric, m.after.value),
                format!("{change}; {p}"),
                trend_cell(m).to_owned(),
                comparison_cell(m).to_owned(),
                m.verdict.describe().to_owned(),
            ]
        })
        .collect()
}

const HEADER: [&str; 7] = [
    "Metric",
    "Before",
    "After",
    "Change (adjusted p)",
    "Trend check",
    "Comparison",
    "Verdict",
];

fn title(report: &ImpactReport) -> String {
    format!(
        "Impact of \"{}\" on {} ({}, from {})",
        report.practice.name,
        services_text(&report.services),
        report.environment,
        report.practice.started_on
    )
}

fn methods_line(report: &ImpactReport) -> String {
    let o = &report.analysis.options;
    let d = &report.analysis.design;
    let end = match (d.data_end, d.records_end) {
        (DataEnd::Until, _) => {
            "The data were declared complete to --until (--data-complete).".to_owned()
        }
        (DataEnd::LastRecord, Some(t)) => format!(
            "The data are taken to end at the last record, {} (--data-complete if they are complete to --until).",
            date(t)
        ),
        (DataEnd::LastRecord, None) => "The data are taken to end at the last record.".to_owned(),
    };
    format!(
        "{end} Methods and assumptions: docs/impact.md. Bootstrap: {} resamples, seed {} (the same records and seed give the same numbers); power from simulated verdicts.",
        o.resamples, o.seed
    )
}

/// The terminal view: the story in plain text, then the table.
pub fn render_terminal(report: &ImpactReport) -> String {
    let (paragraphs, bullets, caveats) = story(report, &|s| format!("\"{s}\""));
    let mut out = format!("{}\n\n", title(report));
    let _ = writeln!(out, "{}", paragraphs[0]);
    for b in &bullets {
        let _ = writeln!(out, "  - {b}");
    }
    for p in &paragraphs[1..] {
        let _ = write!(out, "\n{p}\n");
    }
    let mut t = crate::table();
    t.set_header(HEADER);
    for row in rows(report) {
        t.add_row(row);
    }
    if let Some(c) = t.column_mut(1) {
        c.set_cell_alignment(CellAlignment::Right);
    }
    if let Some(c) = t.column_mut(2) {
        c.set_cell_alignment(CellAlignment::Right);
    }
    let _ = write!(out, "\n{t}\n");
    if !caveats.is_empty() {
        out.push_str("\nKeep in mind:\n");
        for c in &caveats {
            let _ = writeln!(out, "  - {c}.");
        }
    }
    let _ = writeln!(out, "\n{}", methods_line(report));
    out
}

/// The Markdown view: a heading, the story, the table, the caveats.
pub fn render_markdown(report: &ImpactReport) -> String {
    let (paragraphs, bullets, caveats) = story(report, &|s| format!("*{s}*"));
    let mut out = format!("## {}\n\n", title(report));
    let _ = writeln!(out, "{}\n", paragraphs[0]);
    for b in &bullets {
        let _ = writeln!(out, "- {b}");
    }
    for p in &paragraphs[1..] {
        let _ = write!(out, "\n{p}\n");
    }
    out.push('\n');
    let _ = writeln!(out, "| {} |", HEADER.join(" | "));
    let _ = writeln!(
        out,
        "|{}|",
        HEADER
            .iter()
            .enumerate()
            .map(|(i, _)| if i == 1 || i == 2 { "---:" } else { "---" })
            .collect::<Vec<_>>()
            .join("|")
    );
    for row in rows(report) {
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }
    if !caveats.is_empty() {
        out.push_str("\n**Keep in mind:**\n\n");
        for c in &caveats {
            let _ = writeln!(out, "- {c}.");
        }
    }
    let _ = writeln!(out, "\n*{}*", methods_line(report));
    out
}

/// JSON: the whole report, with every estimate, interval, p-value, sample size and verdict.
pub fn render_json(report: &ImpactReport) -> Result<String, RenderError> {
    Ok(serde_json::to_string_pretty(report)? + "\n")
}

/// The recorded practice changes as JSON.
pub fn practice_list_json(changes: &[PracticeChange]) -> Result<String, RenderError> {
    Ok(serde_json::to_string_pretty(changes)? + "\n")
}

/// The recorded practice changes as a table.
pub fn practice_list_table(changes: &[PracticeChange]) -> String {
    if changes.is_empty() {
        return "No practice changes recorded. Record one with: shiplog practice start NAME --on DATE\n"
            .to_owned();
    }
    let mut t = crate::table();
    t.set_header([
        "Practice",
        "Started",
        "Ended",
        "Applies to",
        "Capability",
        "Note",
    ]);
    for c in changes {
        t.add_row([
            c.name.to_string(),
            c.started_on.to_string(),
            c.ended_on.map_or_else(|| "–".to_owned(), |d| d.to_string()),
            c.scope.describe(),
            c.capability
                .as_ref()
                .map_or_else(String::new, ToString::to_string),
            c.note.clone().unwrap_or_default(),
        ]);
    }
    format!(
        "{t}\n{}\n",
        crate::counted(changes.len() as u64, "practice change", "practice changes")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use shiplog_core::impact::{DeploymentSample, Design, GroupHistory, ImpactOptions, analyze};

    /// `per_week` deployments a week for `weeks` before and after (after a 14-day transition), three
    /// changes each with lead times `lead_hours` (spread by a fixed pattern), one in four failing,
    /// none unplanned.
    fn analysed(weeks: (u32, u32), per_week: u32, lead_hours: (f64, f64)) -> Vec<MetricImpact> {
        let spread = [0.55, 0.8, 1.0, 1.3, 1.9, 0.7, 1.1, 1.6, 0.9];
        let mut deployments = Vec::new();
        let mut k = 0usize;
        let mut week = -7.0 * f64::from(weeks.0);
        while week < 14.0 + 7.0 * f64::from(weeks.1) {
            let after = week >= 0.0;
            for i in 0..per_week {
                k += 1;
                let base = if after { lead_hours.1 } else { lead_hours.0 } * 3600.0;
                deployments.push(DeploymentSample {
                    at_days: week + 7.0 * (f64::from(i) + 0.5) / f64::from(per_week),
                    lead_times: (0..3).map(|j| base * spread[(k * 3 + j) % 9]).collect(),
                    failed: k.is_multiple_of(4),
                    recovery: k.is_multiple_of(4).then_some(3600.0 * (1 + k % 5) as f64),
                    unplanned: false,
                });
            }
            week += 7.0;
        }
        let design = Design::weeks(weeks.0, 14.0, weeks.1);
        let options = ImpactOptions {
            resamples: 300,
            seed: 5,
            ..ImpactOptions::default()
        };
        analyze(&GroupHistory { deployments }, None, &design, &options).metrics
    }

    #[test]
    fn every_reason_has_its_sentence() {
        // Twelve weeks a side, lead times cut by two thirds: credited.
        let step = analysed((12, 12), 6, (72.0, 24.0));
        assert_eq!(step[1].reason(), Reason::Credited);
        // No unplanned deployments at all: rework is not tested.
        let rework = &step[4];
        assert_eq!(rework.reason(), Reason::NoEvents);
        let text = metric_sentence(rework);
        assert!(text.contains("not tested"), "{text}");
        assert!(
            text.contains("No unplanned deployments (hotfixes, rollbacks) in either window"),
            "{text}"
        );
        assert_eq!(step[1].effect.as_ref().unwrap().tested_together, 4);
        // The fail rate did not change: chance.
        assert_eq!(step[2].reason(), Reason::Chance);
        assert!(
            metric_sentence(&step[2])
                .ends_with("Chance alone could produce a difference like this.")
        );

        // Three weeks after the change: lead times fell significantly, but the trend check cannot
        // run, and that is the reason given (not chance).
        let short = analysed((12, 3), 6, (72.0, 24.0));
        let lead = &short[1];
        assert!(lead.effect.as_ref().unwrap().p_adjusted < 0.001);
        assert_eq!(lead.reason(), Reason::Withheld);
        let text = metric_sentence(lead);
        assert!(
            text.contains("not credited to the practice: too few weekly values"),
            "{text}"
        );
        assert!(!text.contains("Chance"), "{text}");
        assert!(lead.caveats.iter().any(|c| c.code == "verdict-unreachable"));

        // The remaining two reasons, from the same metric with its numbers moved.
        let mut m = step[2].clone();
        let e = m.effect.as_mut().unwrap();
        (e.p_value, e.p_adjusted) = (0.02, 0.08);
        assert_eq!(m.reason(), Reason::LostToMultipleTesting);
        let text = metric_sentence(&m);
        assert!(text.contains("Alone it would pass (p = 0.020), but not once adjusted for the 4 metrics tested together"), "{text}");
        let e = m.effect.as_mut().unwrap();
        (e.p_value, e.p_adjusted, e.low, e.high) = (0.001, 0.004, -0.1, 0.05);
        assert_eq!(m.reason(), Reason::IntervalIncludesNoChange);
        assert!(metric_sentence(&m).contains("The interval still includes no change"));
    }

    #[test]
    fn one_of_everything_is_singular() {
        let mut m = analysed((12, 12), 6, (72.0, 24.0))[0].clone();
        let e = m.effect.as_mut().unwrap();
        e.tested_together = 1;
        let text = metric_sentence(&m);
        assert!(text.contains("(the only metric tested)"), "{text}");
        assert!(!text.contains("1 metrics"), "{text}");
        let few = analysed((12, 1), 1, (72.0, 24.0));
        let text = metric_sentence(&few[3]);
        assert!(
            !text.contains("1 recoveries") && !text.contains("1 weeks"),
            "{text}"
        );
        assert_eq!(counted_unit(1, "weeks"), "1 week");
        assert_eq!(counted_unit(1, "recoveries"), "1 recovery");
        assert_eq!(counted_unit(2, "weeks"), "2 weeks");
    }

    /// A report on `api` whose windows are `before_days` and `after_days` long (whole weeks counted
    /// as such), with the given metrics.
    fn windowed(metrics: &[MetricImpact], before_days: i32, after_days: i32) -> ImpactReport {
        let at: jiff::Timestamp = "2026-03-03T00:00:00Z".parse().unwrap();
        let day = jiff::SignedDuration::from_hours(24);
        let design = Design {
            change_at: at,
            before_since: at - day * before_days,
            after_since: at + day * 14,
            after_until: at + day * (14 + after_days),
            ..Design::weeks(
                u32::try_from(before_days / 7).unwrap(),
                14.0,
                u32::try_from(after_days / 7).unwrap(),
            )
        };
        let metrics = metrics.to_vec();
        ImpactReport {
            practice: shiplog_core::PracticeChange {
                name: shiplog_core::PracticeName::new("Pairing").unwrap(),
                started_on: "2026-03-03".parse().unwrap(),
                ended_on: None,
                scope: shiplog_core::PracticeScope::AllServices,
                capability: None,
                note: None,
            },
            environment: shiplog_core::Environment::production(),
            services: vec![shiplog_core::ServiceName::new("api").unwrap()],
            comparison_services: Vec::new(),
            comparison_choice: None,
            analysis: shiplog_core::impact::ImpactAnalysis {
                design,
                options: ImpactOptions {
                    resamples: 300,
                    seed: 5,
                    ..ImpactOptions::default()
                },
                metrics,
                caveats: Vec::new(),
            },
        }
    }

    #[test]
    fn empty_and_short_windows_read_as_sentences() {
        let plain = |r: &ImpactReport| opening(r, &|s| s.to_owned());
        let metrics = analysed((12, 12), 6, (72.0, 24.0));
        let windowed = |before, after| windowed(&metrics, before, after);
        // Twelve weeks a side: as before.
        let text = plain(&windowed(84, 84));
        assert!(
            text.starts_with("In the 12 weeks before 3 March 2026, api deployed 6.0 times a week"),
            "{text}"
        );
        assert!(
            text.ends_with(
                "Comparing with the 12 weeks from 17 March 2026 to 9 June 2026 (after a 14-day transition, left out):"
            ),
            "{text}"
        );
        // No before window at all: said so, not "In the 0 weeks before".
        let text = plain(&windowed(0, 7));
        assert!(
            text.starts_with("There are no records of api before 3 March 2026 to compare with. On 3 March 2026 it started Pairing."),
            "{text}"
        );
        assert!(text.contains("Comparing with the 1 week from"), "{text}");
        // Shorter than a week: in days; one day is singular.
        let text = plain(&windowed(5, 1));
        assert!(
            text.starts_with("In the 5 days before 3 March 2026, api "),
            "{text}"
        );
        assert!(text.contains("Comparing with the 1 day from"), "{text}");
        // No after window yet.
        let text = plain(&windowed(84, 0));
        assert!(
            text.ends_with("There are no records after 17 March 2026 (after a 14-day transition, left out) to compare with yet:"),
            "{text}"
        );
        // A before window without a single value: no dangling "api ."
        let mut empty = windowed(84, 84);
        for m in &mut empty.analysis.metrics {
            m.before.value = None;
        }
        let text = plain(&empty);
        assert!(
            text.starts_with(
                "In the 12 weeks before 3 March 2026, api recorded no deployments. On"
            ),
            "{text}"
        );
        assert!(!text.contains(" ."), "{text}");
        // No deployments a week is not "deployed 0.0 times a week".
        let mut idle = windowed(84, 84);
        for m in &mut idle.analysis.metrics {
            m.before.value = (m.metric == MetricKind::DeploymentFrequency).then_some(0.0);
        }
        let text = plain(&idle);
        assert!(text.contains("api did not deploy."), "{text}");
        assert!(
            !text.contains("0 weeks") && !text.contains("0.0 times"),
            "{text}"
        );
        // Two services are "they", with "and" between them.
        let mut two = windowed(84, 84);
        two.services
            .push(shiplog_core::ServiceName::new("web").unwrap());
        let text = plain(&two);
        assert!(
            text.contains("api and web deployed") && text.contains("they started"),
            "{text}"
        );
    }

    #[test]
    fn effects_read_as_people_write_them() {
        assert_eq!(
            effect_text(Scale::Ratio, 0.29, 0.2, 0.42),
            "−71% (95% CI −80% to −58%)"
        );
        assert_eq!(
            effect_text(Scale::Ratio, 5.1, 3.9, 6.7),
            "×5.1 (95% CI ×3.9 to ×6.7)"
        );
        assert_eq!(
            effect_text(Scale::Ratio, 1.44, 0.0233, 15.67),
            "×1.4 (95% CI ×0.023 to ×16)"
        );
        assert_eq!(
            effect_text(Scale::Difference, -0.04, -0.152, 0.061),
            "−4.0 points (95% CI −15.2 to +6.1)"
        );
        assert_eq!(prose_duration(3.1 * 86_400.0), "3.1 days");
        assert_eq!(prose_duration(5.25 * 3600.0), "5.2 hours");
        assert_eq!(prose_duration(45.0 * 60.0), "45 minutes");
        assert_eq!(p_text(0.0004), "p < 0.001");
        assert_eq!(p_text(0.0123), "p = 0.012");
        assert_eq!(
            and_list(&["a".to_owned(), "b".to_owned(), "c".to_owned()]),
            "a, b and c"
        );
    }
}
