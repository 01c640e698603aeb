//! `shiplog impact NAME`: from a recorded practice change to its impact report.
//!
//! This file only chooses the data: the practice's services, the comparison group, the windows.
//! The statistics are in `shiplog_core::impact`, the rendering in `shiplog_report::impact`.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result, bail};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use shiplog_config::Config;
use shiplog_core::impact::{
    ComparisonChoice, DataEnd, Design, GroupHistory, ImpactOptions, ImpactReport, PowerOptions,
    analyze_with_power,
    extract::{design, group_history, last_commit, records_end, records_start},
};
use shiplog_core::metrics::LeadTimeStart;
use shiplog_core::window::{parse_bound, parse_duration};
use shiplog_core::{Environment, PracticeChange, PracticeScope, ServiceName, TeamName};
use shiplog_store::Store;

use crate::analysis::{Analysis, AnalysisOptions, analyze_with, db_path, open_repo, open_store};
use crate::cli::{Cli, DeploySource, ImpactArgs, ImpactFormatArg};
use crate::commands::{definitions, environment_arg, load_config, print, service_arg};
use crate::ui::Ui;

fn midnight(date: jiff::civil::Date) -> Result<Timestamp> {
    Ok(date
        .to_zoned(TimeZone::UTC)
        .context("the date is out of range")?
        .timestamp())
}

fn duration_arg(flag: &str, text: &str) -> Result<SignedDuration> {
    parse_duration(text).with_context(|| flag.to_owned())
}

pub async fn run(cli: &Cli, args: &ImpactArgs, ui: &Ui) -> Result<()> {
    print(&run_text(cli, args, ui).await?)
}

