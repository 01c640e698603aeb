//! Attribution: which changes each deployment shipped, which deployments failed and why, which
//! deployment each incident belongs to, and how each failure was recovered.
//!
//! Everything the metrics report is derived here once, over all deployments and incidents, so that
//! time windows only select from the result. A failure revealed after a window closes (a rollback
//! next week) still marks the deployment inside the window as failed.
//!
//! ## Chains and shipped changes
//! A *chain* is the successful deployments of one service to one environment, ordered by finish time
//! (ties by id, so tags with equal times are ordered by name). The changes newly shipped by deployment
//! `k` are the commits reachable from its sha that no earlier deployment of the chain reached. One
//! depth-first walk per deployment, stopping at commits already marked, visits every commit at most
//! once per chain: O(commits + deployments). The first deployment of a chain is its *baseline*: the
//! history it reaches existed before shiplog could see deployments, so its changes are kept out of
//! lead time and only counted.
//!
//! A successful deployment that finished before its commit's committer time is in no chain: its
//! time contradicts git (an empty timestamp read as 1970, a clock months off), and in a chain it
//! would sort first and take the whole history as its baseline. It is listed in
//! [`DeliveryModel::before_commit`] instead, and the metrics count it. Example: `a ← b`, `D0 → b`
//! finished in 1970 and `D1 → b` finished after b: D0 is left out, D1 is the baseline.
//!
//! Worked example, one chain: commits `a ← b ← c ← d` (each the parent of the next), deployments
//! `D1 → b`, `D2 → d`, `D3 → c`. `D1` reaches `{a, b}` (baseline). `D2` newly ships `{c, d}`. `D3`
//! ships nothing new, and `c` is a strict ancestor of `d`, so `D3` rolled `D2` back: `D2` failed
//! (recovered at `D3`'s finish) and `D3` is unplanned rework.
//!
//! ## Reverts
//! A commit whose message says `This reverts commit <ref>` reverts the commit `ref` names: a full
//! sha, or an abbreviation of 7 to 39 hex characters that exactly one commit of the history starts
//! with. When a later deployment of the chain ships the revert, the deployment that shipped the
//! reverted change failed. A reference that several commits share, or that no commit has, fails
//! nothing and is kept in [`DeliveryModel::unresolved_reverts`].
//!
//! ## Monorepos
//! With a [`ServiceMembership`] (path globs configured), the walk of a chain of service `S` still
//! visits every reached commit once, but keeps as `S`'s newly shipped changes only the commits that
//! belong to `S`. A reached commit of another service is marked (so no later deployment of `S`
//! ships it either) and is no change of `S`: it has no lead time in `S`'s chain. A deployment that
//! reached nothing new at all, not only no change of `S`, can be a rollback. Reverts count for `S`
//! when the reverted change belongs to `S`.
//!
//! ## Pull requests
//! With [`PrLinks`], a merged pull request whose deployment (the first of the chain to reach its
//! merge commit, not the baseline) is known adds two rules: a *hotfix* pull request makes that
//! deployment unplanned, and a *revert* pull request shipped by a later deployment than the pull
//! request it reverts fails that one (reason `reverted-pull-request`) and makes its own unplanned
//! (`ships-revert-pull-request`). See [`crate::pr_links`].

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::event::{Deployment, DeploymentStatus, Incident};
use crate::graph::{AbbrevMatch, CommitGraph, CommitIdx};
use crate::names::{DeploymentId, Environment, IncidentId, ServiceName, Sha, ShaAbbrev};
use crate::pr_links::PrLinks;
use crate::release::Version;
use crate::services::ServiceMembership;

/// Options of the attribution rules.
#[derive(Debug, Clone, Copy)]
pub struct AttributionOptions {
    /// An incident with no explicit deployment or sha is attributed to the latest successful
    /// deployment of its service and environment that finished at most this long before it opened
    /// ([`Self::UNLIMITED_WINDOW`]: however long before).
    pub incident_window: SignedDuration,
    /// Leave out deployments whose commit the history does not contain, instead of failing.
    pub skip_unknown: bool,
}

impl AttributionOptions {
    /// An attribution window with no limit (`--attribution-window none`): an incident belongs to
    /// the latest earlier deployment of its service and environment however long before it
    /// finished, as Apache DevLake attributes incidents.
    pub const UNLIMITED_WINDOW: SignedDuration = SignedDuration::MAX;

    /// Reads an attribution window: a duration (`24h`, `2d`, `3mo`) or `none` for no limit
    /// ([`Self::UNLIMITED_WINDOW`]).
    ///
    /// ```
    /// use shiplog_core::AttributionOptions;
    /// assert_eq!(
    ///     AttributionOptions::parse_window("none").unwrap(),
    ///     AttributionOptions::UNLIMITED_WINDOW
    /// );
    /// assert_eq!(AttributionOptions::parse_window("2h").unwrap().as_secs(), 7200);
    /// assert!(AttributionOptions::parse_window("never").is_err());
    /// ```
    pub fn parse_window(text: &str) -> Result<SignedDuration, crate::window::WindowError> {
        if text.trim().eq_ignore_ascii_case("none") {
            Ok(Self::UNLIMITED_WINDOW)
        } else {
            crate::window::parse_duration(text)
        }
    }
}

impl Default for AttributionOptions {
    fn default() -> Self {
        Self {
            incident_window: SignedDuration::from_hours(24),
            skip_unknown: false,
        }
    }
}

/// Deployments whose commit is not in the history.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} deployment(s) name a commit the repository does not have: {}", .0.len(), list_unknown(.0))]
pub struct UnknownCommits(pub Vec<(DeploymentId, Sha)>);

