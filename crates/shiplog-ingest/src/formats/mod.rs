//! Delivery history from the tools teams already use: GitHub, GitLab, PagerDuty and CDEvents
//! (plain or as CloudEvents), from saved files or, later, from the team server's webhooks.
//!
//! Each format lives in one module that takes the bytes of one delivery (a webhook body, a saved
//! REST list response, a CDEvent) with its HTTP headers when there are any, and returns typed
//! records or problems that name the file and the JSON path. Parsing is pure, so the command line
//! (`shiplog import --from FORMAT FILE...`) and a webhook receiver share every line of it.
//!
//! The pipeline, for one import:
//!
//! 1. [`Delivery`]: bytes and headers ([`Delivery::from_http`] reads a saved `.http` request, so a
//!    CloudEvents binary-mode event or a webhook with its `X-GitHub-Event` header can be replayed).
//! 2. [`detect`] picks the [`Source`] from the headers and the content (or the caller forces one).
//! 3. [`parse`] turns a delivery into a [`Parsed`]: observations, and notes for what it skipped.
//! 4. [`combine`] joins what needs joining across the files of one import (GitHub REST deployments
//!    with their statuses, reviews with their pull request's author) and drops every person's
//!    identity; the result, [`Ingested`], holds deployments and *updates* of incidents and pull
//!    requests, which the caller merges into the stored records ([`IncidentUpdate::apply`],
//!    [`PullRequestUpdate::apply`]).
//!
//! Ids come from the source's own ids (`github:owner/repo:deployment:123`, `pagerduty:PXXXXXX`,
//! `cdevents:<subject id>`), so importing the same file or the same delivery twice ends in the same
//! stored state. The user documentation is `docs/ingestion.md`.

mod cdevents;
mod github;
mod gitlab;
mod http;
mod json;
mod pagerduty;
mod updates;

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use jiff::Timestamp;
use serde_json::Value as Json;
use shiplog_core::{
    Deployment, DeploymentStatus, Environment, IncidentId, NameError, PullRequestId, ServiceName,
    Sha,
};

pub use json::PayloadError;
pub use updates::{IncidentState, IncidentUpdate, PullRequestUpdate};

use json::{Fault, Node, Res};

/// A source format of delivery history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// GitHub webhook payloads and REST API list responses.
    GitHub,
    /// GitLab webhook payloads and REST API list responses.
    GitLab,
    /// PagerDuty v3 webhook events and the REST incidents list.
    PagerDuty,
    /// CDEvents v0.4 and v0.5, plain or as CloudEvents (structured or binary mode).
    CdEvents,
}

impl Source {
    /// The name used by `--from`.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::GitHub => "github",
            Source::GitLab => "gitlab",
            Source::PagerDuty => "pagerduty",
            Source::CdEvents => "cdevents",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::GitHub => "GitHub",
            Source::GitLab => "GitLab",
            Source::PagerDuty => "PagerDuty",
            Source::CdEvents => "CDEvents",
        })
    }
}

/// HTTP headers of a delivery: names compare case-insensitively, the first of a repeated name
/// wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(pub Vec<(String, String)>);

impl Headers {
    /// The value of header `name`, trimmed.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    }
}

/// One delivery: a file's bytes or a webhook request's body, with its headers (empty for a plain
/// file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Names the delivery in messages (a path, `<stdin>`, a delivery id).
    pub label: String,
    /// The HTTP headers, if it came as a request.
    pub headers: Headers,
    /// The body: owned bytes, or a large file mapped into memory (see [`Delivery::read_file`]).
    pub body: bytes::Bytes,
}

/// Files at least this large are mapped into memory rather than read into it.
const MAP_FROM_BYTES: u64 = 1 << 20;

impl Delivery {
    /// A plain file: no headers.
    pub fn file(label: &str, body: impl Into<bytes::Bytes>) -> Self {
        Self {
            label: label.to_owned(),
            headers: Headers::default(),
            body: body.into(),
        }
    }

