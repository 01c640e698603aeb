//! One function per subcommand: validate arguments, call the libraries, print.

use std::io::Write;

use anyhow::{Context, Result, bail};
use jiff::Timestamp;
use shiplog_config::Config;
use shiplog_core::definitions::{self, compute_with};
use shiplog_core::explain;
use shiplog_core::metrics::{DoraMetrics, LeadTimeStart, Scope};
use shiplog_core::window::{parse_bound, parse_timestamp};
use shiplog_core::{
    AttributionOptions, Definitions, Deployment, DeploymentId, DeploymentSource, DeploymentStatus,
    Environment, Incident, IncidentId, Period, Recorder, ServiceName, Sha, ShaPrefix, TeamScope,
    TimeWindow,
};
use shiplog_git::GitRepo;
use shiplog_report::Format;
use shiplog_store::{EventBatch, Store};

use crate::analysis::{Analysis, AnalysisOptions, analyze_with, db_path, open_repo, open_store};
use crate::cli::{
    ByPeriod, Cli, DeploySource, ExplainArgs, ExplainWhat, ImportArgs, LeadTimeStartArg,
    MetricsArgs, OutputFormat, RecordDeploymentArgs, RecordIncidentArgs, ScopeArgs,
};
use crate::ui::Ui;

pub fn output_format(format: OutputFormat) -> Format {
    match format {
        OutputFormat::Table => Format::Table,
        OutputFormat::Json => Format::Json,
        OutputFormat::Csv => Format::Csv,
    }
}

/// An error as the user reads it: the first line is the cause, the chain adds context, lines
/// starting "hint:" are hints.
pub fn error_text(error: &anyhow::Error) -> String {
    let mut text = format!("{error}");
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text = format!("{text}: {cause}");
        }
    }
    text
}

/// Prints to stdout; a closed pipe (`| head`) ends quietly.
pub fn print(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to standard output"),
    }
}

/// Validated scope arguments.
pub struct ResolvedScope {
    pub scope: Scope,
    pub start: LeadTimeStart,
    pub attribution: AttributionOptions,
    pub definitions: Definitions,
}

pub(crate) fn service_arg(text: &str) -> Result<ServiceName> {
    ServiceName::new(text).with_context(|| format!("--service {text:?}"))
}

pub(crate) fn environment_arg(text: &str) -> Result<Environment> {
    Environment::new(text).with_context(|| format!("--env {text:?}"))
}

/// The configuration: `--config`/`SHIPLOG_CONFIG`, else shiplog.toml at the repository root, else
/// the built-in defaults.
pub fn load_config(cli: &Cli, repo: Option<&GitRepo>) -> Result<Config> {
    shiplog_config::discover(cli.config.as_deref(), repo.map(GitRepo::root)).map_err(|e| {
        anyhow::anyhow!(
            "invalid configuration:\n{e}\nhint: `shiplog config init` prints a commented default; docs/config.md lists every key"
        )
    })
}

/// Validates the scope arguments; the configuration supplies defaults for the definition options
/// (flags win) and the services of `--team`.
pub fn resolve_scope(args: &ScopeArgs, config: &Config, now: Timestamp) -> Result<ResolvedScope> {
    let since = parse_bound(&args.since, now).context("--since")?;
    let until = match &args.until {
        Some(text) => parse_bound(text, now).context("--until")?,
        None => now,
    };
    let window = TimeWindow::new(since, until)?;
    let (attribution, start) = definitions(
        args.attribution_window.as_deref(),
        args.lead_time_start,
        args.skip_unknown,
        config,
    )?;
    let team = match &args.team {
        Some(team) => match config.team_services(team) {
            Ok((team, services)) => Some(TeamScope { team, services }),
            // An unknown team owns no service: empty results, as asked.
            Err(_) if args.allow_unknown => Some(TeamScope {
                team: shiplog_core::TeamName::new(team)
                    .with_context(|| format!("--team {team:?}"))?,
                services: Vec::new(),
            }),
            Err(e) => {
                return Err(anyhow::Error::new(e).context(
                    "hint: --allow-unknown reports empty results for it instead (for scripts)",
                ));
            }
        },
        None => None,
    };
    Ok(ResolvedScope {
        scope: Scope {
            service: args.service.as_deref().map(service_arg).transpose()?,
            team,
            environment: environment_arg(&args.environment)?,
            window,
        },
        start,
        attribution,
        definitions: args
            .definitions
            .or(config.definitions.preset)
            .unwrap_or_default(),
    })
}

