//! Definition presets: the same records measured the way a peer tool measures them.
//!
//! Teams move to shiplog from Apache DevLake, Google's Four Keys or GitLab's DORA dashboards, or
//! compare with one, and the first question is why the numbers differ. Most of the difference is
//! definitions, not data: which deployment an incident belongs to, whether a change fail rate
//! counts failed deployments or incidents, whether lead time starts at the first commit or at the
//! merge. A [`Definitions`] preset reproduces one peer's documented definitions over shiplog's
//! attributed [`DeliveryModel`], so the same store gives the peer's numbers, and
//! [`compare`] lists item by item where two presets part ways.
//!
//! | preset | deployment frequency | lead time | change fail rate | recovery time |
//! |---|---|---|---|---|
//! | `dora` (default) | deployments | per change: first commit → first deployment | failed deployments (incident, rollback, revert) ÷ deployments | failed deployment → earliest recovery |
//! | `devlake` | deployment *days* | per pull request: first commit → deployment of its merge commit | deployments with an incident ÷ deployments; an incident belongs to the latest deployment that finished before it opened, however long before | per incident: its deployment → its resolution |
//! | `four-keys` | deployments | per commit of the deploying push: commit → deployment (under a minute left out) | deployments whose push holds an incident's root-cause commit ÷ deployments | per incident: opening → resolution |
//! | `gitlab` | deployments | per merge request: merge → deployment of its merge commit | incidents ÷ deployments | per incident: opening → resolution |
//!
//! Tiny example (the whole of one service): deployments D1 (baseline), D2 and D3 finish on Jan 5,
//! Jan 6 at 10:00 and Jan 6 at 12:00; D3 rolls D2 back; incident I opens on Jan 8, resolved 2 h
//! later, with no deployment named. Under `dora` (24 h window) I belongs to nothing and D2 failed
//! (rolled back): change fail rate 1 ÷ 3. Under `devlake` I belongs to D3, the latest earlier
//! deployment, rollbacks are no failures: 1 ÷ 3 again but for D3, and the frequency counts 2
//! deployment days. Under `gitlab` it is 1 incident ÷ 3 deployments. docs/metrics.md has each
//! preset with its source and a worked example checked by the test suite.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::attribution::{DeliveryModel, FailureReason};
use crate::graph::{CommitGraph, CommitIdx};
use crate::metrics::{
    ChangeFailRate, DoraMetrics, DurationBand, FrequencyBand, LeadTimeStart, RecoveryTime, Scope,
    compute,
};
use crate::names::ServiceName;
use crate::stats::summarize;

/// Whose definitions the metrics follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Definitions {
    /// dora.dev's, as shiplog implements them (docs/metrics.md).
    #[default]
    Dora,
    /// Apache DevLake's DORA plugin and dashboards.
    Devlake,
    /// Google's Four Keys (dora-team/fourkeys).
    FourKeys,
    /// GitLab's DORA metrics (Ultimate's analytics and `/dora/metrics` API).
    Gitlab,
}

impl Definitions {
    /// Every preset, in documentation order.
    pub const ALL: [Definitions; 4] = [
        Definitions::Dora,
        Definitions::Devlake,
        Definitions::FourKeys,
        Definitions::Gitlab,
    ];

    /// The name used on the command line and in shiplog.toml.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dora => "dora",
            Self::Devlake => "devlake",
            Self::FourKeys => "four-keys",
            Self::Gitlab => "gitlab",
        }
    }

    /// Whether these are the default definitions (not written in JSON output).
    pub fn is_dora(&self) -> bool {
        *self == Self::Dora
    }
}

