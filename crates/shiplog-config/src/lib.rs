//! `shiplog.toml`: what shiplog cannot learn from git alone.
//!
//! A repository's history says which commits exist; it does not say which service a directory of a
//! monorepo belongs to, which team owns a service, what PagerDuty or a GitHub environment calls a
//! service, or which pull-request label marks a hotfix. This crate reads those facts from one
//! documented file (`docs/config.md`), validates every value once (service and team names, path
//! globs, durations, branch patterns) and hands the rest of shiplog typed values:
//!
//! - [`Definitions`]: the definition options that the command line can override (attribution window,
//!   lead-time start) and the pull-request rules (hotfix labels and branches, revert branches,
//!   incident labels);
//! - [`ServiceConfig`]s: each service's team, repository and path globs ([`Config::path_rules`] gives
//!   the globs of the services of one repository, for classifying commits);
//! - [`SourceMappings`]: a plain struct for the import parsers, mapping the names other tools use to
//!   shiplog's services and environments.
//!
//! It is its own crate because the core must stay free of I/O and of file formats, while both the
//! command line and the import parsers need the same validated values. Errors name the file, the
//! line and column, the key and what was expected, and every problem of a file is reported at once:
//!
//! ```text
//! shiplog.toml:9:10: services.api.paths[1]: expected a path glob relative to the repository root (e.g. services/api/**), got "/abs/**": it starts with '/'
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobBuilder, GlobMatcher};
use jiff::SignedDuration;
use serde::{Deserialize, Serialize};
use shiplog_core::{Environment, LeadTimeStart, ServiceName, TeamName};
use toml::Spanned;

/// The file name shiplog looks for at the repository root.
pub const FILE_NAME: &str = "shiplog.toml";

/// The commented default configuration that `shiplog config init` prints. Every setting is shown
/// with its default, commented out; uncommenting the lines that start with `#` directly followed by
/// a key or a table header gives a valid example configuration.
pub const TEMPLATE: &str = include_str!("template.toml");

/// Services with path globs in one repository are tracked in a 64-bit mask per commit.
pub const MAX_PATH_SERVICES: usize = shiplog_core::MAX_SERVICES;

