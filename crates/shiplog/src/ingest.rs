//! `shiplog import`: every file of the command line read, checked and turned into records before
//! anything is stored, then one transaction.
//!
//! shiplog's own JSON Lines and CSV become whole records; vendor payloads (GitHub, GitLab,
//! PagerDuty, CDEvents) become deployments and *updates* of incidents and pull requests, which are
//! merged into the stored records here (read first, merged with the pure rules of
//! `shiplog_ingest::formats`, written back), so a PagerDuty `incident.resolved` only resolves the
//! incident its `incident.triggered` stored. The CLI is the only writer of its SQLite file, so
//! reading before writing is safe; the team server will do the same inside its transaction.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result, bail};
use shiplog_core::{
    DeploymentSource, Environment, Incident, IncidentId, PullRequest, PullRequestId, ServiceName,
};
use shiplog_git::GitRepo;
use shiplog_ingest::formats::{self, Delivery, Detected, Options, Source};
use shiplog_ingest::{ImportErrors, Record, capped};
use shiplog_store::{ApplySummary, EventBatch, Store, WriteCounts};

use crate::cli::{Cli, ImportArgs, InputFormat};
use crate::commands::{optional_repo, resolve_sha, store_for_writing};
use crate::ui::Ui;

/// Splits `SOURCE=NAME` flags into a map and at most one plain `NAME`.
fn mapping<T>(
    flag: &str,
    values: &[String],
    make: impl Fn(&str) -> std::result::Result<T, shiplog_core::NameError>,
) -> Result<(Option<T>, std::collections::BTreeMap<String, T>)> {
    let mut default = None;
    let mut map = std::collections::BTreeMap::new();
    for value in values {
        match value.rsplit_once('=') {
            Some((source, name)) => {
                let name = make(name).with_context(|| format!("{flag} {value:?}"))?;
                map.insert(source.trim().to_owned(), name);
            }
            None => {
                if default.is_some() {
                    bail!(
                        "{flag} {value:?}: give one {flag} NAME (for every unmapped record) and any number of {flag} SOURCE=NAME"
                    );
                }
                default = Some(make(value).with_context(|| format!("{flag} {value:?}"))?);
            }
        }
    }
    Ok((default, map))
}

/// The vendor parsers' options (shared by `shiplog import` and `shiplog sync`): the `--service`,
/// `--env`, `--incident-label`, `--deploy-workflow` and `--deploy-releases` flags over the
/// configuration's `[sources]` and `definitions.incident_labels`.
pub(crate) fn mapping_options(
    services: &[String],
    environments: &[String],
    incident_labels: &[String],
    deploy_workflows: &[String],
    deploy_releases: bool,
    config: &shiplog_config::Config,
) -> Result<Options> {
    let (service, flag_services) = mapping("--service", services, ServiceName::new)?;
    let (environment, flag_environments) = mapping("--env", environments, Environment::new)?;
    let configured = config.source_mappings();
    let mut services = configured.services;
    services.extend(flag_services);
    let mut environments = configured.environments;
    environments.extend(flag_environments);
    Ok(Options {
        service: service.or(configured.default_service),
        services,
        environment: environment.or(configured.default_environment),
        environments,
        incident_labels: if incident_labels.is_empty() {
            configured.incident_labels
        } else {
            incident_labels.to_vec()
        },
        deploy_workflows: deploy_workflows.to_vec(),
        deploy_releases,
    })
}

fn describe(counts: WriteCounts, what: &str) -> String {
    format!(
        "{what}: {} new, {} updated, {} unchanged",
        counts.inserted, counts.updated, counts.unchanged
    )
}

/// `deployments: 1 new, ...; incidents: ...`, then practice changes and pull requests when any.
pub(crate) fn summary_line(summary: &ApplySummary) -> String {
    let mut line = format!(
        "{}; {}",
        describe(summary.deployments, "deployments"),
        describe(summary.incidents, "incidents")
    );
    for (counts, what) in [
        (summary.practice_changes, "practice changes"),
        (summary.pull_requests, "pull requests"),
    ] {
        if counts.inserted + counts.updated + counts.unchanged > 0 {
            line.push_str("; ");
            line.push_str(&describe(counts, what));
        }
    }
    line
}