/// The definition options: the flags (`--attribution-window`, `--lead-time-start`) when given,
/// else `[definitions]` in shiplog.toml, else the built-in defaults.
pub fn definitions(
    attribution_window: Option<&str>,
    lead_time_start: Option<LeadTimeStartArg>,
    skip_unknown: bool,
    config: &Config,
) -> Result<(AttributionOptions, LeadTimeStart)> {
    let incident_window = match attribution_window {
        Some(text) => AttributionOptions::parse_window(text).context("--attribution-window")?,
        None => config
            .definitions
            .attribution_window
            .unwrap_or(AttributionOptions::default().incident_window),
    };
    let start = match lead_time_start {
        Some(LeadTimeStartArg::Author) => LeadTimeStart::Author,
        Some(LeadTimeStartArg::Committer) => LeadTimeStart::Committer,
        None => config.definitions.lead_time_start.unwrap_or_default(),
    };
    Ok((
        AttributionOptions {
            incident_window,
            skip_unknown,
        },
        start,
    ))
}

/// Loads and attributes the scope's records. `fallback` is where deployments come from when
/// `--deploys` is not given (`None`: recorded ones, which must exist).
pub(crate) async fn analyze_scope(
    cli: &Cli,
    args: &ScopeArgs,
    fallback: Option<&DeploySource>,
    ui: &Ui,
) -> Result<(ResolvedScope, Analysis)> {
    let repo = open_repo(&cli.repo)?;
    ui.phase("repository opened");
    let config = load_config(cli, Some(&repo))?;
    let resolved = resolve_scope(args, &config, Timestamp::now())?;
    let path = db_path(cli.db.as_deref(), Some(&repo))?;
    let store = open_store(&path).await?;
    ui.phase("store opened");
    let analysis = analyze_with(
        repo,
        &store,
        &AnalysisOptions {
            deploys: args.deploys.as_ref().or(fallback),
            service: resolved.scope.service.as_ref(),
            attribution: resolved.attribution,
        },
        &config,
        ui,
    )
    .await?;
    if !args.allow_unknown {
        check_known(&resolved.scope, &analysis, &config)?;
    }
    Ok((resolved, analysis))
}

/// Fails when `--service` or `--env` names nothing the records or the configuration know, listing
/// the names that are known (`--allow-unknown` skips this).
pub(crate) fn check_known(scope: &Scope, analysis: &Analysis, config: &Config) -> Result<()> {
    let deployments = analysis.model.deployments.iter().map(|d| &d.deployment);
    let incidents = analysis.model.incidents.iter().map(|i| &i.incident);
    if let Some(service) = &scope.service {
        let known: std::collections::BTreeSet<&str> = deployments
            .clone()
            .map(|d| d.service.as_str())
            .chain(incidents.clone().map(|i| i.service.as_str()))
            .chain(config.services.iter().map(|s| s.name.as_str()))
            .collect();
        if !known.contains(service.as_str()) {
            let near = known
                .iter()
                .find(|k| k.eq_ignore_ascii_case(service.as_str()))
                .map(|k| format!(" (did you mean {k:?}?)"))
                .unwrap_or_default();
            bail!(
                "--service {service}: no deployment, incident or configured service has this name{near}; known services: {}\nhint: --allow-unknown reports empty results for it instead (for scripts)",
                list_or_none(&known)
            );
        }
    }
    let environment = scope.environment.as_str();
    let known: std::collections::BTreeSet<&str> = deployments
        .map(|d| d.environment.as_str())
        .chain(incidents.map(|i| i.environment.as_str()))
        .collect();
    if !known.is_empty() && !known.contains(environment) {
        let near = known
            .iter()
            .find(|k| k.eq_ignore_ascii_case(environment))
            .map(|k| format!(" (did you mean {k:?}?)"))
            .unwrap_or_default();
        bail!(
            "--env {environment}: no deployment or incident is in this environment{near}; known environments: {}\nhint: --allow-unknown reports empty results for it instead (for scripts)",
            list_or_none(&known)
        );
    }
    Ok(())
}