/// One problem in a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file, as given.
    pub file: String,
    /// 1-based line and column, when known.
    pub position: Option<(usize, usize)>,
    /// The key, e.g. `services.api.paths[1]` (empty for a syntax error of the whole file).
    pub key: String,
    /// What was expected and what was found.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some((line, column)) = self.position {
            write!(f, ":{line}:{column}")?;
        }
        if !self.key.is_empty() {
            write!(f, ": {}", self.key)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the configuration {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's explanation.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid: every problem found, one per line.
    #[error("{}", list_problems(.0))]
    Invalid(Vec<Problem>),
}

fn list_problems(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// A team was named that the configuration does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no team {team:?} in {}; {}", .file, known_teams(.known))]
pub struct UnknownTeam {
    /// The team asked for.
    pub team: String,
    /// The configuration file (or a note that there is none).
    pub file: String,
    /// The teams the configuration knows.
    pub known: Vec<TeamName>,
}

fn known_teams(known: &[TeamName]) -> String {
    if known.is_empty() {
        "it maps no service to a team (set `team = \"NAME\"` under [services.NAME])".to_owned()
    } else {
        let names: Vec<&str> = known.iter().map(TeamName::as_str).collect();
        format!("known teams: {}", names.join(", "))
    }
}

/// A path glob, relative to the repository root, selecting the files of a service.
///
/// `*` and `?` do not cross `/`; `**` does; `[abc]` and `{a,b}` work as in shells. A pattern without
/// wildcards names a file or a directory and everything under it, and so does a pattern ending in
/// `/`. Example: `services/api/**` matches `services/api/main.go` and `services/api/v2/x.go`.
#[derive(Debug, Clone)]
pub struct PathGlob {
    text: String,
    globs: Vec<Glob>,
}

impl PartialEq for PathGlob {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for PathGlob {}

fn build_glob(pattern: &str) -> Result<Glob, String> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|e| e.kind().to_string())
}

const GLOB_META: &[char] = &['*', '?', '[', ']', '{', '}', '\\'];

impl PathGlob {
    /// Validates a pattern.
    pub fn new(text: &str) -> Result<Self, String> {
        let bad = |why: &str| {
            Err(format!(
                "expected a path glob relative to the repository root (e.g. services/api/**), got {text:?}: {why}"
            ))
        };
        if text.trim().is_empty() {
            return bad("it is empty");
        }
        if text != text.trim() {
            return bad("it has surrounding whitespace");
        }
        if text.starts_with('/') {
            return bad("it starts with '/'");
        }
        if text
            .trim_end_matches('/')
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..")
        {
            return bad("it has an empty, '.' or '..' component");
        }
        let patterns: Vec<String> = if let Some(dir) = text.strip_suffix('/') {
            vec![format!("{dir}/**")]
        } else if !text.contains(GLOB_META) {
            vec![text.to_owned(), format!("{text}/**")]
        } else {
            vec![text.to_owned()]
        };
        let mut globs = Vec::new();
        for pattern in &patterns {
            match build_glob(pattern) {
                Ok(glob) => globs.push(glob),
                Err(why) => return bad(&why),
            }
        }
        Ok(Self {
            text: text.to_owned(),
            globs,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The compiled globs (one or two: see the type's docs).
    pub fn globs(&self) -> &[Glob] {
        &self.globs
    }
}

impl fmt::Display for PathGlob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A branch-name pattern, e.g. `hotfix/*` (`*` matches any characters, `/` included).
#[derive(Debug, Clone)]
pub struct BranchPattern {
    text: String,
    matcher: GlobMatcher,
}

impl PartialEq for BranchPattern {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for BranchPattern {}

impl BranchPattern {
    /// Validates a pattern.
    pub fn new(text: &str) -> Result<Self, String> {
        if text.trim().is_empty() || text != text.trim() {
            return Err(format!(
                "expected a branch pattern like hotfix/* (no surrounding whitespace), got {text:?}"
            ));
        }
        let glob = GlobBuilder::new(text)
            .literal_separator(false)
            .build()
            .map_err(|e| {
                format!(
                    "expected a branch pattern like hotfix/*, got {text:?}: {}",
                    e.kind()
                )
            })?;
        Ok(Self {
            text: text.to_owned(),
            matcher: glob.compile_matcher(),
        })
    }

    /// Whether `branch` matches.
    pub fn matches(&self, branch: &str) -> bool {
        self.matcher.is_match(branch)
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// The definition options. Command-line flags win over the two that have flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definitions {
    /// `attribution_window`: incidents without a deployment or sha are blamed on the latest
    /// deployment that finished at most this long before. `None`: not set (the built-in 24h).
    pub attribution_window: Option<SignedDuration>,
    /// `lead_time_start`: which commit time starts a change's lead time. `None`: not set (author).
    pub lead_time_start: Option<LeadTimeStart>,
    /// `hotfix_labels`: a merged pull request with one of these labels (any case) makes the
    /// deployment that shipped it unplanned.
    pub hotfix_labels: Vec<String>,
    /// `hotfix_branches`: so does a pull request whose head branch matches one of these.
    pub hotfix_branches: Vec<BranchPattern>,
    /// `revert_branches`: a merged pull request whose head branch matches one of these (GitHub
    /// names them `revert-<N>-<branch>`) reverts the pull request its title or body names.
    pub revert_branches: Vec<BranchPattern>,
    /// `incident_labels`: issues or alerts with one of these labels (any case) are incidents, for
    /// the import parsers.
    pub incident_labels: Vec<String>,
    /// `match_squashed_branches`: without pull-request data, match squash commits to the branches
    /// the repository still has, by patch, so their lead time starts at the branch's first commit.
    pub match_squashed_branches: bool,
    /// `preset`: whose definitions the metrics follow (`dora`, `devlake`, `four-keys`,
    /// `gitlab`). `None`: not set (dora). Flag: `--definitions`.
    pub preset: Option<shiplog_core::Definitions>,
}

impl Default for Definitions {
    fn default() -> Self {
        let patterns = |list: &[&str]| {
            list.iter()
                .filter_map(|p| BranchPattern::new(p).ok())
                .collect()
        };
        Self {
            attribution_window: None,
            lead_time_start: None,
            hotfix_labels: vec!["hotfix".to_owned()],
            hotfix_branches: patterns(&["hotfix/*", "hotfix-*"]),
            revert_branches: patterns(&["revert-*"]),
            incident_labels: vec!["incident".to_owned()],
            match_squashed_branches: true,
            preset: None,
        }
    }
}

impl Definitions {
    /// Whether a pull request with these labels and head branch is a hotfix.
    pub fn is_hotfix<'a>(
        &self,
        labels: impl IntoIterator<Item = &'a str>,
        head_branch: Option<&str>,
    ) -> bool {
        let by_label = labels.into_iter().any(|label| {
            self.hotfix_labels
                .iter()
                .any(|h| h.eq_ignore_ascii_case(label.trim()))
        });
        by_label || head_branch.is_some_and(|b| self.hotfix_branches.iter().any(|p| p.matches(b)))
    }

    /// Whether a head branch names a revert branch.
    pub fn is_revert_branch(&self, head_branch: &str) -> bool {
        self.revert_branches.iter().any(|p| p.matches(head_branch))
    }
}

/// One service's entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceConfig {
    /// The service.
    pub name: ServiceName,
    /// The team that owns it.
    pub team: Option<TeamName>,
    /// Its repository, as written (relative to the configuration file's directory); `.` by default.
    pub repository: String,
    /// The files of the repository that belong to it; empty: the whole repository.
    pub paths: Vec<PathGlob>,
}

/// What other tools call shiplog's services and environments: a plain struct for the import
/// parsers (PagerDuty services, GitHub environments, CDEvents subjects).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SourceMappings {
    /// The service of records that name none.
    pub default_service: Option<ServiceName>,
    /// The environment of records that name none (`None`: production).
    pub default_environment: Option<Environment>,
    /// A name another tool uses → the shiplog service.
    pub services: BTreeMap<String, ServiceName>,
    /// A name another tool uses → the shiplog environment.
    pub environments: BTreeMap<String, Environment>,
    /// Labels that mark an issue or alert as an incident (compared in any case).
    pub incident_labels: Vec<String>,
}

/// A validated `shiplog.toml` (or the built-in defaults when there is none).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Config {
    /// The file read; `None` for the built-in defaults.
    pub file: Option<PathBuf>,
    /// The directory that relative `repository` values start from.
    pub base_dir: PathBuf,
    /// Definition options.
    pub definitions: Definitions,
    /// Services, ordered by name.
    pub services: Vec<ServiceConfig>,
    /// `[sources]`: names other tools use.
    pub default_service: Option<ServiceName>,
    /// `sources.default_environment`.
    pub default_environment: Option<Environment>,
    /// `[sources.services]`.
    pub source_services: BTreeMap<String, ServiceName>,
    /// `[sources.environments]`.
    pub source_environments: BTreeMap<String, Environment>,
    /// `[tags] trains`: the service of each release train read from tag names (`tool` for
    /// `tool-1.2.0`, `@acme/web` for `@acme/web@2.0.1`); unlisted trains are services named after
    /// themselves, the main train (`v1.2.3`) the repository's service.
    pub tag_trains: BTreeMap<String, ServiceName>,
    /// `[guide]`: which survey benchmarks `shiplog guide` compares with.
    pub guide: GuideConfig,
}

/// `[guide]`: the team's industry and organisation size, as keys of DORA's 2025 benchmark files
/// (`shiplog guide --industry/--org-size` win over them).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GuideConfig {
    /// `industry`, e.g. `consumer`, `technology`, `financial_services`.
    pub industry: Option<String>,
    /// `org_size`, e.g. `fewer_than_100`, `more_than_9999`.
    pub org_size: Option<String>,
}

// ---- The raw, serde-facing shape. Spans let validation errors point at the value. ----

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    definitions: RawDefinitions,
    #[serde(default)]
    services: BTreeMap<String, Spanned<RawService>>,
    #[serde(default)]
    sources: RawSources,
    #[serde(default)]
    tags: RawTags,
    #[serde(default)]
    guide: RawGuide,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawGuide {
    industry: Option<Spanned<String>>,
    org_size: Option<Spanned<String>>,
}

/// A benchmark row key of `kind`, as `shiplog guide` accepts it.
fn benchmark_row(
    kind: shiplog_guide::benchmark::BenchmarkKind,
) -> impl Fn(&str) -> Result<String, String> {
    move |text: &str| {
        let known = shiplog_guide::benchmark::rows(shiplog_guide::benchmark::CURRENT_EDITION, kind);
        if known.iter().any(|(k, _)| *k == text) {
            Ok(text.to_owned())
        } else {
            let keys: Vec<&str> = known.iter().map(|(k, _)| *k).collect();
            Err(format!(
                "expected one of the 2025 benchmark keys ({}), got {text:?}",
                keys.join(", ")
            ))
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTags {
    #[serde(default)]
    trains: BTreeMap<String, Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDefinitions {
    attribution_window: Option<Spanned<String>>,
    lead_time_start: Option<Spanned<String>>,
    hotfix_labels: Option<Vec<Spanned<String>>>,
    hotfix_branches: Option<Vec<Spanned<String>>>,
    revert_branches: Option<Vec<Spanned<String>>>,
    incident_labels: Option<Vec<Spanned<String>>>,
    match_squashed_branches: Option<bool>,
    preset: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawService {
    team: Option<Spanned<String>>,
    repository: Option<Spanned<String>>,
    paths: Option<Vec<Spanned<String>>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSources {
    default_service: Option<Spanned<String>>,
    default_environment: Option<Spanned<String>>,
    #[serde(default)]
    services: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    environments: BTreeMap<String, Spanned<String>>,
}

/// Line and column (1-based) of byte `offset` in `text`.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rfind('\n').map_or(before.chars().count(), |nl| {
        before[nl + 1..].chars().count()
    }) + 1;
    (line, column)
}

struct Checker<'a> {
    file: &'a str,
    text: &'a str,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    fn problem(&mut self, span: std::ops::Range<usize>, key: String, message: String) {
        self.problems.push(Problem {
            file: self.file.to_owned(),
            position: Some(position(self.text, span.start)),
            key,
            message,
        });
    }

    fn check<T, E: fmt::Display>(
        &mut self,
        value: &Spanned<String>,
        key: impl FnOnce() -> String,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        match parse(value.get_ref()) {
            Ok(v) => Some(v),
            Err(e) => {
                self.problem(value.span(), key(), e.to_string());
                None
            }
        }
    }

    fn list<T, E: fmt::Display>(
        &mut self,
        values: &[Spanned<String>],
        key: &str,
        parse: impl Fn(&str) -> Result<T, E>,
    ) -> Vec<T> {
        values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| self.check(v, || format!("{key}[{i}]"), &parse))
            .collect()
    }
}

fn label(text: &str) -> Result<String, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        Err("expected a non-empty label".to_owned())
    } else {
        Ok(trimmed.to_owned())
    }
}