/// How a file is read: as given by `--from`, else from its headers, extension and content.
fn detected(args: &ImportArgs, path: &Path, delivery: &Delivery) -> Result<Detected, String> {
    Ok(match args.input_format {
        InputFormat::Jsonl => Detected::JsonLines,
        InputFormat::Csv => Detected::Csv,
        InputFormat::Github => Detected::Source(Source::GitHub),
        InputFormat::Gitlab => Detected::Source(Source::GitLab),
        InputFormat::Pagerduty => Detected::Source(Source::PagerDuty),
        InputFormat::Cdevents => Detected::Source(Source::CdEvents),
        InputFormat::Auto => {
            let ext = path
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase);
            match ext.as_deref() {
                Some("csv") => Detected::Csv,
                Some("jsonl" | "ndjson") => Detected::JsonLines,
                _ => formats::detect(delivery).map_err(|e| e.to_string())?,
            }
        }
    })
}

/// Last record per id, in first-seen order: what one import writes for records merged from
/// several deliveries.
fn last_per_id<K: std::hash::Hash + Eq + Clone, T>(records: Vec<(K, T)>) -> Vec<T> {
    let mut order: Vec<K> = Vec::new();
    let mut last: HashMap<K, T> = HashMap::new();
    for (key, record) in records {
        if last.insert(key.clone(), record).is_none() {
            order.push(key);
        }
    }
    order.into_iter().filter_map(|k| last.remove(&k)).collect()
}

pub async fn import(cli: &Cli, args: &ImportArgs, ui: &Ui) -> Result<()> {
    let repo = optional_repo(cli);
    let options = mapping_options(
        &args.services,
        &args.environments,
        &args.incident_labels,
        &args.deploy_workflows,
        args.deploy_releases,
        &crate::commands::load_config(cli, repo.as_ref())?,
    )?;
    let mut errors: Vec<String> = Vec::new();
    let mut deliveries = Vec::new();
    for path in &args.files {
        let (label, bytes) = if path.as_os_str() == "-" {
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .context("cannot read standard input")?;
            ("<stdin>".to_owned(), bytes::Bytes::from(bytes))
        } else {
            let bytes = Delivery::read_file(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            (path.display().to_string(), bytes)
        };
        let is_http = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("http"));
        let delivery = if is_http {
            match Delivery::from_http(&label, &bytes) {
                Ok(d) => d,
                Err(e) => {
                    errors.push(e.to_string());
                    continue;
                }
            }
        } else {
            Delivery::file(&label, bytes)
        };
        match detected(args, path, &delivery) {
            Ok(format) => deliveries.push((delivery, format)),
            Err(e) => errors.push(e),
        }
    }
    if let Some(server) = &args.server {
        return import_remote(server, args, errors, deliveries, ui);
    }
    let read = read_deliveries(
        repo.as_ref(),
        &options,
        &deliveries,
        args.allow_before_commit,
        errors,
        "import",
    )?;
    for note in &read.ingested.notes {
        ui.note(&format!("skipped {note}"));
    }
    let skipped = skipped_summary(&read.ingested.notes);
    // Opened only now: an import that fails creates no store.
    let store = store_for_writing(cli, repo.as_ref()).await?;
    let mut batch = read.batch;
    merge_updates(&store, &mut batch, read.ingested, "import").await?;
    let summary = store.apply(&batch).await?;
    // The result of the command: shown with --quiet too, which hides the notes it counts.
    ui.result(&format!("imported {}{skipped}", summary_line(&summary)));
    Ok(())
}

