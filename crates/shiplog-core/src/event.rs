//! The delivery events shiplog measures: deployments and incidents.
//!
//! These are validated values. Parsers (import files, the command line, git tags) build them; the
//! attribution engine and the metrics only read them.

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::names::{DeploymentId, Environment, IncidentId, ServiceName, Sha};

/// Whether a deployment reached its environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeploymentStatus {
    /// The deployment finished and the new version is running.
    Success,
    /// The deployment itself failed (the pipeline broke); nothing new reached the environment.
    /// Such deployments are listed but do not count in any metric.
    Failure,
}

impl DeploymentStatus {
    /// The lowercase name used in files and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
        }
    }
}

impl FromStr for DeploymentStatus {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text.trim() {
            "success" => Ok(Self::Success),
            "failure" => Ok(Self::Failure),
            other => Err(format!(
                "expected \"success\" or \"failure\", got {other:?}"
            )),
        }
    }
}

impl fmt::Display for DeploymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a deployment record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeploymentSource {
    /// `shiplog record deployment`.
    Recorded,
    /// `shiplog import`.
    Imported,
    /// A git tag (`--deploys tags`).
    GitTag,
    /// A first-parent commit of a branch (`--deploys merges`).
    GitMerge,
}

impl DeploymentSource {
    /// The kebab-case name used in storage and output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Recorded => "recorded",
            Self::Imported => "imported",
            Self::GitTag => "git-tag",
            Self::GitMerge => "git-merge",
        }
    }
}

impl FromStr for DeploymentSource {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "recorded" => Ok(Self::Recorded),
            "imported" => Ok(Self::Imported),
            "git-tag" => Ok(Self::GitTag),
            "git-merge" => Ok(Self::GitMerge),
            other => Err(format!("unknown deployment source {other:?}")),
        }
    }
}

/// One deployment of a service to an environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    /// Unique in a store; recording the same id again updates the record.
    pub id: DeploymentId,
    /// The service deployed.
    pub service: ServiceName,
    /// Where it was deployed.
    pub environment: Environment,
    /// The commit deployed.
    pub sha: Sha,
    /// When the deployment finished; this places it in time windows.
    pub finished_at: Timestamp,
    /// When the deployment started, if known (shown, not used by the metrics).
    pub started_at: Option<Timestamp>,
    /// Whether it reached the environment.
    pub status: DeploymentStatus,
    /// Declared unplanned (a hotfix, an emergency change): counts toward the rework rate.
    pub unplanned: bool,
    /// Where the record came from.
    pub source: DeploymentSource,
    /// Who or what recorded it: CI or a person; `None` when the source cannot tell (git tags and
    /// merges, import files without `recorded_by`, webhooks that do not say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_by: Option<Recorder>,
}

/// Who or what recorded a deployment.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Recorder {
    /// A CI system (`system` is its name when known: `github-actions`, `gitlab-ci`, ...).
    Ci {
        /// The CI system's name, when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        system: Option<String>,
    },
    /// A person, by hand.
    Manual,
}

impl Recorder {
    /// Recorded by the CI system `system` (`github-actions`, `gitlab`, ...).
    pub fn ci(system: &str) -> Self {
        Self::Ci {
            system: Some(system.to_owned()),
        }
    }

    /// Recorded by CI.
    pub fn is_ci(&self) -> bool {
        matches!(self, Self::Ci { .. })
    }

    /// The text form used in storage and import files: `ci`, `ci:<system>` or `manual`.
    pub fn to_text(&self) -> String {
        match self {
            Self::Ci { system: None } => "ci".to_owned(),
            Self::Ci {
                system: Some(system),
            } => format!("ci:{system}"),
            Self::Manual => "manual".to_owned(),
        }
    }
}

impl FromStr for Recorder {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        match text {
            "ci" => Ok(Self::Ci { system: None }),
            "manual" => Ok(Self::Manual),
            _ => match text.strip_prefix("ci:") {
                Some(system)
                    if !system.is_empty()
                        && system
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) =>
                {
                    Ok(Self::Ci {
                        system: Some(system.to_owned()),
                    })
                }
                _ => Err(format!(
                    "unknown recorder {text:?} (expected ci, ci:<system> or manual)"
                )),
            },
        }
    }
}