fn lead_time_start(text: &str) -> Result<LeadTimeStart, String> {
    match text {
        "author" => Ok(LeadTimeStart::Author),
        "committer" => Ok(LeadTimeStart::Committer),
        other => Err(format!(
            "expected \"author\" or \"committer\", got {other:?}"
        )),
    }
}

fn key_name(name: &str) -> String {
    if name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        name.to_owned()
    } else {
        format!("{name:?}")
    }
}

/// Parses and validates configuration text. `file` labels messages; `base_dir` is where relative
/// `repository` values start.
pub fn parse(text: &str, file: &str, base_dir: &Path) -> Result<Config, ConfigError> {
    let raw: RawConfig = match toml::Deserializer::parse(text) {
        Ok(deserializer) => match serde_path_to_error::deserialize(deserializer) {
            Ok(raw) => raw,
            Err(e) => {
                // Spanned values add a private segment to the path; it means nothing to people.
                let key = e
                    .path()
                    .to_string()
                    .replace(".$__serde_spanned_private_value", "")
                    .replace("$__serde_spanned_private_value", "");
                let inner = e.into_inner();
                return Err(ConfigError::Invalid(vec![Problem {
                    file: file.to_owned(),
                    position: inner.span().map(|s| position(text, s.start)),
                    key: if key == "." { String::new() } else { key },
                    message: inner.message().trim().to_owned(),
                }]));
            }
        },
        Err(e) => {
            return Err(ConfigError::Invalid(vec![Problem {
                file: file.to_owned(),
                position: e.span().map(|s| position(text, s.start)),
                key: String::new(),
                message: format!("not valid TOML: {}", e.message().trim()),
            }]));
        }
    };
    let mut c = Checker {
        file,
        text,
        problems: Vec::new(),
    };

    let d = &raw.definitions;
    let defaults = Definitions::default();
    let definitions = Definitions {
        attribution_window: d.attribution_window.as_ref().and_then(|v| {
            c.check(
                v,
                || "definitions.attribution_window".to_owned(),
                shiplog_core::AttributionOptions::parse_window,
            )
        }),
        lead_time_start: d.lead_time_start.as_ref().and_then(|v| {
            c.check(
                v,
                || "definitions.lead_time_start".to_owned(),
                lead_time_start,
            )
        }),
        hotfix_labels: d
            .hotfix_labels
            .as_ref()
            .map_or(defaults.hotfix_labels, |v| {
                c.list(v, "definitions.hotfix_labels", label)
            }),
        hotfix_branches: d
            .hotfix_branches
            .as_ref()
            .map_or(defaults.hotfix_branches, |v| {
                c.list(v, "definitions.hotfix_branches", BranchPattern::new)
            }),
        revert_branches: d
            .revert_branches
            .as_ref()
            .map_or(defaults.revert_branches, |v| {
                c.list(v, "definitions.revert_branches", BranchPattern::new)
            }),
        incident_labels: d
            .incident_labels
            .as_ref()
            .map_or(defaults.incident_labels, |v| {
                c.list(v, "definitions.incident_labels", label)
            }),
        match_squashed_branches: d
            .match_squashed_branches
            .unwrap_or(defaults.match_squashed_branches),
        preset: d.preset.as_ref().and_then(|v| {
            c.check(
                v,
                || "definitions.preset".to_owned(),
                str::parse::<shiplog_core::Definitions>,
            )
        }),
    };

    let mut services = Vec::new();
    for (name, raw_service) in &raw.services {
        let key = format!("services.{}", key_name(name));
        let service = match ServiceName::new(name) {
            Ok(service) => service,
            Err(e) => {
                c.problem(raw_service.span(), key, e.to_string());
                continue;
            }
        };
        let raw_service = raw_service.get_ref();
        let team = raw_service
            .team
            .as_ref()
            .and_then(|t| c.check(t, || format!("{key}.team"), TeamName::new));
        let repository = match &raw_service.repository {
            Some(r) if r.get_ref().trim().is_empty() => {
                c.problem(
                    r.span(),
                    format!("{key}.repository"),
                    "expected a path to the repository, relative to this file (e.g. \".\" or \"../api\"), got an empty string".to_owned(),
                );
                ".".to_owned()
            }
            Some(r) => r.get_ref().clone(),
            None => ".".to_owned(),
        };
        let paths = raw_service
            .paths
            .as_ref()
            .map(|p| c.list(p, &format!("{key}.paths"), PathGlob::new))
            .unwrap_or_default();
        services.push(ServiceConfig {
            name: service,
            team,
            repository,
            paths,
        });
    }
    services.sort_by(|a, b| a.name.cmp(&b.name));
    // Path globs per repository are limited by the per-commit mask.
    let mut per_repo: BTreeMap<&str, usize> = BTreeMap::new();
    for s in services.iter().filter(|s| !s.paths.is_empty()) {
        *per_repo.entry(s.repository.as_str()).or_default() += 1;
    }
    for (repo, count) in per_repo {
        if count > MAX_PATH_SERVICES {
            c.problems.push(Problem {
                file: file.to_owned(),
                position: None,
                key: "services".to_owned(),
                message: format!(
                    "expected at most {MAX_PATH_SERVICES} services with paths in one repository, got {count} in {repo:?}"
                ),
            });
        }
    }

    let s = &raw.sources;
    let default_service = s
        .default_service
        .as_ref()
        .and_then(|v| c.check(v, || "sources.default_service".to_owned(), ServiceName::new));
    let default_environment = s.default_environment.as_ref().and_then(|v| {
        c.check(
            v,
            || "sources.default_environment".to_owned(),
            Environment::new,
        )
    });
    let mut source_services = BTreeMap::new();
    for (from, to) in &s.services {
        let key = format!("sources.services.{}", key_name(from));
        if let Some(service) = c.check(to, || key, ServiceName::new) {
            source_services.insert(from.clone(), service);
        }
    }
    let mut source_environments = BTreeMap::new();
    for (from, to) in &s.environments {
        let key = format!("sources.environments.{}", key_name(from));
        if let Some(environment) = c.check(to, || key, Environment::new) {
            source_environments.insert(from.clone(), environment);
        }
    }
    let mut tag_trains = BTreeMap::new();
    for (train, to) in &raw.tags.trains {
        let key = format!("tags.trains.{}", key_name(train));
        if let Some(service) = c.check(to, || key, ServiceName::new) {
            tag_trains.insert(train.clone(), service);
        }
    }

    use shiplog_guide::benchmark::BenchmarkKind;
    let guide = GuideConfig {
        industry: raw.guide.industry.as_ref().and_then(|v| {
            c.check(
                v,
                || "guide.industry".to_owned(),
                benchmark_row(BenchmarkKind::Industry),
            )
        }),
        org_size: raw.guide.org_size.as_ref().and_then(|v| {
            c.check(
                v,
                || "guide.org_size".to_owned(),
                benchmark_row(BenchmarkKind::OrganizationSize),
            )
        }),
    };

    if !c.problems.is_empty() {
        c.problems.sort_by_key(|p| p.position);
        return Err(ConfigError::Invalid(c.problems));
    }
    Ok(Config {
        file: None,
        base_dir: base_dir.to_owned(),
        definitions,
        services,
        default_service,
        default_environment,
        source_services,
        source_environments,
        tag_trains,
        guide,
    })
}