fn list_unknown(unknown: &[(DeploymentId, Sha)]) -> String {
    let mut text: Vec<String> = unknown
        .iter()
        .take(5)
        .map(|(id, sha)| format!("{id} ({})", sha.short(12)))
        .collect();
    if unknown.len() > 5 {
        text.push(format!("and {} more", unknown.len() - 5));
    }
    text.join(", ")
}

/// Why a deployment counts as failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum FailureReason {
    /// An incident was attributed to it.
    Incident {
        /// The incident (index into [`DeliveryModel::incidents`]).
        incident: usize,
    },
    /// The next deployment of its chain went back to a strict ancestor of its commit.
    RolledBack {
        /// The deployment that rolled it back.
        by: usize,
    },
    /// A later deployment of its chain shipped a revert of one of its changes.
    Reverted {
        /// The change reverted.
        change: Sha,
        /// The commit that reverts it.
        revert: Sha,
        /// The deployment that shipped the revert.
        by: usize,
    },
    /// A later deployment of its chain shipped a pull request that reverts a pull request it shipped.
    RevertedPullRequest {
        /// The pull request reverted (index into [`PrLinks::get`]).
        pull_request: usize,
        /// The revert pull request.
        revert: usize,
        /// The deployment that shipped the revert.
        by: usize,
    },
}

/// Why a deployment counts as unplanned (rework).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum UnplannedReason {
    /// Recorded as unplanned.
    Declared,
    /// It rolled back the previous deployment of its chain.
    Rollback {
        /// The deployment rolled back.
        of: usize,
    },
    /// It shipped a revert of a change an earlier deployment shipped.
    ShipsRevert {
        /// The revert commit.
        revert: Sha,
        /// The change it reverts.
        change: Sha,
        /// The deployment that shipped the change.
        of: usize,
    },
    /// It shipped a pull request that reverts one an earlier deployment shipped.
    ShipsRevertPullRequest {
        /// The revert pull request (index into [`PrLinks::get`]).
        revert: usize,
        /// The pull request it reverts.
        pull_request: usize,
        /// The deployment that shipped the reverted pull request.
        of: usize,
    },
    /// It shipped a hotfix pull request (a hotfix label or branch).
    HotfixPullRequest {
        /// The pull request (index into [`PrLinks::get`]).
        pull_request: usize,
    },
}

/// How a failed deployment was recovered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RecoveryKind {
    /// Its incidents were all resolved.
    IncidentsResolved,
    /// A rollback deployment finished.
    Rollback,
    /// A deployment shipping a revert finished.
    Revert,
}

/// The recovery of a failed deployment: the earliest of its candidate ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recovery {
    /// When service was restored.
    pub at: Timestamp,
    /// Which rule gave that time.
    pub kind: RecoveryKind,
    /// From the failed deployment's finish to `at` (negative only for inconsistent records, which
    /// the metrics leave out and count).
    pub duration: SignedDuration,
}

/// A deployment with everything attribution learned about it.
#[derive(Debug, Clone)]
pub struct AnalyzedDeployment {
    /// The record.
    pub deployment: Deployment,
    /// Its commit in the graph; `None` when it was skipped as unknown.
    pub commit: Option<CommitIdx>,
    /// Its position in its chain (0 = baseline); `None` when not in a chain (failed status or
    /// unknown commit).
    pub chain_position: Option<usize>,
    /// Range of [`DeliveryModel::changes`] this deployment newly shipped.
    pub shipped: std::ops::Range<usize>,
    /// Why it failed; empty when it did not.
    pub failures: Vec<FailureReason>,
    /// Why it is rework; empty when planned.
    pub unplanned: Vec<UnplannedReason>,
    /// How it recovered, when it failed and recovered.
    pub recovery: Option<Recovery>,
}

impl AnalyzedDeployment {
    /// A successful deployment in a chain, i.e. one the metrics count.
    pub fn counts(&self) -> bool {
        self.chain_position.is_some()
    }

    /// The baseline (first) deployment of its chain.
    pub fn is_baseline(&self) -> bool {
        self.chain_position == Some(0)
    }

    /// Whether it failed.
    pub fn failed(&self) -> bool {
        !self.failures.is_empty()
    }
}

/// One commit newly shipped by one deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShippedChange {
    /// The commit. Its deployment is the one whose `shipped` range holds it (see
    /// [`DeliveryModel::shipped_by`]).
    pub commit: CommitIdx,
}

/// Which rule attributed an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "rule", rename_all = "kebab-case")]
pub enum IncidentAttribution {
    /// The record named the deployment.
    ExplicitDeployment {
        /// The deployment (index).
        deployment: usize,
    },
    /// The record named a commit; the first deployment that shipped it.
    Sha {
        /// The deployment (index).
        deployment: usize,
    },
    /// The latest deployment that finished within the attribution window before it opened.
    TimeWindow {
        /// The deployment (index).
        deployment: usize,
    },
    /// Nothing matched.
    Unattributed {
        /// Why not.
        reason: UnattributedReason,
    },
}

impl IncidentAttribution {
    /// The deployment it is attributed to, if any.
    pub fn deployment(&self) -> Option<usize> {
        match *self {
            Self::ExplicitDeployment { deployment }
            | Self::Sha { deployment }
            | Self::TimeWindow { deployment } => Some(deployment),
            Self::Unattributed { .. } => None,
        }
    }
}

/// Why an incident is attributed to no deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "why", rename_all = "kebab-case")]
pub enum UnattributedReason {
    /// Its `deployment_id` names no known deployment.
    UnknownDeployment {
        /// The id given.
        id: DeploymentId,
    },
    /// Its `deployment_id` names a deployment that did not succeed or was skipped.
    DeploymentNotCounted {
        /// The id given.
        id: DeploymentId,
    },
    /// Its `sha` is not in the history.
    UnknownSha {
        /// The sha given.
        sha: Sha,
    },
    /// No deployment of its service and environment shipped its `sha`.
    ShaNotShipped {
        /// The sha given.
        sha: Sha,
    },
    /// No deployment of its service and environment finished within the window before it opened.
    NoDeploymentInWindow,
}