/// `import --server`: each file of shiplog's own formats posted to the server, which reads it
/// with the same parser (each file all or nothing there). Vendor payloads go to the server's
/// webhooks instead.
fn import_remote(
    server: &str,
    args: &ImportArgs,
    mut errors: Vec<String>,
    deliveries: Vec<(Delivery, Detected)>,
    ui: &Ui,
) -> Result<()> {
    let mut files = Vec::new();
    for (delivery, format) in deliveries {
        let format = match format {
            Detected::JsonLines => "jsonl",
            Detected::Csv => "csv",
            Detected::Source(source) => {
                errors.push(format!(
                    "{}: a {source} payload; with --server, send {source} events to the server's webhook (/hooks/{}) or import the file locally",
                    delivery.label,
                    source.as_str()
                ));
                continue;
            }
        };
        files.push((delivery, format));
    }
    if !errors.is_empty() {
        bail!("import failed; nothing was sent\n{}", capped(&errors));
    }
    for (delivery, format) in files {
        let mut query = format!("format={format}&name={}", url_encoded(&delivery.label));
        if args.allow_before_commit {
            query.push_str("&allow-before-commit=true");
        }
        let answer = crate::client::post_events(server, &delivery.body, &query)
            .with_context(|| format!("{}: not imported", delivery.label))?;
        let counts = |kind: &str| WriteCounts {
            inserted: answer[kind]["new"].as_u64().unwrap_or(0),
            updated: answer[kind]["updated"].as_u64().unwrap_or(0),
            unchanged: answer[kind]["unchanged"].as_u64().unwrap_or(0),
        };
        let summary = ApplySummary {
            deployments: counts("deployments"),
            incidents: counts("incidents"),
            practice_changes: counts("practice_changes"),
            pull_requests: counts("pull_requests"),
        };
        ui.result(&format!(
            "{}: imported on {server}: {}",
            delivery.label,
            summary_line(&summary)
        ));
    }
    Ok(())
}