/// Reads and validates the file at `path`.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    let base = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_owned);
    let mut config = parse(&text, &path.display().to_string(), &base)?;
    config.file = Some(path.to_owned());
    Ok(config)
}

/// The configuration to use: `explicit` (from `--config` or `SHIPLOG_CONFIG`; it must exist), else
/// `shiplog.toml` at `repo_root` when present, else the built-in defaults.
pub fn discover(explicit: Option<&Path>, repo_root: Option<&Path>) -> Result<Config, ConfigError> {
    if let Some(path) = explicit {
        return load(path);
    }
    if let Some(root) = repo_root {
        let candidate = root.join(FILE_NAME);
        if candidate.is_file() {
            return load(&candidate);
        }
        return Ok(Config {
            base_dir: root.to_owned(),
            ..Config::default()
        });
    }
    Ok(Config {
        base_dir: PathBuf::from("."),
        ..Config::default()
    })
}

impl Config {
    /// A label for messages: the file, or a note that the built-in defaults are in use.
    pub fn label(&self) -> String {
        self.file.as_ref().map_or_else(
            || format!("the configuration (no {FILE_NAME} found)"),
            |p| p.display().to_string(),
        )
    }

    /// The services of the repository whose root is `repo_root`, with their path globs, in
    /// configuration order; only services that have `paths`. A service's `repository` is resolved
    /// against the configuration file's directory and compared with `repo_root` as canonical paths.
    pub fn path_rules(&self, repo_root: &Path) -> Vec<(ServiceName, Vec<Glob>)> {
        let root = repo_root
            .canonicalize()
            .unwrap_or_else(|_| repo_root.to_owned());
        self.services
            .iter()
            .filter(|s| !s.paths.is_empty())
            .filter(|s| {
                let dir = self.base_dir.join(&s.repository);
                dir.canonicalize().is_ok_and(|d| d == root)
            })
            .map(|s| {
                (
                    s.name.clone(),
                    s.paths
                        .iter()
                        .flat_map(|p| p.globs().iter().cloned())
                        .collect(),
                )
            })
            .collect()
    }

