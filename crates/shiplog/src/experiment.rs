//! `shiplog experiment start|list|review|edit`: practice changes run as pre-registered
//! experiments.
//!
//! An experiment is a practice change (recorded as `shiplog practice start` records one, so
//! `impact` and the report see it) plus a hypothesis written down before the results are in.
//! This file parses and checks the edges, chooses the data as `shiplog impact` does, and renders
//! the review; the rule that judges an expected effect is `shiplog_core::experiment::judge`, the
//! primary/secondary testing `ImpactOptions::primary`.

use anyhow::{Context, Result, bail};
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use shiplog_core::experiment::{
    ComparisonPlan, Expectation, Experiment, ExperimentError, Hypothesis, Judgement, Outcome,
    Review, add_days, judge, metric_key, midnight,
};
use shiplog_core::impact::{
    DataEnd, ImpactOptions, ImpactReport, MetricSet, PowerOptions, TestFamily, Verdict,
    simulate_power,
};
use shiplog_core::window::{parse_bound, parse_duration};
use shiplog_core::{PracticeChange, PracticeName, PracticeScope, ServiceName, TeamName};
use shiplog_store::Store;

use crate::analysis::{AnalysisOptions, analyze_with, db_path, open_repo, open_store};
use crate::cli::{
    Cli, DeploySource, ExperimentEditArgs, ExperimentListArgs, ExperimentReviewArgs,
    ExperimentStartArgs, ImpactFormatArg, OutputFormat,
};
use crate::commands::{
    definitions, environment_arg, load_config, optional_repo, print, service_arg, store_for_writing,
};
use crate::impact::ImpactPlan;
use crate::ui::Ui;

/// The clock: now, or `SHIPLOG_NOW` (an RFC 3339 time; the tests' fixed clock).
fn now() -> Result<Timestamp> {
    match std::env::var("SHIPLOG_NOW") {
        Ok(text) if !text.is_empty() => text
            .parse()
            .with_context(|| format!("SHIPLOG_NOW: expected an RFC 3339 time, got {text:?}")),
        _ => Ok(Timestamp::now()),
    }
}

fn date_arg(flag: &str, text: &str) -> Result<Date> {
    let trimmed = text.trim();
    match trimmed.parse::<Date>() {
        Ok(date) if trimmed.len() == 10 => Ok(date),
        _ => bail!("{flag}: expected a date like 2026-03-03, got {text:?}"),
    }
}

/// A duration in whole days (`8w`, `60d`).
fn days_arg(flag: &str, text: &str) -> Result<u32> {
    let duration = parse_duration(text).with_context(|| flag.to_owned())?;
    let secs = duration.as_secs();
    if secs <= 0 || secs % 86_400 != 0 {
        bail!("{flag}: expected whole days or weeks, e.g. 8w or 60d, got {text:?}");
    }
    u32::try_from(secs / 86_400)
        .ok()
        .with_context(|| format!("{flag}: {text:?} is too long"))
}

fn expectations_arg(texts: &[String]) -> Result<Vec<Expectation>> {
    texts
        .iter()
        .map(|t| Expectation::parse(t).with_context(|| format!("--expect {t:?}")))
        .collect()
}

fn day(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d").to_string()
}

