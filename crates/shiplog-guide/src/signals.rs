//! Signals: what a team's own records say about each capability shiplog can measure.
//!
//! A signal is one number computed from the records the metrics already use — the commit graph,
//! the attributed deployments and the changes each newly shipped, the linked pull requests and
//! incidents — with the count it rests on, the value a team strong in the capability would show,
//! and the data it needs. When that data is missing the signal has no value and says which command
//! brings it in. Signals are about the team's process, never about a person.
//!
//! Definitions (worked examples in docs/guide.md):
//!
//! - a **change** is a commit a non-baseline deployment in scope newly shipped (as for lead time);
//!   merge commits count as changes per deployment but not in the other change signals, since a
//!   merge is the integration itself; a change that two services' deployments ship (a monorepo
//!   commit touching both) counts once, except in the deploy stage, which is per deployment;
//! - a change **reached the default branch** when the first-parent commit that brought it in was
//!   committed: walking the deployed commit's first parents, each first-parent commit integrates
//!   itself and the shipped changes its other parents reach;
//! - an **integration** is a first-parent commit that brought in at least one change; an **active
//!   day** is a UTC day on which at least one change in scope was authored;
//! - a pull request is in scope when a deployment in scope shipped one of its commits; its
//!   **branch lifetime** runs from its first commit to its merge, its **pickup** from ready for
//!   review (else opened) to its first review, its **review** from first review to merge.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::Serialize;
use shiplog_core::attribution::FailureReason;
use shiplog_core::metrics::{DoraMetrics, Scope};
use shiplog_core::{CommitGraph, CommitIdx, DeliveryModel, PullRequest, ServiceMembership};

const HOUR: f64 = 3600.0;
const DAY: f64 = 86_400.0;

/// A deployment shipping more than this many changes is a large batch.
pub const LARGE_BATCH_CHANGES: usize = 10;

/// How a signal's value reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// A count (a median of counts may be fractional).
    Count,
    /// A duration in seconds.
    Seconds,
    /// A share, 0 to 1.
    Share,
    /// Events per day.
    PerDay,
    /// Events per week.
    PerWeek,
    /// Lines of code.
    Lines,
}

/// What a team strong in the capability would show: a bound on the value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Reference {
    /// In words, e.g. "under 1 day".
    pub text: &'static str,
    /// The value must be at most this…
    pub at_most: Option<f64>,
    /// …or at least this.
    pub at_least: Option<f64>,
}

impl Reference {
    const fn at_most(text: &'static str, bound: f64) -> Self {
        Self {
            text,
            at_most: Some(bound),
            at_least: None,
        }
    }

    const fn at_least(text: &'static str, bound: f64) -> Self {
        Self {
            text,
            at_most: None,
            at_least: Some(bound),
        }
    }

    /// Whether `value` meets it.
    pub fn met_by(&self, value: f64) -> bool {
        self.at_most.is_none_or(|b| value <= b) && self.at_least.is_none_or(|b| value >= b)
    }
}

/// One measured signal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Signal {
    /// A stable identifier, e.g. `branch_lifetime`.
    pub id: &'static str,
    /// The capability it is a signal of.
    pub capability: &'static str,
    /// What it is.
    pub label: &'static str,
    /// Its value; `None` when the data is missing or nothing was counted.
    pub value: Option<f64>,
    /// How the value reads.
    pub unit: Unit,
    /// How many items it rests on.
    pub count: u64,
    /// What those items are (`deployments`, `changes`, `pull requests`, `incidents`, `days`).
    pub counted: &'static str,
    /// What a strong team shows.
    pub strong: Reference,
    /// Whether the value meets `strong` (`None` without a value).
    pub meets: Option<bool>,
    /// The data it needs.
    pub needs: &'static str,
    /// When the data is missing: what it lacks and the command that brings it in.
    pub missing: Option<String>,
}

/// What the signals are computed from.
pub struct SignalInputs<'a> {
    /// The attributed model.
    pub model: &'a DeliveryModel,
    /// The commit graph.
    pub graph: &'a CommitGraph,
    /// The scope (services, environment, window).
    pub scope: &'a Scope,
    /// The metrics of the scope.
    pub metrics: &'a DoraMetrics,
    /// The stored pull-request records (for their sizes).
    pub pull_requests: &'a [PullRequest],
    /// Which services each commit belongs to, in a monorepo with path globs.
    pub membership: Option<&'a ServiceMembership>,
}