    /// Every team, with its services (ordered by name).
    pub fn teams(&self) -> BTreeMap<TeamName, Vec<ServiceName>> {
        let mut teams: BTreeMap<TeamName, Vec<ServiceName>> = BTreeMap::new();
        for s in &self.services {
            if let Some(team) = &s.team {
                teams.entry(team.clone()).or_default().push(s.name.clone());
            }
        }
        teams
    }

    /// The services of team `team`; an error listing the known teams when there is no such team.
    pub fn team_services(&self, team: &str) -> Result<(TeamName, Vec<ServiceName>), UnknownTeam> {
        let teams = self.teams();
        let unknown = || UnknownTeam {
            team: team.to_owned(),
            file: self.label(),
            known: teams.keys().cloned().collect(),
        };
        let name = TeamName::new(team).map_err(|_| unknown())?;
        match teams.get(&name) {
            Some(services) => Ok((name, services.clone())),
            None => Err(unknown()),
        }
    }

    /// The mappings the import parsers need.
    pub fn source_mappings(&self) -> SourceMappings {
        SourceMappings {
            default_service: self.default_service.clone(),
            default_environment: self.default_environment.clone(),
            services: self.source_services.clone(),
            environments: self.source_environments.clone(),
            incident_labels: self.definitions.incident_labels.clone(),
        }
    }

