//! `shiplog serve`: the team server ([`shiplog_server`]) running on the CLI's own code.
//!
//! The server crate is the HTTP edge; this module is its [`Engine`]: every answer is computed by
//! the function behind the matching command (`metrics_text`, `explain_text`, `impact::run_text`,
//! `practice::list_text`, the engine's `ingest::read_deliveries`), called with the arguments the
//! request's parameters translate to. So `/api/v1/metrics?service=api` is, by construction,
//! `shiplog metrics --service api --format json` on the server's store and repository.
//!
//! The analysis code runs on a blocking thread with a runtime of its own: it is CPU-bound and
//! reads git, and must not hold up the threads that acknowledge webhooks.

use std::path::PathBuf;
use std::sync::Arc;

use crate::store::AnyStore;
use anyhow::{Context, Result, bail};
use async_trait::async_trait;
use clap::Parser;
use jiff::{SignedDuration, Timestamp};
use shiplog_core::definitions::compute_with;
use shiplog_core::metrics::Scope;
use shiplog_core::{TeamName, TimeWindow};
use shiplog_ingest::formats::{Delivery, Detected, Headers, Source};
use shiplog_server::{
    Engine, EngineError, GAUGE_WINDOWS, GaugeSample, Processed, Query, RepositoryConfig,
    ServerConfig,
};
use shiplog_store::{DeliveryRecord, DeliveryState, ServerStore, Store, TokenRecord, TokenScope};

use crate::cli::{Cli, Command, LogFormat, ServeArgs, ServeCommand, TokenCommand};
use crate::commands;
use crate::ui::Ui;

/// The server's configuration file when `--config` is not given and it exists.
const DEFAULT_CONFIG: &str = "shiplog-server.toml";

/// The server configuration: `--config`, else ./shiplog-server.toml when present, else defaults;
/// then the flags.
fn server_config(cli: &Cli, args: &ServeArgs) -> Result<ServerConfig> {
    let path = match &cli.config {
        Some(path) => Some(path.clone()),
        None => Some(PathBuf::from(DEFAULT_CONFIG)).filter(|p| p.exists()),
    };
    let mut config = match &path {
        Some(path) => ServerConfig::load(path).map_err(|e| {
            anyhow::anyhow!("{e}\nhint: docs/server.md#configuration lists every key")
        })?,
        None => ServerConfig::default(),
    };
    if let Some(listen) = &args.listen {
        config.listen = listen.parse().with_context(|| {
            format!("--listen {listen:?}: expected an address and port such as 127.0.0.1:8080")
        })?;
    }
    if let Some(dir) = &args.data_dir {
        config.data_dir = dir.clone();
    }
    if config.repositories.len() > 1 {
        bail!(
            "{} lists {} repositories; this version of the server analyses one\nhint: run one server (with its own data_dir) per repository for now",
            path.map_or_else(|| DEFAULT_CONFIG.to_owned(), |p| p.display().to_string()),
            config.repositories.len()
        );
    }
    Ok(config)
}

/// A URL with its user and password left out, for messages and logs.
fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

/// A bare mirror of a configured repository under the data directory, fetched with git.
#[derive(Clone)]
struct Mirror {
    config: RepositoryConfig,
    path: PathBuf,
}

impl Mirror {
    fn git(&self, args: &[&str]) -> Result<()> {
        let output = std::process::Command::new("git")
            .args(args)
            .env("GIT_TERMINAL_PROMPT", "0")
            .output()
            .context("cannot run git (is it installed?)")?;
        if !output.status.success() {
            // git's own message can echo the URL: redact it.
            let stderr = String::from_utf8_lossy(&output.stderr)
                .replace(&self.config.url, &redacted(&self.config.url));
            bail!(
                "git {} failed for the repository {:?} ({}): {}",
                args.first().copied().unwrap_or(""),
                self.config.name,
                redacted(&self.config.url),
                stderr.trim()
            );
        }
        Ok(())
    }