    /// The bytes of the file at `path`. A large one is mapped into memory instead of copied: a
    /// list is then parsed one item at a time straight from the operating system's page cache,
    /// and the process's own memory holds one item and the records kept, not the file.
    pub fn read_file(path: &std::path::Path) -> std::io::Result<bytes::Bytes> {
        let file = std::fs::File::open(path)?;
        if file.metadata()?.len() < MAP_FROM_BYTES {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut &file, &mut bytes)?;
            return Ok(bytes.into());
        }
        // SAFETY: the mapping is read-only and lives as long as the delivery. As with git's
        // memory-mapped packs, another program truncating the file during the import could fault
        // the process; rewriting it could make the import read a mix of old and new bytes, which
        // at worst fails the import (nothing is stored until every file has been read).
        let map = unsafe { memmap2::Mmap::map(&file)? };
        Ok(bytes::Bytes::from_owner(map))
    }

    /// A saved raw HTTP request (a `.http` file): request line, headers, a blank line, the body.
    pub fn from_http(label: &str, bytes: &[u8]) -> Result<Self, PayloadError> {
        let (headers, body) = http::parse_request(bytes).map_err(|problem| PayloadError {
            file: label.to_owned(),
            path: String::new(),
            problem,
        })?;
        Ok(Self {
            label: label.to_owned(),
            headers,
            body: body.into(),
        })
    }
}

/// How source names become shiplog names, and which source events count as what.
///
/// A source's service (a GitHub repository, a PagerDuty service, a CDEvents service) becomes, in
/// order: the mapped name from `services` (looked up by each name the source gives, e.g. a
/// repository's `owner/name` then `name`, a PagerDuty service's id then its name); else `service`;
/// else the source's own name, if it is a valid shiplog name (otherwise an error that suggests
/// both). A source's environment becomes the mapped name from `environments`, else its own name
/// if valid; a record whose source names no environment (a PagerDuty incident, a GitHub issue, a
/// workflow run) gets `environment`, else `production`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// The service of every record whose source service is not in `services`.
    pub service: Option<ServiceName>,
    /// Source service name or id → shiplog service.
    pub services: BTreeMap<String, ServiceName>,
    /// The environment of records whose source names none (default `production`).
    pub environment: Option<Environment>,
    /// Source environment name → shiplog environment.
    pub environments: BTreeMap<String, Environment>,
    /// Issue labels that make a GitHub or GitLab issue an incident, compared case-insensitively.
    /// Empty means `incident`.
    pub incident_labels: Vec<String>,
    /// GitHub workflows (by name, file name or path) whose completed runs are deployments.
    pub deploy_workflows: Vec<String>,
    /// Published GitHub releases are successful deployments of their tag to the default
    /// environment (pre-releases and drafts are not).
    pub deploy_releases: bool,
}

impl Options {
    fn incident_labels(&self) -> Vec<String> {
        incident_labels(&self.incident_labels)
    }

    /// The shiplog service for a source service known by `names` (the first is its display name).
    pub(crate) fn service(&self, node: &Node<'_>, what: &str, names: &[&str]) -> Res<ServiceName> {
        if let Some(mapped) = names.iter().find_map(|n| self.services.get(*n)) {
            return Ok(mapped.clone());
        }
        if let Some(service) = &self.service {
            return Ok(service.clone());
        }
        let name = names.first().copied().unwrap_or_default();
        ServiceName::new(name).map_err(|e| {
            node.fault(format!(
                "the {what} {name:?} is not a shiplog service name ({e}); map it with --service '{name}=NAME' or give --service NAME"
            ))
        })
    }

    /// The shiplog environment for a source environment (`None`: the source names none).
    pub(crate) fn environment(&self, node: &Node<'_>, name: Option<&str>) -> Res<Environment> {
        match name {
            Some(name) => match self.environments.get(name) {
                Some(mapped) => Ok(mapped.clone()),
                None => Environment::new(name).map_err(|e| {
                    node.fault(format!(
                        "the environment {name:?} is not a shiplog environment name ({e}); map it with --env '{name}=NAME'"
                    ))
                }),
            },
            None => Ok(self
                .environment
                .clone()
                .unwrap_or_else(Environment::production)),
        }
    }
}