/// `text` as a URL query value.
fn url_encoded(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The records read from some deliveries: whole records, and the vendor updates still to merge
/// over the store ([`merge_updates`]).
pub(crate) struct ReadDeliveries {
    pub batch: EventBatch,
    pub ingested: formats::Ingested,
}

/// Reads every delivery in its format into records, all or nothing: every problem of every
/// delivery is reported (naming its file, line or JSON path, and field) and nothing is returned
/// when there is one. Shared by `shiplog import` and the team server (webhooks and
/// `POST /api/v1/events`), so both accept and refuse exactly the same input. `errors` are
/// problems found before (deliveries that could not be read at all), reported with the rest;
/// `command` names what failed in the error.
pub(crate) fn read_deliveries(
    repo: Option<&GitRepo>,
    options: &Options,
    deliveries: &[(Delivery, Detected)],
    allow_before_commit: bool,
    mut errors: Vec<String>,
    command: &str,
) -> Result<ReadDeliveries> {
    let mut batch = EventBatch::default();
    let mut parsed = Vec::new();
    for (delivery, format) in deliveries {
        let label = delivery.label.as_str();
        let own = match format {
            Detected::JsonLines => shiplog_ingest::Format::JsonLines,
            Detected::Csv => shiplog_ingest::Format::Csv,
            Detected::Source(source) => {
                match formats::parse(delivery, *source, options) {
                    Ok(p) => parsed.push(p),
                    Err(list) => errors.extend(list.iter().map(ToString::to_string)),
                }
                continue;
            }
        };
        let records = match shiplog_ingest::parse(label, &delivery.body, own) {
            Ok(records) => records,
            Err(ImportErrors(more)) => {
                errors.extend(more.iter().map(ToString::to_string));
                continue;
            }
        };
        for located in records {
            let line = located.line;
            let field_error = |field: &str, problem: String| {
                shiplog_ingest::ImportError {
                    file: label.to_owned(),
                    line,
                    field: Some(field.to_owned()),
                    problem,
                }
                .to_string()
            };
            match located.value {
                Record::Deployment(d) => match resolve_sha(repo, &d.sha) {
                    Ok(sha) => {
                        let deployment = d.into_deployment(sha, DeploymentSource::Imported);
                        match before_commit(repo, &deployment, allow_before_commit) {
                            Some(problem) => errors.push(field_error("finished_at", problem)),
                            None => batch.deployments.push(deployment),
                        }
                    }
                    Err(problem) => errors.push(field_error("sha", problem)),
                },
                Record::Incident(i) => {
                    let sha = match &i.sha {
                        Some(prefix) => match resolve_sha(repo, prefix) {
                            Ok(sha) => Some(sha),
                            Err(problem) => {
                                errors.push(field_error("sha", problem));
                                continue;
                            }
                        },
                        None => None,
                    };
                    batch.incidents.push(i.into_incident(sha));
                }
                Record::PracticeChange(p) => batch.practice_changes.push(p),
                Record::PullRequest(p) => {
                    let before = errors.len();
                    let mut resolve = |field: &str, prefix: &shiplog_core::ShaPrefix| {
                        resolve_sha(repo, prefix)
                            .map_err(|problem| errors.push(field_error(field, problem)))
                            .ok()
                    };
                    let merge_commit = p
                        .merge_commit
                        .as_ref()
                        .and_then(|s| resolve("merge_commit", s));
                    let head_sha = p.head_sha.as_ref().and_then(|s| resolve("head_sha", s));
                    let commits: Vec<shiplog_core::Sha> = p
                        .commits
                        .iter()
                        .filter_map(|s| resolve("commits", s))
                        .collect();
                    if errors.len() == before {
                        batch.pull_requests.push(p.into_pull_request(
                            merge_commit,
                            head_sha,
                            commits,
                        ));
                    }
                }
            }
        }
    }
    if !errors.is_empty() {
        bail!("{command} failed; nothing was stored\n{}", capped(&errors));
    }
    let ingested = formats::combine(parsed);
    let ingested = with_release_deployments(repo, ingested, command)?;
    for d in &ingested.deployments {
        if let Some(problem) = before_commit(repo, d, allow_before_commit) {
            let file = ingested
                .deployment_files
                .get(&d.id)
                .map_or("<import>", String::as_str);
            errors.push(format!("{file}: deployment {}: {problem}", d.id));
        }
    }
    if !errors.is_empty() {
        bail!("{command} failed; nothing was stored\n{}", capped(&errors));
    }
    Ok(ReadDeliveries { batch, ingested })
}

/// `; skipped 3 (2 written by a bot, 1 GitHub push)`: the notes of an import counted by reason,
/// most frequent first; empty when nothing was skipped.
pub(crate) fn skipped_summary(notes: &[formats::Note]) -> String {
    if notes.is_empty() {
        return String::new();
    }
    let mut counts: Vec<(String, usize)> = Vec::new();
    for note in notes {
        let reason = note.reason();
        match counts.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, n)) => *n += 1,
            None => counts.push((reason, 1)),
        }
    }
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    let reasons: Vec<String> = counts.iter().map(|(r, n)| format!("{n} {r}")).collect();
    format!("; skipped {} ({})", notes.len(), reasons.join(", "))
}

/// Why `deployment` is refused: it finished before its commit's committer time (when the
/// repository has the commit and `--allow-before-commit` is not given).
pub(crate) fn before_commit(
    repo: Option<&GitRepo>,
    deployment: &shiplog_core::Deployment,
    allow: bool,
) -> Option<String> {
    if allow {
        return None;
    }
    let committed = repo?.committer_time(&deployment.sha)?;
    shiplog_core::event::BeforeCommit::check(deployment.finished_at, committed)
        .err()
        .map(|e| {
            format!(
                "the deployment {e} ({}); hint: fix the time, or import with --allow-before-commit to store it counted in no metric",
                deployment.sha.short(12)
            )
        })
}