/// An incident with its attribution.
#[derive(Debug, Clone)]
pub struct AnalyzedIncident {
    /// The record.
    pub incident: Incident,
    /// Which deployment it belongs to, and by which rule.
    pub attribution: IncidentAttribution,
}

/// The result of attribution over all deployments and incidents.
#[derive(Debug, Clone, Default)]
pub struct DeliveryModel {
    /// Every deployment, ordered by finish time then id.
    pub deployments: Vec<AnalyzedDeployment>,
    /// Every newly shipped change; each deployment's are contiguous (see `shipped`).
    pub changes: Vec<ShippedChange>,
    /// Every incident, ordered by opening time then id.
    pub incidents: Vec<AnalyzedIncident>,
    /// Deployments left out because their commit is unknown (only with `skip_unknown`).
    pub skipped_unknown: Vec<(DeploymentId, Sha)>,
    /// Successful deployments left out of every metric because they finished before their
    /// commit's committer time (see [`crate::event::BeforeCommit`]): each one's index into
    /// `deployments` (ascending) and its commit's committer time.
    pub before_commit: Vec<(usize, Timestamp)>,
    /// Incidents left out because another source reported the same outage, each with the id of the
    /// incident that counts instead (see [`crate::duplicates`]).
    pub duplicate_incidents: Vec<(Incident, IncidentId)>,
    /// Pull requests and the changes they own (empty without pull-request data).
    pub pull_requests: PrLinks,
    /// Revert messages shipped by a deployment whose reference names no single commit of the
    /// history: they fail nothing, and `explain failures` lists them.
    pub unresolved_reverts: Vec<UnresolvedRevert>,
}

/// A `This reverts commit <ref>` line that names no single commit of the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnresolvedRevert {
    /// The deployment (an index into [`DeliveryModel::deployments`]) that shipped the revert.
    pub deployment: usize,
    /// The commit whose message holds the reference.
    pub revert: Sha,
    /// The reference as written.
    pub reference: ShaAbbrev,
    /// How many commits of the history start with it: 0 (a commit this history lacks, such as one
    /// rewritten away or from another repository) or 2 and more (ambiguous: more characters needed).
    pub names: usize,
}

/// What attribution can use beyond deployments and incidents.
#[derive(Debug, Clone, Default)]
pub struct AttributionInputs<'a> {
    /// Which services each commit belongs to (monorepo path globs); `None`: every commit belongs
    /// to every service.
    pub membership: Option<&'a ServiceMembership>,
    /// Pull requests linked to the history.
    pub pull_requests: PrLinks,
    /// The commit of each deployment, in the order the deployments are given, when the caller has
    /// looked them up already (reading history does): each is checked against its deployment's sha,
    /// which costs less than finding it again. Empty, or of another length: attribution looks the
    /// commits up itself.
    pub commits: Vec<Option<CommitIdx>>,
}

impl DeliveryModel {
    /// Index of the deployment with this id.
    pub fn deployment_index(&self, id: &DeploymentId) -> Option<usize> {
        self.deployments.iter().position(|d| &d.deployment.id == id)
    }

    /// The changes newly shipped by deployment `index`.
    pub fn shipped_by(&self, index: usize) -> &[ShippedChange] {
        &self.changes[self.deployments[index].shipped.clone()]
    }
}

/// A commit no deployment of the chain has reached; other marks name the deployment that first
/// reached the commit. (Not 0, with marks one more than the deployment: zeroed memory is faulted
/// in twice by the walk's read-then-write, once is cheaper.)
const UNMARKED: u32 = u32::MAX;

/// Runs attribution. See the module docs for the rules.
pub fn attribute(
    graph: &CommitGraph,
    deployments: Vec<Deployment>,
    incidents: Vec<Incident>,
    options: AttributionOptions,
) -> Result<DeliveryModel, UnknownCommits> {
    attribute_with(
        graph,
        deployments,
        incidents,
        options,
        AttributionInputs::default(),
    )
}

