//! The items behind the numbers: every change, deployment, failure and incident a metric counted,
//! with ids instead of internal indices, ready to render or to serialize.
//!
//! `shiplog explain` prints these lists so any aggregate can be traced back to the records that made
//! it.

use std::fmt;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::attribution::{
    DeliveryModel, FailureReason, IncidentAttribution, RecoveryKind, UnattributedReason,
    UnplannedReason,
};
use crate::event::{DeploymentSource, DeploymentStatus};
use crate::graph::CommitGraph;
use crate::metrics::{LeadTimeStart, Scope, lead_time_seconds};
use crate::names::{DeploymentId, Environment, IncidentId, ServiceName, Sha};
use crate::pr_links::{StageTimes, StartRule, stage_times};

/// One change and its lead time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangeItem {
    /// The commit.
    pub sha: Sha,
    /// When the lead time starts (author or committer time, or its pull request's first commit).
    pub started_at: Option<Timestamp>,
    /// Which rule gave `started_at`.
    pub start: StartRule,
    /// The pull request that owns the change, when pull-request data links one.
    pub pull_request: Option<String>,
    /// The branch the change squashes, when matched by patch without pull-request data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub squashed_branch: Option<String>,
    /// When that pull request was opened.
    pub pull_request_opened_at: Option<Timestamp>,
    /// Its first review by someone other than its author.
    pub pull_request_first_review_at: Option<Timestamp>,
    /// When it was merged.
    pub pull_request_merged_at: Option<Timestamp>,
    /// That pull request's stages, measured to this change's deployment.
    #[serde(flatten)]
    pub stages: StageTimes,
    /// The deployment that first shipped it.
    pub deployment: DeploymentId,
    /// The service deployed.
    pub service: ServiceName,
    /// The environment.
    pub environment: Environment,
    /// When that deployment finished.
    pub deployed_at: Timestamp,
    /// Lead time in seconds; `None` when excluded.
    pub lead_time_seconds: Option<f64>,
    /// Why it does not count, if it does not.
    pub excluded: Option<&'static str>,
}

/// All changes in scope, and how many baseline changes were left out of the list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangeList {
    /// Changes newly shipped by non-baseline deployments in scope, by deployment then commit order.
    pub changes: Vec<ChangeItem>,
    /// Changes shipped by baseline deployments in scope (not listed).
    pub baseline_excluded: u64,
}

/// Changes in scope, with lead times.
pub fn changes(
    model: &DeliveryModel,
    graph: &CommitGraph,
    scope: &Scope,
    start: LeadTimeStart,
) -> ChangeList {
    changes_after(model, graph, scope, start, 0)
}

/// The newest `limit` changes of [`changes`] (the last in its order: by deployment), and how many
/// it lists in all. A report showing a few rows of 200,000 changes builds only those rows.
///
/// With changes `a b c d` (oldest first) and a limit of 2: `c d`, and 4 in all.
pub fn newest_changes(
    model: &DeliveryModel,
    graph: &CommitGraph,
    scope: &Scope,
    start: LeadTimeStart,
    limit: usize,
) -> (ChangeList, usize) {
    let total: usize = scope
        .deployments(model)
        .filter(|(_, d)| !d.is_baseline())
        .map(|(index, _)| model.shipped_by(index).len())
        .sum();
    let list = changes_after(model, graph, scope, start, total.saturating_sub(limit));
    (list, total)
}

