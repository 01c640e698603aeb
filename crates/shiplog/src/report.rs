//! `shiplog report`: analyse as `shiplog metrics` does, add the impact report of each practice
//! change in the window (the functions of `shiplog impact`), build the report's model and render
//! it (`shiplog_report::page`).

use anyhow::{Context, Result, anyhow};
use jiff::{SignedDuration, Timestamp};
use shiplog_config::Config;
use shiplog_core::impact::ImpactOptions;
use shiplog_core::metrics::{LeadTimeStart, Scope};
use shiplog_core::{PracticeChange, ServiceName};
use shiplog_report::page::{self, ReportInputs, ReportModel, TrendPeriod, WebLinks};
use shiplog_store::Store;

use crate::analysis::{Analysis, AnalysisOptions, analyze_with, db_path, open_repo, open_store};
use crate::cli::{ByPeriod, Cli, ReportArgs, ReportFormatArg};
use crate::commands::{load_config, print, resolve_scope};
use crate::impact::{ImpactPlan, impact_report};
use crate::ui::Ui;

pub async fn run(cli: &Cli, args: &ReportArgs, ui: &Ui) -> Result<()> {
    let model = model(cli, args, ui).await?;
    ui.phase("report computed");
    let format = if args.html.is_some() {
        ReportFormatArg::Html
    } else {
        args.format
    };
    let text = match format {
        ReportFormatArg::Html => page::render_html(&model),
        ReportFormatArg::Markdown => page::render_markdown(&model),
        ReportFormatArg::Json => page::render_json(&model)?,
    };
    ui.phase("report rendered");
    match args.html.as_ref().or(args.output.as_ref()) {
        Some(file) => {
            std::fs::write(file, &text)
                .with_context(|| format!("cannot write the report to {}", file.display()))?;
            ui.note(&format!(
                "report written to {} ({} KB)",
                file.display(),
                text.len().div_ceil(1024)
            ));
            Ok(())
        }
        None => print(&text),
    }
}

/// The report's model for the command line `args`: what `shiplog report` renders, and what the
/// server's dashboard renders inside its navigation.
pub(crate) async fn model(cli: &Cli, args: &ReportArgs, ui: &Ui) -> Result<ReportModel> {
    let scope_args = &args.scope;
    let compare_with: Vec<ServiceName> = args
        .compare_with
        .iter()
        .map(|s| ServiceName::new(s).with_context(|| format!("--compare-with {s:?}")))
        .collect::<Result<_>>()?;
    let repo = open_repo(&cli.repo)?;
    let web = match &args.web_url {
        Some(url) => Some(WebLinks::new(url).ok_or_else(|| {
            anyhow!("--web-url {url:?}: expected an http(s) address\nhint: e.g. --web-url https://github.com/acme/app")
        })?),
        None => repo.remote_url().and_then(|url| WebLinks::from_remote(&url)),
    };
    let config = load_config(cli, Some(&repo))?;
    let resolved = resolve_scope(scope_args, &config, Timestamp::now())?;
    let path = db_path(cli.db.as_deref(), Some(&repo))?;
    let store = open_store(&path).await?;
    let practices = store.practice_changes().await?;
    let analysis = analyze_with(
        repo,
        &store,
        &AnalysisOptions {
            deploys: args.scope.deploys.as_ref(),
            service: resolved.scope.service.as_ref(),
            attribution: resolved.attribution,
        },
        &config,
        ui,
    )
    .await?;
    if !scope_args.allow_unknown {
        crate::commands::check_known(&resolved.scope, &analysis, &config)?;
    }
    let period = match args.by {
        Some(ByPeriod::Week) => TrendPeriod::Week,
        Some(ByPeriod::Month) => TrendPeriod::Month,
        None => TrendPeriod::for_window(&resolved.scope.window),
    };
    let choice =
        crate::guide::benchmark_choice(args.industry.as_ref(), args.org_size.as_ref(), &config)?;
    let mut report = report_model(
        &analysis,
        &practices,
        &config,
        &resolved.scope,
        resolved.start,
        &ReportPlan {
            period,
            compare_with,
            resamples: args.resamples as usize,
            seed: args.seed,
            rows: args.rows,
            web,
            git_derived: matches!(
                args.scope.deploys,
                Some(crate::cli::DeploySource::Tags { .. } | crate::cli::DeploySource::Merges(_))
            ),
            definitions: resolved.definitions,
        },
        ui,
    )?;
    // The Guide section: the same function as `shiplog guide`, with its default sizing.
    if !args.no_guide {
        report.guide = Some(
            crate::guide::compute(
                &store,
                &analysis,
                &resolved,
                &choice,
                &crate::guide::GuideSizing {
                    simulations: 100,
                    seed: 20_260_303,
                },
                ui,
            )
            .await?,
        );
    }
    Ok(report)
}

/// What a report shows beyond its scope: trend periods, the impact analyses' comparison group and
/// bootstrap, the drill-down's length, the repository's web address.
pub(crate) struct ReportPlan {
    pub period: TrendPeriod,
    /// Comparison services; empty: every service without a practice change in the windows.
    pub compare_with: Vec<ServiceName>,
    pub resamples: usize,
    pub seed: u64,
    pub rows: usize,
    pub web: Option<WebLinks>,
    /// Deployments come from git (tags or merges): an impact's data end at the last commit.
    pub git_derived: bool,
    /// Whose definitions the numbers follow (`--definitions`).
    pub definitions: shiplog_core::Definitions,
}

/// The report's model for `scope`: metrics, trends and lists from the analysis, and the impact
/// story of each practice change that starts in the window. `shiplog report` and `shiplog demo`
/// use it.
pub(crate) fn report_model(
    analysis: &Analysis,
    practices: &[PracticeChange],
    config: &Config,
    scope: &Scope,
    start: LeadTimeStart,
    plan: &ReportPlan,
    ui: &Ui,
) -> Result<ReportModel> {
    let teams = config.teams();

    // The impact story of each practice change that starts in the window.
    let mut impacts = Vec::new();
    for practice in page::model::practices_in(scope, practices, &teams) {
        let impact_plan = ImpactPlan {
            environment: scope.environment.clone(),
            until: scope.window.until,
            before: SignedDuration::from_hours(90 * 24),
            after: SignedDuration::from_hours(90 * 24),
            transition: SignedDuration::from_hours(14 * 24),
            compare_with: plan.compare_with.clone(),
            compare_auto: plan.compare_with.is_empty(),
            start,
            options: ImpactOptions {
                resamples: plan.resamples,
                seed: plan.seed,
                ..ImpactOptions::default()
            },
            power: shiplog_core::impact::PowerOptions::default(),
            data_end: shiplog_core::impact::DataEnd::LastRecord,
            git_derived: plan.git_derived,
        };
        match impact_report(
            analysis,
            practices,
            practice.clone(),
            config,
            &impact_plan,
            ui,
        ) {
            Ok(report) => impacts.push(report),
            Err(e) => ui.warn(&format!(
                "practice change {:?}: no impact story in the report: {e}",
                practice.name.as_str()
            )),
        }
    }
    ui.phase("impact analysed");

    let period = plan.period;
    let summary = |sha: &shiplog_core::Sha| analysis.repo.summary(sha);
    Ok(page::build(ReportInputs {
        model: &analysis.model,
        graph: &analysis.graph,
        scope,
        start,
        period,
        practices,
        teams: &teams,
        impacts,
        web: plan.web.clone(),
        summary: &summary,
        row_limit: plan.rows,
        generated_at: Timestamp::now(),
        definitions: plan.definitions,
    })?)
}