fn list_or_none(names: &std::collections::BTreeSet<&str>) -> String {
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.iter().copied().collect::<Vec<_>>().join(", ")
    }
}

/// Computes the metrics of `scope`, split by `by` when given.
pub fn metric_rows(
    analysis: &Analysis,
    scope: &Scope,
    start: LeadTimeStart,
    definitions: Definitions,
    by: Option<ByPeriod>,
) -> Result<Vec<DoraMetrics>> {
    Ok(match by {
        None => vec![compute_with(
            &analysis.model,
            &analysis.graph,
            scope,
            start,
            definitions,
        )],
        Some(by) => {
            let period = match by {
                ByPeriod::Week => Period::Week,
                ByPeriod::Month => Period::Month,
            };
            scope
                .window
                .split(period)?
                .into_iter()
                .map(|window| {
                    let sub = Scope {
                        window,
                        ..scope.clone()
                    };
                    let mut m =
                        compute_with(&analysis.model, &analysis.graph, &sub, start, definitions);
                    m.period = Some(period.label(window.since));
                    m
                })
                .collect()
        }
    })
}

pub async fn metrics(cli: &Cli, args: &MetricsArgs, ui: &Ui) -> Result<()> {
    print(&metrics_text(cli, args, ui).await?)
}

/// What `shiplog metrics` prints (the team server answers `/api/v1/metrics` with it too).
pub async fn metrics_text(cli: &Cli, args: &MetricsArgs, ui: &Ui) -> Result<String> {
    let (resolved, analysis) = analyze_scope(cli, &args.scope, None, ui).await?;
    let rows = metric_rows(
        &analysis,
        &resolved.scope,
        resolved.start,
        resolved.definitions,
        args.by,
    )?;
    ui.phase("metrics computed");
    if rows.iter().all(|m| m.deployment_frequency.deployments == 0)
        && let Some(hint) = empty_window_hint(&analysis, &resolved.scope)
    {
        ui.note(&hint);
    }
    Ok(shiplog_report::metrics(
        &rows,
        args.by.is_some(),
        output_format(args.format),
    )?)
}

/// For a window with no deployments: when the scope's first and last deployments finished, and the
/// `--since` (and `--until`) that would include them. `None` when the scope has none at all.
fn empty_window_hint(analysis: &Analysis, scope: &Scope) -> Option<String> {
    let mut times = analysis
        .model
        .deployments
        .iter()
        .map(|d| &d.deployment)
        .filter(|d| {
            d.status == shiplog_core::DeploymentStatus::Success
                && scope.includes(&d.service, &d.environment)
        })
        .map(|d| d.finished_at);
    let first = times.next()?;
    let (first, last, count) = times.fold((first, first, 1usize), |(lo, hi, n), t| {
        (lo.min(t), hi.max(t), n + 1)
    });
    let day = |t: Timestamp| t.strftime("%Y-%m-%d").to_string();
    let mut flags = format!("--since {}", day(first));
    if last >= scope.window.until {
        // The day after the last deployment, so that the window includes all of that day.
        let after = last
            .checked_add(jiff::SignedDuration::from_hours(24))
            .unwrap_or(last);
        flags.push_str(&format!(" --until {}", day(after)));
    }
    Some(format!(
        "no deployments in the window {} to {}; {count} deployment{} of this scope finished from {first} to {last}\nhint: {flags} includes {}",
        scope.window.since,
        scope.window.until,
        if count == 1 { "" } else { "s" },
        if count == 1 { "it" } else { "them all" },
    ))
}