const PULL_REQUESTS_MISSING: &str = "no pull requests in the store: `shiplog sync github OWNER/REPO` or `shiplog import pulls.jsonl` (docs/import.md) brings them in";
const INCIDENTS_MISSING: &str = "no incidents in scope: `shiplog record incident`, `shiplog sync github OWNER/REPO` (incident issues) or `shiplog import` (PagerDuty, JSON Lines) brings them in";
const DEPLOYMENTS_MISSING: &str = "no deployments in scope after the first: `shiplog record deployment` from CI, `shiplog import`, or --deploys tags|merges";

/// `shiplog sync github` reads GitHub's pull-request list, whose items leave out `changed_files`
/// (as they leave out `additions` and `deletions`), so only deliveries and import files give it.
const FILES_MISSING: &str = "no pull request in scope has a changed-file count: GitHub `pull_request` webhooks carry `changed_files` (`shiplog serve`, or `shiplog import` of saved deliveries) and GitLab merge requests an exact `changes_count`; import files can give `changed_files`; `shiplog sync github` cannot (GitHub's pull-request list leaves the count out)";

const RECORDER_MISSING: &str = "no deployment in scope says who recorded it: `shiplog record deployment` run in CI detects it from the environment (GITHUB_ACTIONS, GITLAB_CI, CI, ...) or takes `--recorded-by ci|manual`; import files can give `recorded_by` (`ci`, `ci:<system>` or `manual`); GitHub, GitLab and CDEvents deployments say CI; git tags and merges never say";

/// The median of `values` (the mean of the middle two for an even count), `None` when empty.
pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    })
}

fn share(hits: usize, of: usize) -> Option<f64> {
    (of > 0).then(|| hits as f64 / of as f64)
}

/// The median number of deployments per working day (Monday to Friday, UTC) of the window,
/// counting days without deployments: the deployment-frequency bucket 6 rule.
pub fn median_working_day_deployments(model: &DeliveryModel, scope: &Scope) -> f64 {
    let zone = jiff::tz::TimeZone::UTC;
    let mut per_day: BTreeMap<jiff::civil::Date, u32> = BTreeMap::new();
    let first = scope.window.since.to_zoned(zone.clone()).date();
    // The last instant inside the window (it is exclusive).
    let last_instant = scope
        .window
        .until
        .checked_sub(jiff::SignedDuration::from_nanos(1))
        .unwrap_or(scope.window.until);
    let last = last_instant.to_zoned(zone.clone()).date();
    let mut day = first;
    while day <= last {
        if !matches!(
            day.weekday(),
            jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday
        ) {
            per_day.insert(day, 0);
        }
        match day.tomorrow() {
            Ok(next) => day = next,
            Err(_) => break,
        }
    }
    for (_, d) in scope.deployments(model) {
        let date = d.deployment.finished_at.to_zoned(zone.clone()).date();
        if let Some(n) = per_day.get_mut(&date) {
            *n += 1;
        }
    }
    let mut counts: Vec<f64> = per_day.values().map(|&n| f64::from(n)).collect();
    median(&mut counts).unwrap_or(0.0)
}

/// Per change and per pull request, what the walk over the deployments found.
#[derive(Default)]
struct Walk {
    /// Changes per non-baseline deployment.
    changes_per_deployment: Vec<f64>,
    /// Per non-baseline deployment: the union of its changes' service masks.
    deployment_masks: Vec<u64>,
    /// Non-merge changes: author → default branch, seconds.
    to_default_branch: Vec<f64>,
    /// Non-merge changes: default branch → deployed, seconds.
    deploy_stage: Vec<f64>,
    /// Non-merge changes' service masks.
    change_masks: Vec<u64>,
    /// First-parent commits (integrations).
    integrations: usize,
    /// UTC days (as day numbers) on which changes were authored.
    active_days: BTreeSet<i64>,
    /// Pull requests in scope → when first deployed.
    pull_requests: BTreeMap<usize, i64>,
    /// Changes already counted (a change two services' deployments ship counts once).
    seen: HashSet<CommitIdx>,
    /// First-parent commits already counted as integrations.
    integrating: HashSet<CommitIdx>,
}

