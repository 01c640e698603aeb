//! The guide as a whole: what `shiplog guide --format json` prints and what `shiplog report`'s
//! Guide section shows. The binary fills it (it loads the records); this module only holds it.

use std::fmt::Write as _;

use jiff::Timestamp;
use serde::Serialize;
use shiplog_core::Capability;

use crate::assessment::AssessedCapability;
use crate::benchmark::BenchmarkKind;
use crate::catalogue::Evidence;
use crate::plan::{Candidate, Experiment};
use crate::scoring::QuickCheckMetric;
use crate::signals::{Signal, Unit, format_duration, format_value};
use crate::standing::Standing;

/// What `shiplog guide --format json` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GuideReport {
    /// What was measured.
    pub scope: ScopeView,
    /// Whose scoring, model and benchmarks these are.
    pub attribution: &'static str,
    /// What the benchmarks are.
    pub survey_caveat: &'static str,
    /// The five metrics on the Quick Check's scale.
    pub standing: Standing,
    /// Each capability shiplog measures, with its signals.
    pub measured: Vec<MeasuredCapability>,
    /// Capabilities no data can show, with their statements and the latest answers.
    pub not_measured: Vec<UnmeasuredCapability>,
    /// Where to start.
    pub where_to_start: Vec<Candidate>,
    /// An experiment per short-listed capability.
    pub experiments: Vec<Experiment>,
    /// The J-curve warning.
    pub j_curve: &'static str,
}

/// The scope of a guide.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScopeView {
    pub service: Option<String>,
    pub team: Option<String>,
    pub environment: String,
    pub since: Timestamp,
    pub until: Timestamp,
}

/// A measured capability.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeasuredCapability {
    pub slug: Capability,
    pub name: String,
    pub about: &'static str,
    pub article: String,
    pub drives: Vec<QuickCheckMetric>,
    pub signals: Vec<Signal>,
    pub statements: Vec<String>,
    pub self_assessment: Option<AssessedCapability>,
    pub evidence: Vec<Evidence>,
}

/// A capability no data can show.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnmeasuredCapability {
    pub slug: Capability,
    pub name: String,
    pub group: Option<String>,
    pub about: &'static str,
    pub article: String,
    pub statements: Vec<String>,
    pub self_assessment: Option<AssessedCapability>,
    pub evidence: Vec<Evidence>,
}

/// A metric's value in words.
pub fn metric_value(metric: QuickCheckMetric, value: f64) -> String {
    match metric {
        QuickCheckMetric::DeploymentFrequency => format_value(value, Unit::PerWeek),
        QuickCheckMetric::ChangeLeadTime | QuickCheckMetric::FailedDeploymentRecoveryTime => {
            format_duration(value)
        }
        QuickCheckMetric::ChangeFailRate | QuickCheckMetric::ReworkRate => {
            format_value(value, Unit::Share)
        }
    }
}

fn signed(x: f64) -> String {
    format!("{x:+.1}")
}