pub async fn explain(cli: &Cli, args: &ExplainArgs, ui: &Ui) -> Result<()> {
    print(&explain_text(cli, args, ui).await?)
}

/// What `shiplog explain` prints (and `/api/v1/explain/...` answers).
pub async fn explain_text(cli: &Cli, args: &ExplainArgs, ui: &Ui) -> Result<String> {
    // Incidents are listed whether or not any deployment is known (they are then unattributed).
    let fallback = (args.what == ExplainWhat::Incidents).then_some(&DeploySource::Recorded);
    let (resolved, analysis) = analyze_scope(cli, &args.scope, fallback, ui).await?;
    let format = output_format(args.format);
    let limit = (args.limit > 0).then_some(args.limit);
    let scope = &resolved.scope;
    if let Some(compared) = args.compare_definitions {
        let differences = definitions::compare(
            &analysis.model,
            &analysis.graph,
            scope,
            resolved.start,
            resolved.definitions,
            compared,
        );
        let metric = match args.what {
            ExplainWhat::LeadTime => "change_lead_time",
            ExplainWhat::Deployments | ExplainWhat::Failures => "change_fail_rate",
            ExplainWhat::Incidents => "incident_attribution",
        };
        let rows: Vec<&definitions::Difference> =
            differences.iter().filter(|d| d.metric == metric).collect();
        let text = shiplog_report::definition_differences(
            &rows,
            resolved.definitions.as_str(),
            compared.as_str(),
            format,
            limit,
        )?;
        return Ok(text);
    }
    let text = match args.what {
        ExplainWhat::LeadTime => {
            let list = explain::changes(&analysis.model, &analysis.graph, scope, resolved.start);
            // Summaries for the rows that will be shown.
            let wanted = match format {
                Format::Table => limit.unwrap_or(usize::MAX).min(list.changes.len()),
                _ => list.changes.len(),
            };
            let summaries: Vec<Option<String>> = list.changes[..wanted]
                .iter()
                .map(|c| analysis.repo.summary(&c.sha))
                .collect();
            shiplog_report::changes(
                &list.changes,
                &summaries,
                list.baseline_excluded,
                format,
                limit,
            )?
        }
        ExplainWhat::Deployments => shiplog_report::deployments(
            &explain::deployments(&analysis.model, scope),
            format,
            limit,
        )?,
        ExplainWhat::Failures => {
            note_unresolved_reverts(&analysis.model, scope, ui);
            shiplog_report::failures(&explain::failures(&analysis.model, scope), format, limit)?
        }
        ExplainWhat::Incidents => {
            shiplog_report::incidents(&explain::incidents(&analysis.model, scope), format, limit)?
        }
    };
    Ok(text)
}

/// Notes on the revert messages in scope whose reference names no single commit: each ambiguous
/// one (more hex characters would name one), and a count of those naming no commit at all.
fn note_unresolved_reverts(model: &shiplog_core::DeliveryModel, scope: &Scope, ui: &Ui) {
    let unresolved = explain::unresolved_reverts(model, scope);
    for r in unresolved.iter().filter(|r| r.names > 1) {
        ui.note(&format!(
            "commit {} says it reverts {}, which {} commits start with: it fails no deployment (a longer sha in the message would name one)",
            r.revert.short(12),
            r.reference,
            r.names
        ));
    }
    let unknown = unresolved.iter().filter(|r| r.names == 0).count();
    if unknown > 0 {
        ui.note(&format!(
            "{unknown} revert message{} in scope name{} a commit this history does not have (rewritten away, or from another repository): ignored",
            if unknown == 1 { "" } else { "s" },
            if unknown == 1 { "s" } else { "" },
        ));
    }
}