fn walk(x: &SignalInputs<'_>) -> Walk {
    let (model, graph) = (x.model, x.graph);
    let mut w = Walk::default();
    let mask = |c: CommitIdx| x.membership.map_or(0, |m| m.mask(c));
    for (index, d) in x.scope.deployments(model) {
        if d.is_baseline() {
            continue;
        }
        let shipped: HashSet<CommitIdx> =
            model.shipped_by(index).iter().map(|c| c.commit).collect();
        let deployed = d.deployment.finished_at.as_second();
        w.changes_per_deployment.push(shipped.len() as f64);
        // Integration times along the first-parent chain: each chain commit integrates itself
        // and the shipped commits its other parents reach (through shipped commits). The walk
        // ends when every shipped commit is placed, or when the chain is older than all of them.
        let mut integrated: HashMap<CommitIdx, i64> = HashMap::new();
        let oldest = shipped
            .iter()
            .map(|&c| graph.committer_time(c))
            .min()
            .unwrap_or(i64::MAX);
        let mut current = d.commit;
        let mut steps = 0usize;
        while let Some(c) = current {
            if integrated.len() == shipped.len()
                || graph.committer_time(c) < oldest
                || steps > 100_000
            {
                break;
            }
            steps += 1;
            let at = graph.committer_time(c);
            let before = integrated.len();
            if shipped.contains(&c) {
                integrated.entry(c).or_insert(at);
            }
            let mut stack: Vec<CommitIdx> = graph.parents(c).iter().skip(1).copied().collect();
            while let Some(p) = stack.pop() {
                if shipped.contains(&p) && !integrated.contains_key(&p) {
                    integrated.insert(p, at);
                    stack.extend(graph.parents(p).iter().copied());
                }
            }
            if integrated.len() > before && w.integrating.insert(c) {
                w.integrations += 1;
            }
            current = graph.parents(c).first().copied();
        }
        let mut union = 0u64;
        for &c in &shipped {
            union |= mask(c);
            if let Some(pr) = model.pull_requests.of_commit(c) {
                let first = w.pull_requests.entry(pr).or_insert(deployed);
                *first = (*first).min(deployed);
            }
            if graph.parents(c).len() > 1 {
                continue;
            }
            let authored = graph.author_time(c);
            let first_time = w.seen.insert(c);
            if first_time {
                if authored != i64::MIN {
                    w.active_days.insert(authored.div_euclid(86_400));
                }
                w.change_masks.push(mask(c));
            }
            if let Some(&at) = integrated.get(&c) {
                if first_time && authored != i64::MIN && at >= authored {
                    w.to_default_branch.push((at - authored) as f64);
                }
                if deployed >= at {
                    w.deploy_stage.push((deployed - at) as f64);
                }
            }
        }
        w.deployment_masks.push(union);
    }
    w
}

