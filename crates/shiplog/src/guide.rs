//! `shiplog guide` and `shiplog guide assess`: load the scope's records, hand them to
//! `shiplog-guide` (which decides everything), store self-assessment answers, and print.
//!
//! This module only does I/O: opening the repository and the store, reading an answers file or a
//! terminal, and rendering the guide's sections as text, Markdown or JSON.

use std::fmt::Write as _;
use std::io::{BufRead, IsTerminal, Write};

use anyhow::{Context, Result, bail};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;
use shiplog_core::definitions::compute_with;
use shiplog_core::impact::extract::{DataEnd, design, group_history};
use shiplog_core::{Capability, CapabilityAnswer};
use shiplog_guide::assessment::{
    AnswersFormat, AssessedCapability, assessable, latest, parse_answers,
};
use shiplog_guide::benchmark::{BenchmarkKind, check_row};
use shiplog_guide::catalogue::{Evidence, J_CURVE, catalogue};
use shiplog_guide::data::ATTRIBUTION;
use shiplog_guide::plan::{Candidate, Experiment, Sizing, next_monday, propose, where_to_start};
use shiplog_guide::scoring::QuickCheckMetric;
use shiplog_guide::signals::{
    Signal, SignalInputs, Unit, format_duration, format_value, median_working_day_deployments,
    signals,
};
use shiplog_guide::standing::{BenchmarkChoice, SURVEY_CAVEAT, Standing, standing};
use shiplog_store::Store;

use crate::analysis::{db_path, open_store};
use crate::cli::{Cli, GuideArgs, GuideAssessArgs, GuideCommand, GuideFormatArg};
use crate::commands::{analyze_scope, load_config, optional_repo, print, store_for_writing};
use crate::ui::Ui;

/// How many capabilities "where to start" names.
const SHORT_LIST: usize = 3;

/// What `shiplog guide --format json` prints.
#[derive(Debug, Serialize)]
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
#[derive(Debug, Serialize)]
pub struct ScopeView {
    pub service: Option<String>,
    pub team: Option<String>,
    pub environment: String,
    pub since: Timestamp,
    pub until: Timestamp,
}

/// A measured capability.
#[derive(Debug, Serialize)]
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
#[derive(Debug, Serialize)]
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

pub async fn run(cli: &Cli, args: &GuideArgs, ui: &Ui) -> Result<()> {
    match &args.action {
        Some(GuideCommand::Assess(assess_args)) => assess(cli, assess_args, ui).await,
        None => {
            let report = build(cli, args, ui).await?;
            let text = match args.format {
                GuideFormatArg::Json => {
                    serde_json::to_string_pretty(&report).context("cannot render the guide")? + "\n"
                }
                GuideFormatArg::Table => render(&report, false),
                GuideFormatArg::Markdown => render(&report, true),
            };
            print(&text)
        }
    }
}

/// The guide in Markdown, as `shiplog guide --format markdown` prints it (the dashboard's guide
/// page renders it).
pub(crate) async fn markdown_text(cli: &Cli, args: &GuideArgs, ui: &Ui) -> Result<String> {
    let report = build(cli, args, ui).await?;
    Ok(render(&report, true))
}