/// Opens the repository if there is one; record and import work without it for full shas.
pub fn optional_repo(cli: &Cli) -> Option<GitRepo> {
    GitRepo::discover(&cli.repo).ok()
}

pub(crate) use shiplog_engine::ingest::resolve_sha;

/// What writing one record did: `recorded`, `updated` or `unchanged`.
pub(crate) fn written(counts: shiplog_store::WriteCounts) -> &'static str {
    if counts.inserted > 0 {
        "recorded"
    } else if counts.updated > 0 {
        "updated"
    } else {
        "unchanged"
    }
}

pub async fn store_for_writing(
    cli: &Cli,
    repo: Option<&GitRepo>,
) -> Result<crate::store::AnyStore> {
    let path = db_path(cli.db.as_deref(), repo)?;
    open_store(&path).await
}

/// A deployment as a JSON Lines record of the import schema, its commit written as `sha` (a full
/// sha, or an abbreviation the server resolves).
fn deployment_record(d: &Deployment, sha: &str) -> String {
    serde_json::json!({
        "type": "deployment",
        "id": d.id.as_str(),
        "service": d.service.as_str(),
        "environment": d.environment.as_str(),
        "sha": sha,
        "finished_at": d.finished_at.to_string(),
        "started_at": d.started_at.map(|t| t.to_string()),
        "status": d.status.to_string(),
        "unplanned": d.unplanned,
        "recorded_by": d.recorded_by.as_ref().map(Recorder::to_text),
    })
    .to_string()
}

/// `--recorded-by`, or CI detected from the environment (see its `--help`).
fn recorder(args: &RecordDeploymentArgs) -> Result<Recorder> {
    match &args.recorded_by {
        Some(text) => text
            .parse()
            .map_err(|e: String| anyhow::anyhow!("--recorded-by: {e}")),
        None => Ok(detect_recorder(|name| std::env::var(name).ok())),
    }
}

/// CI detected from environment variables: the CI systems' own variables name the system;
/// `CI=true` alone says CI without a name; nothing set says by hand.
pub(crate) fn detect_recorder(var: impl Fn(&str) -> Option<String>) -> Recorder {
    let set = |name: &str| var(name).is_some_and(|v| !v.is_empty() && v != "false" && v != "0");
    const SYSTEMS: &[(&str, &str)] = &[
        ("GITHUB_ACTIONS", "github-actions"),
        ("GITLAB_CI", "gitlab"),
        ("BUILDKITE", "buildkite"),
        ("CIRCLECI", "circleci"),
        ("JENKINS_URL", "jenkins"),
        ("TF_BUILD", "azure-pipelines"),
        ("TRAVIS", "travis"),
        ("TEAMCITY_VERSION", "teamcity"),
        ("BITBUCKET_BUILD_NUMBER", "bitbucket-pipelines"),
        ("DRONE", "drone"),
        ("CODEBUILD_BUILD_ID", "aws-codebuild"),
    ];
    if let Some((_, system)) = SYSTEMS.iter().find(|(name, _)| set(name)) {
        return Recorder::Ci {
            system: Some((*system).to_owned()),
        };
    }
    if set("CI") {
        return Recorder::Ci { system: None };
    }
    Recorder::Manual
}

/// `--at` (default now) and `--started-at`, which must not be after it.
fn deployment_times(args: &RecordDeploymentArgs) -> Result<(Timestamp, Option<Timestamp>)> {
    let finished_at = match &args.at {
        Some(text) => timestamp_arg("--at", text)?,
        None => Timestamp::now(),
    };
    let started_at = args
        .started_at
        .as_deref()
        .map(|t| timestamp_arg("--started-at", t))
        .transpose()?;
    if started_at.is_some_and(|s| s > finished_at) {
        bail!("--started-at is after the finish time (--at)");
    }
    Ok((finished_at, started_at))
}

