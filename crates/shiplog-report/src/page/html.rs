//! The report page, written with maud: one self-contained HTML file (inline CSS and SVG, no
//! script, no fetched font or image) that opens from disk, follows the reader's light or dark
//! theme, and prints with every collapsed detail open.

use maud::{DOCTYPE, Markup, PreEscaped, html};
use shiplog_core::explain::FailureDetail;
use shiplog_core::impact::{ImpactReport, MetricKind};

use super::charts::{self, ImpactBars};
use super::model::{Metric, ReportModel, Tile};

pub(crate) const STYLE: &str = include_str!("style.css");

fn day(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%d").to_string()
}

fn stamp(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M").to_string()
}

/// Markdown (our own docs and impact stories) to HTML. Raw HTML in the source is escaped.
pub(crate) fn markdown_html(text: &str) -> Markup {
    use pulldown_cmark::{Event, Options, Parser};
    let parser = Parser::new_ext(text, Options::ENABLE_TABLES).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        other => other,
    });
    let mut out = String::new();
    pulldown_cmark::html::push_html(&mut out, parser);
    PreEscaped(out)
}

fn change_class(tile: &Tile) -> &'static str {
    match tile.improved {
        Some(true) => "better",
        Some(false) => "worse",
        None => "same",
    }
}

fn explain_anchor(metric: Metric) -> &'static str {
    match metric {
        Metric::ChangeLeadTime => "explain-changes",
        Metric::DeploymentFrequency | Metric::ReworkRate => "explain-deployments",
        Metric::ChangeFailRate | Metric::FailedDeploymentRecoveryTime => "explain-failures",
    }
}

fn explain_command(metric: Metric) -> &'static str {
    match metric {
        Metric::ChangeLeadTime => "shiplog explain lead-time",
        Metric::DeploymentFrequency | Metric::ReworkRate => "shiplog explain deployments",
        Metric::ChangeFailRate | Metric::FailedDeploymentRecoveryTime => "shiplog explain failures",
    }
}

fn tiles(model: &ReportModel) -> Markup {
    let first_paragraph = |anchor: &str| {
        model
            .definitions
            .iter()
            .find(|d| d.anchor == anchor)
            .and_then(|d| d.markdown.split("\n\n").next())
            .unwrap_or_default()
            .to_owned()
    };
    html! {
        div class="tiles" {
            @for tile in &model.tiles {
                div class="tile" data-tile=(tile.metric.anchor()) {
                    h3 { a href=(format!("#{}", tile.definition)) { (tile.title) } }
                    div class="value" { (tile.value_text) }
                    div {
                        @if let Some(band) = tile.band { span class="badge" title="DORA performance band" { "DORA: " (band) } }
                    }
                    div class=(change_class(tile)) {
                        @match &tile.change_text {
                            Some(text) => {
                                (text) " vs previous " (super::model::days(model.previous_since.unwrap_or(model.since), model.since)) " days"
                                @match tile.improved { Some(true) => " (better)", Some(false) => " (worse)", None => " (no change)" }
                            }
                            None => span class="note" { "no previous value to compare" }
                        }
                    }
                    div class="note" { (tile.basis) }
                    details {
                        summary { "How this was computed" }
                        (markdown_html(&first_paragraph(tile.definition)))
                        p { "This window: " (tile.value_text) " from " (tile.basis) ". Previous window: " (tile.previous_text) "." }
                        p { "The records behind it: " a href=(format!("#{}", explain_anchor(tile.metric))) { "the list below" } ", or " code { (explain_command(tile.metric)) } ". " a href=(format!("#{}", tile.definition)) { "Full definition" } "." }
                    }
                }
            }
        }
    }
}

