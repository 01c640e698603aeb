//! The report in Markdown, for a wiki page, a pull request or a retro document: the headline
//! table, the trend table, the deployments summary, lead-time stages, and each practice change's
//! impact story (the same text as `shiplog impact --format markdown`).

use std::fmt::Write as _;

use super::model::{Metric, ReportModel};

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// Renders the report.
pub fn render(model: &ReportModel) -> String {
    let day = |t: jiff::Timestamp| t.strftime("%Y-%m-%d").to_string();
    let mut out = String::new();
    let _ = writeln!(out, "# Delivery report: {}\n", model.title);
    let _ = writeln!(
        out,
        "{} → {} ({} days), generated {} UTC.\n",
        day(model.since),
        day(model.until),
        super::model::days(model.since, model.until),
        model.generated_at.strftime("%Y-%m-%d %H:%M")
    );
    out.push_str("## Headline\n\n| Metric | Value | DORA band | Previous window | Change | Based on |\n|---|---:|---|---:|---|---|\n");
    for t in &model.tiles {
        let change = match (&t.change_text, t.improved) {
            (Some(text), Some(true)) => format!("{text} (better)"),
            (Some(text), Some(false)) => format!("{text} (worse)"),
            (Some(text), None) => format!("{text} (no change)"),
            (None, _) => "–".to_owned(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            t.title,
            t.value_text,
            t.band.unwrap_or("–"),
            t.previous_text,
            change,
            cell(&t.basis)
        );
    }
    if !model.markers.is_empty() {
        out.push_str("\n## Practice changes in the window\n\n");
        for m in &model.markers {
            let _ = writeln!(out, "- **{}** from {} ({})", m.name, day(m.at), m.services);
        }
    }
    let _ = write!(
        out,
        "\n## Trends by {}\n\n| {} |",
        model.period.noun(),
        model.period.noun()
    );
    for metric in Metric::ALL {
        let _ = write!(out, " {} |", metric.title());
    }
    out.push_str("\n|---|");
    out.push_str(&"---:|".repeat(Metric::ALL.len()));
    out.push('\n');
    let periods = model.trends.first().map_or(0, |t| t.points.len());
    for k in 0..periods {
        let label = &model.trends[0].points[k].period;
        let _ = write!(out, "| {label} |");
        for trend in &model.trends {
            let p = &trend.points[k];
            let text = match p.value {
                Some(_) => trend.metric.format(p.value),
                None => "no data".to_owned(),
            };
            let _ = write!(out, " {text} |");
        }
        out.push('\n');
    }
    let t = &model.timeline;
    let failed = t.deployments.iter().filter(|d| d.failed).count();
    let recovered = t
        .deployments
        .iter()
        .filter(|d| d.failed && d.recovered_at.is_some())
        .count();
    let _ = writeln!(
        out,
        "\n## Deployments\n\n{} deployments of {} services; {failed} failed, {recovered} of them recovered.",
        t.deployments.len(),
        t.services.len()
    );
    if !model.stages.is_empty() {
        let d = |v: Option<f64>| v.map_or_else(|| "–".to_owned(), crate::human_duration);
        let _ = write!(
            out,
            "\n## Lead-time stages (medians)\n\n| {} | Pull requests | Coding | Pickup | Review | Deploy |\n|---|---:|---:|---:|---:|---:|\n",
            model.period.noun()
        );
        for s in &model.stages {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                s.period,
                s.pull_requests,
                d(s.coding),
                d(s.pickup),
                d(s.review),
                d(s.deploy)
            );
        }
    }
    for report in &model.impacts {
        out.push('\n');
        // The impact story's own heading becomes a section of this document.
        let story = crate::impact::render_markdown(report);
        for line in story.lines() {
            if line.starts_with('#') {
                let _ = writeln!(out, "#{line}");
            } else {
                let _ = writeln!(out, "{line}");
            }
        }
    }
    if let Some(g) = &model.guide {
        out.push_str("\n## Guide\n\n");
        out.push_str(&guide_section(g));
    }
    let d = &model.drill_down;
    let _ = writeln!(
        out,
        "\n## Behind the numbers\n\n{} changes, {} deployments, {} failed deployments and {} incidents; list them with `shiplog explain lead-time|deployments|failures|incidents`.",
        d.changes.total, d.deployments.total, d.failures.total, d.incidents.total
    );
    out.push_str("\nDefinitions: docs/metrics.md.\n");
    out
}

/// The guide as `shiplog guide --format markdown` prints it, one heading level down (a section of
/// the report).
fn guide_section(g: &shiplog_guide::report::GuideReport) -> String {
    let text = shiplog_guide::report::render(g, true);
    let mut out = String::new();
    for line in text.lines() {
        if line == "# shiplog guide" {
            continue;
        }
        if line.starts_with('#') {
            out.push('#');
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim_start().to_owned()
}
