//! From an attributed [`DeliveryModel`] to the plain per-deployment samples the impact statistics
//! read.
//!
//! Kept apart from the statistics so that the simulation harness can hand synthetic samples to the
//! very same analysis, and so that what counts (which deployments, which lead times) is decided in
//! one place, by the same rules as the metrics: counted deployments only, baseline deployments'
//! changes and negative lead times left out, one recovery per failed deployment that recovered.

use jiff::{SignedDuration, Timestamp};

use super::{DeploymentSample, Design, GroupHistory, ImpactError};
use crate::attribution::DeliveryModel;
use crate::graph::CommitGraph;
use crate::metrics::{LeadTimeStart, lead_time_seconds};
use crate::names::{Environment, ServiceName};

const DAY: f64 = 86_400.0;

/// The deployments of the services `include` accepts, in `environment`, that finished inside the
/// windows of `design` (the transition included), as samples timed in days relative to the change.
pub fn group_history(
    model: &DeliveryModel,
    graph: &CommitGraph,
    start: LeadTimeStart,
    environment: &Environment,
    include: &dyn Fn(&ServiceName) -> bool,
    design: &Design,
) -> GroupHistory {
    let (change_at, from, until) = (design.change_at, design.before_since, design.after_until);
    let mut deployments = Vec::new();
    let first = model
        .deployments
        .partition_point(|d| d.deployment.finished_at < from);
    for (offset, d) in model.deployments[first..].iter().enumerate() {
        let finished_at = d.deployment.finished_at;
        if finished_at >= until {
            break;
        }
        if !d.counts()
            || &d.deployment.environment != environment
            || !include(&d.deployment.service)
        {
            continue;
        }
        let index = first + offset;
        let lead_times = if d.is_baseline() {
            Vec::new()
        } else {
            model
                .shipped_by(index)
                .iter()
                .filter_map(|c| {
                    let (seconds, _) = model.pull_requests.start(graph, c.commit, start);
                    lead_time_seconds(finished_at, seconds)
                })
                .filter(|s| *s >= 0.0)
                .collect()
        };
        let recovery = d
            .recovery
            .filter(|r| r.duration >= SignedDuration::ZERO)
            .map(|r| r.duration.as_secs_f64());
        deployments.push(DeploymentSample {
            at_days: finished_at.duration_since(change_at).as_secs_f64() / DAY,
            lead_times,
            failed: d.failed(),
            recovery: if d.failed() { recovery } else { None },
            unplanned: !d.unplanned.is_empty(),
        });
    }
    GroupHistory { deployments }
}

/// The latest first deployment among the services `include` accepts in `environment` (each
/// service's records start there, so weeks before it would count as weeks without deployments).
pub fn records_start(
    model: &DeliveryModel,
    environment: &Environment,
    include: &dyn Fn(&ServiceName) -> bool,
) -> Option<Timestamp> {
    let mut firsts: std::collections::BTreeMap<&ServiceName, Timestamp> = Default::default();
    for d in &model.deployments {
        if d.counts() && &d.deployment.environment == environment && include(&d.deployment.service)
        {
            firsts
                .entry(&d.deployment.service)
                .or_insert(d.deployment.finished_at);
        }
    }
    firsts.values().max().copied()
}

/// The last record of the services `include` accepts: their latest deployment (any environment,
/// any status) or incident, whichever is later. Past it, weeks without deployments may only be
/// weeks without records.
pub fn records_end(
    model: &DeliveryModel,
    include: &dyn Fn(&ServiceName) -> bool,
) -> Option<Timestamp> {
    let deployments = model
        .deployments
        .iter()
        .filter(|d| include(&d.deployment.service))
        .map(|d| d.deployment.finished_at);
    let incidents = model
        .incidents
        .iter()
        .filter(|i| include(&i.incident.service))
        .map(|i| i.incident.resolved_at.unwrap_or(i.incident.opened_at));
    deployments.chain(incidents).max()
}

/// The time of the newest commit in `graph` (committer time): the end of the data when deployments
/// are derived from git (tags, merges), since a week with commits and no tag is a week without a
/// deployment.
pub fn last_commit(graph: &CommitGraph) -> Option<Timestamp> {
    let times = graph.committer_times();
    let n = u32::try_from(graph.len()).unwrap_or(u32::MAX);
    (0..n)
        .map(|i| times.get(i))
        .max()
        .and_then(|t| Timestamp::from_second(t).ok())
}

/// Where the data end, for the after window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DataEnd {
    /// At the last record (or last commit): the default, since weeks after it would count as weeks
    /// without deployments.
    LastRecord,
    /// At `--until`: the user said the data are complete to it (`--data-complete`).
    Until,
}