/// Turns the releases taken as deployments into deployments of the commits their tags name in
/// `repo`. Fails, before anything is stored, when there is no repository or a tag is not in it
/// (saying that the `command` failed).
pub(crate) fn with_release_deployments(
    repo: Option<&GitRepo>,
    mut ingested: formats::Ingested,
    command: &str,
) -> Result<formats::Ingested> {
    let mut problems = Vec::new();
    for release in std::mem::take(&mut ingested.releases) {
        let at = format!(
            "{}: {}: release {:?} ({})",
            release.file, release.path, release.tag, release.deployment.id
        );
        let Some(repo) = repo else {
            problems.push(format!(
                "{at}: a release names a tag, not a commit, and there is no git repository here to look it up in; run inside the repository or give --repo"
            ));
            continue;
        };
        match repo.tag_commit(&release.tag) {
            Ok(sha) => {
                ingested
                    .deployment_files
                    .insert(release.deployment.id.clone(), release.file.clone());
                ingested.deployments.push(release.into_deployment(sha));
            }
            Err(e @ shiplog_git::RepoError::NoSuchTag(_)) => {
                problems.push(format!("{at}: {e} (hint: git fetch --tags)"))
            }
            Err(e) => problems.push(format!("{at}: {e}")),
        }
    }
    if !problems.is_empty() {
        bail!(
            "{command} failed; nothing was stored\n{}",
            capped(&problems)
        );
    }
    Ok(ingested)
}

/// Adds vendor records to `batch`: deployments as they are, incident and pull request updates
/// merged over the stored records (and over the batch's own incidents). Fails, before anything is
/// stored, when a merged pull request is invalid (saying that the `command` failed).
/// `ingested.notes` are the caller's to show.
pub(crate) async fn merge_updates(
    store: &impl Store,
    batch: &mut EventBatch,
    ingested: formats::Ingested,
    command: &str,
) -> Result<()> {
    batch.deployments.extend(ingested.deployments);
    if !ingested.incidents.is_empty() {
        let mut current: HashMap<IncidentId, Incident> = store
            .incidents()
            .await?
            .into_iter()
            .map(|i| (i.id.clone(), i))
            .collect();
        for i in &batch.incidents {
            current.insert(i.id.clone(), i.clone());
        }
        let mut merged = Vec::new();
        for update in &ingested.incidents {
            let incident = update.apply(current.get(&update.id));
            current.insert(incident.id.clone(), incident.clone());
            merged.push((incident.id.clone(), incident));
        }
        let mut all: Vec<(IncidentId, Incident)> = std::mem::take(&mut batch.incidents)
            .into_iter()
            .map(|i| (i.id.clone(), i))
            .collect();
        all.extend(merged);
        batch.incidents = last_per_id(all);
    }
    if !ingested.pull_requests.is_empty() {
        let mut current: HashMap<PullRequestId, PullRequest> = store
            .pull_requests()
            .await?
            .into_iter()
            .map(|p| (p.id.clone(), p))
            .collect();
        for p in &batch.pull_requests {
            current.insert(p.id.clone(), p.clone());
        }
        let mut merged: Vec<(PullRequestId, PullRequest)> =
            std::mem::take(&mut batch.pull_requests)
                .into_iter()
                .map(|p| (p.id.clone(), p))
                .collect();
        let mut problems = Vec::new();
        for update in &ingested.pull_requests {
            let pr = update.apply(current.get(&update.id));
            if let Err(e) = pr.validate() {
                let at = match ingested.pull_request_origins.get(&pr.id) {
                    Some((file, path)) => format!("{file}: {path}: "),
                    None => String::new(),
                };
                problems.push(format!("{at}pull request {}: {e}", pr.id));
                continue;
            }
            current.insert(pr.id.clone(), pr.clone());
            merged.push((pr.id.clone(), pr));
        }
        if !problems.is_empty() {
            bail!(
                "{command} failed; nothing was stored\n{}",
                capped(&problems)
            );
        }
        batch.pull_requests = last_per_id(merged);
    }
    Ok(())
}