    /// Holds the mirror's lock file (`NAME.git.lock` beside it) until dropped: server processes
    /// that share a data directory clone and fetch one at a time (git refuses concurrent ref
    /// updates, and a clone in progress must not be read as a mirror). An advisory lock of the
    /// operating system: released when the process dies.
    fn lock(&self) -> Result<std::fs::File> {
        let mut name = self.path.clone().into_os_string();
        name.push(".lock");
        let path = PathBuf::from(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open the mirror's lock file {}", path.display()))?;
        file.lock()
            .with_context(|| format!("cannot lock {}", path.display()))?;
        Ok(file)
    }

    /// Clones the mirror when it is missing.
    fn ensure(&self) -> Result<()> {
        let _locked = self.lock()?;
        if self.path.join("HEAD").exists() {
            return Ok(());
        }
        if let Some(parent) = self.path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let path = self.path.display().to_string();
        self.git(&["clone", "--mirror", "--quiet", &self.config.url, &path])
    }

    fn fetch(&self) -> Result<()> {
        let _locked = self.lock()?;
        let path = self.path.display().to_string();
        self.git(&["-C", &path, "fetch", "--prune", "--quiet", "origin"])
    }
}

/// The CLI as the server's engine.
pub(crate) struct CliEngine {
    /// The repository analysed: the mirror, or the working repository.
    repo: Option<PathBuf>,
    /// The SQLite store (also opened by each analysis, as the CLI does).
    db: PathBuf,
    pub(crate) store: AnyStore,
    /// The repository's shiplog.toml.
    project_config: Option<PathBuf>,
    /// `--deploys` for every analysis.
    deploys: Option<String>,
    mirror: Option<Mirror>,
    /// One fetch at a time.
    fetching: tokio::sync::Mutex<()>,
    /// The repository and configuration deliveries are read with, kept from one delivery to the
    /// next (opening them is most of a small delivery's cost) and dropped after each fetch.
    reader: Arc<std::sync::Mutex<Option<DeliveryReader>>>,
}

/// What reading a delivery needs besides the delivery: the repository (to check deployed commits)
/// and shiplog.toml.
struct DeliveryReader {
    repo: Option<shiplog_git::GitRepo>,
    config: shiplog_config::Config,
}

/// Parameters each read takes, as the flags of its command; `true`/empty for switches.
pub(crate) const SCOPE_PARAMS: &[&str] = &[
    "service",
    "team",
    "env",
    "since",
    "until",
    "definitions",
    "attribution-window",
    "lead-time-start",
    "allow-unknown",
    "skip-unknown",
];
const SWITCHES: &[&str] = &[
    "allow-unknown",
    "skip-unknown",
    "compare-auto",
    "data-complete",
];

pub(crate) fn bad(text: impl Into<String>) -> EngineError {
    EngineError::BadInput(text.into())
}

/// An error of the CLI's code as the API reports it: the store's failures are the server's
/// fault, everything else is the request's.
pub(crate) fn engine_error(e: &anyhow::Error) -> EngineError {
    let text = commands::error_text(e);
    if e.chain()
        .any(|c| c.downcast_ref::<shiplog_store::StoreError>().is_some())
    {
        EngineError::Internal(text)
    } else {
        EngineError::BadInput(text)
    }
}

/// Runs `work` on a blocking thread with its own single-threaded runtime.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<T>>>>
    + Send
    + 'static,
) -> Result<T, EngineError> {
    tokio::task::spawn_blocking(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start a runtime for the analysis")?;
        runtime.block_on(work())
    })
    .await
    .map_err(|e| EngineError::Internal(format!("the analysis ended abnormally: {e}")))?
    .map_err(|e| engine_error(&e))
}

impl CliEngine {
    /// The command line equivalent to a request: global flags, then `command`, then `args`.
    pub(crate) fn cli(&self, command: &[&str], args: Vec<String>) -> Result<Cli, EngineError> {
        let mut argv: Vec<String> = vec!["shiplog".into(), "--quiet".into()];
        argv.push("--db".into());
        argv.push(self.db.display().to_string());
        if let Some(repo) = &self.repo {
            argv.push("--repo".into());
            argv.push(repo.display().to_string());
        }
        if let Some(config) = &self.project_config {
            argv.push("--config".into());
            argv.push(config.display().to_string());
        }
        argv.extend(command.iter().map(|c| (*c).to_owned()));
        argv.extend(args);
        Cli::try_parse_from(&argv).map_err(|e| {
            bad(e
                .render()
                .to_string()
                .replace("\n\nFor more information, try '--help'.", "")
                .trim()
                .to_owned())
        })
    }