/// The guide as text, as `shiplog guide` prints it (`markdown`: with Markdown headings and
/// lists, as `--format markdown`).
pub fn render(r: &GuideReport, markdown: bool) -> String {
    let mut out = String::new();
    let h = |out: &mut String, title: &str| {
        if markdown {
            let _ = writeln!(out, "## {title}\n");
        } else {
            let _ = writeln!(out, "{title}\n{}", "=".repeat(title.chars().count()));
        }
    };
    let item = if markdown { "- " } else { "  " };
    let sub = if markdown { "  - " } else { "      " };
    let scope = match (&r.scope.service, &r.scope.team) {
        (Some(s), _) => format!("service {s}"),
        (None, Some(t)) => format!("team {t}"),
        (None, None) => "all services".to_owned(),
    };
    if markdown {
        let _ = writeln!(out, "# shiplog guide\n");
    }
    h(&mut out, "Where you stand");
    let _ = writeln!(
        out,
        "{scope}, {}, {} to {}\n",
        r.scope.environment, r.scope.since, r.scope.until
    );
    for m in &r.standing.metrics {
        let mut line = format!("{item}{}: ", m.metric.label());
        match (m.value, m.score) {
            (Some(v), Some(score)) => {
                let _ = write!(line, "{} over {} ", metric_value(m.metric, v), m.count);
                let _ = write!(
                    line,
                    "{}",
                    match m.metric {
                        QuickCheckMetric::DeploymentFrequency => "deployments",
                        QuickCheckMetric::ChangeLeadTime => "changes",
                        QuickCheckMetric::FailedDeploymentRecoveryTime => "recoveries",
                        _ => "deployments",
                    }
                );
                if let (Some(b), Some(text)) = (m.bucket, m.bucket_text) {
                    let _ = write!(line, " — Quick Check answer {} \"{text}\"", b.number());
                }
                let _ = write!(line, ", scores {score:.1}");
                for c in &m.benchmarks {
                    let who = match c.benchmark.kind {
                        BenchmarkKind::Industry => format!("teams in {}", c.benchmark.name),
                        BenchmarkKind::OrganizationSize => {
                            format!("organisations of {}", c.benchmark.name)
                        }
                    };
                    let _ = write!(
                        line,
                        "; {who} average {:.1} ± {:.1}",
                        c.benchmark.mean, c.benchmark.std
                    );
                    if let Some(sd) = c.standard_deviations {
                        let _ = write!(line, ", {} SD", signed(sd));
                    }
                }
            }
            _ => line.push_str("not measured (no data in scope)"),
        }
        let _ = writeln!(out, "{line}");
    }
    match r.standing.overall_score {
        Some(s) => {
            let n = r
                .standing
                .metrics
                .iter()
                .filter(|m| m.score.is_some())
                .count();
            let _ = writeln!(
                out,
                "{item}overall: {s:.1} (the mean of {n} scored metrics)"
            );
        }
        None => {
            let _ = writeln!(out, "{item}overall: no metric could be scored");
        }
    }
    let _ = writeln!(
        out,
        "\nDeployment frequency answer 6 (\"on demand\") needs two or more deployments on the median working day; here {}.",
        r.standing.median_working_day_deployments
    );
    if r.standing.metrics.iter().any(|m| !m.benchmarks.is_empty()) {
        let _ = writeln!(out, "{}", r.survey_caveat);
    }
    let _ = writeln!(out, "{}\n", r.attribution);

    h(&mut out, "Signals from your data");
    for c in &r.measured {
        let _ = writeln!(
            out,
            "{}{} ({})",
            if markdown { "### " } else { "" },
            c.name,
            c.article
        );
        if markdown {
            out.push('\n');
        }
        for s in &c.signals {
            let line = match s.value {
                Some(v) => format!(
                    "{item}{}: {} over {} {} (strong teams: {}){}",
                    s.label,
                    format_value(v, s.unit),
                    s.count,
                    s.counted,
                    s.strong.text,
                    match s.meets {
                        Some(true) => " — meets it",
                        Some(false) => " — misses it",
                        None => "",
                    }
                ),
                None => format!(
                    "{item}{}: not measured — {}",
                    s.label,
                    s.missing.as_deref().unwrap_or("no data")
                ),
            };
            let _ = writeln!(out, "{line}");
        }
        if let Some(a) = &c.self_assessment {
            let _ = writeln!(
                out,
                "{item}self-assessment ({}): {:.1} of 10 over {} statements",
                a.answered_on,
                a.score,
                a.answers.len()
            );
        }
        for e in &c.evidence {
            let _ = writeln!(out, "{item}what others saw: {} ({})", e.finding, e.source);
        }
        out.push('\n');
    }

    h(&mut out, "Capabilities no data can show");
    for c in &r.not_measured {
        let assessed = c
            .self_assessment
            .as_ref()
            .map(|a| format!(" — self-assessment {}: {:.1} of 10", a.answered_on, a.score))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{item}{}: {} ({}){assessed}",
            c.name, c.about, c.article
        );
        for (i, statement) in c.statements.iter().enumerate() {
            let answer = c
                .self_assessment
                .as_ref()
                .and_then(|a| a.answers.iter().find(|x| x.0 == i as u32 + 1))
                .map(|x| format!(" [answered {}]", x.1))
                .unwrap_or_default();
            let _ = writeln!(out, "{sub}{}. {statement}{answer}", i + 1);
        }
        for e in &c.evidence {
            let _ = writeln!(out, "{sub}what others saw: {} ({})", e.finding, e.source);
        }
    }
    let unanswered = r
        .not_measured
        .iter()
        .any(|c| !c.statements.is_empty() && c.self_assessment.is_none());
    if unanswered {
        let _ = writeln!(
            out,
            "\n`shiplog guide assess` asks the statements (1 strongly disagree … 5 strongly agree); each scores (answer − 1) × 2.5."
        );
    }
    out.push('\n');

    h(&mut out, "Where to start");
    if r.where_to_start.is_empty() {
        let _ = writeln!(
            out,
            "No measured signal misses its strong-team reference: nothing to single out from the data.\n"
        );
    }
    for (i, c) in r.where_to_start.iter().enumerate() {
        let _ = writeln!(out, "{}. {}: {}", i + 1, c.name, c.reasoning);
        if let Some(e) = r.experiments.iter().find(|e| e.capability == c.capability) {
            let _ = writeln!(out, "{sub}try: {} for {} weeks.", e.change, e.weeks);
            let _ = writeln!(out, "{sub}sizing: {}.", e.sizing);
            if markdown {
                let _ = writeln!(out, "{sub}record it: `{}`", e.command);
            } else {
                let _ = writeln!(out, "{sub}record it: {}", e.command);
            }
        }
        out.push('\n');
    }
    let _ = writeln!(out, "{}", r.j_curve);
    out
}