/// `record deployment --server` without a local repository to resolve an abbreviated `--sha`:
/// the server resolves it (and checks the time against the commit).
fn record_deployment_remote(
    args: &RecordDeploymentArgs,
    service: &ServiceName,
    environment: &Environment,
    ui: &Ui,
) -> Result<()> {
    let server = args.server.as_deref().unwrap_or_default();
    let (finished_at, started_at) = deployment_times(args)?;
    let id = match &args.id {
        Some(id) => DeploymentId::new(id).with_context(|| format!("--id {id:?}"))?,
        None => DeploymentId::new(&format!(
            "{service}:{environment}:{}:{}",
            args.sha.to_ascii_lowercase(),
            finished_at.as_second()
        ))?,
    };
    let status: DeploymentStatus = args.status.parse().map_err(anyhow::Error::msg)?;
    // The record needs a commit; the all-zero one stands in and the sha field carries the text.
    let deployment = Deployment {
        id: id.clone(),
        service: service.clone(),
        environment: environment.clone(),
        sha: Sha::from_hex(&"0".repeat(40)).map_err(anyhow::Error::msg)?,
        finished_at,
        started_at,
        status,
        unplanned: args.unplanned,
        source: DeploymentSource::Recorded,
        recorded_by: Some(recorder(args)?),
    };
    let line = deployment_record(&deployment, &args.sha);
    post_deployment(server, &line, args.allow_before_commit, &id, ui)
}

/// Posts one deployment record to `server` and says what it did.
fn post_deployment(
    server: &str,
    line: &str,
    allow_before_commit: bool,
    id: &DeploymentId,
    ui: &Ui,
) -> Result<()> {
    let query = if allow_before_commit {
        "allow-before-commit=true"
    } else {
        ""
    };
    let answer = crate::client::post_events(server, line.as_bytes(), query)?;
    let verb = crate::client::written(&answer, "deployments");
    ui.note(&format!("deployment {id} {verb} on {server}"));
    Ok(())
}

fn timestamp_arg(flag: &str, text: &str) -> Result<Timestamp> {
    parse_timestamp(text).with_context(|| {
        let expected = shiplog_core::window::expected_timestamp(
            text,
            "an RFC 3339 timestamp with an offset (e.g. 2026-03-03T14:00:00Z)",
        );
        format!("{flag}: expected {expected}, got {text:?}")
    })
}

pub async fn record_deployment(cli: &Cli, args: &RecordDeploymentArgs, ui: &Ui) -> Result<()> {
    let repo = optional_repo(cli);
    let service = service_arg(&args.service)?;
    let environment = environment_arg(&args.environment)?;
    let prefix = ShaPrefix::new(&args.sha).with_context(|| format!("--sha {:?}", args.sha))?;
    let sha = match resolve_sha(repo.as_ref(), &prefix) {
        Ok(sha) => sha,
        // Without a checkout, the server resolves the abbreviation in its mirror.
        Err(_) if args.server.is_some() && repo.is_none() => {
            return record_deployment_remote(args, &service, &environment, ui);
        }
        Err(e) => bail!("--sha: {e}"),
    };
    let (finished_at, started_at) = deployment_times(args)?;
    let id = match &args.id {
        Some(id) => DeploymentId::new(id).with_context(|| format!("--id {id:?}"))?,
        None => DeploymentId::new(&format!(
            "{service}:{environment}:{}:{}",
            sha.short(12),
            finished_at.as_second()
        ))?,
    };
    if !args.allow_before_commit
        && let Some(repo) = &repo
        && let Some(committed) = repo.committer_time(&sha)
        && let Err(e) = shiplog_core::event::BeforeCommit::check(finished_at, committed)
    {
        bail!(
            "--at: the deployment {e} ({})\nhint: check the CI clock and the timestamp sent; --allow-before-commit stores it anyway (counted in no metric)",
            sha.short(12)
        );
    }
    let status: DeploymentStatus = args.status.parse().map_err(anyhow::Error::msg)?;
    let deployment = Deployment {
        id: id.clone(),
        service,
        environment,
        sha,
        finished_at,
        started_at,
        status,
        unplanned: args.unplanned,
        source: DeploymentSource::Recorded,
        recorded_by: Some(recorder(args)?),
    };
    if let Some(server) = &args.server {
        let line = deployment_record(&deployment, &deployment.sha.to_string());
        return post_deployment(server, &line, args.allow_before_commit, &id, ui);
    }
    let store = store_for_writing(cli, repo.as_ref()).await?;
    let summary = store
        .apply(&EventBatch {
            deployments: vec![deployment],
            incidents: vec![],
            ..EventBatch::default()
        })
        .await?;
    let verb = written(summary.deployments);
    ui.note(&format!("deployment {id} {verb}"));
    Ok(())
}