/// The incident labels as they are compared: trimmed, lowercased, without empty ones or repeats;
/// `incident` when none is left. Shared by the parsers and `shiplog sync`, which asks GitHub for
/// issues with these labels.
pub fn incident_labels(given: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for label in given {
        let label = label.trim().to_lowercase();
        if !label.is_empty() && !out.contains(&label) {
            out.push(label);
        }
    }
    if out.is_empty() {
        out.push("incident".to_owned());
    }
    out
}

/// Something a delivery held that was deliberately not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The delivery's label.
    pub file: String,
    /// The JSON path of what was skipped (`$` for the whole delivery).
    pub path: String,
    /// What and why.
    pub message: String,
}

impl Note {
    /// Why it was skipped, in a few words that are the same for every note of its kind (ids,
    /// numbers and quoted values left out), so an import's summary can count the notes by reason:
    /// `GitHub push`, `written by a bot`, `review skipped`.
    pub fn reason(&self) -> String {
        let head = self
            .message
            .split_once(": ")
            .map_or(self.message.as_str(), |(head, _)| head);
        let mut words: Vec<&str> = Vec::new();
        let mut quoted = false;
        for word in head.split_whitespace() {
            let quotes = word.matches('"').count();
            let skip = quoted
                || quotes > 0
                || word.contains([':', '/', '#'])
                || word.bytes().all(|b| b.is_ascii_digit() || b == b'.');
            if quotes % 2 == 1 {
                quoted = !quoted;
            }
            if !skip {
                words.push(word);
            }
        }
        words.join(" ")
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.file, self.path, self.message)
    }
}

/// A published release taken as a deployment, waiting for its tag to be resolved to a commit in
/// the repository (a release names a tag, not a commit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRelease {
    /// The deployment it becomes, with a placeholder sha until the tag is resolved.
    pub deployment: Deployment,
    /// The release's tag.
    pub tag: String,
    /// The delivery's label.
    pub file: String,
    /// The JSON path of the release.
    pub path: String,
}

impl PendingRelease {
    /// The deployment, shipping `sha` (the commit the tag names).
    pub fn into_deployment(self, sha: Sha) -> Deployment {
        Deployment {
            sha,
            ..self.deployment
        }
    }
}

/// A GitHub deployment from a REST list, waiting for its statuses.
#[derive(Debug, Clone)]
pub(crate) struct PendingDeployment {
    pub key: String,
    pub deployment: Deployment,
    pub path: String,
}

/// One status of a GitHub deployment from a REST list.
#[derive(Debug, Clone)]
pub(crate) struct PendingStatus {
    pub key: String,
    pub state: Option<DeploymentStatus>,
    pub at: Timestamp,
    pub path: String,
}

/// A review from a REST list: it counts only if not by the pull request's author, which only the
/// pull request itself says.
#[derive(Debug, Clone)]
pub(crate) struct PendingReview {
    pub pull_request: PullRequestId,
    pub reviewer: Option<String>,
    pub at: Timestamp,
    pub path: String,
}

/// What a parser read from one delivery, before the files of an import are combined.
#[derive(Debug, Clone)]
pub(crate) enum Observation {
    Deployment(Deployment),
    Incident(IncidentUpdate),
    /// A pull request update, with its author's login (used to judge reviews, then dropped).
    PullRequest(Box<PullRequestUpdate>, Option<String>),
    PendingDeployment(PendingDeployment),
    PendingStatus(PendingStatus),
    PendingReview(PendingReview),
    Release(PendingRelease),
}

/// What [`parse`] read from one delivery.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The delivery's label.
    pub file: String,
    /// Its format.
    pub source: Source,
    observations: Vec<Observation>,
    /// What it held that was not imported, and why.
    pub notes: Vec<Note>,
    pull_request_paths: BTreeMap<PullRequestId, String>,
    deployment_paths: BTreeMap<shiplog_core::DeploymentId, String>,
}

/// The kind of a REST list, told by its first item, that every later item must share.
pub(crate) struct ListReader<K> {
    first: Option<K>,
    /// The first item was of no known kind: the rest is not read.
    stopped: bool,
}