/// [`changes`] without its first `skip` items (still counting every baseline change).
fn changes_after(
    model: &DeliveryModel,
    graph: &CommitGraph,
    scope: &Scope,
    start: LeadTimeStart,
    mut skip: usize,
) -> ChangeList {
    let mut list = ChangeList {
        changes: Vec::new(),
        baseline_excluded: 0,
    };
    for (index, d) in scope.deployments(model) {
        if d.is_baseline() {
            list.baseline_excluded += d.shipped.len() as u64;
            continue;
        }
        let shipped = model.shipped_by(index);
        if skip >= shipped.len() {
            skip -= shipped.len();
            continue;
        }
        let from = skip;
        skip = 0;
        for change in &shipped[from..] {
            let (start_seconds, start_rule) =
                model.pull_requests.start(graph, change.commit, start);
            let pr = model.pull_requests.of_commit(change.commit);
            let lead = lead_time_seconds(d.deployment.finished_at, start_seconds);
            let (lead_time_seconds, excluded) = match lead {
                Some(s) if s >= 0.0 => (Some(s), None),
                Some(_) => (None, Some("negative lead time (clock skew)")),
                None => (None, Some("commit time out of range")),
            };
            list.changes.push(ChangeItem {
                sha: graph.sha(change.commit),
                started_at: Timestamp::from_second(start_seconds).ok(),
                start: start_rule,
                pull_request: pr.map(|p| model.pull_requests.get(p).facts.key.clone()),
                squashed_branch: model
                    .pull_requests
                    .squashed_branch(change.commit)
                    .map(|s| s.branch.clone()),
                pull_request_opened_at: pr.map(|p| model.pull_requests.get(p).facts.opened_at),
                pull_request_first_review_at: pr
                    .and_then(|p| model.pull_requests.get(p).facts.first_review_at),
                pull_request_merged_at: pr.and_then(|p| model.pull_requests.get(p).facts.merged_at),
                stages: pr.map_or_else(StageTimes::default, |p| {
                    stage_times(model.pull_requests.get(p), d.deployment.finished_at)
                }),
                deployment: d.deployment.id.clone(),
                service: d.deployment.service.clone(),
                environment: d.deployment.environment.clone(),
                deployed_at: d.deployment.finished_at,
                lead_time_seconds,
                excluded,
            });
        }
    }
    list
}

/// Why a deployment failed, with ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum FailureDetail {
    /// An incident was attributed to it.
    Incident {
        /// The incident.
        incident: IncidentId,
    },
    /// The next deployment rolled it back.
    RolledBack {
        /// The rollback deployment.
        by: DeploymentId,
    },
    /// A later deployment shipped a revert of one of its changes.
    Reverted {
        /// The change.
        change: Sha,
        /// The revert commit.
        revert: Sha,
        /// The deployment that shipped the revert.
        by: DeploymentId,
    },
    /// A later deployment shipped a pull request reverting one it shipped.
    RevertedPullRequest {
        /// The pull request reverted.
        pull_request: String,
        /// The revert pull request.
        revert: String,
        /// The deployment that shipped the revert.
        by: DeploymentId,
    },
}

impl fmt::Display for FailureDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Incident { incident } => write!(f, "incident {incident}"),
            Self::RolledBack { by } => write!(f, "rolled back by {by}"),
            Self::Reverted { change, revert, by } => write!(
                f,
                "change {} reverted by {} (shipped in {by})",
                change.short(10),
                revert.short(10)
            ),
            Self::RevertedPullRequest {
                pull_request,
                revert,
                by,
            } => write!(
                f,
                "pull request {pull_request} reverted by {revert} (shipped in {by})"
            ),
        }
    }
}

/// Why a deployment is rework, with ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum UnplannedDetail {
    /// Recorded as unplanned.
    Declared,
    /// It rolled back the previous deployment.
    Rollback {
        /// The deployment rolled back.
        of: DeploymentId,
    },
    /// It shipped a revert of an earlier deployment's change.
    ShipsRevert {
        /// The revert commit.
        revert: Sha,
        /// The change reverted.
        change: Sha,
        /// The deployment that shipped the change.
        of: DeploymentId,
    },
    /// It shipped a pull request reverting one an earlier deployment shipped.
    ShipsRevertPullRequest {
        /// The revert pull request.
        revert: String,
        /// The pull request reverted.
        pull_request: String,
        /// The deployment that shipped it.
        of: DeploymentId,
    },
    /// It shipped a hotfix pull request.
    HotfixPullRequest {
        /// The pull request.
        pull_request: String,
    },
}

impl fmt::Display for UnplannedDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Declared => f.write_str("recorded as unplanned"),
            Self::Rollback { of } => write!(f, "rollback of {of}"),
            Self::ShipsRevert { revert, of, .. } => {
                write!(f, "ships revert {} of a change from {of}", revert.short(10))
            }
            Self::ShipsRevertPullRequest {
                revert,
                pull_request,
                of,
            } => write!(f, "ships {revert}, which reverts {pull_request} from {of}"),
            Self::HotfixPullRequest { pull_request } => {
                write!(f, "ships hotfix {pull_request}")
            }
        }
    }
}