/// What `shiplog impact` prints (and `/api/v1/impact/{practice}` answers).
pub async fn run_text(cli: &Cli, args: &ImpactArgs, ui: &Ui) -> Result<String> {
    let now = Timestamp::now();
    let until = match &args.until {
        Some(text) => parse_bound(text, now).context("--until")?,
        None => now,
    };
    let before = duration_arg("--before", &args.before)?;
    let after = duration_arg("--after", &args.after)?;
    let transition = duration_arg("--transition", &args.transition)?;
    let environment = environment_arg(&args.environment)?;
    let compare_with: Vec<ServiceName> = args
        .compare_with
        .iter()
        .map(|s| ServiceName::new(s).with_context(|| format!("--compare-with {s:?}")))
        .collect::<Result<_>>()?;

    let repo = open_repo(&cli.repo)?;
    let path = db_path(cli.db.as_deref(), Some(&repo))?;
    let store = open_store(&path).await?;
    let changes = store.practice_changes().await?;
    let practice = crate::practice::find(&changes, &args.name)?.clone();
    // A team's services come from the configuration (shiplog.toml).
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
    let plan = ImpactPlan {
        environment,
        until,
        before,
        after,
        transition,
        compare_with,
        compare_auto: args.compare_auto,
        start,
        options: ImpactOptions {
            resamples: args.resamples as usize,
            seed: args.seed,
            ..ImpactOptions::default()
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
    let report = impact_report(&analysis, &changes, practice, &config, &plan, ui)?;
    ui.phase("impact analysed");
    let text = match args.format {
        ImpactFormatArg::Table => shiplog_report::impact::render_terminal(&report),
        ImpactFormatArg::Markdown => shiplog_report::impact::render_markdown(&report),
        ImpactFormatArg::Json => shiplog_report::impact::render_json(&report)?,
    };
    Ok(text)
}

/// What an impact analysis compares: the windows, the comparison group and the options.
pub(crate) struct ImpactPlan {
    pub environment: Environment,
    pub until: Timestamp,
    pub before: SignedDuration,
    pub after: SignedDuration,
    pub transition: SignedDuration,
    /// Named comparison services (`--compare-with`).
    pub compare_with: Vec<ServiceName>,
    /// Every service without a practice change in the windows (`--compare-auto`).
    pub compare_auto: bool,
    pub start: LeadTimeStart,
    pub options: ImpactOptions,
    /// Simulated verdicts for the power note (`--power-simulations`).
    pub power: PowerOptions,
    /// Where the data end (`--data-complete`: at --until).
    pub data_end: DataEnd,
    /// Deployments come from git (tags or merges): the data end at the last commit.
    pub git_derived: bool,
}

/// The impact report of `practice` over an analysed repository: its services, the windows, the
/// comparison group, the statistics. `shiplog impact` and `shiplog report` both use it.
pub(crate) fn impact_report(
    analysis: &Analysis,
    changes: &[PracticeChange],
    practice: PracticeChange,
    config: &Config,
    plan: &ImpactPlan,
    ui: &Ui,
) -> Result<ImpactReport> {
    let prepared = prepare(analysis, changes, practice, config, plan, ui)?;
    Ok(prepared.report(plan))
}

/// What an impact analysis reads, chosen from the records: the samples of both groups and the
/// windows. `shiplog experiment review` also simulates the power for its expected effects from it.
pub(crate) struct Prepared {
    pub practice: PracticeChange,
    pub environment: Environment,
    pub services: Vec<ServiceName>,
    pub comparison: Vec<ServiceName>,
    pub choice: Option<ComparisonChoice>,
    pub subject_history: GroupHistory,
    pub comparison_history: Option<GroupHistory>,
    pub design: Design,
}

impl Prepared {
    /// The analysis and its report.
    pub fn report(self, plan: &ImpactPlan) -> ImpactReport {
        let result = analyze_with_power(
            &self.subject_history,
            self.comparison_history.as_ref(),
            &self.design,
            &plan.options,
            &plan.power,
        );
        ImpactReport {
            practice: self.practice,
            environment: self.environment,
            services: self.services,
            comparison_services: self.comparison,
            comparison_choice: self.choice,
            analysis: result,
        }
    }
}

/// Chooses the data of the impact analysis of `practice`: its services, the windows, the
/// comparison group.
pub(crate) fn prepare(
    analysis: &Analysis,
    changes: &[PracticeChange],
    practice: PracticeChange,
    config: &Config,
    plan: &ImpactPlan,
    ui: &Ui,
) -> Result<Prepared> {
    let teams = config.teams();
    let subject_scope = match &practice.scope {
        PracticeScope::Team { team } => match config.team_services(team.as_str()) {
            Ok((_, services)) => PracticeScope::services(services),
            Err(e) => bail!(
                "practice change {:?} is scoped to team {team}, whose services are not known: {e}\nhint: map them in shiplog.toml (`team = \"{team}\"` under [services.NAME], see docs/config.md), or record the change for its services: shiplog practice start {:?} --on {} --service SERVICE ...",
                practice.name.as_str(),
                practice.name.as_str(),
                practice.started_on
            ),
        },
        other => other.clone(),
    };
    let change_at = midnight(practice.started_on)?;
    if change_at >= plan.until {
        bail!(
            "practice change {:?} starts on {}, which is not before the analysis time {}\nhint: there is nothing to compare yet; run again once the practice has been in place for a while",
            practice.name.as_str(),
            practice.started_on,
            plan.until
        );
    }
    let ended_at = practice.ended_on.map(midnight).transpose()?;

    let model = &analysis.model;

    // Who changed practice.
    let in_subject = |s: &ServiceName| subject_scope.includes(s).unwrap_or(false);
    let all_services: BTreeSet<ServiceName> = model
        .deployments
        .iter()
        .filter(|d| d.counts() && d.deployment.environment == plan.environment)
        .map(|d| d.deployment.service.clone())
        .collect();
    let subject: Vec<ServiceName> = all_services
        .iter()
        .filter(|s| in_subject(s))
        .cloned()
        .collect();
    if subject.is_empty() {
        bail!(
            "no deployments to {} of {} are recorded\nhint: record deployments (shiplog record deployment, shiplog import), or choose the source with --deploys",
            plan.environment,
            subject_scope.describe()
        );
    }

    // Where the data end: the last record of the services (the last commit when deployments
    // come from git), unless the user says they are complete to --until.
    let data_end = plan.data_end;
    let git_derived = plan.git_derived;
    let end_of = |include: &dyn Fn(&ServiceName) -> bool| {
        if git_derived {
            last_commit(&analysis.graph)
        } else {
            records_end(model, include)
        }
    };
    let subject_end = end_of(&in_subject);
    let layout = |last: Option<Timestamp>| {
        design(
            change_at,
            plan.before,
            plan.transition,
            plan.after,
            records_start(model, &plan.environment, &in_subject),
            plan.until,
            ended_at,
            last,
            data_end,
        )
    };
    let mut design = layout(subject_end)?;

    // The comparison group.
    let (comparison, choice): (Vec<ServiceName>, Option<ComparisonChoice>) = if !plan
        .compare_with
        .is_empty()
    {
        for s in &plan.compare_with {
            if in_subject(s) {
                bail!(
                    "--compare-with {s}: {s} is one of the services that changed practice\nhint: compare with services that did not change"
                );
            }
            if !all_services.contains(s) {
                bail!(
                    "--compare-with {s}: no deployments of {s} to {} are recorded\nhint: the services with deployments are: {}",
                    plan.environment,
                    all_services
                        .iter()
                        .map(ServiceName::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        }
        (plan.compare_with.clone(), Some(ComparisonChoice::Given))
    } else if plan.compare_auto {
        let group = auto_comparison(changes, &subject_scope, &teams, &all_services, &design, ui);
        if group.is_empty() {
            ui.warn("--compare-auto: every service changed practice in the windows, so there is no comparison group");
            (group, None)
        } else {
            (group, Some(ComparisonChoice::Auto))
        }
    } else {
        (Vec::new(), None)
    };

    // A comparison group whose records end earlier ends the windows there too.
    if !comparison.is_empty() {
        let group: BTreeSet<&ServiceName> = comparison.iter().collect();
        let comparison_end = end_of(&|s: &ServiceName| group.contains(s));
        let both = match (subject_end, comparison_end) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if both != subject_end {
            design = layout(both)?;
        }
    }
    let subject_history = group_history(
        model,
        &analysis.graph,
        plan.start,
        &plan.environment,
        &in_subject,
        &design,
    );
    let comparison_set: BTreeSet<&ServiceName> = comparison.iter().collect();
    let comparison_history = (!comparison.is_empty()).then(|| {
        group_history(
            model,
            &analysis.graph,
            plan.start,
            &plan.environment,
            &|s: &ServiceName| comparison_set.contains(s),
            &design,
        )
    });
    Ok(Prepared {
        practice,
        environment: plan.environment.clone(),
        services: subject,
        comparison,
        choice,
        subject_history,
        comparison_history,
        design,
    })
}

/// Services with deployments that neither changed practice here nor in another change overlapping
/// the windows (team-scoped changes are resolved with the configuration's teams).
fn auto_comparison(
    changes: &[PracticeChange],
    subject: &PracticeScope,
    teams: &BTreeMap<TeamName, Vec<ServiceName>>,
    all: &BTreeSet<ServiceName>,
    design: &shiplog_core::impact::Design,
    ui: &Ui,
) -> Vec<ServiceName> {
    let window_start = design.before_since;
    let window_end = design.after_until;
    let overlapping: Vec<&PracticeChange> = changes
        .iter()
        .filter(|c| {
            let starts = midnight(c.started_on).unwrap_or(Timestamp::MAX);
            let ends = c
                .ended_on
                .and_then(|d| midnight(d).ok())
                .unwrap_or(Timestamp::MAX);
            starts < window_end && ends > window_start
        })
        .collect();
    for c in &overlapping {
        if let PracticeScope::Team { team } = &c.scope
            && !teams.contains_key(team)
        {
            ui.warn(&format!(
                "practice change {:?} of team {team} overlaps the windows, and the configuration does not say which services team {team} owns: the comparison group may include some of them",
                c.name.as_str()
            ));
        }
    }
    let changed = |s: &ServiceName, scope: &PracticeScope| match scope {
        PracticeScope::Team { team } => teams.get(team).is_some_and(|list| list.contains(s)),
        other => other.includes(s) == Some(true),
    };
    all.iter()
        .filter(|s| !changed(s, subject))
        .filter(|s| overlapping.iter().all(|c| !changed(s, &c.scope)))
        .cloned()
        .collect()
}
