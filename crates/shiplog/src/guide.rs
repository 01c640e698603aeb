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
use shiplog_core::definitions::compute_with;
use shiplog_core::impact::extract::{DataEnd, design, group_history};
use shiplog_core::{Capability, CapabilityAnswer};
use shiplog_guide::assessment::{AnswersFormat, assessable, latest, parse_answers};
use shiplog_guide::benchmark::{BenchmarkKind, check_row};
use shiplog_guide::catalogue::{J_CURVE, catalogue};
use shiplog_guide::data::ATTRIBUTION;
use shiplog_guide::plan::{
    Experiment, REVIEW_BEFORE_DAYS, Sizing, next_monday, propose, where_to_start,
};
use shiplog_guide::report::{
    GuideReport, MeasuredCapability, ScopeView, UnmeasuredCapability, render,
};
use shiplog_guide::signals::{SignalInputs, median_working_day_deployments, signals};
use shiplog_guide::standing::{BenchmarkChoice, SURVEY_CAVEAT, standing};
use shiplog_store::Store;

use crate::analysis::{db_path, open_store};
use crate::cli::{Cli, GuideArgs, GuideAssessArgs, GuideCommand, GuideFormatArg};
use crate::commands::{analyze_scope, load_config, optional_repo, print, store_for_writing};
use crate::ui::Ui;

/// How many capabilities "where to start" names.
const SHORT_LIST: usize = 3;

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
    let choice = benchmark_choice(args.industry.as_ref(), args.org_size.as_ref(), &config)?;
    let store = open_store(&db_path(cli.db.as_deref(), Some(&analysis.repo))?).await?;
    compute(
        &store,
        &analysis,
        &resolved,
        &choice,
        &GuideSizing {
            simulations: args.power_simulations,
            seed: args.seed,
        },
        ui,
    )
    .await
}

/// The benchmark rows asked for (`--industry`, `--org-size`, else shiplog.toml's `[guide]`),
/// checked against the embedded benchmarks.
pub(crate) fn benchmark_choice(
    industry: Option<&String>,
    org_size: Option<&String>,
    config: &shiplog_config::Config,
) -> Result<BenchmarkChoice> {
    let choice = BenchmarkChoice {
        industry: industry.cloned().or(config.guide.industry.clone()),
        org_size: org_size.cloned().or(config.guide.org_size.clone()),
    };
    if let Some(key) = &choice.industry {
        check_row(BenchmarkKind::Industry, key)?;
    }
    if let Some(key) = &choice.org_size {
        check_row(BenchmarkKind::OrganizationSize, key)?;
    }
    Ok(choice)
}

/// How the proposed experiments are sized (`--power-simulations`, `--seed`).
pub(crate) struct GuideSizing {
    pub simulations: u32,
    pub seed: u64,
}

/// The guide for an analysed scope: what `shiplog guide` prints and `shiplog report`'s Guide
/// section shows.
pub(crate) async fn compute(
    store: &crate::store::AnyStore,
    analysis: &crate::analysis::Analysis,
    resolved: &crate::commands::ResolvedScope,
    choice: &BenchmarkChoice,
    sizing_args: &GuideSizing,
    ui: &Ui,
) -> Result<GuideReport> {
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
    let standing = standing(&metrics, median_day, choice)?;
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

    // Sizing: the deployments of the review's before window (the window's last 90 days), timed
    // relative to its end.
    let window = scope.window;
    let review_before = jiff::SignedDuration::from_hours(REVIEW_BEFORE_DAYS * 24);
    let sizing_design = design(
        window.until,
        window.duration().min(review_before),
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
        simulations: sizing_args.simulations as usize,
        seed: sizing_args.seed,
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