impl<K> Default for ListReader<K> {
    fn default() -> Self {
        Self {
            first: None,
            stopped: false,
        }
    }
}

impl<K: Copy + PartialEq + fmt::Debug> ListReader<K> {
    /// The kind of `item`: the list's (set by its first item), or `None` with a fault when the
    /// item is of another kind or the first one was of none (`unknown` says which lists exist).
    pub fn kind_of(
        &mut self,
        sink: &mut Sink<'_>,
        item: &Node<'_>,
        kind_of: fn(&Json) -> Option<K>,
        unknown: &str,
    ) -> Option<K> {
        if self.stopped {
            return None;
        }
        let kind = kind_of(item.value);
        let Some(first) = self.first else {
            match kind {
                Some(kind) => self.first = Some(kind),
                None => {
                    sink.faults.push(item.fault(unknown));
                    self.stopped = true;
                }
            }
            return kind;
        };
        if kind != Some(first) {
            sink.faults.push(item.fault(format!(
                "expected an item of the same list as $[0] ({first:?}), got another kind of object"
            )));
            return None;
        }
        kind
    }
}

/// Where a parser collects what it reads from one delivery.
pub(crate) struct Sink<'a> {
    pub file: &'a str,
    pub options: &'a Options,
    pub observations: Vec<Observation>,
    pub notes: Vec<Note>,
    pub faults: Vec<Fault>,
    /// The JSON path of the item being read (a list item), for messages about its records later.
    pub item_path: Option<String>,
    /// Where each pull request update came from (the last, for one read twice).
    pub pull_request_paths: BTreeMap<PullRequestId, String>,
    /// Where each deployment came from.
    pub deployment_paths: BTreeMap<shiplog_core::DeploymentId, String>,
}

impl Sink<'_> {
    pub fn note(&mut self, node: &Node<'_>, message: impl Into<String>) {
        self.notes.push(Note {
            file: self.file.to_owned(),
            path: node.path.clone(),
            message: message.into(),
        });
    }

    /// Keeps an observation, or the problem that prevented it.
    pub fn keep(&mut self, result: Res<Option<Observation>>) {
        match result {
            Ok(Some(o)) => {
                let path = || self.item_path.clone().unwrap_or_else(|| "$".to_owned());
                match &o {
                    Observation::PullRequest(update, _) => {
                        self.pull_request_paths.insert(update.id.clone(), path());
                    }
                    Observation::Deployment(d) => {
                        self.deployment_paths.insert(d.id.clone(), path());
                    }
                    _ => {}
                }
                self.observations.push(o);
            }
            Ok(None) => {}
            Err(fault) => self.faults.push(fault),
        }
    }
}

/// The records of one import: deployments, and updates to merge into the stored incidents and pull
/// requests. No person's identity is left in it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ingested {
    /// Deployments in a final state, complete.
    pub deployments: Vec<Deployment>,
    /// Incident updates, in delivery order.
    pub incidents: Vec<IncidentUpdate>,
    /// Pull request updates, in delivery order.
    pub pull_requests: Vec<PullRequestUpdate>,
    /// Releases taken as deployments, whose tags the caller resolves in the repository.
    pub releases: Vec<PendingRelease>,
    /// What was skipped, and why.
    pub notes: Vec<Note>,
    /// Where each deployment came from, for messages about it: the file (delivery label), and
    /// the JSON path when it came from a JSON document (`deploys.json: $[3]`).
    pub deployment_files: BTreeMap<shiplog_core::DeploymentId, String>,
    /// The file and JSON path each pull request's last update came from, for messages about it.
    pub pull_request_origins: BTreeMap<PullRequestId, (String, String)>,
}

/// What [`detect`] found a delivery to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detected {
    /// A vendor format.
    Source(Source),
    /// shiplog's own JSON Lines.
    JsonLines,
    /// shiplog's own CSV.
    Csv,
}