/// A deployment that finished before its commit existed: the commit's committer time is later
/// than the deployment's finish. Such a record is wrong (a CI job that sent an empty timestamp and
/// got 1970-01-01, a clock months off); counted, it would become the first deployment of its
/// chain and take the whole history it reaches as its baseline.
///
/// ```
/// use jiff::Timestamp;
/// use shiplog_core::event::BeforeCommit;
///
/// let finished: Timestamp = "1970-01-01T00:00:00Z".parse().unwrap();
/// let e = BeforeCommit::check(finished, 1_772_546_400).unwrap_err();
/// assert_eq!(
///     e.to_string(),
///     "finished at 1970-01-01T00:00:00Z, before its commit's committer time 2026-03-03T14:00:00Z"
/// );
/// assert!(BeforeCommit::check("2026-03-03T14:00:00Z".parse().unwrap(), 1_772_546_400).is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("finished at {finished_at}, before its commit's committer time {committer_time}")]
pub struct BeforeCommit {
    /// The deployment's finish.
    pub finished_at: Timestamp,
    /// The commit's committer time.
    pub committer_time: Timestamp,
}

impl BeforeCommit {
    /// Checks a finish time against a commit's committer time (seconds since the epoch); a
    /// committer time out of range is not checked.
    pub fn check(finished_at: Timestamp, committer_seconds: i64) -> Result<(), BeforeCommit> {
        match Timestamp::from_second(committer_seconds) {
            Ok(committer_time) if committer_time > finished_at => Err(BeforeCommit {
                finished_at,
                committer_time,
            }),
            _ => Ok(()),
        }
    }
}

/// An incident: a degradation of service in an environment that needed remediation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    /// Unique in a store; recording the same id again updates the record (e.g. to resolve it).
    pub id: IncidentId,
    /// The service affected.
    pub service: ServiceName,
    /// The environment affected (`production` unless given).
    pub environment: Environment,
    /// When the incident was opened; this places it in time windows.
    pub opened_at: Timestamp,
    /// When it was resolved; `None` while still open.
    pub resolved_at: Option<Timestamp>,
    /// The deployment known to have caused it (wins over every other rule).
    pub deployment_id: Option<DeploymentId>,
    /// The commit known to have caused it: the incident is attributed to the first deployment of the
    /// same service and environment that shipped this commit.
    pub sha: Option<Sha>,
    /// A short description.
    pub title: Option<String>,
    /// Another incident, from another source, that reports the same outage (e.g. the PagerDuty
    /// incident a GitHub incident issue links to). While that incident is stored, this one is not
    /// counted: see [`crate::duplicates`].
    pub duplicate_of: Option<IncidentId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorders_parse_and_print_their_text_form() {
        for (text, recorder) in [
            ("ci", Recorder::Ci { system: None }),
            ("manual", Recorder::Manual),
            ("ci:github-actions", Recorder::ci("github-actions")),
            ("ci:aws_codebuild.v2", Recorder::ci("aws_codebuild.v2")),
        ] {
            assert_eq!(text.parse::<Recorder>(), Ok(recorder.clone()), "{text}");
            assert_eq!(recorder.to_text(), text);
        }
        assert_eq!(" manual ".parse::<Recorder>(), Ok(Recorder::Manual));
        assert!(Recorder::ci("gitlab").is_ci());
        assert!(!Recorder::Manual.is_ci());
    }

    #[test]
    fn other_recorders_are_refused() {
        for text in [
            "",
            "CI",
            "Manual",
            "ci:",
            "ci: x",
            "ci:a/b",
            "person",
            "ci-github",
        ] {
            let err = text.parse::<Recorder>().expect_err(text);
            assert!(err.contains("expected ci, ci:<system> or manual"), "{err}");
        }
    }
}