/// Computes the guide for the scope of `args`.
pub async fn build(cli: &Cli, args: &GuideArgs, ui: &Ui) -> Result<GuideReport> {
    let (resolved, analysis) = analyze_scope(cli, &args.scope, None, ui).await?;
    let config = load_config(cli, Some(&analysis.repo))?;
    let choice = BenchmarkChoice {
        industry: args.industry.clone().or(config.guide.industry.clone()),
        org_size: args.org_size.clone().or(config.guide.org_size.clone()),
    };
    if let Some(key) = &choice.industry {
        check_row(BenchmarkKind::Industry, key)?;
    }
    if let Some(key) = &choice.org_size {
        check_row(BenchmarkKind::OrganizationSize, key)?;
    }
    let store = open_store(&db_path(cli.db.as_deref(), Some(&analysis.repo))?).await?;
    let pull_requests = store.pull_requests().await?;
    let answers = store.assessments().await?;
    ui.phase("guide records loaded");
    let scope = &resolved.scope;
    let metrics = compute_with(
        &analysis.model,
        &analysis.graph,
        scope,
        resolved.start,
        resolved.definitions,
    );
    let median_day = median_working_day_deployments(&analysis.model, scope);
    let standing = standing(&metrics, median_day, &choice)?;
    let all_signals = signals(&SignalInputs {
        model: &analysis.model,
        graph: &analysis.graph,
        scope,
        metrics: &metrics,
        pull_requests: &pull_requests,
        membership: analysis.membership.as_ref(),
    });
    ui.phase("signals computed");
    let short_list = where_to_start(&all_signals, &standing, SHORT_LIST);

    // Sizing: the window's deployments, timed relative to its end.
    let window = scope.window;
    let sizing_design = design(
        window.until,
        window.duration(),
        jiff::SignedDuration::ZERO,
        jiff::SignedDuration::ZERO,
        None,
        window.until,
        None,
        None,
        DataEnd::Until,
    )
    .context("the window reaches outside the supported range of dates")?;
    let history = group_history(
        &analysis.model,
        &analysis.graph,
        resolved.start,
        &scope.environment,
        &|s| scope.includes(s, &scope.environment),
        &sizing_design,
    );
    let sizing = Sizing {
        history: &history,
        weeks: sizing_design.before_weeks,
        simulations: args.power_simulations as usize,
        seed: args.seed,
        sized: Default::default(),
    };
    let until_day = window.until.to_zoned(jiff::tz::TimeZone::UTC).date();
    let start_on = next_monday(until_day);
    let mut flags = String::new();
    if let Some(service) = &scope.service {
        write!(flags, " --service {service}").ok();
    }
    if let Some(team) = &scope.team {
        write!(flags, " --team {}", team.team).ok();
    }
    let experiments: Vec<Experiment> = short_list
        .iter()
        .filter_map(|c| propose(c, &standing, &sizing, start_on, &flags))
        .collect();
    ui.phase("experiments sized");

    let assessed = latest(&answers);
    let assessment_of =
        |slug: &Capability| assessed.iter().find(|a| &a.capability == slug).cloned();
    let mut measured = Vec::new();
    let mut not_measured = Vec::new();
    for entry in catalogue() {
        let statements = entry
            .statements
            .as_ref()
            .map(|s| s.statements.clone())
            .unwrap_or_default();
        if entry.measured {
            measured.push(MeasuredCapability {
                signals: all_signals
                    .iter()
                    .filter(|s| s.capability == entry.slug.as_str())
                    .cloned()
                    .collect(),
                self_assessment: assessment_of(&entry.slug),
                slug: entry.slug,
                name: entry.name,
                about: entry.about,
                article: entry.article,
                drives: entry.drives,
                statements,
                evidence: entry.evidence,
            });
        } else {
            not_measured.push(UnmeasuredCapability {
                self_assessment: assessment_of(&entry.slug),
                slug: entry.slug,
                name: entry.name,
                group: entry.group,
                about: entry.about,
                article: entry.article,
                statements,
                evidence: entry.evidence,
            });
        }
    }
    Ok(GuideReport {
        scope: ScopeView {
            service: scope.service.as_ref().map(ToString::to_string),
            team: scope.team.as_ref().map(|t| t.team.to_string()),
            environment: scope.environment.to_string(),
            since: window.since,
            until: window.until,
        },
        attribution: ATTRIBUTION,
        survey_caveat: SURVEY_CAVEAT,
        standing,
        measured,
        not_measured,
        where_to_start: short_list,
        experiments,
        j_curve: J_CURVE,
    })
}