    /// Query parameters as flags, refusing any the endpoint does not take.
    pub(crate) fn flags(
        params: &[(String, String)],
        allowed: &[&str],
    ) -> Result<Vec<String>, EngineError> {
        let mut flags = Vec::new();
        for (key, value) in params {
            if !allowed.contains(&key.as_str()) {
                return Err(bad(format!(
                    "unknown parameter {key:?}; this endpoint takes {}",
                    allowed.join(", ")
                )));
            }
            if SWITCHES.contains(&key.as_str()) {
                match value.as_str() {
                    "" | "true" | "1" => flags.push(format!("--{key}")),
                    "false" | "0" => {}
                    other => {
                        return Err(bad(format!("{key}: expected true or false, got {other:?}")));
                    }
                }
            } else {
                flags.push(format!("--{key}"));
                flags.push(value.clone());
            }
        }
        Ok(flags)
    }

    pub(crate) fn deploys_flag(&self) -> Vec<String> {
        self.deploys
            .iter()
            .flat_map(|d| ["--deploys".to_owned(), d.clone()])
            .collect()
    }

    /// Services and environments with records, with their configured teams.
    async fn services(&self) -> Result<String> {
        let deployments = self.store.deployments().await?;
        let incidents = self.store.incidents().await?;
        let config = match &self.project_config {
            Some(path) => shiplog_config::load(path)?,
            None => shiplog_config::Config::default(),
        };
        let teams = config.teams();
        let mut services: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> =
            std::collections::BTreeMap::new();
        for (service, env) in deployments
            .iter()
            .map(|d| (d.service.as_str(), d.environment.as_str()))
            .chain(
                incidents
                    .iter()
                    .map(|i| (i.service.as_str(), i.environment.as_str())),
            )
        {
            services
                .entry(service.to_owned())
                .or_default()
                .insert(env.to_owned());
        }
        for s in &config.services {
            services.entry(s.name.as_str().to_owned()).or_default();
        }
        let list: Vec<serde_json::Value> = services
            .iter()
            .map(|(service, envs)| {
                let owners: Vec<&str> = teams
                    .iter()
                    .filter(|(_, members)| members.iter().any(|m| m.as_str() == service))
                    .map(|(t, _)| t.as_str())
                    .collect();
                serde_json::json!({"service": service, "environments": envs, "teams": owners})
            })
            .collect();
        Ok(serde_json::to_string_pretty(
            &serde_json::json!({"services": list}),
        )?)
    }
}