/// Lays out the before and after windows in whole weeks.
///
/// The before window ends at `change_at` and reaches back `before`, but not past `records_start`;
/// the after window starts `transition` after the change and lasts `after`, but ends no later than
/// `until` (now), `ended_at` (the practice's end) or, unless `data_end` is [`DataEnd::Until`],
/// `records_end` (the last record). Each is cut to whole weeks, so weekly counts are comparable.
#[allow(clippy::too_many_arguments)]
pub fn design(
    change_at: Timestamp,
    before: SignedDuration,
    transition: SignedDuration,
    after: SignedDuration,
    records_start: Option<Timestamp>,
    until: Timestamp,
    ended_at: Option<Timestamp>,
    records_end: Option<Timestamp>,
    data_end: DataEnd,
) -> Result<Design, ImpactError> {
    let week = SignedDuration::from_hours(7 * 24);
    let weeks = |d: SignedDuration| -> u32 {
        if d <= SignedDuration::ZERO {
            0
        } else {
            u32::try_from(d.as_secs() / week.as_secs()).unwrap_or(u32::MAX)
        }
    };
    let available_before = match records_start {
        Some(start) if start < change_at => change_at.duration_since(start),
        Some(_) => SignedDuration::ZERO,
        None => before,
    };
    let before_weeks = weeks(before.min(available_before));
    let after_since = change_at
        .checked_add(transition)
        .map_err(|_| ImpactError::OutOfRange)?;
    let mut after_end = after_since
        .checked_add(after)
        .map_err(|_| ImpactError::OutOfRange)?;
    let mut after_limited_by = None;
    if until < after_end {
        after_end = until;
        after_limited_by = Some(AfterLimit::Now);
    }
    if data_end == DataEnd::LastRecord
        && let Some(last) = records_end
        && last < after_end
    {
        after_end = last;
        after_limited_by = Some(AfterLimit::LastRecord);
    }
    if let Some(ended) = ended_at
        && ended < after_end
    {
        after_end = ended;
        after_limited_by = Some(AfterLimit::PracticeEnded);
    }
    let after_weeks = weeks(after_end.duration_since(after_since));
    let span = |n: u32| SignedDuration::from_secs(week.as_secs() * i64::from(n));
    let before_since = change_at
        .checked_sub(span(before_weeks))
        .map_err(|_| ImpactError::OutOfRange)?;
    let after_until = after_since
        .checked_add(span(after_weeks))
        .map_err(|_| ImpactError::OutOfRange)?;
    Ok(Design {
        change_at,
        before_since,
        after_since,
        after_until,
        before_weeks,
        after_weeks,
        transition_days: transition.as_secs_f64() / DAY,
        requested_before_weeks: weeks(before),
        requested_after_weeks: weeks(after),
        before_limited_by_records: before_weeks < weeks(before),
        after_limited_by,
        data_end,
        records_end,
    })
}

/// What shortened the after window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AfterLimit {
    /// It would reach past now (or `--until`).
    Now,
    /// The practice ended.
    PracticeEnded,
    /// The records end earlier (and the data were not declared complete to `--until`).
    LastRecord,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn windows_are_whole_weeks_and_clipped() {
        let change = ts("2026-03-03T00:00:00Z");
        let d = design(
            change,
            SignedDuration::from_hours(90 * 24),
            SignedDuration::from_hours(14 * 24),
            SignedDuration::from_hours(90 * 24),
            None,
            ts("2026-05-01T00:00:00Z"),
            None,
            None,
            DataEnd::LastRecord,
        )
        .unwrap();
        assert_eq!(d.before_weeks, 12);
        assert_eq!(d.before_since, ts("2025-12-09T00:00:00Z"));
        assert_eq!(d.after_since, ts("2026-03-17T00:00:00Z"));
        // 45 days to 1 May: 6 whole weeks.
        assert_eq!(d.after_weeks, 6);
        assert_eq!(d.after_until, ts("2026-04-28T00:00:00Z"));
        assert_eq!(d.after_limited_by, Some(AfterLimit::Now));
        assert!(!d.before_limited_by_records);

        let d = design(
            change,
            SignedDuration::from_hours(90 * 24),
            SignedDuration::ZERO,
            SignedDuration::from_hours(28 * 24),
            Some(ts("2026-02-01T00:00:00Z")),
            ts("2027-01-01T00:00:00Z"),
            Some(ts("2026-03-20T00:00:00Z")),
            None,
            DataEnd::LastRecord,
        )
        .unwrap();
        assert_eq!(d.before_weeks, 4);
        assert!(d.before_limited_by_records);
        assert_eq!(d.after_weeks, 2);
        assert_eq!(d.after_limited_by, Some(AfterLimit::PracticeEnded));
    }

    #[test]
    fn the_after_window_ends_at_the_last_record_unless_the_data_are_complete() {
        let change = ts("2026-03-03T00:00:00Z");
        let layout = |data_end| {
            design(
                change,
                SignedDuration::from_hours(90 * 24),
                SignedDuration::from_hours(14 * 24),
                SignedDuration::from_hours(90 * 24),
                None,
                ts("2026-06-30T00:00:00Z"),
                None,
                // Records stop 5 weeks and a day after the change.
                Some(ts("2026-04-08T00:00:00Z")),
                data_end,
            )
            .unwrap()
        };
        let d = layout(DataEnd::LastRecord);
        // 17 March to 8 April: 3 whole weeks.
        assert_eq!(d.after_weeks, 3);
        assert_eq!(d.after_limited_by, Some(AfterLimit::LastRecord));
        assert_eq!(d.data_end, DataEnd::LastRecord);
        assert_eq!(d.records_end, Some(ts("2026-04-08T00:00:00Z")));
        let d = layout(DataEnd::Until);
        // 17 March to 30 June: 15 weeks, cut at the 12 (90 days) asked for.
        assert_eq!(d.after_weeks, 12);
        assert_eq!(d.after_limited_by, None);
        assert_eq!(d.data_end, DataEnd::Until);
    }
}