impl fmt::Display for Definitions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A preset name that is none of [`Definitions::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected one of dora, devlake, four-keys or gitlab, got {0:?}")]
pub struct UnknownDefinitions(pub String);

impl FromStr for Definitions {
    type Err = UnknownDefinitions;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        Self::ALL
            .into_iter()
            .find(|d| d.as_str().eq_ignore_ascii_case(text))
            .ok_or_else(|| UnknownDefinitions(text.to_owned()))
    }
}

/// One lead-time value of a preset, for one change (a commit) and the deployment that measured it.
#[derive(Debug, Clone, PartialEq)]
pub struct LeadValue {
    /// The commit.
    pub commit: CommitIdx,
    /// The deployment (index into [`DeliveryModel::deployments`]).
    pub deployment: usize,
    /// Seconds; `None` when the preset does not measure this change (`why` says why).
    pub seconds: Option<f64>,
    /// Why it is not measured, or left out.
    pub why: Option<&'static str>,
}

/// What one preset finds in a scope, item by item: what its metrics summarise and what
/// [`compare`] lists.
#[derive(Debug, Clone, Default)]
pub struct PresetView {
    /// Per change and deploying deployment (a pull request's value repeated for each of its
    /// changes under the presets that measure pull requests).
    pub lead: Vec<LeadValue>,
    /// The values the lead-time summary is taken over (one per change, pull request or push
    /// commit, as the preset counts).
    pub lead_values: Vec<f64>,
    /// Values left out as zero or negative.
    pub lead_excluded: u64,
    /// Changes of non-baseline deployments no value measures (no pull request, not in the push).
    pub lead_not_measured: u64,
    /// For each deployment of the scope (index): why the preset counts it failed (empty: not).
    pub failures: Vec<(usize, Vec<String>)>,
    /// For each incident of the scope (index into [`DeliveryModel::incidents`]): its deployment.
    pub incidents: Vec<(usize, Option<usize>)>,
    /// Recovery values: (what, seconds), negative ones included (left out and counted).
    pub recoveries: Vec<(String, f64)>,
    /// Failures or incidents that have not recovered.
    pub unrecovered: u64,
}

/// The deployments of the scope that count, in finish order.
fn scope_deployments(model: &DeliveryModel, scope: &Scope) -> Vec<usize> {
    scope.deployments(model).map(|(i, _)| i).collect()
}

/// Incidents of the scope opened in the window (indices).
fn scope_incidents(model: &DeliveryModel, scope: &Scope) -> Vec<usize> {
    (0..model.incidents.len())
        .filter(|&k| {
            let i = &model.incidents[k].incident;
            scope.includes(&i.service, &i.environment) && scope.window.contains(i.opened_at)
        })
        .collect()
}

/// DevLake's incident rule: the latest counted deployment of the incident's service and
/// environment that finished at or before it opened, with no window.
fn latest_earlier(model: &DeliveryModel, incident: usize) -> Option<usize> {
    let i = &model.incidents[incident].incident;
    let upto = model
        .deployments
        .partition_point(|d| d.deployment.finished_at <= i.opened_at);
    (0..upto).rev().find(|&d| {
        let d = &model.deployments[d];
        d.counts() && d.deployment.service == i.service && d.deployment.environment == i.environment
    })
}

/// Four Keys' changes of a deployment: the commits of the push that produced its commit. A
/// repository does not record pushes; the push of a commit is read as the commit and the commits
/// it merged (reachable from its other parents and not from its first parent), which is the push
/// when each push lands one commit or one merge. At most `PUSH_LIMIT` commits.
fn push_commits(graph: &CommitGraph, tip: CommitIdx) -> Vec<CommitIdx> {
    const PUSH_LIMIT: usize = 1_000;
    let parents = graph.parent_lists();
    let mut out = vec![tip];
    let tip_parents = parents.of(tip);
    let Some((&first, others)) = tip_parents.split_first() else {
        return out;
    };
    let mut seen: HashSet<CommitIdx> = HashSet::from([tip, first]);
    let mut stack: Vec<CommitIdx> = others.to_vec();
    while let Some(c) = stack.pop() {
        if out.len() >= PUSH_LIMIT || !seen.insert(c) {
            continue;
        }
        if graph.is_strict_ancestor(c, first) {
            continue;
        }
        out.push(c);
        stack.extend(parents.of(c).iter().copied());
    }
    out
}

fn seconds_between(from: i64, to: Timestamp) -> Option<f64> {
    let from = Timestamp::from_second(from).ok()?;
    Some(to.duration_since(from).as_secs_f64())
}

/// What `definitions` finds in `scope`, item by item.
pub fn view(
    model: &DeliveryModel,
    graph: &CommitGraph,
    scope: &Scope,
    start: LeadTimeStart,
    definitions: Definitions,
) -> PresetView {
    let deployments = scope_deployments(model, scope);
    let incidents = scope_incidents(model, scope);
    let links = &model.pull_requests;
    let mut v = PresetView::default();
    match definitions {
        Definitions::Dora => {
            for &d in &deployments {
                let dep = &model.deployments[d];
                if dep.is_baseline() {
                    continue;
                }
                for change in model.shipped_by(d) {
                    let (from, _) = links.start(graph, change.commit, start);
                    let seconds = seconds_between(from, dep.deployment.finished_at);
                    match seconds {
                        Some(s) if s >= 0.0 => v.lead_values.push(s),
                        _ => v.lead_excluded += 1,
                    }
                    v.lead.push(LeadValue {
                        commit: change.commit,
                        deployment: d,
                        seconds: seconds.filter(|s| *s >= 0.0),
                        why: seconds
                            .is_none_or(|s| s < 0.0)
                            .then_some("negative lead time (clock skew)"),
                    });
                }
            }
            for &d in &deployments {
                let dep = &model.deployments[d];
                let reasons = dep
                    .failures
                    .iter()
                    .map(|r| describe_failure(model, r))
                    .collect();
                v.failures.push((d, reasons));
                if dep.failed() {
                    match dep.recovery {
                        Some(r) => v
                            .recoveries
                            .push((dep.deployment.id.to_string(), r.duration.as_secs_f64())),
                        None => v.unrecovered += 1,
                    }
                }
            }
            for &k in &incidents {
                v.incidents
                    .push((k, model.incidents[k].attribution.deployment()));
            }
        }
        Definitions::Devlake | Definitions::Gitlab => {
            // One value per pull request, at the deployment that first shipped its merge commit
            // (not a baseline), once per service.
            let mut measured: HashSet<(&ServiceName, usize)> = HashSet::new();
            for &d in &deployments {
                let dep = &model.deployments[d];
                if dep.is_baseline() {
                    continue;
                }
                let finished = dep.deployment.finished_at;
                let mut of_pr: HashMap<usize, Option<f64>> = HashMap::new();
                for change in model.shipped_by(d) {
                    let Some(pr) = links.of_commit(change.commit) else {
                        continue;
                    };
                    let linked = links.get(pr);
                    if linked.merge_commit != Some(change.commit) {
                        continue;
                    }
                    let seconds = if definitions == Definitions::Devlake {
                        let from = linked
                            .first_commit_seconds
                            .unwrap_or(linked.facts.opened_at.as_second());
                        seconds_between(from, finished)
                    } else {
                        linked
                            .facts
                            .merged_at
                            .map(|m| finished.duration_since(m).as_secs_f64())
                    };
                    if measured.insert((&dep.deployment.service, pr)) {
                        match seconds {
                            Some(s) if s >= 0.0 => v.lead_values.push(s),
                            _ => v.lead_excluded += 1,
                        }
                    }
                    of_pr.insert(pr, seconds);
                }
                for change in model.shipped_by(d) {
                    let pr = links.of_commit(change.commit);
                    let (seconds, why) = match pr.and_then(|p| of_pr.get(&p).copied()) {
                        Some(Some(s)) if s >= 0.0 => (Some(s), None),
                        Some(_) => (None, Some("negative lead time")),
                        None if pr.is_some() => {
                            (None, Some("its pull request's merge shipped elsewhere"))
                        }
                        None => (None, Some("no pull request: not measured")),
                    };
                    if pr.is_none() {
                        v.lead_not_measured += 1;
                    }
                    v.lead.push(LeadValue {
                        commit: change.commit,
                        deployment: d,
                        seconds,
                        why,
                    });
                }
            }
            if definitions == Definitions::Devlake {
                let mut caused: HashMap<usize, Vec<usize>> = HashMap::new();
                for &k in &incidents {
                    let d = latest_earlier(model, k);
                    v.incidents.push((k, d));
                    if let Some(d) = d {
                        caused.entry(d).or_default().push(k);
                    }
                }
                // Incidents opened after the window can still belong to its deployments.
                for k in 0..model.incidents.len() {
                    if incidents.contains(&k) {
                        continue;
                    }
                    if let Some(d) = latest_earlier(model, k)
                        && deployments.contains(&d)
                    {
                        caused.entry(d).or_default().push(k);
                    }
                }
                for &d in &deployments {
                    let list = caused.get(&d).cloned().unwrap_or_default();
                    let finished = model.deployments[d].deployment.finished_at;
                    for &k in &list {
                        let i = &model.incidents[k].incident;
                        match i.resolved_at {
                            Some(r) => v
                                .recoveries
                                .push((i.id.to_string(), r.duration_since(finished).as_secs_f64())),
                            None => v.unrecovered += 1,
                        }
                    }
                    v.failures.push((
                        d,
                        list.iter()
                            .map(|&k| format!("incident {}", model.incidents[k].incident.id))
                            .collect(),
                    ));
                }
            } else {
                // GitLab ties no incident to a deployment: every incident counts once, against all
                // deployments; its recovery is how long it was open.
                for &d in &deployments {
                    v.failures.push((d, Vec::new()));
                }
                for &k in &incidents {
                    v.incidents.push((k, None));
                    open_to_resolved(model, k, None, &mut v);
                }
            }
        }
        Definitions::FourKeys => {
            let counted: Vec<usize> = (0..model.deployments.len())
                .filter(|&d| {
                    let dep = &model.deployments[d];
                    dep.counts()
                        && scope.includes(&dep.deployment.service, &dep.deployment.environment)
                })
                .collect();
            let pushes: HashMap<usize, Vec<CommitIdx>> = counted
                .iter()
                .filter_map(|&d| Some((d, push_commits(graph, model.deployments[d].commit?))))
                .collect();
            let time_of = |c: CommitIdx| match start {
                LeadTimeStart::Author => graph.author_time(c),
                LeadTimeStart::Committer => graph.committer_time(c),
            };
            for &d in &deployments {
                let finished = model.deployments[d].deployment.finished_at;
                let push = pushes.get(&d).map(Vec::as_slice).unwrap_or_default();
                for &c in push {
                    let seconds = seconds_between(time_of(c), finished);
                    // Four Keys ignores lead times under a minute ("automated pushes").
                    let kept = seconds.filter(|s| *s >= 60.0);
                    match kept {
                        Some(s) => v.lead_values.push(s),
                        None => v.lead_excluded += 1,
                    }
                    v.lead.push(LeadValue {
                        commit: c,
                        deployment: d,
                        seconds: kept,
                        why: kept
                            .is_none()
                            .then_some("under a minute: left out as an automated push"),
                    });
                }
                if !model.deployments[d].is_baseline() {
                    let in_push: HashSet<CommitIdx> = push.iter().copied().collect();
                    v.lead_not_measured += model
                        .shipped_by(d)
                        .iter()
                        .filter(|c| !in_push.contains(&c.commit))
                        .count() as u64;
                }
            }
            // Root causes: an incident's commit, in the push of a deployment of its service.
            let root_deployment = |k: usize| -> Option<usize> {
                let i = &model.incidents[k].incident;
                let c = graph.find(&i.sha?)?;
                counted.iter().copied().find(|d| {
                    let dep = &model.deployments[*d].deployment;
                    dep.service == i.service
                        && dep.environment == i.environment
                        && pushes.get(d).is_some_and(|p| p.contains(&c))
                })
            };
            let mut caused: HashMap<usize, Vec<usize>> = HashMap::new();
            for k in 0..model.incidents.len() {
                if let Some(d) = root_deployment(k) {
                    caused.entry(d).or_default().push(k);
                }
            }
            for &d in &deployments {
                let list = caused.get(&d).cloned().unwrap_or_default();
                v.failures.push((
                    d,
                    list.iter()
                        .map(|&k| {
                            format!(
                                "incident {} (root cause in its push)",
                                model.incidents[k].incident.id
                            )
                        })
                        .collect(),
                ));
            }
            for &k in &incidents {
                let d = root_deployment(k);
                v.incidents.push((k, d));
                let root_time = d.map(|d| model.deployments[d].deployment.finished_at);
                open_to_resolved(model, k, root_time, &mut v);
            }
        }
    }
    v
}

/// An incident's time to restore: from its opening (or the deployment of its root cause, when
/// earlier) to its resolution.
fn open_to_resolved(
    model: &DeliveryModel,
    k: usize,
    earlier: Option<Timestamp>,
    v: &mut PresetView,
) {
    let i = &model.incidents[k].incident;
    let from = earlier.map_or(i.opened_at, |e| e.min(i.opened_at));
    match i.resolved_at {
        Some(r) => v
            .recoveries
            .push((i.id.to_string(), r.duration_since(from).as_secs_f64())),
        None => v.unrecovered += 1,
    }
}

fn describe_failure(model: &DeliveryModel, reason: &FailureReason) -> String {
    let id = |d: usize| model.deployments[d].deployment.id.to_string();
    match reason {
        FailureReason::Incident { incident } => {
            format!("incident {}", model.incidents[*incident].incident.id)
        }
        FailureReason::RolledBack { by } => format!("rolled back by {}", id(*by)),
        FailureReason::Reverted { change, by, .. } => {
            format!(
                "change {} reverted (shipped in {})",
                change.short(10),
                id(*by)
            )
        }
        FailureReason::RevertedPullRequest {
            pull_request, by, ..
        } => format!(
            "pull request {} reverted (shipped in {})",
            model.pull_requests.get(*pull_request).facts.key,
            id(*by)
        ),
    }
}

/// The five metrics of `scope` under `definitions`. `dora` is [`compute`]; the others start
/// from it and replace what the preset defines otherwise (deployment counts, incidents totals and
/// the rework rate, which no peer defines, stay shiplog's).
pub fn compute_with(
    model: &DeliveryModel,
    graph: &CommitGraph,
    scope: &Scope,
    start: LeadTimeStart,
    definitions: Definitions,
) -> DoraMetrics {
    let mut m = compute(model, graph, scope, start);
    if definitions == Definitions::Dora {
        return m;
    }
    m.definitions = definitions;
    let v = view(model, graph, scope, start, definitions);
    let deployments = m.deployment_frequency.deployments;

    if definitions == Definitions::Devlake {
        // Deployment days, not deployments.
        let f = &mut m.deployment_frequency;
        let days = f.deployment_days as f64;
        let window_days = scope.window.days();
        f.per_week = days / window_days * 7.0;
        f.per_day = days / window_days;
        let mut day_numbers: Vec<i64> = scope
            .deployments(model)
            .map(|(_, d)| d.deployment.finished_at.as_second().div_euclid(86_400))
            .collect();
        day_numbers.dedup();
        let mut intervals: Vec<f64> = day_numbers
            .windows(2)
            .map(|w| ((w[1] - w[0]) * 86_400) as f64)
            .collect();
        let median = summarize(&mut intervals).map(|s| s.median);
        f.median_interval_seconds = median;
        f.band = median.map(FrequencyBand::from_median_interval);
    }

    let mut values = v.lead_values.clone();
    let lead = summarize(&mut values);
    let l = &mut m.change_lead_time;
    l.changes = lead.map_or(0, |s| s.count as u64);
    l.excluded_negative = v.lead_excluded;
    l.median_seconds = lead.map(|s| s.median);
    l.p75_seconds = lead.map(|s| s.p75);
    l.p90_seconds = lead.map(|s| s.p90);
    l.mean_seconds = lead.map(|s| s.mean);
    l.band = lead.map(|s| DurationBand::from_seconds(s.median));
    l.not_measured = Some(v.lead_not_measured);
    if definitions == Definitions::FourKeys {
        // Four Keys has no baseline: the first deployment's push counts too.
        l.baseline_excluded = 0;
    }

    let failed = match definitions {
        Definitions::Gitlab => v.incidents.len() as u64,
        _ => v.failures.iter().filter(|(_, r)| !r.is_empty()).count() as u64,
    };
    m.change_fail_rate = ChangeFailRate {
        deployments,
        failed,
        rate: (deployments > 0).then(|| failed as f64 / deployments as f64),
    };

    let mut recoveries: Vec<f64> = v
        .recoveries
        .iter()
        .map(|(_, s)| *s)
        .filter(|s| *s >= 0.0)
        .collect();
    let negative = v.recoveries.iter().filter(|(_, s)| *s < 0.0).count() as u64;
    let r = summarize(&mut recoveries);
    m.failed_deployment_recovery_time = RecoveryTime {
        recoveries: r.map_or(0, |s| s.count as u64),
        unrecovered: v.unrecovered,
        excluded_negative: negative,
        median_seconds: r.map(|s| s.median),
        p90_seconds: r.map(|s| s.p90),
        band: r.map(|s| DurationBand::from_seconds(s.median)),
    };
    m.incidents.unattributed = v.incidents.iter().filter(|(_, d)| d.is_none()).count() as u64;
    m
}

/// One item whose number differs between two presets.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Difference {
    /// Which metric: `change_lead_time`, `change_fail_rate`, `failed_deployment_recovery_time`
    /// or `incident_attribution`.
    pub metric: &'static str,
    /// The item: a change (`sha` at deployment id), a deployment id or an incident id.
    pub item: String,
    /// Under the scope's definitions.
    pub value: String,
    /// Under the compared definitions.
    pub compared_value: String,
}

/// The items of `scope` whose numbers differ between `current` and `compared` definitions, metric
/// by metric, in deployment (or incident) order.
pub fn compare(
    model: &DeliveryModel,
    graph: &CommitGraph,
    scope: &Scope,
    start: LeadTimeStart,
    current: Definitions,
    compared: Definitions,
) -> Vec<Difference> {
    let a = view(model, graph, scope, start, current);
    let b = view(model, graph, scope, start, compared);
    let mut out = Vec::new();
    let key = |l: &LeadValue| (l.deployment, l.commit);
    let describe = |l: Option<&LeadValue>| match l {
        Some(LeadValue {
            seconds: Some(s), ..
        }) => format_seconds(*s),
        Some(LeadValue { why: Some(w), .. }) => format!("not measured: {w}"),
        Some(_) => "not measured".to_owned(),
        None => "not measured".to_owned(),
    };
    let b_lead: HashMap<(usize, CommitIdx), &LeadValue> =
        b.lead.iter().map(|l| (key(l), l)).collect();
    let a_keys: HashSet<(usize, CommitIdx)> = a.lead.iter().map(key).collect();
    let mut lead_keys: Vec<(usize, CommitIdx)> = a.lead.iter().map(key).collect();
    lead_keys.extend(b.lead.iter().map(key).filter(|k| !a_keys.contains(k)));
    lead_keys.sort();
    let a_lead: HashMap<(usize, CommitIdx), &LeadValue> =
        a.lead.iter().map(|l| (key(l), l)).collect();
    for k in lead_keys {
        let (x, y) = (a_lead.get(&k).copied(), b_lead.get(&k).copied());
        if x.and_then(|l| l.seconds) != y.and_then(|l| l.seconds) {
            out.push(Difference {
                metric: "change_lead_time",
                item: format!(
                    "{} at {}",
                    graph.sha(k.1).short(10),
                    model.deployments[k.0].deployment.id
                ),
                value: describe(x),
                compared_value: describe(y),
            });
        }
    }
    let failure_text = |r: Option<&Vec<String>>| match r {
        Some(r) if !r.is_empty() => format!("failed: {}", r.join("; ")),
        _ => "not failed".to_owned(),
    };
    let b_fail: HashMap<usize, &Vec<String>> = b.failures.iter().map(|(d, r)| (*d, r)).collect();
    for (d, reasons) in &a.failures {
        let other = b_fail.get(d).copied();
        if reasons.is_empty() != other.is_none_or(|r| r.is_empty()) {
            out.push(Difference {
                metric: "change_fail_rate",
                item: model.deployments[*d].deployment.id.to_string(),
                value: failure_text(Some(reasons)),
                compared_value: failure_text(other),
            });
        }
    }
    let deployment_text = |d: Option<usize>| match d {
        Some(d) => model.deployments[d].deployment.id.to_string(),
        None => "no deployment".to_owned(),
    };
    let b_inc: HashMap<usize, Option<usize>> = b.incidents.iter().copied().collect();
    for &(k, d) in &a.incidents {
        let other = b_inc.get(&k).copied().flatten();
        if d != other {
            out.push(Difference {
                metric: "incident_attribution",
                item: model.incidents[k].incident.id.to_string(),
                value: deployment_text(d),
                compared_value: deployment_text(other),
            });
        }
    }
    let b_rec: HashMap<&str, f64> = b.recoveries.iter().map(|(w, s)| (w.as_str(), *s)).collect();
    let a_rec: HashMap<&str, f64> = a.recoveries.iter().map(|(w, s)| (w.as_str(), *s)).collect();
    let mut rec_items: Vec<&str> = a.recoveries.iter().map(|(w, _)| w.as_str()).collect();
    rec_items.extend(
        b.recoveries
            .iter()
            .map(|(w, _)| w.as_str())
            .filter(|w| !a_rec.contains_key(w)),
    );
    for item in rec_items {
        let (x, y) = (a_rec.get(item).copied(), b_rec.get(item).copied());
        if x != y {
            let text = |s: Option<f64>| s.map_or_else(|| "not measured".to_owned(), format_seconds);
            out.push(Difference {
                metric: "failed_deployment_recovery_time",
                item: item.to_owned(),
                value: text(x),
                compared_value: text(y),
            });
        }
    }
    out
}

/// Seconds as hours and minutes, e.g. `26h 30m`, `45m`, `-1h 0m`.
fn format_seconds(seconds: f64) -> String {
    let d = SignedDuration::from_secs_f64(seconds.clamp(-1e15, 1e15));
    let sign = if d.is_negative() { "-" } else { "" };
    let total = d.as_secs().unsigned_abs() / 60;
    let (h, m) = (total / 60, total % 60);
    if h == 0 {
        format!("{sign}{m}m")
    } else {
        format!("{sign}{h}h {m}m")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for d in Definitions::ALL {
            assert_eq!(d.as_str().parse::<Definitions>(), Ok(d));
        }
        assert_eq!("DevLake".parse::<Definitions>(), Ok(Definitions::Devlake));
        assert_eq!(
            "fourkeys".parse::<Definitions>().unwrap_err().to_string(),
            "expected one of dora, devlake, four-keys or gitlab, got \"fourkeys\""
        );
    }

    #[test]
    fn durations_read_as_hours_and_minutes() {
        assert_eq!(format_seconds(95_400.0), "26h 30m");
        assert_eq!(format_seconds(2_700.0), "45m");
        assert_eq!(format_seconds(-3_600.0), "-1h 0m");
    }
}