#[async_trait]
impl Engine for CliEngine {
    async fn process(&self, delivery: &DeliveryRecord) -> Result<Processed, EngineError> {
        let source = match delivery.source.as_str() {
            "github" => Source::GitHub,
            "gitlab" => Source::GitLab,
            "pagerduty" => Source::PagerDuty,
            "cdevents" => Source::CdEvents,
            other => return Err(EngineError::Internal(format!("unknown source {other:?}"))),
        };
        let headers = Headers(delivery.headers.clone());
        let event = headers
            .get("x-github-event")
            .or_else(|| headers.get("x-gitlab-event"))
            .unwrap_or("")
            .to_owned();
        let fetch = matches!(
            event.as_str(),
            "push" | "create" | "release" | "Push Hook" | "Tag Push Hook"
        );
        let label = format!("delivery {} ({})", delivery.seq, delivery.source);
        let wire = Delivery {
            label,
            headers,
            body: delivery.body.clone().into(),
        };
        let repo = self.repo.clone();
        let project_config = self.project_config.clone();
        let store = self.store.clone();
        let kept = self.reader.clone();
        let read = blocking(move || {
            Box::pin(async move {
                // The kept reader, or a new one (the first delivery, or the first after a fetch).
                let taken = kept.lock().ok().and_then(|mut k| k.take());
                let reader = match taken {
                    Some(reader) => reader,
                    None => {
                        let repo = repo
                            .as_deref()
                            .and_then(|r| shiplog_git::GitRepo::discover(r).ok());
                        let config = shiplog_config::discover(
                            project_config.as_deref(),
                            repo.as_ref().map(shiplog_git::GitRepo::root),
                        )?;
                        DeliveryReader { repo, config }
                    }
                };
                let options =
                    crate::ingest::mapping_options(&[], &[], &[], &[], false, &reader.config)?;
                let read = crate::ingest::read_deliveries(
                    reader.repo.as_ref(),
                    &options,
                    &[(wire, Detected::Source(source))],
                    false,
                    Vec::new(),
                    "processing",
                );
                if let Ok(mut k) = kept.lock() {
                    k.get_or_insert(reader);
                }
                let read = read?;
                let notes: Vec<String> = read.ingested.notes.iter().map(|n| n.reason()).collect();
                let mut batch = read.batch;
                crate::ingest::merge_updates(&store, &mut batch, read.ingested, "processing")
                    .await?;
                Ok((batch, notes))
            })
        })
        .await?;
        let (batch, notes) = read;
        let counts = [
            (batch.deployments.len(), "deployment"),
            (batch.incidents.len(), "incident"),
            (batch.pull_requests.len(), "pull request"),
            (batch.practice_changes.len(), "practice change"),
        ];
        let made: Vec<String> = counts
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!("{n} {what}{}", if *n == 1 { "" } else { "s" }))
            .collect();
        let (state, detail) = if made.is_empty() {
            (
                DeliveryState::Ignored,
                if notes.is_empty() {
                    "nothing in it is a record".to_owned()
                } else {
                    notes.join("; ")
                },
            )
        } else {
            (DeliveryState::Accepted, made.join(", "))
        };
        Ok(Processed {
            state,
            detail,
            batch,
            fetch,
        })
    }

    async fn events(
        &self,
        body: &[u8],
        params: &[(String, String)],
    ) -> Result<shiplog_store::EventBatch, EngineError> {
        let mut label = "request body".to_owned();
        let mut format = Detected::JsonLines;
        let mut allow_before_commit = false;
        for (key, value) in params {
            match (key.as_str(), value.as_str()) {
                ("format", "jsonl") => format = Detected::JsonLines,
                ("format", "csv") => format = Detected::Csv,
                ("format", other) => {
                    return Err(bad(format!("format: expected jsonl or csv, got {other:?}")));
                }
                ("name", name) if !name.is_empty() => label = name.to_owned(),
                ("allow-before-commit", "true" | "1" | "") => allow_before_commit = true,
                ("allow-before-commit", "false" | "0") => {}
                _ => {
                    return Err(bad(format!(
                        "unknown parameter {key}={value:?}; this endpoint takes format (jsonl, csv), name, allow-before-commit"
                    )));
                }
            }
        }
        let wire = Delivery::file(&label, body.to_vec());
        let repo = self.repo.clone();
        let store = self.store.clone();
        blocking(move || {
            Box::pin(async move {
                let repo = repo
                    .as_deref()
                    .and_then(|r| shiplog_git::GitRepo::discover(r).ok());
                let read = crate::ingest::read_deliveries(
                    repo.as_ref(),
                    &shiplog_ingest::formats::Options::default(),
                    &[(wire, format)],
                    allow_before_commit,
                    Vec::new(),
                    "the request",
                )?;
                let mut batch = read.batch;
                crate::ingest::merge_updates(&store, &mut batch, read.ingested, "the request")
                    .await?;
                Ok(batch)
            })
        })
        .await
    }

    async fn query(
        &self,
        query: &Query,
        params: &[(String, String)],
    ) -> Result<String, EngineError> {
        match query {
            Query::Metrics => {
                let mut allowed = SCOPE_PARAMS.to_vec();
                allowed.push("by");
                let mut args = Self::flags(params, &allowed)?;
                args.extend(self.deploys_flag());
                args.extend(["--format".to_owned(), "json".to_owned()]);
                let cli = self.cli(&["metrics"], args)?;
                blocking(move || {
                    Box::pin(async move {
                        let Command::Metrics(args) = &cli.command else {
                            bail!("not a metrics command");
                        };
                        commands::metrics_text(&cli, args, &Ui::new(true)).await
                    })
                })
                .await
            }
            Query::Explain(what) => {
                let mut allowed = SCOPE_PARAMS.to_vec();
                allowed.push("limit");
                let mut args = vec![what.clone()];
                args.extend(Self::flags(params, &allowed)?);
                args.extend(self.deploys_flag());
                args.extend(["--format".to_owned(), "json".to_owned()]);
                let cli = self.cli(&["explain"], args)?;
                blocking(move || {
                    Box::pin(async move {
                        let Command::Explain(args) = &cli.command else {
                            bail!("not an explain command");
                        };
                        commands::explain_text(&cli, args, &Ui::new(true)).await
                    })
                })
                .await
            }
            Query::Impact(practice) => {
                let allowed = [
                    "env",
                    "until",
                    "before",
                    "after",
                    "transition",
                    "compare-with",
                    "compare-auto",
                    "data-complete",
                    "seed",
                    "attribution-window",
                    "lead-time-start",
                    "skip-unknown",
                ];
                let mut args = vec![practice.clone()];
                args.extend(Self::flags(params, &allowed)?);
                args.extend(self.deploys_flag());
                args.extend(["--format".to_owned(), "json".to_owned()]);
                let cli = self.cli(&["impact"], args)?;
                blocking(move || {
                    Box::pin(async move {
                        let Command::Impact(args) = &cli.command else {
                            bail!("not an impact command");
                        };
                        crate::impact::run_text(&cli, args, &Ui::new(true)).await
                    })
                })
                .await
            }
            Query::Practices => {
                Self::flags(params, &[])?;
                let cli = self.cli(
                    &["practice", "list"],
                    vec!["--format".into(), "json".into()],
                )?;
                blocking(move || {
                    Box::pin(async move {
                        let Command::Practice(crate::cli::PracticeCommand::List(args)) =
                            &cli.command
                        else {
                            bail!("not a practice list command");
                        };
                        crate::practice::list_text(&cli, args).await
                    })
                })
                .await
            }
            Query::Services => {
                Self::flags(params, &[])?;
                self.services().await.map_err(|e| engine_error(&e))
            }
            Query::Page(page) => self.page(page, params).await,
            Query::Export(table) => self.export(table, params).await,
        }
    }

    async fn gauges(&self) -> Result<Vec<GaugeSample>, EngineError> {
        if self.repo.is_none() {
            return Ok(Vec::new());
        }
        let mut args = vec![
            "--since".to_owned(),
            format!("{}d", GAUGE_WINDOWS[GAUGE_WINDOWS.len() - 1].1),
            "--allow-unknown".to_owned(),
            // A deployment of a commit not fetched yet must not hide every other number.
            "--skip-unknown".to_owned(),
        ];
        args.extend(self.deploys_flag());
        let cli = self.cli(&["metrics"], args)?;
        blocking(move || {
            Box::pin(async move {
                let Command::Metrics(args) = &cli.command else {
                    bail!("not a metrics command");
                };
                gauge_samples(&cli, args).await
            })
        })
        .await
    }

    async fn fetch(&self) -> Result<(), EngineError> {
        let Some(mirror) = &self.mirror else {
            return Ok(());
        };
        let _one = self.fetching.lock().await;
        let mirror = mirror.clone();
        let fetched = tokio::task::spawn_blocking(move || mirror.fetch())
            .await
            .map_err(|e| EngineError::Internal(format!("the fetch ended abnormally: {e}")))?
            .map_err(|e| EngineError::Internal(commands::error_text(&e)));
        // New commits: the next delivery opens the repository again.
        if let Ok(mut kept) = self.reader.lock() {
            *kept = None;
        }
        fetched
    }
}