/// Finds an experiment by name: exactly, else ignoring case when that matches one.
fn find<'a>(experiments: &'a [Experiment], name: &str) -> Result<&'a Experiment> {
    let wanted = PracticeName::new(name).with_context(|| format!("experiment name {name:?}"))?;
    if let Some(e) = experiments.iter().find(|e| e.name == wanted) {
        return Ok(e);
    }
    let folded: Vec<&Experiment> = experiments
        .iter()
        .filter(|e| e.name.as_str().to_lowercase() == wanted.as_str().to_lowercase())
        .collect();
    if let [only] = folded.as_slice() {
        return Ok(only);
    }
    let known = if experiments.is_empty() {
        "none is recorded yet; start one with `shiplog experiment start NAME --on DATE --expect \"METRIC CHANGE\" --for DURATION`".to_owned()
    } else {
        format!(
            "the recorded ones are: {}",
            experiments
                .iter()
                .map(|e| format!("{:?}", e.name.as_str()))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    bail!(
        "no experiment is named {:?}\nhint: {known}",
        wanted.as_str()
    )
}

pub async fn start(cli: &Cli, args: &ExperimentStartArgs, ui: &Ui) -> Result<()> {
    let name = PracticeName::new(&args.name).with_context(|| format!("NAME {:?}", args.name))?;
    let started_on = date_arg("--on", &args.on)?;
    let expectations = expectations_arg(&args.expect)?;
    let planned_days = days_arg("--for", &args.duration)?;
    let before_days = days_arg("--before", &args.before)?;
    let transition_days = match args.transition.trim() {
        "0d" | "0w" | "0" => 0,
        other => days_arg("--transition", other)?,
    };
    let scope = match &args.team {
        Some(team) => PracticeScope::Team {
            team: TeamName::new(team).with_context(|| format!("--team {team:?}"))?,
        },
        None => PracticeScope::services(
            args.services
                .iter()
                .map(|s| service_arg(s))
                .collect::<Result<_>>()?,
        ),
    };
    let comparison = if args.compare_auto {
        ComparisonPlan::Auto
    } else if args.compare_with.is_empty() {
        ComparisonPlan::None
    } else {
        ComparisonPlan::With(
            args.compare_with
                .iter()
                .map(|s| ServiceName::new(s).with_context(|| format!("--compare-with {s:?}")))
                .collect::<Result<_>>()?,
        )
    };
    let capability = args
        .capability
        .as_deref()
        .map(crate::guide::capability_arg)
        .transpose()?;
    let written_at = now()?;
    let hypothesis = Hypothesis {
        version: 1,
        written_at,
        started_on,
        expectations,
        planned_days,
        before_days,
        transition_days,
        comparison,
    };
    hypothesis
        .validate()
        .map_err(|e| flag_error(e, &args.duration))?;
    let review_on = add_days(started_on, planned_days)?;

    let repo = optional_repo(cli);
    let store = store_for_writing(cli, repo.as_ref()).await?;
    if let Some(existing) = store
        .experiments()
        .await?
        .into_iter()
        .find(|e| e.name == name)
    {
        bail!(
            "experiment {:?} exists (started on {})\nhint: change its hypothesis with `shiplog experiment edit {:?} --expect ...`: the edit is recorded as a new version, with its date",
            name.as_str(),
            existing.started_on,
            name.as_str()
        );
    }
    let ended_on = store
        .practice_changes()
        .await?
        .into_iter()
        .find(|c| c.name == name)
        .and_then(|c| c.ended_on);
    let change = PracticeChange {
        name: name.clone(),
        started_on,
        ended_on,
        scope,
        capability,
        note: args
            .note
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned),
    };
    change.validate().context(
        "the practice's recorded end is before this start\nhint: record the end again with `shiplog practice end`",
    )?;
    store
        .add_hypothesis(&name, &hypothesis, Some(&change))
        .await?;
    ui.note(&format!(
        "experiment {:?} recorded: from {started_on}, {}; expected: {}; review on {review_on}",
        name.as_str(),
        change.scope.describe(),
        hypothesis
            .expectations
            .iter()
            .map(Expectation::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    ));
    if written_at >= midnight(started_on)? {
        ui.warn(&format!(
            "the hypothesis is written on {}, after the experiment started ({started_on}): it is not pre-registered, and `experiment list` and `review` say so",
            day(written_at)
        ));
    }
    ui.note(&format!(
        "hint: judge it when it is due with `shiplog experiment review {:?}`",
        name.as_str()
    ));
    Ok(())
}

pub async fn edit(cli: &Cli, args: &ExperimentEditArgs, ui: &Ui) -> Result<()> {
    if args.expect.is_empty() && args.duration.is_none() {
        bail!(
            "nothing to change\nhint: give the new hypothesis with --expect (all the expected effects) and/or a new --for"
        );
    }
    let repo = optional_repo(cli);
    let store = store_for_writing(cli, repo.as_ref()).await?;
    let experiments = store.experiments().await?;
    let experiment = find(&experiments, &args.name)?;
    let latest = experiment
        .latest()
        .context("the experiment has no hypothesis")?;
    let mut next = latest.clone();
    next.version = latest.version.saturating_add(1);
    next.written_at = now()?;
    if !args.expect.is_empty() {
        next.expectations = expectations_arg(&args.expect)?;
    }
    if let Some(duration) = &args.duration {
        next.planned_days = days_arg("--for", duration)?;
    }
    let planned = args
        .duration
        .clone()
        .unwrap_or_else(|| format!("{}d", next.planned_days));
    next.validate().map_err(|e| flag_error(e, &planned))?;
    if next.same_plan(latest) {
        bail!(
            "the hypothesis is already so (version {}); nothing recorded",
            latest.version
        );
    }
    store.add_hypothesis(&experiment.name, &next, None).await?;
    let after_start = next.written_at >= midnight(experiment.started_on)?;
    let msg = format!(
        "experiment {:?}: hypothesis version {} recorded ({}); version {} was: {}",
        experiment.name.as_str(),
        next.version,
        describe_hypothesis(&next),
        latest.version,
        describe_hypothesis(latest)
    );
    ui.note(&msg);
    if after_start {
        ui.warn(&format!(
            "this edit is written after the experiment started ({}): `experiment list` and `review` show it as an edit after the start",
            experiment.started_on
        ));
    }
    Ok(())
}

/// A hypothesis that does not validate, naming the flag at fault.
fn flag_error(e: ExperimentError, duration: &str) -> anyhow::Error {
    match e {
        ExperimentError::Duration(_) | ExperimentError::ShorterThanTransition { .. } => {
            anyhow::anyhow!("--for {duration:?}: {e}")
        }
        other => anyhow::anyhow!("--expect: {other}"),
    }
}

/// A hypothesis in words: `change_lead_time -30%; for 56 days`.
fn describe_hypothesis(h: &Hypothesis) -> String {
    format!(
        "{}; for {} days",
        h.expectations
            .iter()
            .map(Expectation::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        h.planned_days
    )
}

/// The edits a reader must know about: each version written after the start, with the one it
/// replaced.
fn edit_notes(e: &Experiment) -> Vec<serde_json::Value> {
    let after: Vec<u32> = e.edits_after_start().iter().map(|h| h.version).collect();
    e.hypotheses
        .iter()
        .filter(|h| h.version > 1)
        .map(|h| {
            let old = e.hypotheses.iter().find(|o| o.version + 1 == h.version);
            json!({
                "version": h.version,
                "written_at": h.written_at.to_string(),
                "after_start": after.contains(&h.version),
                "old": old.map(describe_hypothesis),
                "new": describe_hypothesis(h),
            })
        })
        .collect()
}

/// The registered and the current start date, when the practice change was moved.
fn start_moved_json(e: &Experiment) -> serde_json::Value {
    e.start_moved()
        .map(|(registered, now)| {
            json!({"registered": registered.to_string(), "practice_change": now.to_string()})
        })
        .unwrap_or(serde_json::Value::Null)
}

fn start_moved_text(e: &Experiment) -> Option<String> {
    e.start_moved().map(|(registered, now)| {
        format!(
            "START MOVED: the hypothesis was registered for a start on {registered}; the practice change now starts on {now}"
        )
    })
}

fn list_json(experiments: &[Experiment], at: Timestamp) -> Result<serde_json::Value> {
    let mut out = Vec::new();
    for e in experiments {
        let latest = e.latest().context("an experiment without a hypothesis")?;
        let first = e
            .hypotheses
            .first()
            .context("an experiment without a hypothesis")?;
        let registered_after_start = first.written_at >= midnight(e.started_on)?;
        out.push(json!({
            "name": e.name.as_str(),
            "status": e.status(at),
            "started_on": e.started_on.to_string(),
            "review_on": e.review_on()?.map(|d| d.to_string()),
            "written_at": first.written_at.to_string(),
            "registered_after_start": registered_after_start,
            "hypothesis": latest,
            "version": latest.version,
            "edited": e.edited(),
            "edited_after_start": e.edits_after_start().iter().any(|h| h.version > 1),
            "edits": edit_notes(e),
            "start_moved": start_moved_json(e),
            "reviews": e.reviews,
        }));
    }
    Ok(serde_json::Value::Array(out))
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// One line about the edits of an experiment, or empty.
fn edits_text(e: &Experiment) -> String {
    let after: Vec<&Hypothesis> = e
        .edits_after_start()
        .into_iter()
        .filter(|h| h.version > 1)
        .collect();
    match after.last() {
        Some(h) => format!(
            "EDITED AFTER THE START on {} (v{})",
            day(h.written_at),
            h.version
        ),
        None if e.edited() => e
            .latest()
            .map(|h| {
                format!(
                    "edited before the start on {} (v{})",
                    day(h.written_at),
                    h.version
                )
            })
            .unwrap_or_default(),
        None => String::new(),
    }
}

fn last_review_text(e: &Experiment) -> String {
    e.reviews
        .last()
        .map(|r| {
            format!(
                "{} {}{}",
                day(r.reviewed_at),
                r.outcome.describe(),
                if r.provisional { " (provisional)" } else { "" }
            )
        })
        .unwrap_or_default()
}

pub async fn list(cli: &Cli, args: &ExperimentListArgs) -> Result<()> {
    let repo = optional_repo(cli);
    let store = store_for_writing(cli, repo.as_ref()).await?;
    let experiments = store.experiments().await?;
    let at = now()?;
    let text = match args.format {
        OutputFormat::Json => {
            let mut text = serde_json::to_string_pretty(&list_json(&experiments, at)?)?;
            text.push('\n');
            text
        }
        OutputFormat::Csv => {
            let mut text = String::from(
                "name,status,started_on,review_on,hypothesis,version,registered_after_start,edited_after_start,last_review\n",
            );
            for e in &experiments {
                let latest = e.latest().context("an experiment without a hypothesis")?;
                let late = e
                    .hypotheses
                    .first()
                    .is_some_and(|h| midnight(e.started_on).is_ok_and(|s| h.written_at >= s));
                let row = [
                    e.name.as_str().to_owned(),
                    e.status(at).describe().to_owned(),
                    e.started_on.to_string(),
                    e.review_on()?.map(|d| d.to_string()).unwrap_or_default(),
                    latest
                        .expectations
                        .iter()
                        .map(Expectation::to_string)
                        .collect::<Vec<_>>()
                        .join("; "),
                    latest.version.to_string(),
                    late.to_string(),
                    e.edits_after_start()
                        .iter()
                        .any(|h| h.version > 1)
                        .to_string(),
                    last_review_text(e),
                ];
                text.push_str(
                    &row.iter()
                        .map(|f| csv_field(f))
                        .collect::<Vec<_>>()
                        .join(","),
                );
                text.push('\n');
            }
            text
        }
        OutputFormat::Table => {
            if experiments.is_empty() {
                "No experiments yet: start one with `shiplog experiment start NAME --on DATE --expect \"METRIC CHANGE\" --for DURATION`.\n".to_owned()
            } else {
                let mut text = String::new();
                for e in &experiments {
                    let latest = e.latest().context("an experiment without a hypothesis")?;
                    let review_on = e.review_on()?.map(|d| d.to_string()).unwrap_or_default();
                    text.push_str(&format!(
                        "{}  [{}]  from {} to {}\n  expects: {} (v{})\n",
                        e.name,
                        e.status(at).describe(),
                        e.started_on,
                        review_on,
                        latest
                            .expectations
                            .iter()
                            .map(Expectation::to_string)
                            .collect::<Vec<_>>()
                            .join(", "),
                        latest.version
                    ));
                    let first = e.hypotheses.first();
                    if first
                        .is_some_and(|h| midnight(e.started_on).is_ok_and(|s| h.written_at >= s))
                    {
                        text.push_str(&format!(
                            "  NOT PRE-REGISTERED: written on {}, after the start\n",
                            first.map(|h| day(h.written_at)).unwrap_or_default()
                        ));
                    }
                    if let Some(moved) = start_moved_text(e) {
                        text.push_str(&format!("  {moved}\n"));
                    }
                    let edits = edits_text(e);
                    if !edits.is_empty() {
                        text.push_str(&format!("  {edits}\n"));
                    }
                    let review = last_review_text(e);
                    if !review.is_empty() {
                        text.push_str(&format!("  last review: {review}\n"));
                    }
                }
                text
            }
        }
    };
    print(&text)
}

/// A judged expectation and the test behind it.
struct Judged {
    judgement: Judgement,
    p_value: Option<f64>,
    p_adjusted: Option<f64>,
    tested_together: Option<usize>,
    verdict: Verdict,
}

pub async fn review(cli: &Cli, args: &ExperimentReviewArgs, ui: &Ui) -> Result<()> {
    let at = now()?;
    let until = match &args.until {
        Some(text) => parse_bound(text, at).context("--until")?,
        None => at,
    };
    let environment = environment_arg(&args.environment)?;
    let repo = open_repo(&cli.repo)?;
    let path = db_path(cli.db.as_deref(), Some(&repo))?;
    let store = open_store(&path).await?;
    let experiments = store.experiments().await?;
    let experiment = find(&experiments, &args.name)?.clone();
    let hypothesis = experiment
        .latest()
        .context("the experiment has no hypothesis")?
        .clone();
    let changes = store.practice_changes().await?;
    let practice = crate::practice::find(&changes, experiment.name.as_str())?.clone();
    let review_on = experiment.review_on()?.context("no review date")?;
    let review_at = midnight(review_on)?;
    let due = until >= review_at;

    let config = load_config(cli, Some(&repo))?;
    let (attribution, start) = definitions(
        args.attribution_window.as_deref(),
        args.lead_time_start,
        args.skip_unknown,
        &config,
    )?;
    let git_service = args.service.as_deref().map(service_arg).transpose()?;
    let analysis = analyze_with(
        repo,
        &store,
        &AnalysisOptions {
            deploys: Some(args.deploys.as_ref().unwrap_or(&DeploySource::Recorded)),
            service: git_service.as_ref(),
            attribution,
        },
        &config,
        ui,
    )
    .await?;
    let days = |d: u32| SignedDuration::from_hours(24 * i64::from(d));
    let (compare_with, compare_auto) = match &hypothesis.comparison {
        ComparisonPlan::None => (Vec::new(), false),
        ComparisonPlan::Auto => (Vec::new(), true),
        ComparisonPlan::With(list) => (list.clone(), false),
    };
    let primary = hypothesis.primary();
    let plan = ImpactPlan {
        environment,
        until,
        before: days(hypothesis.before_days),
        after: days(
            hypothesis
                .planned_days
                .saturating_sub(hypothesis.transition_days),
        ),
        transition: days(hypothesis.transition_days),
        compare_with,
        compare_auto,
        start,
        options: ImpactOptions {
            resamples: args.resamples as usize,
            seed: args.seed,
            primary: MetricSet::of(&primary),
        },
        power: PowerOptions {
            simulations: args.power_simulations as usize,
            ..PowerOptions::default()
        },
        data_end: if args.data_complete {
            DataEnd::Until
        } else {
            DataEnd::LastRecord
        },
        git_derived: matches!(
            args.deploys,
            Some(DeploySource::Tags { .. } | DeploySource::Merges(_))
        ),
    };
    let prepared = crate::impact::prepare(&analysis, &changes, practice, &config, &plan, ui)?;
    let power_for = |e: &Expectation| {
        if !e.is_improvement() || plan.power.simulations == 0 {
            return None;
        }
        simulate_power(
            &prepared.subject_history,
            prepared.comparison_history.as_ref(),
            &prepared.design,
            &plan.options,
            e.metric,
            e.analysis_effect(),
            &PowerOptions {
                search_more_weeks: false,
                ..plan.power
            },
        )
    };
    let powers: Vec<Option<f64>> = hypothesis.expectations.iter().map(power_for).collect();
    let report = prepared.report(&plan);
    ui.phase("experiment analysed");
    let judged: Vec<Judged> = hypothesis
        .expectations
        .iter()
        .zip(powers)
        .filter_map(|(e, power)| {
            let m = report
                .analysis
                .metrics
                .iter()
                .find(|m| m.metric == e.metric)?;
            Some(Judged {
                judgement: judge(e, m, power, due),
                p_value: m.effect.as_ref().map(|x| x.p_value),
                p_adjusted: m.effect.as_ref().map(|x| x.p_adjusted),
                tested_together: m.effect.as_ref().map(|x| x.tested_together),
                verdict: m.verdict,
            })
        })
        .collect();
    let outcome = Outcome::overall(
        &judged
            .iter()
            .map(|j| j.judgement.outcome)
            .collect::<Vec<_>>(),
    );
    let provisional_outcome = Outcome::overall(
        &judged
            .iter()
            .map(|j| j.judgement.provisional_outcome)
            .collect::<Vec<_>>(),
    );
    store
        .add_review(
            &experiment.name,
            &Review {
                reviewed_at: at,
                hypothesis_version: hypothesis.version,
                outcome,
                provisional: !due,
            },
        )
        .await?;
    let view = ReviewView {
        experiment: &experiment,
        hypothesis: &hypothesis,
        review_on,
        until,
        due,
        outcome,
        provisional_outcome,
        judged: &judged,
        report: &report,
    };
    let text = match args.format {
        ImpactFormatArg::Json => {
            let mut text = serde_json::to_string_pretty(&view.json()?)?;
            text.push('\n');
            text
        }
        ImpactFormatArg::Table => view.text(false),
        ImpactFormatArg::Markdown => view.text(true),
    };
    print(&text)
}

/// A p-value in words: `< 0.001` or `= 0.024`.
fn p_text(p: f64) -> String {
    if p < 0.001 {
        "< 0.001".to_owned()
    } else {
        format!("= {p:.3}")
    }
}

/// Everything a review shows.
struct ReviewView<'a> {
    experiment: &'a Experiment,
    hypothesis: &'a Hypothesis,
    review_on: Date,
    until: Timestamp,
    due: bool,
    outcome: Outcome,
    provisional_outcome: Outcome,
    judged: &'a [Judged],
    report: &'a ImpactReport,
}

impl ReviewView<'_> {
    fn registered_after_start(&self) -> bool {
        self.experiment
            .hypotheses
            .first()
            .is_some_and(|h| midnight(self.experiment.started_on).is_ok_and(|s| h.written_at >= s))
    }

    fn secondary(&self) -> Vec<serde_json::Value> {
        self.report
            .analysis
            .metrics
            .iter()
            .filter(|m| {
                m.effect
                    .as_ref()
                    .is_none_or(|e| e.family != Some(TestFamily::Primary))
                    && !self.hypothesis.primary().contains(&m.metric)
            })
            .map(|m| {
                json!({
                    "metric": metric_key(m.metric),
                    "verdict": m.verdict,
                    "estimate": m.effect.as_ref().map(|e| e.estimate),
                    "low": m.effect.as_ref().map(|e| e.low),
                    "high": m.effect.as_ref().map(|e| e.high),
                    "p_value": m.effect.as_ref().map(|e| e.p_value),
                    "p_adjusted": m.effect.as_ref().map(|e| e.p_adjusted),
                    "tested_together": m.effect.as_ref().map(|e| e.tested_together),
                })
            })
            .collect()
    }

    fn json(&self) -> Result<serde_json::Value> {
        let primary: Vec<serde_json::Value> = self
            .judged
            .iter()
            .map(|j| {
                json!({
                    "expectation": j.judgement.expectation.to_string(),
                    "metric": metric_key(j.judgement.expectation.metric),
                    "expected": j.judgement.expectation,
                    "outcome": j.judgement.outcome,
                    "provisional_outcome": j.judgement.provisional_outcome,
                    "reason": j.judgement.reason,
                    "explanation": j.judgement.explanation,
                    "verdict": j.verdict,
                    "p_value": j.p_value,
                    "p_adjusted": j.p_adjusted,
                    "tested_together": j.tested_together,
                    "power_for_expected": j.judgement.power_for_expected,
                })
            })
            .collect();
        Ok(json!({
            "experiment": self.experiment.name.as_str(),
            "started_on": self.experiment.started_on.to_string(),
            "review_on": self.review_on.to_string(),
            "reviewed_until": self.until.to_string(),
            "due": self.due,
            "provisional": !self.due,
            "outcome": self.outcome,
            "provisional_outcome": self.provisional_outcome,
            "hypothesis": self.hypothesis,
            "registered_after_start": self.registered_after_start(),
            "edited": self.experiment.edited(),
            "edits": edit_notes(self.experiment),
            "start_moved": start_moved_json(self.experiment),
            "primary": primary,
            "secondary": self.secondary(),
            "impact": serde_json::to_value(self.report)?,
        }))
    }

    fn text(&self, markdown: bool) -> String {
        let e = self.experiment;
        let mut out = String::new();
        let heading = format!(
            "Experiment \"{}\" on {} — started {}, review date {}",
            e.name,
            self.report
                .services
                .iter()
                .map(ServiceName::as_str)
                .collect::<Vec<_>>()
                .join(", "),
            e.started_on,
            self.review_on
        );
        if markdown {
            out.push_str(&format!("## {heading}\n\n"));
        } else {
            out.push_str(&format!("{heading}\n\n"));
        }
        let bold = |t: &str| {
            if markdown {
                format!("**{t}**")
            } else {
                t.to_uppercase()
            }
        };
        if !self.due {
            out.push_str(&format!(
                "{} reviewed as of {}, before the review date ({}): the outcome cannot be told yet, and every number below is provisional (on the data so far it would be: {}).\n\n",
                bold("Provisional:"),
                day(self.until),
                self.review_on,
                self.provisional_outcome.describe()
            ));
        }
        if self.registered_after_start() {
            out.push_str(&format!(
                "{} the hypothesis was first written on {}, after the experiment started ({}).\n\n",
                bold("Not pre-registered:"),
                e.hypotheses
                    .first()
                    .map(|h| day(h.written_at))
                    .unwrap_or_default(),
                e.started_on
            ));
        }
        if let Some(moved) = start_moved_text(e) {
            out.push_str(&format!(
                "{}{}; the review uses the practice change's date.\n\n",
                if markdown {
                    "**Start moved:**"
                } else {
                    "START MOVED:"
                },
                moved.trim_start_matches("START MOVED:")
            ));
        }
        for h in e.hypotheses.iter().filter(|h| h.version > 1) {
            let after = e.edits_after_start().iter().any(|x| x.version == h.version);
            let old = e.hypotheses.iter().find(|o| o.version + 1 == h.version);
            let what = if after {
                bold("Edited after the start:")
            } else {
                "Edited before the start:".to_owned()
            };
            out.push_str(&format!(
                "{what} version {} written on {} replaced version {} ({}) with: {}.\n",
                h.version,
                day(h.written_at),
                h.version - 1,
                old.map(describe_hypothesis).unwrap_or_default(),
                describe_hypothesis(h)
            ));
        }
        if e.edited() {
            out.push_str(&format!(
                "This review uses the latest version ({}).\n\n",
                self.hypothesis.version
            ));
        }
        out.push_str(&format!("Outcome: {}\n\n", bold(self.outcome.describe())));
        let n = self.judged.len();
        out.push_str(&format!(
            "Primary (named in advance): tested at the full 5% level{}, with the trend and comparison checks of the impact analysis.\n",
            if n > 1 {
                format!(", Holm-adjusted among the {n} primary metrics only")
            } else {
                ", no adjustment for the metrics not named".to_owned()
            }
        ));
        for j in self.judged {
            let bullet = if markdown { "- " } else { "  " };
            out.push_str(&format!(
                "{bullet}{}: {} — {}\n",
                j.judgement.expectation,
                j.judgement.outcome.describe(),
                j.judgement.explanation
            ));
            let mut detail = Vec::new();
            if let (Some(p), Some(adj)) = (j.p_value, j.p_adjusted) {
                detail.push(format!("p {} (adjusted {})", p_text(p), p_text(adj)));
            }
            match j.judgement.power_for_expected {
                Some(power) => detail.push(format!(
                    "power for {}: {:.0}%",
                    j.judgement.expectation.change_text(),
                    power * 100.0
                )),
                None => detail.push("no power figure for this expectation".to_owned()),
            }
            out.push_str(&format!("{bullet}  {}\n", detail.join("; ")));
        }
        out.push_str("\nSecondary (not named in advance; Holm-adjusted among themselves):\n");
        for m in self
            .report
            .analysis
            .metrics
            .iter()
            .filter(|m| !self.hypothesis.primary().contains(&m.metric))
        {
            let bullet = if markdown { "- " } else { "  " };
            let p = m
                .effect
                .as_ref()
                .map(|e| format!(", adjusted p {}", p_text(e.p_adjusted)))
                .unwrap_or_default();
            out.push_str(&format!(
                "{bullet}{}: {}{p}\n",
                m.metric.label(),
                m.verdict.describe()
            ));
        }
        out.push_str("\nThe impact analysis behind it:\n\n");
        if markdown {
            out.push_str(&shiplog_report::impact::render_markdown(self.report));
        } else {
            out.push_str(&shiplog_report::impact::render_terminal(self.report));
        }
        out
    }
}