fn trends(model: &ReportModel) -> Markup {
    html! {
        @for (k, trend) in model.trends.iter().enumerate() {
            figure data-trend=(trend.metric.anchor()) {
                h3 id=(format!("trend-{}", trend.metric.anchor())) { (trend.title) " by " (model.period.noun()) }
                (charts::trend_chart(trend, &model.markers, &format!("chart-{k}")))
                figcaption class="legend" {
                    span { span class="key c1" {} (trend.title) }
                    @if !model.markers.is_empty() { span { span class="key mark" {} "practice change" } }
                    @if trend.points.iter().any(|p| p.value.is_none()) { span { span class="key gap" {} "no data (missing, not zero)" } }
                }
                details {
                    summary { "Table: " (trend.title) " by " (model.period.noun()) }
                    div class="scroll" {
                        table data-table=(format!("trend-{}", trend.metric.anchor())) {
                            thead { tr { th { (model.period.noun()) } th class="num" { "value" } th { "based on" } } }
                            tbody {
                                @for p in &trend.points {
                                    tr {
                                        td { (p.period) }
                                        @match p.value {
                                            Some(_) => td class="num" { (trend.metric.format(p.value)) },
                                            None => td class="num missing" { "no data" },
                                        }
                                        td { @if let Some(why) = p.missing { (why) } @else { (p.basis) } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn timeline(model: &ReportModel) -> Markup {
    let t = &model.timeline;
    html! {
        @if t.deployments.is_empty() {
            p class="note" { "No deployments in this window." }
        } @else {
            figure {
                (charts::timeline_chart(t, &model.markers, model.since, model.until))
                figcaption class="legend" {
                    span { span class="key c1" {} "deployment" }
                    span { span class="key bad" {} "failed deployment (▲) and its time to recovery" }
                    span { "dashed: not recovered" }
                    @if !model.markers.is_empty() { span { span class="key mark" {} "practice change" } }
                }
            }
            details {
                summary { "Table: deployments by service" }
                table data-table="timeline" {
                    thead { tr { th { "service" } th class="num" { "deployments" } th class="num" { "failed" } th class="num" { "recovered" } } }
                    tbody {
                        @for service in &t.services {
                            @let of: Vec<_> = t.deployments.iter().filter(|d| &d.service == service).collect();
                            tr {
                                td { (service) }
                                td class="num" { (of.len()) }
                                td class="num" { (of.iter().filter(|d| d.failed).count()) }
                                td class="num" { (of.iter().filter(|d| d.failed && d.recovered_at.is_some()).count()) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn stages(model: &ReportModel) -> Markup {
    let d = |v: Option<f64>| v.map_or_else(|| "–".to_owned(), crate::human_duration);
    html! {
        @if let Some(s) = &model.current.change_lead_time.stages {
            p { "Medians over the window, from " (s.pull_requests) " pull requests: coding " (d(s.coding.median_seconds)) ", pickup " (d(s.pickup.median_seconds))
                ", review " (d(s.review.median_seconds)) ", deploy " (d(s.deploy.median_seconds)) "." }
        }
        figure {
            (charts::stages_chart(&model.stages))
            figcaption class="legend" {
                span { span class="key c1" {} "coding (first commit → ready for review)" }
                span { span class="key c2" {} "pickup (→ first review)" }
                span { span class="key c3" {} "review (→ merged)" }
                span { span class="key c4" {} "deploy (→ deployed)" }
            }
        }
        details {
            summary { "Table: lead-time stages by " (model.period.noun()) }
            div class="scroll" {
                table data-table="stages" {
                    thead { tr { th { (model.period.noun()) } th class="num" { "pull requests" } th class="num" { "coding" } th class="num" { "pickup" } th class="num" { "review" } th class="num" { "deploy" } } }
                    tbody {
                        @for s in &model.stages {
                            tr { td { (s.period) } td class="num" { (s.pull_requests) } td class="num" { (d(s.coding)) } td class="num" { (d(s.pickup)) } td class="num" { (d(s.review)) } td class="num" { (d(s.deploy)) } }
                        }
                    }
                }
            }
        }
    }
}

fn metric_of(kind: MetricKind) -> Metric {
    match kind {
        MetricKind::DeploymentFrequency => Metric::DeploymentFrequency,
        MetricKind::ChangeLeadTime => Metric::ChangeLeadTime,
        MetricKind::ChangeFailRate => Metric::ChangeFailRate,
        MetricKind::FailedDeploymentRecoveryTime => Metric::FailedDeploymentRecoveryTime,
        MetricKind::ReworkRate => Metric::ReworkRate,
    }
}

fn impact(report: &ImpactReport, k: usize) -> Markup {
    let story = crate::impact::render_markdown(report);
    html! {
        article class="impact" data-impact=(report.practice.name.as_str()) {
            div class="story" { (markdown_html(&story)) }
            div class="impact-charts" {
                @for (j, m) in report.analysis.metrics.iter().enumerate() {
                    (charts::impact_chart(&ImpactBars {
                        metric: metric_of(m.metric),
                        subject: (m.before.value, m.after.value),
                        comparison: m.comparison.as_ref().map(|c| (c.before.value, c.after.value)),
                    }, &format!("impact-{k}-{j}")))
                }
            }
            div class="legend" {
                span { span class="key c1" {} "services that changed (" (report.services.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")) ")" }
                @if !report.comparison_services.is_empty() {
                    span { span class="key c2" {} "comparison group (" (report.comparison_services.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")) ")" }
                }
                span { "lighter: before, darker: after" }
            }
        }
    }
}

fn link_or_text(url: Option<&str>, text: &str) -> Markup {
    html! { @match url { Some(url) => a href=(url) { (text) }, None => (text) } }
}

fn reasons(items: &[FailureDetail]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

fn hidden_note(hidden: usize, command: &str) -> Markup {
    html! {
        @if hidden > 0 {
            p class="note" { "The newest rows are shown; " (hidden) " older ones are not. All of them: " code { (command) " --limit 0" } " (or " code { "--format csv" } ")." }
        }
    }
}

fn drill_down(model: &ReportModel) -> Markup {
    let d = &model.drill_down;
    let commit_url =
        |sha: &shiplog_core::Sha| model.web_url.as_ref().map(|w| format!("{w}/commit/{sha}"));
    html! {
        details id="explain-changes" {
            summary { "Changes and their lead times (" (d.changes.total) ")" }
            (hidden_note(d.changes.hidden(), "shiplog explain lead-time"))
            div class="scroll" {
                table data-table="changes" {
                    thead { tr { th { "commit" } th class="num" { "lead time" } th { "pull request" } th { "deployment" } th { "deployed" } th { "summary" } } }
                    tbody {
                        @for c in &d.changes.rows {
                            tr {
                                td { code { (link_or_text(c.commit_url.as_deref(), &c.item.sha.short(10))) } }
                                td class="num" { @match c.item.lead_time_seconds { Some(s) => (crate::human_duration(s)), None => (c.item.excluded.unwrap_or("–")) } }
                                td { @if let Some(pr) = &c.item.pull_request { (link_or_text(c.pull_request_url.as_deref(), pr)) } @else if let Some(b) = &c.item.squashed_branch { "branch " (b) } }
                                td { (c.item.deployment) }
                                td { (stamp(c.item.deployed_at)) }
                                td { (c.summary.as_deref().unwrap_or_default()) }
                            }
                        }
                    }
                }
            }
            p class="note" { (d.baseline_changes) " changes shipped by the first deployment of each chain are not listed (their lead time is unknown)." }
        }
        details id="explain-deployments" {
            summary { "Deployments (" (d.deployments.total) ")" }
            (hidden_note(d.deployments.hidden(), "shiplog explain deployments"))
            div class="scroll" {
                table data-table="deployments" {
                    thead { tr { th { "deployment" } th { "service" } th { "finished" } th { "commit" } th class="num" { "changes" } th { "status" } th { "notes" } } }
                    tbody {
                        @for x in &d.deployments.rows {
                            tr {
                                td { (x.id) @if let Some(v) = &x.version { " " span class="note" { (v) } } }
                                td { (x.service) }
                                td { (stamp(x.finished_at)) }
                                td { code { (link_or_text(commit_url(&x.sha).as_deref(), &x.sha.short(10))) } }
                                td class="num" { (x.shipped_changes) }
                                td { (x.status) }
                                td {
                                    @if x.baseline { "baseline; " }
                                    @for f in &x.failures { "failed: " (f) "; " }
                                    @for u in &x.unplanned { "unplanned: " (u) "; " }
                                }
                            }
                        }
                    }
                }
            }
        }
        details id="explain-failures" {
            summary { "Failed deployments and their recovery (" (d.failures.total) ")" }
            (hidden_note(d.failures.hidden(), "shiplog explain failures"))
            div class="scroll" {
                table data-table="failures" {
                    thead { tr { th { "deployment" } th { "finished" } th { "why it failed" } th { "recovered" } th class="num" { "recovery" } } }
                    tbody {
                        @for f in &d.failures.rows {
                            tr {
                                td { (f.deployment) " (" (f.service) ")" }
                                td { (stamp(f.finished_at)) }
                                td { (reasons(&f.reasons)) }
                                td { @match (f.recovered_at, f.recovered_by) {
                                    (Some(at), Some(by)) => { (stamp(at)) " by " (serde_json::to_value(by).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()) }
                                    _ => "not yet",
                                } }
                                td class="num" { (f.recovery_seconds.map_or_else(|| "–".to_owned(), crate::human_duration)) }
                            }
                        }
                    }
                }
            }
        }
        details id="explain-incidents" {
            summary { "Incidents (" (d.incidents.total) ")" }
            (hidden_note(d.incidents.hidden(), "shiplog explain incidents"))
            div class="scroll" {
                table data-table="incidents" {
                    thead { tr { th { "incident" } th { "opened" } th { "resolved" } th { "attributed to" } th { "title" } } }
                    tbody {
                        @for i in &d.incidents.rows {
                            tr {
                                td { (i.id) " (" (i.service) ")" }
                                td { (stamp(i.opened_at)) }
                                td { (i.resolved_at.map_or_else(|| "open".to_owned(), stamp)) }
                                td { @match (&i.deployment, &i.unattributed_reason) {
                                    (Some(dep), _) => (dep),
                                    (None, Some(why)) => { "nothing: " (why) }
                                    (None, None) => "nothing",
                                } }
                                td { (i.title.as_deref().unwrap_or_default()) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A page's `<head>`: its title and the inline style sheet (light and dark themes).
pub(crate) fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            meta name="color-scheme" content="light dark";
            meta name="generator" content="shiplog";
            title { (title) }
            style { (PreEscaped(STYLE)) }
        }
    }
}

/// The report page.
pub fn render(model: &ReportModel) -> String {
    render_with(model, None)
}

/// The report page, inside the dashboard's [`Chrome`] when one is given.
pub fn render_with(model: &ReportModel, chrome: Option<&super::dashboard::Chrome>) -> String {
    let window = format!(
        "{} → {} ({} days)",
        day(model.since),
        day(model.until),
        super::model::days(model.since, model.until)
    );
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            (head(&format!("Delivery report · {} · {window}", model.title)))
            body {
                svg width="0" height="0" style="position:absolute" aria-hidden="true" {
                    defs { pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)" {
                        rect width="6" height="6" fill="none" {}
                        line x1="0" y1="0" x2="0" y2="6" style="stroke:var(--gap);stroke-width:2;opacity:.45" {}
                    } }
                }
                header {
                    @if let Some(chrome) = chrome { (super::dashboard::bar(chrome)) }
                    h1 { "Delivery report: " (model.title) }
                    p class="sub" { (window) " · generated " (stamp(model.generated_at)) " UTC · lead time from " (match model.lead_time_start { shiplog_core::LeadTimeStart::Author => "author time", shiplog_core::LeadTimeStart::Committer => "committer time" }) }
                    nav class="toc" aria-label="Sections" {
                        a href="#headline" { "Headline" } a href="#trends" { "Trends" } a href="#deployments" { "Deployments" }
                        @if !model.stages.is_empty() { a href="#stages" { "Lead-time stages" } }
                        @if !model.impacts.is_empty() { a href="#practices" { "Practice changes" } }
                        @if model.guide.is_some() { a href="#guide" { "Guide" } }
                        a href="#explain" { "Drill-down" } a href="#definitions" { "Definitions" }
                    }
                }
                main {
                    section id="headline" {
                        h2 { "Headline" }
                        (tiles(model))
                        p class="note" {
                            (model.current.incidents.total) " incidents in the window, " (model.current.incidents.unattributed) " not attributed to a deployment."
                            @if let Some(since) = model.previous_since { " Changes compare with " (day(since)) " → " (day(model.since)) "." }
                        }
                    }
                    section id="trends" {
                        h2 { "Trends" }
                        @if !model.markers.is_empty() {
                            p { "Practice changes in this window: "
                                @for (k, m) in model.markers.iter().enumerate() { @if k > 0 { "; " } strong { (m.name) } " from " (day(m.at)) " (" (m.services) ")" } "." }
                        }
                        (trends(model))
                    }
                    section id="deployments" {
                        h2 { "Deployments" }
                        (timeline(model))
                    }
                    @if !model.stages.is_empty() {
                        section id="stages" { h2 { "Lead-time stages" } (stages(model)) }
                    }
                    @if !model.impacts.is_empty() {
                        section id="practices" {
                            h2 { "Practice changes" }
                            @for (k, report) in model.impacts.iter().enumerate() { (impact(report, k)) }
                        }
                    }
                    @if let Some(g) = &model.guide {
                        section id="guide" { h2 { "Guide" } (guide(g)) }
                    }
                    section id="explain" {
                        h2 { "Drill-down" }
                        p class="note" { "The records behind every number, as " code { "shiplog explain" } " lists them."
                            @if model.web_url.is_some() { " Commits and pull requests link to the repository." } }
                        (drill_down(model))
                    }
                    @if let Some(chrome) = chrome { (super::dashboard::exports(chrome, model)) }
                    section id="definitions" {
                        h2 { "Definitions" }
                        p class="note" { "From shiplog's docs/metrics.md, as built into this version." }
                        @for d in &model.definitions {
                            div class="definition" id=(d.anchor) { h3 { (d.title) } (markdown_html(&d.markdown)) }
                        }
                    }
                }
                footer class="note" { p { "Made by shiplog. Teams and services only: shiplog has no per-person views." } }
            }
        }
    };
    page.into_string()
}

/// The Guide section: the guide for the report's scope, as `shiplog guide` computes it.
fn guide(g: &shiplog_guide::report::GuideReport) -> Markup {
    use shiplog_guide::benchmark::BenchmarkKind;
    use shiplog_guide::report::metric_value;
    use shiplog_guide::signals::format_value;
    let any_benchmark = g.standing.metrics.iter().any(|m| !m.benchmarks.is_empty());
    html! {
        p class="note" { "What " code { "shiplog guide" } " says for this scope: the metrics on DORA's Quick Check scale, the capabilities the data can show, and where to start." }
        h3 id="guide-standing" { "Where you stand" }
        div class="scroll" {
            table data-table="guide-standing" {
                thead { tr { th { "metric" } th class="num" { "value" } th class="num" { "based on" } th { "Quick Check answer" } th class="num" { "score (0–10)" } @if any_benchmark { th { "benchmarks" } } } }
                tbody {
                    @for m in &g.standing.metrics {
                        tr {
                            td { (m.metric.label()) }
                            @match m.value {
                                Some(v) => td class="num" { (metric_value(m.metric, v)) },
                                None => td class="num missing" { "no data" },
                            }
                            td class="num" { (m.count) }
                            td { @if let (Some(b), Some(text)) = (m.bucket, m.bucket_text) { (b.number()) " · " (text) } }
                            td class="num" { @if let Some(s) = m.score { (format!("{s:.1}")) } }
                            @if any_benchmark {
                                td {
                                    @for (k, c) in m.benchmarks.iter().enumerate() {
                                        @if k > 0 { "; " }
                                        (match c.benchmark.kind { BenchmarkKind::Industry => format!("teams in {}", c.benchmark.name), BenchmarkKind::OrganizationSize => format!("organisations of {}", c.benchmark.name) })
                                        " average " (format!("{:.1} ± {:.1}", c.benchmark.mean, c.benchmark.std))
                                        @if let Some(sd) = c.standard_deviations { ", " (format!("{sd:+.1}")) " SD" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        p {
            @match g.standing.overall_score {
                Some(s) => { "Overall: " strong { (format!("{s:.1}")) } " of 10 (the mean of the scored metrics)." }
                None => { "Overall: no metric could be scored." }
            }
            " Deployment frequency answer 6 (“on demand”) needs two or more deployments on the median working day; here " (g.standing.median_working_day_deployments) "."
        }
        @if any_benchmark { p class="note" { (g.survey_caveat) } }
        p class="note" { (g.attribution) }
        h3 id="guide-signals" { "Signals from your data" }
        @for c in &g.measured {
            div class="capability" data-capability=(c.slug.as_str()) {
                h4 { (c.name) " " a href=(c.article) { "(DORA)" } }
                p class="note" { (c.about) }
                table data-table=(format!("guide-{}", c.slug.as_str())) {
                    thead { tr { th { "signal" } th class="num" { "value" } th class="num" { "count" } th { "strong teams" } th { "" } } }
                    tbody {
                        @for s in &c.signals {
                            tr data-signal=(s.id) {
                                td { (s.label) }
                                @match s.value {
                                    Some(v) => {
                                        td class="num" { (format_value(v, s.unit)) }
                                        td class="num" { (s.count) " " (s.counted) }
                                        td { (s.strong.text) }
                                        td class=(match s.meets { Some(true) => "better", Some(false) => "worse", None => "same" }) { (match s.meets { Some(true) => "meets it", Some(false) => "misses it", None => "" }) }
                                    }
                                    None => {
                                        td class="num missing" { "not measured" }
                                        td class="num" { (s.count) }
                                        td { (s.strong.text) }
                                        td class="note" { (s.missing.as_deref().unwrap_or("no data")) }
                                    }
                                }
                            }
                        }
                    }
                }
                @if let Some(a) = &c.self_assessment {
                    p class="note" { "Self-assessment (" (a.answered_on) "): " (format!("{:.1}", a.score)) " of 10 over " (a.answers.len()) " statements." }
                }
                @if !c.evidence.is_empty() {
                    details { summary { "What others saw" } ul { @for e in &c.evidence { li { (e.finding) " (" (e.source) ")" } } } }
                }
            }
        }
        h3 id="guide-unmeasured" { "Capabilities no data can show" }
        @for c in &g.not_measured {
            details class="capability" data-capability=(c.slug.as_str()) {
                summary {
                    strong { (c.name) } ": " (c.about)
                    @if let Some(a) = &c.self_assessment { " — self-assessment " (a.answered_on) ": " (format!("{:.1}", a.score)) " of 10" }
                }
                p { a href=(c.article) { "DORA's article" } }
                @if !c.statements.is_empty() {
                    ol {
                        @for (i, statement) in c.statements.iter().enumerate() {
                            li { (statement)
                                @if let Some(x) = c.self_assessment.as_ref().and_then(|a| a.answers.iter().find(|x| x.0 == i as u32 + 1)) { " " span class="badge" { "answered " (x.1) } }
                            }
                        }
                    }
                }
                @if !c.evidence.is_empty() { ul { @for e in &c.evidence { li { "What others saw: " (e.finding) " (" (e.source) ")" } } } }
            }
        }
        @if g.not_measured.iter().any(|c| !c.statements.is_empty() && c.self_assessment.is_none()) {
            p class="note" { code { "shiplog guide assess" } " asks the statements (1 strongly disagree … 5 strongly agree); each scores (answer − 1) × 2.5." }
        }
        h3 id="guide-start" { "Where to start" }
        @if g.where_to_start.is_empty() {
            p { "No measured signal misses its strong-team reference: nothing to single out from the data." }
        }
        ol {
            @for c in &g.where_to_start {
                li data-candidate=(c.capability.as_str()) {
                    strong { (c.name) } ": " (c.reasoning)
                    @if let Some(e) = g.experiments.iter().find(|e| e.capability == c.capability) {
                        ul class="experiment" {
                            li { "Try: " (e.change) " for " (e.weeks) " weeks." }
                            li { "Sizing: " (e.sizing) "." }
                            li { "Record it: " code { (e.command) } }
                        }
                    }
                }
            }
        }
        p class="note j-curve" { (g.j_curve) }
    }
}