/// Every signal, grouped by capability in catalogue order.
pub fn signals(x: &SignalInputs<'_>) -> Vec<Signal> {
    let w = walk(x);
    let model = x.model;
    let has_prs = !model.pull_requests.is_empty();
    let deployments = w.changes_per_deployment.len();
    let no_deployments = (deployments == 0).then(|| DEPLOYMENTS_MISSING.to_owned());
    let prs_missing = (!has_prs).then(|| PULL_REQUESTS_MISSING.to_owned());
    let mut out = Vec::new();

    // Pull requests in scope.
    let mut lifetimes = Vec::new();
    let mut pickups = Vec::new();
    let mut reviews = Vec::new();
    let mut sizes = Vec::new();
    let mut files = Vec::new();
    let records: HashMap<&str, &PullRequest> =
        x.pull_requests.iter().map(|p| (p.id.as_str(), p)).collect();
    for &pr in w.pull_requests.keys() {
        let linked = model.pull_requests.get(pr);
        let f = &linked.facts;
        let merged = f.merged_at.map(|t| t.as_second());
        if let (Some(first), Some(merged)) = (linked.first_commit_seconds, merged)
            && merged >= first
        {
            lifetimes.push((merged - first) as f64);
        }
        let ready = f.ready_at.unwrap_or(f.opened_at).as_second();
        if let Some(review) = f.first_review_at.map(|t| t.as_second()) {
            if review >= ready {
                pickups.push((review - ready) as f64);
            }
            if let Some(merged) = merged
                && merged >= review
            {
                reviews.push((merged - review) as f64);
            }
        }
        if let Some(record) = records.get(f.key.as_str()) {
            if let (Some(a), Some(d)) = (record.additions, record.deletions) {
                sizes.push(a.saturating_add(d) as f64);
            }
            if let Some(n) = record.changed_files {
                files.push(n as f64);
            }
        }
    }
    let pr_signal_missing = |values: &[f64], what: &str| -> Option<String> {
        if !has_prs {
            Some(PULL_REQUESTS_MISSING.to_owned())
        } else if values.is_empty() {
            Some(format!("no pull request in scope has {what}"))
        } else {
            None
        }
    };

    let mut push = |s: Signal| out.push(s);
    let signal = |id,
                  capability,
                  label,
                  value: Option<f64>,
                  unit,
                  count: usize,
                  counted,
                  strong: Reference,
                  needs,
                  missing: Option<String>| {
        let value = if missing.is_some() { None } else { value };
        Signal {
            id,
            capability,
            label,
            value,
            unit,
            count: count as u64,
            counted,
            strong,
            meets: value.map(|v| strong.met_by(v)),
            needs,
            missing,
        }
    };

    // Working in small batches.
    let mut per = w.changes_per_deployment.clone();
    push(signal(
        "changes_per_deployment",
        "working-in-small-batches",
        "changes per deployment (median)",
        median(&mut per),
        Unit::Count,
        deployments,
        "deployments",
        Reference::at_most("at most 3", 3.0),
        "deployments and the commit history",
        no_deployments.clone(),
    ));
    let large = w
        .changes_per_deployment
        .iter()
        .filter(|&&n| n > LARGE_BATCH_CHANGES as f64)
        .count();
    push(signal(
        "large_deployments",
        "working-in-small-batches",
        "share of deployments shipping more than 10 changes",
        share(large, deployments),
        Unit::Share,
        deployments,
        "deployments",
        Reference::at_most("at most 10%", 0.10),
        "deployments and the commit history",
        no_deployments.clone(),
    ));
    push(signal(
        "pull_request_lines",
        "working-in-small-batches",
        "pull-request size in lines changed (median)",
        median(&mut sizes.clone()),
        Unit::Lines,
        sizes.len(),
        "pull requests",
        Reference::at_most("at most 200 lines", 200.0),
        "pull requests with additions and deletions",
        if !has_prs {
            prs_missing.clone()
        } else if sizes.is_empty() {
            Some("no pull request in scope has additions and deletions: GitHub `pull_request` webhooks carry them (`shiplog serve`, or `shiplog import` of saved deliveries); import files can give `additions` and `deletions`; `shiplog sync github` cannot (GitHub's pull-request list leaves them out)".to_owned())
        } else {
            None
        },
    ));
    push(signal(
        "pull_request_files",
        "working-in-small-batches",
        "pull-request size in files changed (median)",
        median(&mut files.clone()),
        Unit::Count,
        files.len(),
        "pull requests",
        Reference::at_most("at most 10 files", 10.0),
        "pull requests with their changed-file counts",
        if !has_prs {
            prs_missing.clone()
        } else if files.is_empty() {
            Some(FILES_MISSING.to_owned())
        } else {
            None
        },
    ));

    // Trunk-based development.
    push(signal(
        "branch_lifetime",
        "trunk-based-development",
        "branch lifetime, first commit to merge (median)",
        median(&mut lifetimes.clone()),
        Unit::Seconds,
        lifetimes.len(),
        "pull requests",
        Reference::at_most("under 1 day", DAY),
        "merged pull requests with their commits",
        pr_signal_missing(&lifetimes, "both a first commit and a merge"),
    ));
    let long_lived = lifetimes.iter().filter(|&&s| s > DAY).count();
    push(signal(
        "branches_over_a_day",
        "trunk-based-development",
        "share of branches alive more than a day",
        share(long_lived, lifetimes.len()),
        Unit::Share,
        lifetimes.len(),
        "pull requests",
        Reference::at_most("at most 20%", 0.20),
        "merged pull requests with their commits",
        pr_signal_missing(&lifetimes, "both a first commit and a merge"),
    ));
    let changes_timed = w.to_default_branch.len();
    let within_day = w.to_default_branch.iter().filter(|&&s| s <= DAY).count();
    let no_changes = no_deployments
        .clone()
        .or_else(|| (changes_timed == 0).then(|| "no change in scope".to_owned()));
    push(signal(
        "changes_on_default_branch_within_a_day",
        "trunk-based-development",
        "share of changes reaching the default branch within a day",
        share(within_day, changes_timed),
        Unit::Share,
        changes_timed,
        "changes",
        Reference::at_least("at least 80%", 0.80),
        "deployments and the commit history",
        no_changes.clone(),
    ));

    // Continuous integration.
    push(signal(
        "commit_to_default_branch",
        "continuous-integration",
        "time from commit to the default branch (median)",
        median(&mut w.to_default_branch.clone()),
        Unit::Seconds,
        changes_timed,
        "changes",
        Reference::at_most("under 1 day", DAY),
        "deployments and the commit history",
        no_changes.clone(),
    ));
    let days = w.active_days.len();
    push(signal(
        "integrations_per_active_day",
        "continuous-integration",
        "integrations into the default branch per active day",
        (days > 0).then(|| w.integrations as f64 / days as f64),
        Unit::PerDay,
        days,
        "days",
        Reference::at_least("at least 1", 1.0),
        "deployments and the commit history",
        no_changes.clone(),
    ));

    // Streamlining change approval (code review).
    push(signal(
        "review_pickup",
        "streamlining-change-approval",
        "time to first review (median)",
        median(&mut pickups.clone()),
        Unit::Seconds,
        pickups.len(),
        "pull requests",
        Reference::at_most("under 4 hours", 4.0 * HOUR),
        "pull requests with their first review",
        pr_signal_missing(&pickups, "a first review"),
    ));
    push(signal(
        "review_to_merge",
        "streamlining-change-approval",
        "time from first review to merge (median)",
        median(&mut reviews.clone()),
        Unit::Seconds,
        reviews.len(),
        "pull requests",
        Reference::at_most("under 1 day", DAY),
        "pull requests with their first review and merge",
        pr_signal_missing(&reviews, "a first review and a merge"),
    ));
    let waited = pickups.iter().filter(|&&s| s > DAY).count();
    push(signal(
        "reviews_waiting_over_a_day",
        "streamlining-change-approval",
        "share of pull requests waiting more than a day for a first review",
        share(waited, pickups.len()),
        Unit::Share,
        pickups.len(),
        "pull requests",
        Reference::at_most("at most 10%", 0.10),
        "pull requests with their first review",
        pr_signal_missing(&pickups, "a first review"),
    ));

    // Deployment automation.
    let f = &x.metrics.deployment_frequency;
    push(signal(
        "deployments_per_week",
        "deployment-automation",
        "deployments per week",
        Some(f.per_week),
        Unit::PerWeek,
        f.deployments as usize,
        "deployments",
        Reference::at_least("at least 5 (daily)", 5.0),
        "deployments",
        (f.deployments == 0).then(|| DEPLOYMENTS_MISSING.to_owned()),
    ));
    // Every deployment in scope whose recorder is known (git tags and merges never say).
    let recorders: Vec<bool> = x
        .scope
        .deployments(model)
        .filter_map(|(_, d)| d.deployment.recorded_by.as_ref().map(|r| r.is_ci()))
        .collect();
    let by_ci = recorders.iter().filter(|&&ci| ci).count();
    let in_scope = x.scope.deployments(model).count();
    push(signal(
        "deployments_recorded_by_ci",
        "deployment-automation",
        "share of deployments recorded by CI rather than by hand",
        share(by_ci, recorders.len()),
        Unit::Share,
        recorders.len(),
        "deployments",
        Reference::at_least("all of them", 1.0),
        "who or what recorded each deployment",
        if in_scope == 0 {
            Some(DEPLOYMENTS_MISSING.to_owned())
        } else if recorders.is_empty() {
            Some(RECORDER_MISSING.to_owned())
        } else {
            None
        },
    ));
    push(signal(
        "deploy_stage",
        "deployment-automation",
        "time from the default branch to production (median)",
        median(&mut w.deploy_stage.clone()),
        Unit::Seconds,
        w.deploy_stage.len(),
        "changes",
        Reference::at_most("under 1 day", DAY),
        "deployments and the commit history",
        no_changes.clone(),
    ));

    // Test automation.
    let cfr = &x.metrics.change_fail_rate;
    push(signal(
        "change_fail_rate",
        "test-automation",
        "change fail rate",
        cfr.rate,
        Unit::Share,
        cfr.deployments as usize,
        "deployments",
        Reference::at_most("at most 15%", 0.15),
        "deployments, and incidents, rollbacks or reverts",
        (cfr.deployments == 0).then(|| DEPLOYMENTS_MISSING.to_owned()),
    ));
    let counted: Vec<_> = x.scope.deployments(model).collect();
    let reverted = counted
        .iter()
        .filter(|(_, d)| {
            d.failures.iter().any(|r| {
                matches!(
                    r,
                    FailureReason::Reverted { .. } | FailureReason::RevertedPullRequest { .. }
                )
            })
        })
        .count();
    push(signal(
        "revert_rate",
        "test-automation",
        "share of deployments with a change reverted later",
        share(reverted, counted.len()),
        Unit::Share,
        counted.len(),
        "deployments",
        Reference::at_most("at most 5%", 0.05),
        "deployments and the commit history",
        counted.is_empty().then(|| DEPLOYMENTS_MISSING.to_owned()),
    ));

    // Monitoring and observability.
    let r = &x.metrics.failed_deployment_recovery_time;
    push(signal(
        "recovery_time",
        "monitoring-and-observability",
        "recovery time of failed deployments (median)",
        r.median_seconds,
        Unit::Seconds,
        r.recoveries as usize,
        "recoveries",
        Reference::at_most("under 1 hour", HOUR),
        "failed deployments and their recovery",
        (r.recoveries == 0).then(|| "no failed deployment in scope recovered".to_owned()),
    ));
    let incidents: Vec<_> = model
        .incidents
        .iter()
        .map(|i| &i.incident)
        .filter(|i| {
            x.scope.includes(&i.service, &i.environment) && x.scope.window.contains(i.opened_at)
        })
        .collect();
    let unresolved = incidents.iter().filter(|i| i.resolved_at.is_none()).count();
    push(signal(
        "incidents_without_resolution",
        "monitoring-and-observability",
        "share of incidents without a resolution time",
        share(unresolved, incidents.len()),
        Unit::Share,
        incidents.len(),
        "incidents",
        Reference::at_most("at most 10%", 0.10),
        "incidents",
        incidents.is_empty().then(|| INCIDENTS_MISSING.to_owned()),
    ));

    // Loosely coupled teams (monorepos).
    let monorepo = x.membership.is_some_and(|m| m.services().len() > 1);
    let not_monorepo = (!monorepo).then(|| {
        "a monorepo with services mapped to paths in shiplog.toml (`[services.NAME] paths`, docs/config.md)".to_owned()
    });
    let one_service = w
        .deployment_masks
        .iter()
        .filter(|m| m.count_ones() <= 1)
        .count();
    push(signal(
        "deployments_shipping_one_service",
        "loosely-coupled-teams",
        "share of deployments whose changes touch one service only",
        share(one_service, w.deployment_masks.len()),
        Unit::Share,
        w.deployment_masks.len(),
        "deployments",
        Reference::at_least("at least 90%", 0.90),
        "a monorepo with path globs per service",
        not_monorepo.clone().or(no_deployments.clone()),
    ));
    let together = w.change_masks.iter().filter(|m| m.count_ones() > 1).count();
    push(signal(
        "changes_touching_several_services",
        "loosely-coupled-teams",
        "share of changes touching more than one service",
        share(together, w.change_masks.len()),
        Unit::Share,
        w.change_masks.len(),
        "changes",
        Reference::at_most("at most 10%", 0.10),
        "a monorepo with path globs per service",
        not_monorepo.or(no_changes),
    ));
    out
}