/// One deployment and what attribution found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeploymentItem {
    /// Its id.
    pub id: DeploymentId,
    /// The service.
    pub service: ServiceName,
    /// The environment.
    pub environment: Environment,
    /// The commit deployed.
    pub sha: Sha,
    /// When it started, if known.
    pub started_at: Option<Timestamp>,
    /// When it finished.
    pub finished_at: Timestamp,
    /// Whether it succeeded.
    pub status: DeploymentStatus,
    /// Where the record came from.
    pub source: DeploymentSource,
    /// For a tag: its release train (`""` for the main train; see [`crate::release`]).
    pub train: Option<String>,
    /// For a tag: its version.
    pub version: Option<String>,
    /// Whether it is the first deployment of its chain.
    pub baseline: bool,
    /// The deployment before it in its chain (same service and environment, successful), whose
    /// reach it is compared with: what it newly shipped, and whether it rolled that one back.
    /// `None` for a baseline and for deployments in no chain.
    pub previous_deployment: Option<DeploymentId>,
    /// Changes it newly shipped.
    pub shipped_changes: usize,
    /// Why it failed.
    pub failures: Vec<FailureDetail>,
    /// Why it is rework.
    pub unplanned: Vec<UnplannedDetail>,
    /// When it finished before its commit's committer time (then it counts in no metric): that
    /// committer time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before_commit: Option<Timestamp>,
}

/// A failed deployment and its recovery.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailureItem {
    /// The deployment.
    pub deployment: DeploymentId,
    /// The service.
    pub service: ServiceName,
    /// The environment.
    pub environment: Environment,
    /// The commit deployed.
    pub sha: Sha,
    /// When it finished.
    pub finished_at: Timestamp,
    /// Why it failed.
    pub reasons: Vec<FailureDetail>,
    /// When it recovered.
    pub recovered_at: Option<Timestamp>,
    /// How it recovered.
    pub recovered_by: Option<RecoveryKind>,
    /// Recovery time in seconds.
    pub recovery_seconds: Option<f64>,
}

fn pr_key(model: &DeliveryModel, pr: usize) -> String {
    model.pull_requests.get(pr).facts.key.clone()
}

fn failure_detail(model: &DeliveryModel, reason: &FailureReason) -> FailureDetail {
    let id = |d: usize| model.deployments[d].deployment.id.clone();
    match reason {
        FailureReason::Incident { incident } => FailureDetail::Incident {
            incident: model.incidents[*incident].incident.id.clone(),
        },
        FailureReason::RolledBack { by } => FailureDetail::RolledBack { by: id(*by) },
        FailureReason::Reverted { change, revert, by } => FailureDetail::Reverted {
            change: *change,
            revert: *revert,
            by: id(*by),
        },
        FailureReason::RevertedPullRequest {
            pull_request,
            revert,
            by,
        } => FailureDetail::RevertedPullRequest {
            pull_request: pr_key(model, *pull_request),
            revert: pr_key(model, *revert),
            by: id(*by),
        },
    }
}

fn unplanned_detail(model: &DeliveryModel, reason: &UnplannedReason) -> UnplannedDetail {
    let id = |d: usize| model.deployments[d].deployment.id.clone();
    match reason {
        UnplannedReason::Declared => UnplannedDetail::Declared,
        UnplannedReason::Rollback { of } => UnplannedDetail::Rollback { of: id(*of) },
        UnplannedReason::ShipsRevert { revert, change, of } => UnplannedDetail::ShipsRevert {
            revert: *revert,
            change: *change,
            of: id(*of),
        },
        UnplannedReason::ShipsRevertPullRequest {
            revert,
            pull_request,
            of,
        } => UnplannedDetail::ShipsRevertPullRequest {
            revert: pr_key(model, *revert),
            pull_request: pr_key(model, *pull_request),
            of: id(*of),
        },
        UnplannedReason::HotfixPullRequest { pull_request } => UnplannedDetail::HotfixPullRequest {
            pull_request: pr_key(model, *pull_request),
        },
    }
}