/// The five metrics of every service and environment with deployments, over each trailing
/// window of [`GAUGE_WINDOWS`], computed as `shiplog metrics` computes them.
async fn gauge_samples(cli: &Cli, args: &crate::cli::MetricsArgs) -> Result<Vec<GaugeSample>> {
    let ui = Ui::new(true);
    let (resolved, analysis) = commands::analyze_scope(cli, &args.scope, None, &ui).await?;
    let repo = Some(&analysis.repo);
    let config = commands::load_config(cli, repo)?;
    let teams = config.teams();
    let team_of = |service: &str| -> String {
        teams
            .iter()
            .filter(|(_, members)| members.iter().any(|m| m.as_str() == service))
            .map(|(t, _): (&TeamName, _)| t.as_str().to_owned())
            .next()
            .unwrap_or_default()
    };
    let mut scopes: std::collections::BTreeSet<(
        shiplog_core::ServiceName,
        shiplog_core::Environment,
    )> = std::collections::BTreeSet::new();
    for d in &analysis.model.deployments {
        scopes.insert((
            d.deployment.service.clone(),
            d.deployment.environment.clone(),
        ));
    }
    let now = Timestamp::now();
    let mut samples = Vec::new();
    for (service, environment) in scopes {
        let team = team_of(service.as_str());
        for (label, days) in GAUGE_WINDOWS {
            let since = now.checked_sub(SignedDuration::from_hours(days * 24))?;
            let scope = Scope {
                service: Some(service.clone()),
                team: None,
                environment: environment.clone(),
                window: TimeWindow::new(since, now)?,
            };
            let m = compute_with(
                &analysis.model,
                &analysis.graph,
                &scope,
                resolved.start,
                resolved.definitions,
            );
            let mut push = |name, help, value: Option<f64>| {
                if let Some(value) = value {
                    samples.push(GaugeSample {
                        name,
                        help,
                        service: service.as_str().to_owned(),
                        environment: environment.as_str().to_owned(),
                        team: team.clone(),
                        window: label,
                        value,
                    });
                }
            };
            #[allow(clippy::cast_precision_loss)]
            let count = |n: u64| Some(n as f64);
            push(
                "shiplog_deployments",
                "Deployments in the trailing window (deployment frequency's count)",
                count(m.deployment_frequency.deployments),
            );
            push(
                "shiplog_deployment_frequency_per_day",
                "Deployments per day over the trailing window",
                Some(m.deployment_frequency.per_day),
            );
            push(
                "shiplog_change_lead_time_median_seconds",
                "Median change lead time of the changes deployed in the window",
                m.change_lead_time.median_seconds,
            );
            push(
                "shiplog_change_lead_time_p90_seconds",
                "90th percentile change lead time of the changes deployed in the window",
                m.change_lead_time.p90_seconds,
            );
            push(
                "shiplog_changes_deployed",
                "Changes whose lead time was measured in the window",
                count(m.change_lead_time.changes),
            );
            push(
                "shiplog_change_fail_ratio",
                "Share of the window's deployments that caused a failure (0 to 1)",
                m.change_fail_rate.rate,
            );
            push(
                "shiplog_failed_deployments",
                "Deployments in the window that caused a failure",
                count(m.change_fail_rate.failed),
            );
            push(
                "shiplog_failed_deployment_recovery_time_median_seconds",
                "Median time to recover from a failed deployment, for recoveries in the window",
                m.failed_deployment_recovery_time.median_seconds,
            );
            push(
                "shiplog_deployment_rework_ratio",
                "Share of the window's deployments that were unplanned (hotfixes, rollbacks; 0 to 1)",
                m.rework_rate.rate,
            );
        }
    }
    Ok(samples)
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::env::var_os("NO_COLOR").is_none());
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Waits for SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