/// A value in words: durations as minutes, hours or days, shares as percentages.
pub fn format_value(value: f64, unit: Unit) -> String {
    match unit {
        Unit::Seconds => format_duration(value),
        Unit::Share => format!("{:.0}%", value * 100.0),
        Unit::Count => trim(value),
        Unit::PerDay => format!("{} per day", trim(value)),
        Unit::PerWeek => format!("{} per week", trim(value)),
        Unit::Lines => format!("{} lines", trim(value)),
    }
}

/// A duration in seconds in words: `45 min`, `3.5 hours`, `1.8 days`.
pub fn format_duration(seconds: f64) -> String {
    if seconds < HOUR {
        format!("{:.0} min", seconds / 60.0)
    } else if seconds < DAY {
        format!("{} hours", trim(seconds / HOUR))
    } else {
        format!("{} days", trim(seconds / DAY))
    }
}

/// One decimal, without a trailing `.0`.
fn trim(x: f64) -> String {
    let text = format!("{x:.1}");
    text.strip_suffix(".0").map(str::to_owned).unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_interpolate_even_counts() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&mut []), None);
    }

    #[test]
    fn references_bound_the_value() {
        let r = Reference::at_most("under 1 day", DAY);
        assert!(r.met_by(DAY) && !r.met_by(DAY + 1.0));
        let r = Reference::at_least("at least 80%", 0.8);
        assert!(r.met_by(0.8) && !r.met_by(0.79));
    }
}