/// Picks a delivery's format from its headers and content, where that is unambiguous:
///
/// - headers: `X-GitHub-Event` (GitHub), `X-Gitlab-Event` (GitLab), `ce-type` /
///   `ce-specversion` or a `application/cloudevents+json` content type (CDEvents);
/// - content: a GitLab `object_kind`; a PagerDuty `event.event_type` or `incidents` list; a
///   CDEvents `context.type` (or a CloudEvent `type`) starting `dev.cdevents.`; a GitHub webhook
///   shape (`deployment_status`, `pull_request`, `workflow_run`, ...) or REST list item shape;
///   GitLab REST list items (`iid` with `project_id`);
/// - otherwise shiplog's own formats: JSON Lines when the content is JSON objects with a `type`,
///   or is not one JSON document and starts with `{`; CSV when it does not start with `{` or `[`.
///
/// A single JSON document that is none of these is an error that suggests `--from`.
pub fn detect(delivery: &Delivery) -> Result<Detected, PayloadError> {
    let h = &delivery.headers;
    if h.get("x-github-event").is_some() {
        return Ok(Detected::Source(Source::GitHub));
    }
    if h.get("x-gitlab-event").is_some() {
        return Ok(Detected::Source(Source::GitLab));
    }
    if h.get("ce-type").is_some()
        || h.get("ce-specversion").is_some()
        || h.get("content-type")
            .is_some_and(|c| c.starts_with("application/cloudevents"))
    {
        return Ok(Detected::Source(Source::CdEvents));
    }
    let body = crate::format::strip_bom(&delivery.body);
    let first = first_byte(body);
    let not_json = |problem: String| PayloadError {
        file: delivery.label.clone(),
        path: String::new(),
        problem,
    };
    let doc = match first {
        // A list: told by its first item; the rest is only checked to be JSON.
        Some(b'[') => match crate::strict_json::first_item(body) {
            Ok(Some(item)) => Json::Array(vec![item]),
            Ok(None) => Json::Array(Vec::new()),
            Err(e) => return Err(not_json(json::not_json(e))),
        },
        // Told by its skeleton (each list cut to its first item): a PagerDuty or GitHub list
        // wrapped in an object is recognised without reading it whole.
        Some(b'{') => match crate::strict_json::skeleton(body).map_err(json::not_json) {
            Ok(doc) => doc,
            // Several JSON values: JSON Lines, whose reader names each bad line.
            Err(_) if first_line_is_json(body) => return Ok(Detected::JsonLines),
            // One document (its first line is no value on its own) with an error in it.
            Err(problem) => return Err(not_json(problem)),
        },
        _ => return Ok(Detected::Csv),
    };
    if let Some(source) = detect_json(&doc) {
        return Ok(Detected::Source(source));
    }
    if doc.get("type").is_some_and(Json::is_string) {
        return Ok(Detected::JsonLines);
    }
    Err(PayloadError {
        file: delivery.label.clone(),
        path: "$".to_owned(),
        problem:
            "expected a GitHub, GitLab, PagerDuty or CDEvents payload, or shiplog's JSON Lines, \
                  and could not tell which this is; name the format with --from"
                .to_owned(),
    })
}

/// The first byte that is not ASCII whitespace.
fn first_byte(body: &[u8]) -> Option<u8> {
    body.iter().find(|b| !b.is_ascii_whitespace()).copied()
}

/// Whether the content reads as JSON Lines: its first non-blank line is a JSON value on its own
/// (never so in a pretty-printed document starting with `{`), or it is one line (the JSON Lines
/// reader then names the line and column just as well).
fn first_line_is_json(body: &[u8]) -> bool {
    let text = body.trim_ascii();
    let mut lines = text.split(|&b| b == b'\n');
    let first = lines.next().unwrap_or_default();
    lines.next().is_none() || serde_json::from_slice::<serde::de::IgnoredAny>(first).is_ok()
}

fn detect_json(doc: &Json) -> Option<Source> {
    if cdevents::detect(doc) {
        return Some(Source::CdEvents);
    }
    if pagerduty::detect(doc) {
        return Some(Source::PagerDuty);
    }
    if gitlab::detect(doc) {
        return Some(Source::GitLab);
    }
    if github::detect(doc) {
        return Some(Source::GitHub);
    }
    None
}

