//! Reading deliveries into records: shared by `shiplog import`, `shiplog sync` and the team
//! server (webhooks and `POST /api/v1/events`), so all of them accept and refuse exactly the same
//! input with the same words.
//!
//! shiplog's own JSON Lines and CSV become whole records; vendor payloads (GitHub, GitLab,
//! PagerDuty, CDEvents) become deployments and *updates* of incidents and pull requests, which
//! [`merge_updates`] merges into the stored records (read first, merged with the pure rules of
//! `shiplog_ingest::formats`, written back), so a PagerDuty `incident.resolved` only resolves the
//! incident its `incident.triggered` stored.

use std::collections::HashMap;

use shiplog_core::{
    DeploymentSource, Environment, Incident, IncidentId, NameError, PullRequest, PullRequestId,
    ServiceName, Sha, ShaPrefix,
};
use shiplog_git::GitRepo;
use shiplog_ingest::formats::{self, Delivery, Detected, Options};
use shiplog_ingest::{ImportErrors, Record, capped};
use shiplog_store::{EventBatch, Store, StoreError};

/// Why deliveries were not turned into records. Nothing was stored.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// Some deliveries have problems; `problems` lists them (each naming its file, line or JSON
    /// path, and field), capped.
    #[error("{command} failed; nothing was stored\n{problems}")]
    Refused {
        /// What failed: `import`, `sync`, `processing`, `the request`.
        command: String,
        /// The problems, one per line.
        problems: String,
    },
    /// A `--service`/`--env` mapping names an invalid name.
    #[error("{flag} {value:?}")]
    MappingName {
        /// The flag.
        flag: String,
        /// The value given.
        value: String,
        /// Why the name is invalid.
        #[source]
        source: NameError,
    },
    /// Two plain `NAME` values of one mapping flag.
    #[error(
        "{flag} {value:?}: give one {flag} NAME (for every unmapped record) and any number of {flag} SOURCE=NAME"
    )]
    TwoDefaults {
        /// The flag.
        flag: String,
        /// The second plain value.
        value: String,
    },
    /// The store failed while reading the records to merge over.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn refused(command: &str, problems: &[String]) -> IngestError {
    IngestError::Refused {
        command: command.to_owned(),
        problems: capped(problems),
    }
}

/// Splits `SOURCE=NAME` flags into a map and at most one plain `NAME`.
fn mapping<T>(
    flag: &str,
    values: &[String],
    make: impl Fn(&str) -> Result<T, NameError>,
) -> Result<(Option<T>, std::collections::BTreeMap<String, T>), IngestError> {
    let mut default = None;
    let mut map = std::collections::BTreeMap::new();
    for value in values {
        match value.rsplit_once('=') {
            Some((source, name)) => {
                let name = make(name).map_err(|source| IngestError::MappingName {
                    flag: flag.to_owned(),
                    value: value.clone(),
                    source,
                })?;
                map.insert(source.trim().to_owned(), name);
            }
            None => {
                if default.is_some() {
                    return Err(IngestError::TwoDefaults {
                        flag: flag.to_owned(),
                        value: value.clone(),
                    });
                }
                default = Some(make(value).map_err(|source| IngestError::MappingName {
                    flag: flag.to_owned(),
                    value: value.clone(),
                    source,
                })?);
            }
        }
    }
    Ok((default, map))
}

/// The vendor parsers' options (shared by `shiplog import` and `shiplog sync`): the `--service`,
/// `--env`, `--incident-label`, `--deploy-workflow` and `--deploy-releases` flags over the
/// configuration's `[sources]` and `definitions.incident_labels`.
pub fn mapping_options(
    services: &[String],
    environments: &[String],
    incident_labels: &[String],
    deploy_workflows: &[String],
    deploy_releases: bool,
    config: &shiplog_config::Config,
) -> Result<Options, IngestError> {
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

/// The records read from some deliveries: whole records, and the vendor updates still to merge
/// over the store ([`merge_updates`]).
pub struct ReadDeliveries {
    pub batch: EventBatch,
    pub ingested: formats::Ingested,
}

/// Reads every delivery in its format into records, all or nothing: every problem of every
/// delivery is reported (naming its file, line or JSON path, and field) and nothing is returned
/// when there is one. Shared by `shiplog import` and the team server (webhooks and
/// `POST /api/v1/events`), so both accept and refuse exactly the same input. `errors` are
/// problems found before (deliveries that could not be read at all), reported with the rest;
/// `command` names what failed in the error.
pub fn read_deliveries(
    repo: Option<&GitRepo>,
    options: &Options,
    deliveries: &[(Delivery, Detected)],
    allow_before_commit: bool,
    mut errors: Vec<String>,
    command: &str,
) -> Result<ReadDeliveries, IngestError> {
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
        return Err(refused(command, &errors));
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
        return Err(refused(command, &errors));
    }
    Ok(ReadDeliveries { batch, ingested })
}

/// Why `deployment` is refused: it finished before its commit's committer time (when the
/// repository has the commit and `allow_before_commit` is not given).
pub fn before_commit(
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
pub fn with_release_deployments(
    repo: Option<&GitRepo>,
    mut ingested: formats::Ingested,
    command: &str,
) -> Result<formats::Ingested, IngestError> {
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
        return Err(refused(command, &problems));
    }
    Ok(ingested)
}

/// Adds vendor records to `batch`: deployments as they are, incident and pull request updates
/// merged over the stored records (and over the batch's own incidents). Fails, before anything is
/// stored, when a merged pull request is invalid (saying that the `command` failed).
/// `ingested.notes` are the caller's to show.
pub async fn merge_updates(
    store: &impl Store,
    batch: &mut EventBatch,
    ingested: formats::Ingested,
    command: &str,
) -> Result<(), IngestError> {
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
            return Err(refused(command, &problems));
        }
        batch.pull_requests = last_per_id(merged);
    }
    Ok(())
}

/// Resolves a sha given on the command line or in a file.
pub fn resolve_sha(repo: Option<&GitRepo>, prefix: &ShaPrefix) -> Result<Sha, String> {
    match repo {
        Some(repo) => match repo.resolve(prefix) {
            Ok(sha) => Ok(sha),
            // A full sha the repository lacks may arrive with a later fetch: keep it.
            Err(shiplog_git::ResolveError::NotFound(_)) if prefix.as_full().is_some() => {
                prefix.as_full().ok_or_else(|| "unreachable".to_owned())
            }
            Err(e) => Err(e.to_string()),
        },
        None => prefix.as_full().ok_or_else(|| {
            format!(
                "{prefix} is abbreviated, and there is no repository to resolve it in; give all 40 characters or run inside the repository (--repo)"
            )
        }),
    }
}