/// The server's store: PostgreSQL when `--database-url` (or `SHIPLOG_DATABASE_URL`) is given,
/// else SQLite in the data directory.
async fn open_server_store(config: &ServerConfig, args: &ServeArgs) -> Result<AnyStore> {
    match &args.database_url {
        Some(url) if crate::store::is_postgres_url(url) => {
            crate::analysis::open_store(std::path::Path::new(url)).await
        }
        Some(url) => bail!(
            "--database-url {}: expected a postgres:// URL\nhint: leave it (and SHIPLOG_DATABASE_URL) unset to use SQLite under the data directory",
            redacted(url)
        ),
        None => crate::analysis::open_store(&config.data_dir.join("shiplog.db")).await,
    }
}

pub async fn run(cli: &Cli, args: &ServeArgs, ui: &Ui) -> Result<()> {
    let config = server_config(cli, args)?;
    match &args.action {
        Some(ServeCommand::Token(command)) => {
            let store = open_server_store(&config, args).await?;
            return token(&store, command, ui).await;
        }
        Some(ServeCommand::Reprocess(r)) => {
            let store = open_server_store(&config, args).await?;
            let n = store
                .requeue_deliveries(if r.failed { None } else { r.delivery })
                .await?;
            if n == 0 && !r.failed {
                bail!(
                    "no delivery {} in the store\nhint: `GET /api/v1/deliveries` lists them",
                    r.delivery.unwrap_or_default()
                );
            }
            ui.result(&format!(
                "{n} deliver{} queued for processing; a running server picks {} up within a second",
                if n == 1 { "y" } else { "ies" },
                if n == 1 { "it" } else { "them" }
            ));
            return Ok(());
        }
        None => {}
    }
    init_logging(args.log_format);
    std::fs::create_dir_all(&config.data_dir).with_context(|| {
        format!(
            "cannot create the data directory {}",
            config.data_dir.display()
        )
    })?;
    let store = open_server_store(&config, args).await?;
    let (repo, mirror, project_config, deploys) = match config.repositories.first() {
        Some(r) => {
            let mirror = Mirror {
                config: r.clone(),
                path: config
                    .data_dir
                    .join("mirrors")
                    .join(format!("{}.git", r.name)),
            };
            tracing::info!(repository = %r.name, url = %redacted(&r.url), "mirroring");
            let ensure = mirror.clone();
            tokio::task::spawn_blocking(move || ensure.ensure())
                .await
                .context("the clone ended abnormally")??;
            (
                Some(mirror.path.clone()),
                Some(mirror),
                r.config.clone(),
                r.deploys.clone(),
            )
        }
        // No repository configured: the one the server was started in, if any.
        None => match shiplog_git::GitRepo::discover(&cli.repo) {
            Ok(repo) => {
                let root = repo.root().to_owned();
                tracing::info!(repository = %root.display(), "analysing the working repository");
                let config = root.join("shiplog.toml");
                (Some(root), None, Some(config).filter(|c| c.exists()), None)
            }
            Err(_) => {
                tracing::warn!(
                    "no repository configured and not inside one: deliveries are stored and processed, metrics need a repository (docs/server.md#repositories)"
                );
                (None, None, None, None)
            }
        },
    };
    let engine = CliEngine {
        repo,
        // The analysis opens the store as the CLI does: the file, or the PostgreSQL URL.
        db: match (&store, &args.database_url) {
            (AnyStore::Postgres(_), Some(url)) => PathBuf::from(url),
            _ => config.data_dir.join("shiplog.db"),
        },
        store: store.clone(),
        project_config,
        deploys,
        mirror,
        fetching: tokio::sync::Mutex::new(()),
        reader: Arc::new(std::sync::Mutex::new(None)),
    };
    let engine_store = store.location();
    let store: Arc<dyn ServerStore> = Arc::new(store);
    let server = shiplog_server::Server::bind(config.clone(), store, Arc::new(engine)).await?;
    let addr = server.local_addr()?;
    tracing::info!(%addr, data_dir = %config.data_dir.display(), store = %engine_store, "listening");
    // A line a supervisor or a test can wait for, on stdout.
    println!("shiplog server listening on http://{addr}");
    server.run(shutdown_signal()).await?;
    Ok(())
}