/// Parses one delivery of `source` (see [`detect`]).
///
/// Unsupported events (a GitHub `check_run`, a CDEvents `artifact.packaged`) and events that are
/// not (yet) records (a deployment still in progress, an issue without an incident label) are
/// skipped with a [`Note`] saying why; a delivery of a supported event with a value missing or of
/// the wrong type is an error naming the JSON path. Items of a list are read independently, and
/// every bad one is reported.
pub fn parse(
    delivery: &Delivery,
    source: Source,
    options: &Options,
) -> Result<Parsed, Vec<PayloadError>> {
    let file = delivery.label.as_str();
    let not_json = |problem: String| {
        vec![PayloadError {
            file: file.to_owned(),
            path: String::new(),
            problem,
        }]
    };
    let mut sink = Sink {
        file,
        options,
        observations: Vec::new(),
        notes: Vec::new(),
        faults: Vec::new(),
        item_path: None,
        pull_request_paths: BTreeMap::new(),
        deployment_paths: BTreeMap::new(),
    };
    let body = crate::format::strip_bom(&delivery.body);
    if first_byte(body) == Some(b'[') && matches!(source, Source::GitHub | Source::GitLab) {
        // A REST list, read one item at a time: memory stays proportional to one item.
        let mut github = ListReader::default();
        let mut gitlab = ListReader::default();
        let count = crate::strict_json::for_each_item(body, |index, value| {
            let item = Node::item(&value, index);
            match source {
                Source::GitHub => github::list_item(&mut sink, &mut github, &item),
                _ => gitlab::list_item(&mut sink, &mut gitlab, &item),
            }
        })
        .map_err(|e| not_json(json::not_json(e)))?;
        if count == 0 {
            sink.note(
                &Node::root(&Json::Array(Vec::new())),
                "an empty list: nothing to import",
            );
        }
        return finish(sink, source);
    }
    // A list wrapped in an object (PagerDuty's `{"incidents": [...]}`, GitHub's
    // `{"workflow_runs": [...]}`), read one item at a time as a top-level list is.
    let wrapped = match source {
        Source::PagerDuty => Some("incidents"),
        Source::GitHub => Some("workflow_runs"),
        _ => None,
    };
    let doc = match wrapped.filter(|_| first_byte(body) == Some(b'{')) {
        Some(field) => {
            let mut github = ListReader::default();
            let (rest, count) =
                crate::strict_json::for_each_in_field(body, field, |index, value| {
                    let item = Node {
                        value: &value,
                        path: format!("$.{field}[{index}]"),
                    };
                    match source {
                        Source::PagerDuty => pagerduty::list_item(&mut sink, &item),
                        _ => github::list_item(&mut sink, &mut github, &item),
                    }
                })
                .map_err(|e| not_json(json::not_json(e)))?;
            match count {
                Some(0) => {
                    let empty = Json::Array(Vec::new());
                    sink.note(
                        &Node {
                            value: &empty,
                            path: format!("$.{field}"),
                        },
                        "an empty list: nothing to import",
                    );
                    return finish(sink, source);
                }
                Some(_) => return finish(sink, source),
                // No list: the rest is the whole document.
                None => Json::Object(rest),
            }
        }
        None => json::parse_document(body).map_err(not_json)?,
    };
    let root = Node::root(&doc);
    let result = match source {
        Source::GitHub => github::parse(&mut sink, &root, &delivery.headers),
        Source::GitLab => gitlab::parse(&mut sink, &root, &delivery.headers),
        Source::PagerDuty => pagerduty::parse(&mut sink, &root),
        Source::CdEvents => cdevents::parse(&mut sink, &root, &delivery.headers),
    };
    if let Err(fault) = result {
        sink.faults.push(fault);
    }
    finish(sink, source)
}