/// Runs attribution with service membership and pull requests. See the module docs for the rules.
pub fn attribute_with(
    graph: &CommitGraph,
    deployments: Vec<Deployment>,
    incidents: Vec<Incident>,
    options: AttributionOptions,
    inputs: AttributionInputs<'_>,
) -> Result<DeliveryModel, UnknownCommits> {
    let AttributionInputs {
        membership,
        pull_requests,
        commits,
    } = inputs;
    let mut deployments = deployments;
    let use_given = commits.len() == deployments.len();
    let mut commits: Vec<Option<CommitIdx>> = deployments
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let given = use_given.then(|| commits[i]).flatten();
            given
                .filter(|&c| (c as usize) < graph.len() && graph.sha(c) == d.sha)
                .or_else(|| graph.find(&d.sha))
        })
        .collect();
    // Deployment order: by finish time, then id, then position (as a stable sort). Positions are
    // sorted by compact keys, and the (large) records then moved into place.
    // Tags carry a version: tags of a chain finishing at the same time are ordered by it.
    let mut versions: Vec<Option<Version>> = deployments.iter().map(tag_version).collect();
    let mut keys: Vec<(Timestamp, usize)> = deployments
        .iter()
        .enumerate()
        .map(|(i, d)| (d.finished_at, i))
        .collect();
    keys.sort_unstable_by(|&(at_a, a), &(at_b, b)| {
        at_a.cmp(&at_b)
            .then_with(|| match (&versions[a], &versions[b]) {
                (Some(va), Some(vb)) => va.cmp(vb),
                _ => std::cmp::Ordering::Equal,
            })
            .then_with(|| deployments[a].id.cmp(&deployments[b].id))
            .then(a.cmp(&b))
    });
    let mut order: Vec<usize> = keys.into_iter().map(|(_, i)| i).collect();
    let versions: Vec<Option<Version>> = order.iter().map(|&i| versions[i].take()).collect();
    permute(&mut deployments, &mut commits, &mut order);
    let (mut incidents, duplicate_incidents) = crate::duplicates::split_duplicates(incidents);
    incidents.sort_by(|a, b| (a.opened_at, &a.id).cmp(&(b.opened_at, &b.id)));

    let mut unknown = Vec::new();
    let mut model = DeliveryModel {
        deployments: Vec::with_capacity(deployments.len()),
        duplicate_incidents,
        ..DeliveryModel::default()
    };
    for (deployment, commit) in deployments.into_iter().zip(commits) {
        if commit.is_none() && deployment.status == DeploymentStatus::Success {
            unknown.push((deployment.id.clone(), deployment.sha));
        }
        let unplanned = if deployment.unplanned {
            vec![UnplannedReason::Declared]
        } else {
            Vec::new()
        };
        model.deployments.push(AnalyzedDeployment {
            deployment,
            commit,
            chain_position: None,
            shipped: 0..0,
            failures: Vec::new(),
            unplanned,
            recovery: None,
        });
    }
    if !unknown.is_empty() && !options.skip_unknown {
        return Err(UnknownCommits(unknown));
    }
    model.skipped_unknown = unknown;

    // Chains: counted deployments grouped by (service, environment), each in deployment order
    // (the sort is stable and the deployments are already in order).
    // A successful deployment that finished before its commit's committer time is left out of
    // its chain (it would take the whole history it reaches as its baseline) and listed.
    model.before_commit = (0..model.deployments.len())
        .filter_map(|i| {
            let d = &model.deployments[i];
            if d.deployment.status != DeploymentStatus::Success {
                return None;
            }
            let commit = d.commit?;
            crate::event::BeforeCommit::check(
                d.deployment.finished_at,
                graph.committer_time(commit),
            )
            .err()
            .map(|e| (i, e.committer_time))
        })
        .collect();
    let mut counted: Vec<usize> = (0..model.deployments.len())
        .filter(|&i| {
            let d = &model.deployments[i];
            d.deployment.status == DeploymentStatus::Success
                && d.commit.is_some()
                && model
                    .before_commit
                    .binary_search_by_key(&i, |&(d, _)| d)
                    .is_err()
        })
        .collect();
    let key = |i: usize| {
        let d = &model.deployments[i].deployment;
        (&d.service, &d.environment)
    };
    counted.sort_by(|&a, &b| key(a).cmp(&key(b)));
    // Each chain lists its deployments with their commits (counted ones have one).
    let mut chains: Vec<((ServiceName, Environment), Vec<ChainLink>)> = Vec::new();
    for group in counted.chunk_by(|&a, &b| key(a) == key(b)) {
        let (service, environment) = key(group[0]);
        let chain = group
            .iter()
            .filter_map(|&d| Some((d, model.deployments[d].commit?)))
            .collect();
        chains.push(((service.clone(), environment.clone()), chain));
    }

    // Incidents grouped by chain key for the sha and time-window rules.
    let mut incident_attr: Vec<Option<IncidentAttribution>> = vec![None; incidents.len()];
    let by_id: HashMap<&DeploymentId, usize> =
        if incidents.iter().any(|i| i.deployment_id.is_some()) {
            model
                .deployments
                .iter()
                .enumerate()
                .map(|(i, d)| (&d.deployment.id, i))
                .collect()
        } else {
            HashMap::new()
        };
    for (k, incident) in incidents.iter().enumerate() {
        if let Some(id) = &incident.deployment_id {
            incident_attr[k] = Some(match by_id.get(id) {
                Some(&i)
                    if model.deployments[i].deployment.status == DeploymentStatus::Success
                        && model.deployments[i].commit.is_some() =>
                {
                    IncidentAttribution::ExplicitDeployment { deployment: i }
                }
                Some(_) => IncidentAttribution::Unattributed {
                    reason: UnattributedReason::DeploymentNotCounted { id: id.clone() },
                },
                None => IncidentAttribution::Unattributed {
                    reason: UnattributedReason::UnknownDeployment { id: id.clone() },
                },
            });
        }
    }
    drop(by_id);

    // Revert commits whose reverted change is in the history: (revert, reverted sha, its index).
    // An abbreviated reference counts when exactly one commit starts with it; the others are
    // kept for `explain failures`.
    let mut reverts: Vec<(CommitIdx, Sha, CommitIdx)> = Vec::new();
    let mut unresolved: Vec<(CommitIdx, ShaAbbrev, usize)> = Vec::new();
    for &(c, reference) in graph.all_reverts() {
        match graph.find_abbrev(&reference) {
            AbbrevMatch::Unique(t) => reverts.push((c, graph.sha(t), t)),
            AbbrevMatch::Ambiguous(n) => unresolved.push((c, reference, n)),
            AbbrevMatch::Unknown => unresolved.push((c, reference, 0)),
        }
    }
    let mut mark = vec![UNMARKED; graph.len()];
    let mark_of = |d: usize| d as u32;
    let mut stack: Vec<CommitIdx> = Vec::new();
    let parents = graph.parent_lists();
    // Each deployment's newly shipped changes are written contiguously as it is walked. A chain
    // ships each commit at most once: room for one chain's worth, made once.
    let mut changes: Vec<ShippedChange> = Vec::with_capacity(graph.len());

    for (chain_number, ((service, environment), chain)) in chains.iter().enumerate() {
        if chain_number > 0 {
            // The previous chain's marks; clearing them all costs less than the walk that set them.
            mark.fill(UNMARKED);
        }
        // The service's bit when it has path globs: only its commits are its changes.
        let bit = membership.and_then(|m| m.bit(service).map(|b| (m, b)));
        let belongs = |c: CommitIdx| bit.is_none_or(|(m, b)| m.belongs(c, b));
        // 1. Newly shipped changes, one walk per deployment.
        for (position, &(d, tip)) in chain.iter().enumerate() {
            model.deployments[d].chain_position = Some(position);
            let start = changes.len();
            if mark[tip as usize] == UNMARKED {
                mark[tip as usize] = mark_of(d);
                // Depth first. The walk goes on with the last parent it would push (the one the
                // stack would give back next), so a linear stretch of history never touches the
                // stack; the order is that of pushing every parent.
                let mut next = Some(tip);
                while let Some(c) = next.take().or_else(|| stack.pop()) {
                    if belongs(c) {
                        changes.push(ShippedChange { commit: c });
                    }
                    for &p in parents.of(c) {
                        if mark[p as usize] == UNMARKED {
                            mark[p as usize] = mark_of(d);
                            if let Some(earlier) = next.replace(p) {
                                stack.push(earlier);
                            }
                        }
                    }
                }
            }
            model.deployments[d].shipped = start..changes.len();
        }

        // 2. Rollbacks: the next deployment went back to a strict ancestor. (Its commit then
        // carries an earlier deployment's mark: a deployment that reached new commits marked its
        // own.)
        // Tags with versions: only a version above every one deployed before can be a rollback;
        // a lower one is a maintenance or backfilled release.
        let mut highest: Option<&Version> = chain.first().and_then(|&(d, _)| versions[d].as_ref());
        for pair in chain.windows(2) {
            let ((prev, prev_commit), (next, next_commit)) = (pair[0], pair[1]);
            let version_allows = match (&versions[next], highest) {
                (Some(v), Some(top)) => v > top,
                _ => true,
            };
            if let Some(v) = &versions[next]
                && highest.is_none_or(|top| v > top)
            {
                highest = Some(v);
            }
            if version_allows
                && mark[next_commit as usize] != mark_of(next)
                && graph.is_strict_ancestor(next_commit, prev_commit)
            {
                model.deployments[prev]
                    .failures
                    .push(FailureReason::RolledBack { by: next });
                model.deployments[next]
                    .unplanned
                    .push(UnplannedReason::Rollback { of: prev });
            }
        }

        // 3. Reverts shipped by a later deployment of the chain than the change they revert.
        for &(revert_commit, reverted, target) in &reverts {
            let (m, j) = (mark[revert_commit as usize], mark[target as usize]);
            if m == UNMARKED || j == UNMARKED || !belongs(target) {
                continue;
            }
            let (m, j) = (m as usize, j as usize);
            if model.deployments[j].chain_position < model.deployments[m].chain_position {
                let revert = graph.sha(revert_commit);
                model.deployments[j].failures.push(FailureReason::Reverted {
                    change: reverted,
                    revert,
                    by: m,
                });
                model.deployments[m]
                    .unplanned
                    .push(UnplannedReason::ShipsRevert {
                        revert,
                        change: reverted,
                        of: j,
                    });
            }
        }

        for &(revert_commit, reference, names) in &unresolved {
            let m = mark[revert_commit as usize];
            if m != UNMARKED && belongs(revert_commit) {
                model.unresolved_reverts.push(UnresolvedRevert {
                    deployment: m as usize,
                    revert: graph.sha(revert_commit),
                    reference,
                    names,
                });
            }
        }

        // 3b. Pull requests: hotfixes, and reverts of pull requests, by the deployments that first
        // reached their merge commits.
        if !pull_requests.is_empty() {
            let shipped_by = |pr: usize| -> Option<usize> {
                let c = pull_requests.get(pr).merge_commit?;
                let d = mark[c as usize];
                (d != UNMARKED && belongs(c)).then_some(d as usize)
            };
            for (p, pr) in pull_requests.all().iter().enumerate() {
                let Some(m) = shipped_by(p) else {
                    continue;
                };
                if model.deployments[m].is_baseline() {
                    continue;
                }
                if pr.facts.hotfix {
                    model.deployments[m]
                        .unplanned
                        .push(UnplannedReason::HotfixPullRequest { pull_request: p });
                }
                if let Some(target) = pr.reverts
                    && let Some(j) = shipped_by(target)
                    && model.deployments[j].chain_position < model.deployments[m].chain_position
                {
                    model.deployments[j]
                        .failures
                        .push(FailureReason::RevertedPullRequest {
                            pull_request: target,
                            revert: p,
                            by: m,
                        });
                    model.deployments[m]
                        .unplanned
                        .push(UnplannedReason::ShipsRevertPullRequest {
                            revert: p,
                            pull_request: target,
                            of: j,
                        });
                }
            }
        }

        // 4. Incidents of this service and environment by sha, then by time window.
        for (k, incident) in incidents.iter().enumerate() {
            if incident_attr[k].is_some()
                || &incident.service != service
                || &incident.environment != environment
            {
                continue;
            }
            let attribution = if let Some(sha) = incident.sha {
                by_sha(graph, sha, |t| {
                    let d = mark[t as usize];
                    (d != UNMARKED).then_some(d as usize)
                })
            } else {
                latest_before(&model, chain, incident.opened_at, options.incident_window)
                    .map(|deployment| IncidentAttribution::TimeWindow { deployment })
                    .unwrap_or(IncidentAttribution::Unattributed {
                        reason: UnattributedReason::NoDeploymentInWindow,
                    })
            };
            incident_attr[k] = Some(attribution);
        }
    }

    // Incidents whose service and environment have no chain at all.
    model.incidents = incidents
        .into_iter()
        .zip(incident_attr)
        .map(|(incident, attribution)| {
            let attribution = attribution.unwrap_or_else(|| match incident.sha {
                Some(sha) => by_sha(graph, sha, |_| None),
                None => IncidentAttribution::Unattributed {
                    reason: UnattributedReason::NoDeploymentInWindow,
                },
            });
            AnalyzedIncident {
                incident,
                attribution,
            }
        })
        .collect();
    for (k, analyzed) in model.incidents.iter().enumerate() {
        if let Some(d) = analyzed.attribution.deployment() {
            model.deployments[d]
                .failures
                .push(FailureReason::Incident { incident: k });
        }
    }

    model.changes = changes;
    model.pull_requests = pull_requests;

    for d in 0..model.deployments.len() {
        model.deployments[d].recovery = recovery_of(&model, d);
    }
    Ok(model)
}