/// Every deployment of the scope's service(s) and environment that finished in the window,
/// including failed ones and ones skipped as unknown (which do not count in the metrics).
pub fn deployments(model: &DeliveryModel, scope: &Scope) -> Vec<DeploymentItem> {
    // Each chain's deployments by position: the previous one of position k is at k - 1.
    let mut by_position: std::collections::HashMap<(&ServiceName, &Environment, usize), usize> =
        std::collections::HashMap::new();
    for (i, d) in model.deployments.iter().enumerate() {
        if let Some(p) = d.chain_position {
            by_position.insert((&d.deployment.service, &d.deployment.environment, p), i);
        }
    }
    let previous = |d: &crate::attribution::AnalyzedDeployment| {
        let p = d.chain_position?.checked_sub(1)?;
        let i = by_position.get(&(&d.deployment.service, &d.deployment.environment, p))?;
        Some(model.deployments[*i].deployment.id.clone())
    };
    model
        .deployments
        .iter()
        .enumerate()
        .filter(|(_, d)| {
            scope.includes(&d.deployment.service, &d.deployment.environment)
                && scope.window.contains(d.deployment.finished_at)
        })
        .map(|(index, d)| DeploymentItem {
            id: d.deployment.id.clone(),
            service: d.deployment.service.clone(),
            environment: d.deployment.environment.clone(),
            sha: d.deployment.sha,
            started_at: d.deployment.started_at,
            finished_at: d.deployment.finished_at,
            status: d.deployment.status,
            source: d.deployment.source,
            train: tag_release(&d.deployment).map(|r| r.train),
            version: tag_release(&d.deployment).map(|r| r.version.to_string()),
            baseline: d.is_baseline(),
            previous_deployment: previous(d),
            shipped_changes: d.shipped.len(),
            failures: d
                .failures
                .iter()
                .map(|r| failure_detail(model, r))
                .collect(),
            unplanned: d
                .unplanned
                .iter()
                .map(|r| unplanned_detail(model, r))
                .collect(),
            before_commit: model
                .before_commit
                .binary_search_by_key(&index, |&(i, _)| i)
                .ok()
                .map(|k| model.before_commit[k].1),
        })
        .collect()
}

/// Every failed deployment in scope, with its reasons and recovery.
pub fn failures(model: &DeliveryModel, scope: &Scope) -> Vec<FailureItem> {
    scope
        .deployments(model)
        .filter(|(_, d)| d.failed())
        .map(|(_, d)| FailureItem {
            deployment: d.deployment.id.clone(),
            service: d.deployment.service.clone(),
            environment: d.deployment.environment.clone(),
            sha: d.deployment.sha,
            finished_at: d.deployment.finished_at,
            reasons: d
                .failures
                .iter()
                .map(|r| failure_detail(model, r))
                .collect(),
            recovered_at: d.recovery.map(|r| r.at),
            recovered_by: d.recovery.map(|r| r.kind),
            recovery_seconds: d
                .recovery
                .map(|r| r.duration)
                .filter(|d| *d >= SignedDuration::ZERO)
                .map(|d| d.as_secs_f64()),
        })
        .collect()
}

/// The revert references shipped by deployments in scope that name no single commit (see
/// [`crate::attribution::UnresolvedRevert`]): they failed nothing, and the user may want to know.
pub fn unresolved_reverts<'m>(
    model: &'m DeliveryModel,
    scope: &Scope,
) -> Vec<&'m crate::attribution::UnresolvedRevert> {
    let in_scope: std::collections::HashSet<usize> =
        scope.deployments(model).map(|(i, _)| i).collect();
    model
        .unresolved_reverts
        .iter()
        .filter(|r| in_scope.contains(&r.deployment))
        .collect()
}

/// How an incident was attributed, with ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttributionRule {
    /// The record named the deployment.
    ExplicitDeployment,
    /// The record named a commit.
    Sha,
    /// Latest deployment within the attribution window.
    TimeWindow,
    /// Nothing matched.
    Unattributed,
}

/// One incident and its attribution.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentItem {
    /// Its id.
    pub id: IncidentId,
    /// The service.
    pub service: ServiceName,
    /// The environment.
    pub environment: Environment,
    /// When it opened.
    pub opened_at: Timestamp,
    /// When it was resolved.
    pub resolved_at: Option<Timestamp>,
    /// Its title.
    pub title: Option<String>,
    /// The rule that attributed it.
    pub rule: AttributionRule,
    /// The deployment it is attributed to.
    pub deployment: Option<DeploymentId>,
    /// Why it is unattributed.
    pub unattributed_reason: Option<String>,
    /// The same incident as reported by other sources (`duplicate_of` this one): listed here,
    /// counted once.
    pub duplicates: Vec<IncidentId>,
}

fn describe_unattributed(reason: &UnattributedReason) -> String {
    match reason {
        UnattributedReason::UnknownDeployment { id } => format!("no deployment has id {id}"),
        UnattributedReason::DeploymentNotCounted { id } => {
            format!("deployment {id} did not succeed or was skipped")
        }
        UnattributedReason::UnknownSha { sha } => {
            format!("commit {} is not in the history", sha.short(12))
        }
        UnattributedReason::ShaNotShipped { sha } => format!(
            "no deployment of this service and environment shipped {}",
            sha.short(12)
        ),
        UnattributedReason::NoDeploymentInWindow => {
            "no deployment of this service and environment finished within the attribution window before it opened".to_owned()
        }
    }
}