async fn token(store: &AnyStore, command: &TokenCommand, ui: &Ui) -> Result<()> {
    match command {
        TokenCommand::Create(args) => {
            let scope = TokenScope::parse(&args.scope).with_context(|| {
                format!(
                    "--scope {:?}: expected read, events:write or admin",
                    args.scope
                )
            })?;
            if args.name.trim().is_empty() {
                bail!("--name: give the token a name saying who uses it (ci, grafana)");
            }
            if store.tokens().await?.iter().any(|t| t.name == args.name) {
                bail!(
                    "a token named {:?} exists already (names are never reused, even revoked)\nhint: pick another name",
                    args.name
                );
            }
            let token = shiplog_server::auth::new_token();
            store
                .create_token(&TokenRecord {
                    name: args.name.clone(),
                    scope,
                    hash: shiplog_server::auth::token_hash(&token),
                    created_at: Timestamp::now(),
                    revoked_at: None,
                })
                .await?;
            ui.note(&format!(
                "created the token {:?} (scope {scope}); it is shown only now, store it as a secret (SHIPLOG_TOKEN)",
                args.name
            ));
            commands::print(&format!("{token}\n"))
        }
        TokenCommand::List => {
            let tokens = store.tokens().await?;
            let mut out = String::new();
            for t in &tokens {
                out.push_str(&format!(
                    "{}\t{}\tcreated {}{}\n",
                    t.name,
                    t.scope,
                    t.created_at,
                    t.revoked_at
                        .map(|r| format!("\trevoked {r}"))
                        .unwrap_or_default()
                ));
            }
            if tokens.is_empty() {
                ui.note("no tokens: the API is open to anyone who can reach it (allowed on a loopback address only)");
            }
            commands::print(&out)
        }
        TokenCommand::Revoke(args) => {
            if !store.revoke_token(&args.name, Timestamp::now()).await? {
                bail!(
                    "no unrevoked token is named {:?}\nhint: `shiplog serve token list` shows them",
                    args.name
                );
            }
            ui.result(&format!("revoked the token {:?}", args.name));
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Mirror, redacted};

    /// Two processes sharing a data directory fetch one at a time: while the lock file is held
    /// (here by the test, as another process would), a fetch waits; it runs once it is let go.
    #[test]
    fn a_mirror_is_fetched_by_one_process_at_a_time() {
        let dir = tempfile::tempdir().expect("temp dir");
        let origin = dir.path().join("origin");
        let git = |args: &[&str]| {
            let out = std::process::Command::new("git")
                .args(args)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .output()
                .expect("git");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        git(&[
            "init",
            "--quiet",
            "--initial-branch=main",
            origin.to_str().expect("utf-8"),
        ]);
        git(&[
            "-C",
            origin.to_str().expect("utf-8"),
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "commit",
            "--quiet",
            "--allow-empty",
            "-m",
            "one",
        ]);
        let mirror = Mirror {
            config: shiplog_server::RepositoryConfig {
                name: "origin".into(),
                url: format!("file://{}", origin.display()),
                config: None,
                deploys: None,
            },
            path: dir.path().join("mirrors/origin.git"),
        };
        mirror.ensure().expect("clone");
        let held = mirror.lock().expect("the other process's lock");
        let fetching = {
            let mirror = mirror.clone();
            std::thread::spawn(move || mirror.fetch())
        };
        std::thread::sleep(std::time::Duration::from_millis(400));
        assert!(
            !fetching.is_finished(),
            "fetched while another process held the mirror"
        );
        drop(held);
        fetching
            .join()
            .expect("thread")
            .expect("the fetch runs once the lock is let go");
        assert!(dir.path().join("mirrors/origin.git.lock").exists());
    }

    #[test]
    fn urls_lose_their_credentials() {
        assert_eq!(
            redacted("postgres://shiplog:s3cret@db.internal:5432/shiplog"),
            "postgres://***@db.internal:5432/shiplog"
        );
        assert_eq!(
            redacted("https://x-access-token:ghp_abc@github.com/acme/shop.git"),
            "https://***@github.com/acme/shop.git"
        );
        assert_eq!(redacted("file:///tmp/a@b/repo"), "file:///tmp/a@b/repo");
        assert_eq!(redacted("/srv/repo.git"), "/srv/repo.git");
    }
}