/// Reorders `items` and `with` alike so that position `k` holds what was at `order[k]`, in place
/// (following the permutation's cycles). `order` is used up.
fn permute<A, B>(items: &mut [A], with: &mut [B], order: &mut [usize]) {
    const DONE: usize = usize::MAX;
    for start in 0..order.len() {
        let mut at = start;
        while order[at] != DONE {
            let from = order[at];
            order[at] = DONE;
            if from == start {
                break;
            }
            items.swap(at, from);
            with.swap(at, from);
            at = from;
        }
    }
}

/// The version of a deployment derived from a tag (`tag:NAME` read by
/// [`crate::release::parse_tag`]); recorded deployments have none and keep the plain rules.
fn tag_version(d: &Deployment) -> Option<Version> {
    if d.source != crate::event::DeploymentSource::GitTag {
        return None;
    }
    let name = d.id.as_str().strip_prefix("tag:")?;
    crate::release::parse_tag(name).map(|r| r.version)
}

/// The sha rule: an incident naming commit `sha` belongs to the deployment that first shipped it
/// (`shipped_by`, asked for the commit's index), else it is unattributed, saying why.
fn by_sha(
    graph: &CommitGraph,
    sha: Sha,
    shipped_by: impl Fn(CommitIdx) -> Option<usize>,
) -> IncidentAttribution {
    match graph.find(&sha) {
        None => IncidentAttribution::Unattributed {
            reason: UnattributedReason::UnknownSha { sha },
        },
        Some(t) => match shipped_by(t) {
            Some(deployment) => IncidentAttribution::Sha { deployment },
            None => IncidentAttribution::Unattributed {
                reason: UnattributedReason::ShaNotShipped { sha },
            },
        },
    }
}