pub async fn record_incident(cli: &Cli, args: &RecordIncidentArgs, ui: &Ui) -> Result<()> {
    let repo = optional_repo(cli);
    let opened_at = timestamp_arg("--opened-at", &args.opened_at)?;
    let resolved_at = args
        .resolved_at
        .as_deref()
        .map(|t| timestamp_arg("--resolved-at", t))
        .transpose()?;
    if resolved_at.is_some_and(|r| r < opened_at) {
        bail!("--resolved-at is before --opened-at");
    }
    let sha = match &args.sha {
        Some(text) => {
            let prefix = ShaPrefix::new(text).with_context(|| format!("--sha {text:?}"))?;
            Some(resolve_sha(repo.as_ref(), &prefix).map_err(|e| anyhow::anyhow!("--sha: {e}"))?)
        }
        None => None,
    };
    let incident = Incident {
        id: IncidentId::new(&args.id).with_context(|| format!("--id {:?}", args.id))?,
        service: service_arg(&args.service)?,
        environment: environment_arg(&args.environment)?,
        opened_at,
        resolved_at,
        deployment_id: args
            .deployment_id
            .as_deref()
            .map(|d| DeploymentId::new(d).with_context(|| format!("--deployment-id {d:?}")))
            .transpose()?,
        sha,
        title: args.title.clone(),
        duplicate_of: None,
    };
    let id = incident.id.clone();
    if let Some(server) = &args.server {
        let mut record = serde_json::json!({
            "type": "incident",
            "id": incident.id.as_str(),
            "service": incident.service.as_str(),
            "environment": incident.environment.as_str(),
            "opened_at": incident.opened_at.to_string(),
            "resolved_at": incident.resolved_at.map(|t| t.to_string()),
            "deployment_id": incident.deployment_id.as_ref().map(|d| d.as_str().to_owned()),
            "title": incident.title,
        });
        if let Some(sha) = &incident.sha {
            record["sha"] = serde_json::Value::String(sha.to_string());
        }
        let answer = crate::client::post_events(server, record.to_string().as_bytes(), "")?;
        let verb = crate::client::written(&answer, "incidents");
        ui.note(&format!("incident {id} {verb} on {server}"));
        return Ok(());
    }
    let store = store_for_writing(cli, repo.as_ref()).await?;
    let summary = store
        .apply(&EventBatch {
            deployments: vec![],
            incidents: vec![incident],
            ..EventBatch::default()
        })
        .await?;
    let verb = written(summary.incidents);
    ui.note(&format!("incident {id} {verb}"));
    Ok(())
}

/// `shiplog import`: see [`crate::ingest`].
pub async fn import(cli: &Cli, args: &ImportArgs, ui: &Ui) -> Result<()> {
    crate::ingest::import(cli, args, ui).await
}