    /// The effective configuration as TOML, defaults filled in (for `shiplog config check`).
    pub fn effective_toml(&self) -> String {
        #[derive(Serialize)]
        struct Effective<'a> {
            definitions: EffectiveDefinitions,
            services: BTreeMap<&'a str, EffectiveService<'a>>,
            sources: EffectiveSources<'a>,
            tags: EffectiveTags<'a>,
            guide: EffectiveGuide<'a>,
        }
        #[derive(Serialize)]
        struct EffectiveGuide<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            industry: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            org_size: Option<&'a str>,
        }
        #[derive(Serialize)]
        struct EffectiveTags<'a> {
            trains: BTreeMap<&'a str, &'a str>,
        }
        #[derive(Serialize)]
        struct EffectiveDefinitions {
            attribution_window: String,
            lead_time_start: &'static str,
            hotfix_labels: Vec<String>,
            hotfix_branches: Vec<String>,
            revert_branches: Vec<String>,
            incident_labels: Vec<String>,
            match_squashed_branches: bool,
            preset: &'static str,
        }
        #[derive(Serialize)]
        struct EffectiveService<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            team: Option<&'a str>,
            repository: &'a str,
            paths: Vec<&'a str>,
        }
        #[derive(Serialize)]
        struct EffectiveSources<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            default_service: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            default_environment: Option<&'a str>,
            services: BTreeMap<&'a str, &'a str>,
            environments: BTreeMap<&'a str, &'a str>,
        }
        let d = &self.definitions;
        let window = d
            .attribution_window
            .unwrap_or(shiplog_core::AttributionOptions::default().incident_window);
        let teams = self.teams();
        let effective = Effective {
            definitions: EffectiveDefinitions {
                attribution_window: if window == shiplog_core::AttributionOptions::UNLIMITED_WINDOW
                {
                    "none".to_owned()
                } else {
                    format_duration(window)
                },
                lead_time_start: match d.lead_time_start.unwrap_or_default() {
                    LeadTimeStart::Author => "author",
                    LeadTimeStart::Committer => "committer",
                },
                hotfix_labels: d.hotfix_labels.clone(),
                hotfix_branches: d
                    .hotfix_branches
                    .iter()
                    .map(|p| p.as_str().to_owned())
                    .collect(),
                revert_branches: d
                    .revert_branches
                    .iter()
                    .map(|p| p.as_str().to_owned())
                    .collect(),
                incident_labels: d.incident_labels.clone(),
                match_squashed_branches: d.match_squashed_branches,
                preset: d.preset.unwrap_or_default().as_str(),
            },
            services: self
                .services
                .iter()
                .map(|s| {
                    (
                        s.name.as_str(),
                        EffectiveService {
                            team: s.team.as_ref().map(TeamName::as_str),
                            repository: &s.repository,
                            paths: s.paths.iter().map(PathGlob::as_str).collect(),
                        },
                    )
                })
                .collect(),
            sources: EffectiveSources {
                default_service: self.default_service.as_ref().map(ServiceName::as_str),
                default_environment: self.default_environment.as_ref().map(Environment::as_str),
                services: self
                    .source_services
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect(),
                environments: self
                    .source_environments
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect(),
            },
            tags: EffectiveTags {
                trains: self
                    .tag_trains
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect(),
            },
            guide: EffectiveGuide {
                industry: self.guide.industry.as_deref(),
                org_size: self.guide.org_size.as_deref(),
            },
        };
        let mut text =
            toml::to_string(&effective).unwrap_or_else(|e| format!("# cannot render: {e}\n"));
        // Teams are derived from the services' `team`: shown as a comment, so the output stays a
        // valid configuration.
        text.push_str("\n# Teams (from the services' `team`):\n");
        if teams.is_empty() {
            text.push_str("#   none\n");
        }
        for (team, services) in &teams {
            let names: Vec<&str> = services.iter().map(ServiceName::as_str).collect();
            text.push_str(&format!("#   {team}: {}\n", names.join(", ")));
        }
        text
    }
}