/// A metric's value in words.
fn metric_value(metric: QuickCheckMetric, value: f64) -> String {
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

/// The guide as text (`markdown`: with Markdown headings and lists).
fn render(r: &GuideReport, markdown: bool) -> String {
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

/// `shiplog guide assess`: answers from a file or a terminal, stored with their date.
async fn assess(cli: &Cli, args: &GuideAssessArgs, ui: &Ui) -> Result<()> {
    let today = Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let answers = match &args.answers {
        Some(path) => {
            let name = path.display().to_string();
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the answers file {name}"))?;
            parse_answers(&name, &text, AnswersFormat::of(&name), today)?
        }
        None => ask(&args.capabilities, today)?,
    };
    if answers.is_empty() {
        ui.note("no answers given: nothing stored");
        return Ok(());
    }
    let repo = optional_repo(cli);
    let store = store_for_writing(cli, repo.as_ref()).await?;
    let counts = store.save_assessment(&answers).await?;
    let capabilities: std::collections::BTreeSet<&str> =
        answers.iter().map(|a| a.capability.as_str()).collect();
    ui.note(&format!(
        "{} answers to {} capabilit{} stored ({} new, {} updated, {} unchanged); `shiplog guide` shows them",
        answers.len(),
        capabilities.len(),
        if capabilities.len() == 1 { "y" } else { "ies" },
        counts.inserted,
        counts.updated,
        counts.unchanged
    ));
    Ok(())
}

/// Asks each statement on the terminal.
fn ask(only: &[String], today: Date) -> Result<Vec<CapabilityAnswer>> {
    if !std::io::stdin().is_terminal() {
        bail!(
            "standard input is not a terminal, so the statements cannot be asked\nhint: give the answers in a file: shiplog guide assess --answers answers.toml (see shiplog guide assess --help)"
        );
    }
    let entries = assessable();
    for slug in only {
        if !entries.iter().any(|e| e.slug.as_str() == slug) {
            let known: Vec<&str> = entries.iter().map(|e| e.slug.as_str()).collect();
            bail!(
                "--capability {slug}: not a capability with self-assessment statements; known: {}",
                known.join(", ")
            );
        }
    }
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let mut out = Vec::new();
    let mut stderr = std::io::stderr();
    for entry in entries
        .iter()
        .filter(|e| only.is_empty() || only.iter().any(|s| s == e.slug.as_str()))
    {
        let Some(set) = &entry.statements else {
            continue;
        };
        writeln!(stderr, "\n{} ({})", entry.name, entry.article)?;
        if !set.prompt.is_empty() {
            writeln!(stderr, "{}", set.prompt)?;
        }
        for (i, statement) in set.statements.iter().enumerate() {
            loop {
                write!(
                    stderr,
                    "  {}. {statement}\n     1 strongly disagree … 5 strongly agree (Enter skips): ",
                    i + 1
                )?;
                stderr.flush()?;
                let Some(line) = lines.next() else {
                    return Ok(out);
                };
                let line = line.context("cannot read the answer")?;
                let text = line.trim();
                if text.is_empty() {
                    break;
                }
                match text.parse::<u8>() {
                    Ok(rating @ 1..=5) => {
                        out.push(CapabilityAnswer {
                            capability: entry.slug.clone(),
                            statement: i as u32 + 1,
                            rating,
                            answered_on: today,
                        });
                        break;
                    }
                    _ => writeln!(stderr, "     expected 1 to 5, got {text:?}")?,
                }
            }
        }
    }
    Ok(out)
}

/// `--capability` of `practice start` and `experiment start`: a slug of the guide's catalogue (DORA's
/// capabilities, as in the paths of dora.dev's pages), or an error listing them.
pub(crate) fn capability_arg(text: &str) -> Result<Capability> {
    let slug = Capability::new(text).with_context(|| format!("--capability {text:?}"))?;
    let known: Vec<String> = shiplog_guide::catalogue::catalogue()
        .into_iter()
        .map(|e| e.slug.as_str().to_owned())
        .collect();
    if known.iter().any(|k| k == slug.as_str()) {
        return Ok(slug);
    }
    bail!(
        "--capability {text:?}: not one of DORA's capabilities in shiplog's catalogue; expected one of: {}\nhint: `shiplog guide --format json` lists them with their names (docs/guide.md)",
        known.join(", ")
    )
}