/// What a parser collected: the records, or every problem.
fn finish(sink: Sink<'_>, source: Source) -> Result<Parsed, Vec<PayloadError>> {
    let file = sink.file;
    if !sink.faults.is_empty() {
        return Err(sink.faults.into_iter().map(|f| f.in_file(file)).collect());
    }
    Ok(Parsed {
        file: file.to_owned(),
        source,
        observations: sink.observations,
        notes: sink.notes,
        pull_request_paths: sink.pull_request_paths,
        deployment_paths: sink.deployment_paths,
    })
}

/// Joins the deliveries of one import into records: each REST-listed GitHub deployment takes the
/// latest of its statuses in a final state (`success`; `failure` or `error`), each listed review
/// counts for its pull request's first review unless its author wrote the pull request, and every
/// login is dropped. What cannot be joined within the import is skipped with a note.
pub fn combine(parsed: Vec<Parsed>) -> Ingested {
    let mut out = Ingested::default();
    let mut deployments: Vec<(String, PendingDeployment)> = Vec::new();
    let mut statuses: HashMap<String, Vec<(String, PendingStatus)>> = HashMap::new();
    let mut reviews: Vec<(String, PendingReview)> = Vec::new();
    let mut authors: HashMap<PullRequestId, Option<String>> = HashMap::new();
    for p in parsed {
        out.notes.extend(p.notes);
        for (id, path) in p.pull_request_paths {
            out.pull_request_origins.insert(id, (p.file.clone(), path));
        }
        for o in p.observations {
            match o {
                Observation::Deployment(d) => {
                    let place = match p.deployment_paths.get(&d.id) {
                        Some(path) => format!("{}: {path}", p.file),
                        None => p.file.clone(),
                    };
                    out.deployment_files.insert(d.id.clone(), place);
                    out.deployments.push(d);
                }
                Observation::Incident(i) => out.incidents.push(i),
                Observation::PullRequest(update, author) => {
                    // A pull request whose author is unknown (GitHub's `user` is null for a
                    // deleted account) is still in the import: its reviews are judged against
                    // no author. A known author is never forgotten by a later delivery.
                    let known = authors.entry(update.id.clone()).or_default();
                    if author.is_some() {
                        *known = author;
                    }
                    out.pull_requests.push(*update);
                }
                Observation::PendingDeployment(d) => deployments.push((p.file.clone(), d)),
                Observation::PendingStatus(s) => statuses
                    .entry(s.key.clone())
                    .or_default()
                    .push((p.file.clone(), s)),
                Observation::PendingReview(r) => reviews.push((p.file.clone(), r)),
                Observation::Release(r) => out.releases.push(r),
            }
        }
    }
    for (file, pending) in deployments {
        let list = statuses.remove(&pending.key).unwrap_or_default();
        let last_final = list
            .iter()
            .filter_map(|(_, s)| s.state.map(|state| (s.at, state)))
            .max_by_key(|(at, _)| *at);
        match last_final {
            Some((at, status)) => {
                let mut d = pending.deployment;
                d.finished_at = at;
                d.status = status;
                if d.started_at.is_some_and(|s| s > at) {
                    d.started_at = None;
                }
                out.deployment_files
                    .insert(d.id.clone(), format!("{file}: {}", pending.path));
                out.deployments.push(d);
            }
            None => out.notes.push(Note {
                file,
                path: pending.path,
                message: format!(
                    "deployment {} skipped: none of its statuses in this import is final (success, failure or error); import its statuses with it",
                    pending.deployment.id
                ),
            }),
        }
    }
    let mut orphans: Vec<(String, PendingStatus)> = statuses.into_values().flatten().collect();
    orphans.sort_by(|a, b| (&a.0, &a.1.path).cmp(&(&b.0, &b.1.path)));
    for (file, status) in orphans {
        out.notes.push(Note {
            file,
            path: status.path,
            message: format!(
                "deployment status skipped: its deployment ({}) is not in this import; import the deployments list with it",
                status.key
            ),
        });
    }
    for (file, review) in reviews {
        match authors.get(&review.pull_request) {
            Some(author) => {
                if !by_author(review.reviewer.as_deref(), author.as_deref())
                    && let Some(update) = out
                        .pull_requests
                        .iter()
                        .rev()
                        .find(|u| u.id == review.pull_request)
                {
                    let mut u = PullRequestUpdate::new(
                        update.id.clone(),
                        update.repository.clone(),
                        update.number,
                        review.at,
                    );
                    u.first_review_at = Some(review.at);
                    out.pull_requests.push(u);
                }
            }
            None => out.notes.push(Note {
                file,
                path: review.path,
                message: format!(
                    "review skipped: its pull request {} is not in this import, so whether its author reviewed it cannot be told (authors are never stored); import the pull requests with their reviews",
                    review.pull_request
                ),
            }),
        }
    }
    out
}