/// A deployment of a chain (index into [`DeliveryModel::deployments`]) and its commit.
type ChainLink = (usize, CommitIdx);

/// The latest deployment of `chain` that finished at or before `opened_at`, within `window`.
fn latest_before(
    model: &DeliveryModel,
    chain: &[ChainLink],
    opened_at: Timestamp,
    window: SignedDuration,
) -> Option<usize> {
    let after =
        chain.partition_point(|&(d, _)| model.deployments[d].deployment.finished_at <= opened_at);
    let &(d, _) = chain.get(after.checked_sub(1)?)?;
    let gap = opened_at.duration_since(model.deployments[d].deployment.finished_at);
    (gap <= window).then_some(d)
}

/// The earliest recovery of a failed deployment, if it has recovered.
fn recovery_of(model: &DeliveryModel, d: usize) -> Option<Recovery> {
    let deployment = &model.deployments[d];
    if deployment.failures.is_empty() {
        return None;
    }
    let mut candidates: Vec<(Timestamp, RecoveryKind)> = Vec::new();
    let mut incident_ends = Vec::new();
    let mut all_resolved = true;
    for reason in &deployment.failures {
        match *reason {
            FailureReason::Incident { incident } => {
                match model.incidents[incident].incident.resolved_at {
                    Some(at) => incident_ends.push(at),
                    None => all_resolved = false,
                }
            }
            FailureReason::RolledBack { by } => candidates.push((
                model.deployments[by].deployment.finished_at,
                RecoveryKind::Rollback,
            )),
            FailureReason::Reverted { by, .. } | FailureReason::RevertedPullRequest { by, .. } => {
                candidates.push((
                    model.deployments[by].deployment.finished_at,
                    RecoveryKind::Revert,
                ));
            }
        }
    }
    if all_resolved && let Some(&last) = incident_ends.iter().max() {
        candidates.push((last, RecoveryKind::IncidentsResolved));
    }
    let (at, kind) = candidates.into_iter().min_by_key(|&(at, _)| at)?;
    Some(Recovery {
        at,
        kind,
        duration: at.duration_since(deployment.deployment.finished_at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::DeploymentSource;
    use crate::graph::NewCommit;

    pub(crate) fn sha(n: u32) -> Sha {
        let mut b = [0u8; 20];
        b[..4].copy_from_slice(&n.to_be_bytes());
        Sha::from_bytes(b)
    }

    fn ts(hours: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + hours * 3600).unwrap()
    }

    fn graph(parents: &[&[u32]], reverts: &[(u32, u32)]) -> CommitGraph {
        let mut g = CommitGraph::new();
        for (i, ps) in parents.iter().enumerate() {
            let rev: Vec<ShaAbbrev> = reverts
                .iter()
                .filter(|(c, _)| *c as usize == i)
                .map(|&(_, t)| sha(t).into())
                .collect();
            g.push(NewCommit {
                sha: sha(i as u32),
                parents: ps,
                author_time: 1_700_000_000 + i as i64 * 60,
                // Committed long before the test deployments finish (a deployment before its
                // commit is left out of its chain).
                committer_time: 1_600_000_000 + i as i64 * 60,
                reverts: &rev,
                shallow: false,
            })
            .unwrap();
        }
        g.close_run();
        g
    }

    fn deploy(id: &str, commit: u32, hours: i64) -> Deployment {
        Deployment {
            id: DeploymentId::new(id).unwrap(),
            service: ServiceName::new("api").unwrap(),
            environment: Environment::production(),
            sha: sha(commit),
            finished_at: ts(hours),
            started_at: None,
            status: DeploymentStatus::Success,
            unplanned: false,
            source: DeploymentSource::Recorded,
            recorded_by: None,
        }
    }

    fn incident(id: &str, hours: i64, resolved: Option<i64>) -> Incident {
        Incident {
            id: crate::names::IncidentId::new(id).unwrap(),
            service: ServiceName::new("api").unwrap(),
            environment: Environment::production(),
            opened_at: ts(hours),
            resolved_at: resolved.map(ts),
            deployment_id: None,
            sha: None,
            title: None,
            duplicate_of: None,
        }
    }

    fn shipped(model: &DeliveryModel, id: &str) -> Vec<u32> {
        let d = model
            .deployment_index(&DeploymentId::new(id).unwrap())
            .unwrap();
        let mut v: Vec<u32> = model.shipped_by(d).iter().map(|c| c.commit).collect();
        v.sort_unstable();
        v
    }

    /// The module doc's example: a deployment finished before its commit is in no chain, so it
    /// neither becomes the baseline nor takes the changes of the deployments after it.
    #[test]
    fn a_deployment_before_its_commit_is_left_out_and_listed() {
        // a ← b ← c, committed (by `graph`) long before D1 and D2 finish.
        let g = graph(&[&[], &[0], &[1]], &[]);
        let mut early = deploy("D0", 2, 0);
        early.finished_at = Timestamp::UNIX_EPOCH;
        let deployments = vec![early, deploy("D1", 1, 1), deploy("D2", 2, 2)];
        let model = attribute_with(
            &g,
            deployments,
            Vec::new(),
            AttributionOptions::default(),
            AttributionInputs::default(),
        )
        .unwrap();
        let d0 = model
            .deployment_index(&DeploymentId::new("D0").unwrap())
            .unwrap();
        assert_eq!(
            model.before_commit,
            vec![(d0, Timestamp::from_second(1_600_000_120).unwrap())]
        );
        assert!(!model.deployments[d0].counts());
        assert_eq!(shipped(&model, "D0"), Vec::<u32>::new());
        assert_eq!(shipped(&model, "D1"), vec![0, 1], "D1 is the baseline");
        assert_eq!(shipped(&model, "D2"), vec![2], "D2 still ships c");
    }

    #[test]
    fn module_doc_example_rollback() {
        let g = graph(&[&[], &[0], &[1], &[2]], &[]);
        let model = attribute(
            &g,
            vec![deploy("D1", 1, 0), deploy("D2", 3, 10), deploy("D3", 2, 12)],
            vec![],
            AttributionOptions::default(),
        )
        .unwrap();
        assert_eq!(shipped(&model, "D1"), [0, 1]);
        assert_eq!(shipped(&model, "D2"), [2, 3]);
        assert!(shipped(&model, "D3").is_empty());
        assert!(model.deployments[0].is_baseline());
        assert_eq!(
            model.deployments[1].failures,
            [FailureReason::RolledBack { by: 2 }]
        );
        assert_eq!(
            model.deployments[2].unplanned,
            [UnplannedReason::Rollback { of: 1 }]
        );
        let recovery = model.deployments[1].recovery.unwrap();
        assert_eq!(recovery.kind, RecoveryKind::Rollback);
        assert_eq!(recovery.duration, SignedDuration::from_hours(2));
    }

    #[test]
    fn redeploy_after_rollback_ships_nothing_again() {
        let g = graph(&[&[], &[0], &[1]], &[]);
        let model = attribute(
            &g,
            vec![
                deploy("D1", 1, 0),
                deploy("D2", 2, 1),
                deploy("D3", 1, 2),
                deploy("D4", 2, 3),
            ],
            vec![],
            AttributionOptions::default(),
        )
        .unwrap();
        assert_eq!(shipped(&model, "D2"), [2]);
        assert!(shipped(&model, "D4").is_empty());
        assert!(model.deployments[1].failed());
        assert!(!model.deployments[3].failed());
        assert!(model.deployments[3].unplanned.is_empty());
    }

    #[test]
    fn reverts_fail_the_deployment_that_shipped_the_change() {
        // 0 <- 1 <- 2 (reverts 1)
        let g = graph(&[&[], &[0], &[1]], &[(2, 1)]);
        let model = attribute(
            &g,
            vec![deploy("D1", 0, 0), deploy("D2", 1, 5), deploy("D3", 2, 8)],
            vec![],
            AttributionOptions::default(),
        )
        .unwrap();
        assert_eq!(
            model.deployments[1].failures,
            [FailureReason::Reverted {
                change: sha(1),
                revert: sha(2),
                by: 2
            }]
        );
        assert_eq!(
            model.deployments[2].unplanned,
            [UnplannedReason::ShipsRevert {
                revert: sha(2),
                change: sha(1),
                of: 1
            }]
        );
        assert_eq!(
            model.deployments[1].recovery.unwrap().duration,
            SignedDuration::from_hours(3)
        );
    }

    #[test]
    fn a_revert_shipped_with_its_change_is_no_failure() {
        let g = graph(&[&[], &[0], &[1]], &[(2, 1)]);
        let model = attribute(
            &g,
            vec![deploy("D1", 0, 0), deploy("D2", 2, 5)],
            vec![],
            AttributionOptions::default(),
        )
        .unwrap();
        assert!(model.deployments.iter().all(|d| !d.failed()));
        assert!(model.deployments.iter().all(|d| d.unplanned.is_empty()));
    }

    #[test]
    fn incidents_follow_explicit_sha_and_window_rules() {
        let g = graph(&[&[], &[0], &[1], &[2]], &[]);
        let mut explicit = incident("explicit", 30, Some(31));
        explicit.deployment_id = Some(DeploymentId::new("D1").unwrap());
        let mut by_sha = incident("by-sha", 30, None);
        by_sha.sha = Some(sha(2));
        let mut unknown_sha = incident("unknown-sha", 30, None);
        unknown_sha.sha = Some(sha(99));
        let in_window = incident("in-window", 20 + 24, Some(50));
        let outside = incident("outside", 20 + 25, None);
        let before_any = incident("before-any", -1, None);
        let mut unknown_id = incident("unknown-id", 30, None);
        unknown_id.deployment_id = Some(DeploymentId::new("nope").unwrap());
        let model = attribute(
            &g,
            vec![deploy("D1", 1, 0), deploy("D2", 2, 10), deploy("D3", 3, 20)],
            vec![
                explicit,
                by_sha,
                unknown_sha,
                in_window,
                outside,
                before_any,
                unknown_id,
            ],
            AttributionOptions::default(),
        )
        .unwrap();
        let rule = |id: &str| {
            model
                .incidents
                .iter()
                .find(|i| i.incident.id.as_str() == id)
                .unwrap()
                .attribution
                .clone()
        };
        assert_eq!(
            rule("explicit"),
            IncidentAttribution::ExplicitDeployment { deployment: 0 }
        );
        assert_eq!(rule("by-sha"), IncidentAttribution::Sha { deployment: 1 });
        assert_eq!(
            rule("unknown-sha"),
            IncidentAttribution::Unattributed {
                reason: UnattributedReason::UnknownSha { sha: sha(99) }
            }
        );
        assert_eq!(
            rule("in-window"),
            IncidentAttribution::TimeWindow { deployment: 2 }
        );
        for id in ["outside", "before-any"] {
            assert_eq!(
                rule(id),
                IncidentAttribution::Unattributed {
                    reason: UnattributedReason::NoDeploymentInWindow
                }
            );
        }
        assert!(matches!(
            rule("unknown-id"),
            IncidentAttribution::Unattributed {
                reason: UnattributedReason::UnknownDeployment { .. }
            }
        ));
        // D1 recovered when its incident resolved, one hour after opening at +30h.
        assert_eq!(
            model.deployments[0].recovery.unwrap().duration,
            SignedDuration::from_hours(31)
        );
        // D2's incident is unresolved: failed, not recovered.
        assert!(model.deployments[1].failed());
        assert!(model.deployments[1].recovery.is_none());
        assert_eq!(
            model.deployments[2].recovery.unwrap().duration,
            SignedDuration::from_hours(30)
        );
    }

    #[test]
    fn unknown_commits_are_errors_unless_skipped() {
        let g = graph(&[&[]], &[]);
        let deployments = vec![deploy("D1", 0, 0), deploy("D2", 7, 1)];
        let err = attribute(
            &g,
            deployments.clone(),
            vec![],
            AttributionOptions::default(),
        )
        .unwrap_err();
        assert_eq!(err.0, vec![(DeploymentId::new("D2").unwrap(), sha(7))]);
        assert!(err.to_string().contains("D2 (000000070000)"));
        let model = attribute(
            &g,
            deployments,
            vec![],
            AttributionOptions {
                skip_unknown: true,
                ..AttributionOptions::default()
            },
        )
        .unwrap();
        assert_eq!(model.skipped_unknown.len(), 1);
        assert!(!model.deployments[1].counts());
    }

    #[test]
    fn chains_are_separate_per_service_and_environment() {
        let g = graph(&[&[], &[0], &[1]], &[]);
        let mut staging = deploy("S1", 2, 0);
        staging.environment = Environment::new("staging").unwrap();
        let model = attribute(
            &g,
            vec![staging, deploy("P1", 1, 1), deploy("P2", 2, 2)],
            vec![],
            AttributionOptions::default(),
        )
        .unwrap();
        assert_eq!(shipped(&model, "S1"), [0, 1, 2]);
        assert_eq!(shipped(&model, "P1"), [0, 1]);
        assert_eq!(shipped(&model, "P2"), [2]);
        assert!(model.deployments[0].is_baseline());
        assert!(model.deployments[1].is_baseline());
    }

    #[test]
    fn permute_follows_every_cycle() {
        // Position k receives what was at order[k].
        let order = [3usize, 0, 4, 1, 2, 5, 7, 6];
        let mut items: Vec<char> = "abcdefgh".chars().collect();
        let mut with: Vec<usize> = (0..8).collect();
        permute(&mut items, &mut with, &mut order.clone());
        assert_eq!(items.iter().collect::<String>(), "daebcfhg");
        assert_eq!(with, order);
    }

    #[test]
    fn changes_come_in_the_order_of_a_plain_depth_first_walk() {
        // Merges, an octopus and a shared ancestor, so that several parents are pending at once.
        let parents: &[&[u32]] = &[
            &[],
            &[0],
            &[0],
            &[1, 2],
            &[3],
            &[3],
            &[4, 5, 1],
            &[6],
            &[2],
            &[7, 8],
        ];
        let g = graph(parents, &[]);
        let model = attribute(
            &g,
            vec![deploy("D1", 4, 0), deploy("D2", 9, 1)],
            vec![],
            AttributionOptions::default(),
        )
        .unwrap();
        // The walk as first written: push every unmarked parent, pop the last.
        let mut expected = Vec::new();
        let mut mark = [false; 10];
        for tip in [4u32, 9] {
            let mut stack = vec![tip];
            mark[tip as usize] = true;
            while let Some(c) = stack.pop() {
                expected.push(c);
                for &p in parents[c as usize] {
                    if !mark[p as usize] {
                        mark[p as usize] = true;
                        stack.push(p);
                    }
                }
            }
        }
        let got: Vec<u32> = model.changes.iter().map(|c| c.commit).collect();
        assert_eq!(got, expected);
    }
}