/// Every incident of the scope opened in the window, with its attribution.
pub fn incidents(model: &DeliveryModel, scope: &Scope) -> Vec<IncidentItem> {
    let mut duplicates: std::collections::HashMap<&IncidentId, Vec<IncidentId>> =
        std::collections::HashMap::new();
    for (duplicate, counted) in &model.duplicate_incidents {
        duplicates
            .entry(counted)
            .or_default()
            .push(duplicate.id.clone());
    }
    model
        .incidents
        .iter()
        .filter(|i| {
            scope.includes(&i.incident.service, &i.incident.environment)
                && scope.window.contains(i.incident.opened_at)
        })
        .map(|i| {
            let (rule, reason) = match &i.attribution {
                IncidentAttribution::ExplicitDeployment { .. } => {
                    (AttributionRule::ExplicitDeployment, None)
                }
                IncidentAttribution::Sha { .. } => (AttributionRule::Sha, None),
                IncidentAttribution::TimeWindow { .. } => (AttributionRule::TimeWindow, None),
                IncidentAttribution::Unattributed { reason } => (
                    AttributionRule::Unattributed,
                    Some(describe_unattributed(reason)),
                ),
            };
            IncidentItem {
                id: i.incident.id.clone(),
                service: i.incident.service.clone(),
                environment: i.incident.environment.clone(),
                opened_at: i.incident.opened_at,
                resolved_at: i.incident.resolved_at,
                title: i.incident.title.clone(),
                rule,
                deployment: i
                    .attribution
                    .deployment()
                    .map(|d| model.deployments[d].deployment.id.clone()),
                unattributed_reason: reason,
                duplicates: duplicates.remove(&i.incident.id).unwrap_or_default(),
            }
        })
        .collect()
}

/// The release a deployment derived from a tag (`tag:NAME`) stands for.
fn tag_release(d: &crate::event::Deployment) -> Option<crate::release::Release> {
    if d.source != DeploymentSource::GitTag {
        return None;
    }
    crate::release::parse_tag(d.id.as_str().strip_prefix("tag:")?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TimeWindow;
    use crate::attribution::{AttributionOptions, attribute};
    use crate::event::{Deployment, DeploymentSource, DeploymentStatus};
    use crate::graph::NewCommit;

    const T0: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

    #[test]
    fn the_newest_changes_are_the_tail_of_the_whole_list() {
        // Seven commits in a line; deployments of commits 1 (the baseline), 3, 4 and 7 ship 1, 2,
        // 1 and 3 changes.
        let mut g = CommitGraph::new();
        let mut deployments = Vec::new();
        for i in 0..7u32 {
            let parents: Vec<u32> = if i == 0 { vec![] } else { vec![i - 1] };
            let mut bytes = [0u8; 20];
            bytes[0] = u8::try_from(i + 1).expect("small");
            let time = T0 + i64::from(i) * 3600;
            g.push(NewCommit {
                sha: Sha::from_bytes(bytes),
                parents: &parents,
                author_time: time,
                committer_time: time,
                reverts: &[],
                shallow: false,
            })
            .expect("commit");
            if [0, 2, 3, 6].contains(&i) {
                deployments.push(Deployment {
                    id: DeploymentId::new(&format!("d{i}")).expect("id"),
                    service: ServiceName::new("api").expect("name"),
                    environment: Environment::production(),
                    sha: Sha::from_bytes(bytes),
                    finished_at: Timestamp::from_second(time + 60).expect("time"),
                    started_at: None,
                    status: DeploymentStatus::Success,
                    unplanned: false,
                    source: DeploymentSource::Recorded,
                    recorded_by: None,
                });
            }
        }
        g.close_run();
        let model =
            attribute(&g, deployments, vec![], AttributionOptions::default()).expect("model");
        let scope = Scope {
            service: None,
            team: None,
            environment: Environment::production(),
            window: TimeWindow::new(
                Timestamp::from_second(T0 - 3600).expect("time"),
                Timestamp::from_second(T0 + 24 * 3600).expect("time"),
            )
            .expect("window"),
        };
        let all = changes(&model, &g, &scope, LeadTimeStart::Author);
        assert_eq!((all.changes.len(), all.baseline_excluded), (6, 1));
        for limit in 0..=8 {
            let (newest, total) = newest_changes(&model, &g, &scope, LeadTimeStart::Author, limit);
            assert_eq!(total, 6);
            assert_eq!(newest.baseline_excluded, 1);
            let tail = &all.changes[all.changes.len().saturating_sub(limit)..];
            assert_eq!(newest.changes, tail, "limit {limit}");
        }
    }
}