/// Whether a review or comment was written by the pull request's author, the one reviewer that
/// does not count. Only a known reviewer equal to the known author is: a review whose `user` is
/// null (a deleted account, GitHub's "ghost"), or of a pull request whose author is unknown,
/// cannot be the author's as far as anyone can tell, and counts.
pub(crate) fn by_author(reviewer: Option<&str>, author: Option<&str>) -> bool {
    matches!((reviewer, author), (Some(r), Some(a)) if r == a)
}

/// The PagerDuty incident a text links to (`https://ACCOUNT.pagerduty.com/incidents/PXXXXXX`),
/// as a shiplog incident id.
pub(crate) fn pagerduty_link(text: &str) -> Option<IncidentId> {
    const MARK: &str = "pagerduty.com/incidents/";
    let mut rest = text;
    while let Some(at) = rest.find(MARK) {
        let after = &rest[at + MARK.len()..];
        let id: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if !id.is_empty()
            && let Ok(link) = IncidentId::new(&format!("pagerduty:{id}"))
        {
            return Some(link);
        }
        rest = after;
    }
    None
}

/// A repository name read from `node`, or a problem naming it.
pub(crate) fn repo_name(node: &Node<'_>, name: &str) -> Res<shiplog_core::RepositoryName> {
    shiplog_core::RepositoryName::new(name).map_err(|e| node.fault(e.to_string()))
}

/// A source id made into a shiplog id, or a problem naming the value.
pub(crate) fn make_id<T: std::str::FromStr<Err = NameError>>(
    node: &Node<'_>,
    text: &str,
) -> Res<T> {
    text.parse()
        .map_err(|e: NameError| node.fault(format!("cannot make an id of {text:?}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pagerduty_links_are_found_in_text() {
        assert_eq!(
            pagerduty_link("See https://acme.pagerduty.com/incidents/PCPZE64 for the page.")
                .map(|i| i.to_string()),
            Some("pagerduty:PCPZE64".to_owned())
        );
        assert_eq!(
            pagerduty_link("api: https://api.pagerduty.com/incidents/Q1X2?x=1")
                .map(|i| i.to_string()),
            Some("pagerduty:Q1X2".to_owned())
        );
        assert_eq!(
            pagerduty_link("https://acme.pagerduty.com/incidents/"),
            None
        );
        assert_eq!(pagerduty_link("no link"), None);
    }

    #[test]
    fn notes_are_counted_by_a_reason_without_ids() {
        let note = |message: &str| Note {
            file: "f.json".to_owned(),
            path: "$".to_owned(),
            message: message.to_owned(),
        };
        for (message, reason) in [
            (
                "GitHub push: commits are read from the repository itself, so a push adds nothing",
                "GitHub push",
            ),
            (
                "written by a bot: not a review; skipped",
                "written by a bot",
            ),
            (
                "deployment github:o/r:deployment:145 skipped: none of its statuses in this import is final",
                "deployment skipped",
            ),
            (
                "GitHub deployment status \"in progress\" is not final (success, failure or error): skipped",
                "GitHub deployment status is not final (success, failure or error)",
            ),
            (
                "issue #12 is not an incident: none of its labels",
                "issue is not an incident",
            ),
        ] {
            assert_eq!(note(message).reason(), reason, "{message}");
        }
    }

    #[test]
    fn headers_are_case_insensitive() {
        let h = Headers(vec![("X-GitHub-Event".into(), " push ".into())]);
        assert_eq!(h.get("x-github-event"), Some("push"));
        assert_eq!(h.get("ce-type"), None);
    }
}