/// A duration in the largest whole unit (`24h`, `90m`, `2d`), as the configuration accepts it.
pub fn format_duration(d: SignedDuration) -> String {
    let s = d.as_secs();
    for (unit, len) in [("w", 604_800), ("d", 86_400), ("h", 3_600), ("m", 60)] {
        // Whole days read better as hours up to a day (24h, not 1d).
        if s != 0 && s % len == 0 && !(unit == "d" && s == 86_400) {
            return format!("{}{unit}", s / len);
        }
    }
    format!("{s}s")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> Config {
        parse(text, "shiplog.toml", Path::new(".")).unwrap_or_else(|e| panic!("{e}"))
    }

    fn problems(text: &str) -> Vec<String> {
        match parse(text, "shiplog.toml", Path::new(".")) {
            Err(ConfigError::Invalid(p)) => p.iter().map(ToString::to_string).collect(),
            other => panic!("expected problems, got {other:?}"),
        }
    }

    #[test]
    fn guide_benchmarks_are_checked_against_the_2025_keys() {
        let c = parse_ok("[guide]\nindustry = \"consumer\"\norg_size = \"fewer_than_100\"\n");
        assert_eq!(c.guide.industry.as_deref(), Some("consumer"));
        assert_eq!(c.guide.org_size.as_deref(), Some("fewer_than_100"));
        assert!(
            c.effective_toml()
                .contains("[guide]\nindustry = \"consumer\"\norg_size = \"fewer_than_100\"")
        );
        let p = problems("[guide]\nindustry = \"retail\"\n");
        assert_eq!(p.len(), 1);
        assert!(
            p[0].starts_with("shiplog.toml:2:12: guide.industry: expected one of the 2025 benchmark keys (all, consumer,"),
            "{}",
            p[0]
        );
        assert!(problems("[guide]\norg_size = \"huge\"\n")[0].contains("guide.org_size"));
        assert!(problems("[guide]\nsize = \"x\"\n")[0].contains("unknown field `size`"));
    }

    #[test]
    fn an_empty_file_is_the_defaults() {
        let c = parse_ok("");
        assert_eq!(c.definitions, Definitions::default());
        assert!(c.services.is_empty());
        assert!(c.definitions.is_hotfix(["HotFix"], None));
        assert!(c.definitions.is_hotfix([], Some("hotfix/login")));
        assert!(!c.definitions.is_hotfix(["bug"], Some("feature/x")));
        assert!(c.definitions.is_revert_branch("revert-12-feature"));
    }

    #[test]
    fn path_globs_name_files_or_directories() {
        let g = PathGlob::new("services/api").unwrap();
        let set = |g: &PathGlob| {
            let mut b = globset::GlobSetBuilder::new();
            for glob in g.globs() {
                b.add(glob.clone());
            }
            b.build().unwrap()
        };
        let s = set(&g);
        assert!(s.is_match("services/api"));
        assert!(s.is_match("services/api/x/y.go"));
        assert!(!s.is_match("services/apix/y.go"));
        let star = set(&PathGlob::new("services/*/main.go").unwrap());
        assert!(star.is_match("services/web/main.go"));
        assert!(
            !star.is_match("services/web/v2/main.go"),
            "* does not cross /"
        );
        let dir = set(&PathGlob::new("libs/common/").unwrap());
        assert!(dir.is_match("libs/common/a.rs") && !dir.is_match("libs/common"));
        for bad in ["", "/abs/**", "a/../b", "./a", "a//b", " a", "a/[b"] {
            assert!(PathGlob::new(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn problems_name_line_column_key_and_expectation() {
        let text = r#"
[definitions]
attribution_window = "1 day"
lead_time_start = "merge"

[services.api]
team = "core team"
paths = ["services/api/**", "/abs/**"]

[services."bad name"]

[sources.services]
"PagerDuty Checkout" = "check out"
"#;
        assert_eq!(
            problems(text),
            [
                "shiplog.toml:3:22: definitions.attribution_window: expected a duration like 90m, 24h, 2d, 1w, 3mo or 1y; got \"1 day\"",
                "shiplog.toml:4:19: definitions.lead_time_start: expected \"author\" or \"committer\", got \"merge\"",
                "shiplog.toml:7:8: services.api.team: expected a team name made of ASCII letters, digits, '-', '_', '.', '/' and ':', got ' ' in \"core team\"",
                "shiplog.toml:8:29: services.api.paths[1]: expected a path glob relative to the repository root (e.g. services/api/**), got \"/abs/**\": it starts with '/'",
                "shiplog.toml:10:1: services.\"bad name\": expected a service name made of ASCII letters, digits, '-', '_', '.', '/' and ':', got ' ' in \"bad name\"",
                "shiplog.toml:13:24: sources.services.\"PagerDuty Checkout\": expected a service name made of ASCII letters, digits, '-', '_', '.', '/' and ':', got ' ' in \"check out\"",
            ]
        );
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_reported_with_their_path() {
        let unknown = problems("[services.api]\npath = [\"a/**\"]\n");
        assert_eq!(unknown.len(), 1);
        assert!(
            unknown[0].starts_with("shiplog.toml:2:1: services.api.path: unknown field `path`, expected one of `team`, `repository`, `paths`"),
            "{unknown:?}"
        );
        let typed = problems("[services.api]\npaths = \"a/**\"\n");
        assert!(
            typed[0].starts_with("shiplog.toml:2:9: services.api.paths: invalid type: string \"a/**\", expected a sequence"),
            "{typed:?}"
        );
        let syntax = problems("[services.api\n");
        assert!(syntax[0].starts_with("shiplog.toml:1:"), "{syntax:?}");
        assert!(syntax[0].contains("not valid TOML"), "{syntax:?}");
    }

    #[test]
    fn teams_map_to_their_services() {
        let c = parse_ok(
            "[services.api]\nteam = \"core\"\n[services.web]\nteam = \"front\"\n[services.billing]\nteam = \"core\"\n[services.docs]\n",
        );
        let (team, services) = c.team_services("core").unwrap();
        assert_eq!(team.as_str(), "core");
        let names: Vec<&str> = services.iter().map(ServiceName::as_str).collect();
        assert_eq!(names, ["api", "billing"]);
        let err = c.team_services("payments").unwrap_err();
        assert_eq!(
            err.to_string(),
            "no team \"payments\" in the configuration (no shiplog.toml found); known teams: core, front"
        );
        let none = Config::default().team_services("x").unwrap_err();
        assert!(
            none.to_string().contains("maps no service to a team"),
            "{none}"
        );
    }

    #[test]
    fn source_mappings_map_names_and_labels() {
        let c = parse_ok(
            "[definitions]\nincident_labels = [\"sev1\", \"sev2\"]\n[sources]\ndefault_service = \"api\"\n[sources.services]\n\"Checkout API\" = \"api\"\n[sources.environments]\nprod = \"production\"\n",
        );
        let m = c.source_mappings();
        assert_eq!(
            m.default_service.as_ref().map(ServiceName::as_str),
            Some("api")
        );
        assert_eq!(m.services["Checkout API"].as_str(), "api");
        assert_eq!(m.environments["prod"].as_str(), "production");
        assert_eq!(m.incident_labels, ["sev1", "sev2"]);
    }

    #[test]
    fn durations_format_in_whole_units() {
        assert_eq!(format_duration(SignedDuration::from_hours(24)), "24h");
        assert_eq!(format_duration(SignedDuration::from_hours(48)), "2d");
        assert_eq!(format_duration(SignedDuration::from_mins(90)), "90m");
        assert_eq!(format_duration(SignedDuration::from_secs(61)), "61s");
        assert_eq!(format_duration(SignedDuration::from_hours(36)), "36h");
    }
}
