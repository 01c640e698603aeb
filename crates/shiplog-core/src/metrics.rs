//! DORA's five delivery metrics, computed over a scope (service, environment, time window) of an
//! attributed [`DeliveryModel`].
//!
//! The definitions follow dora.dev; `docs/metrics.md` has each one with a worked example. In brief,
//! over the successful deployments of the scope that finished inside the window:
//!
//! - **Deployment frequency**: how many, per week and per day, on how many distinct UTC days, and the
//!   median time between consecutive ones. Four deployments finishing at 0h, 6h, 30h and 78h of a
//!   7-day window give 4 deployments, 4/week, 3 deployment days (day 0 has two), intervals 6h, 24h and
//!   48h, median interval 24h = 86400 s: band "daily-to-weekly".
//! - **Change lead time**: per newly shipped change, its deployment's finish minus the commit's author
//!   time. A commit authored at 09:00 and first shipped at 15:00 the next day has a lead time of 30h.
//!   The baseline deployment's changes are counted in `baseline_excluded`, changes with a negative lead
//!   time in `excluded_negative`, and neither enters the statistics.
//! - **Change fail rate**: failed deployments ÷ deployments. 1 failed of 4 gives 0.25.
//! - **Failed deployment recovery time**: per failed deployment that recovered, from its finish to its
//!   recovery. Failures not yet recovered are counted in `unrecovered`.
//! - **Deployment rework rate**: unplanned deployments ÷ deployments. A rollback among 4 gives 0.25.
//!
//! Values that do not exist (a median of no lead times, a rate over no deployments) are `None` and
//! serialize as `null`, never as a 0 pretending to be a measurement.
//!
//! With pull-request data ([`crate::pr_links`]), lead time also has **stages**, one value per pull
//! request first shipped in the scope (per service: a pull request touching two services of a team
//! counts once in each): coding, pickup, review and deploy, each summarised by count, median, p75
//! and p90. A change owned by a pull request starts at the pull request's first commit.

use std::collections::HashSet;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::attribution::{AnalyzedDeployment, DeliveryModel};
use crate::definitions::Definitions;
use crate::graph::CommitGraph;
use crate::names::{Environment, ServiceName};
use crate::pr_links::{StageTimes, stage_times};
use crate::practice::TeamName;
use crate::services::TeamScope;
use crate::stats::summarize;
use crate::window::TimeWindow;

/// What the metrics are computed over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// One service, or every service when `None`.
    pub service: Option<ServiceName>,
    /// Only the services of this team (with `service` as well, both must hold).
    pub team: Option<TeamScope>,
    /// The environment (DORA's metrics are about production).
    pub environment: Environment,
    /// The time window.
    pub window: TimeWindow,
}

impl Scope {
    /// Whether a deployment of `service` to `environment` is in scope (ignoring time).
    pub fn includes(&self, service: &ServiceName, environment: &Environment) -> bool {
        &self.environment == environment
            && self.service.as_ref().is_none_or(|s| s == service)
            && self.team.as_ref().is_none_or(|t| t.owns(service))
    }

    /// Indices of the counted deployments of `model` in scope, in finish order.
    pub fn deployments<'m>(
        &'m self,
        model: &'m DeliveryModel,
    ) -> impl Iterator<Item = (usize, &'m AnalyzedDeployment)> + 'm {
        let from = model
            .deployments
            .partition_point(|d| d.deployment.finished_at < self.window.since);
        let to = model
            .deployments
            .partition_point(|d| d.deployment.finished_at < self.window.until);
        model.deployments[from..to]
            .iter()
            .enumerate()
            .map(move |(k, d)| (from + k, d))
            .filter(move |(_, d)| {
                d.counts() && self.includes(&d.deployment.service, &d.deployment.environment)
            })
    }
}

/// Which commit time starts a change's lead time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LeadTimeStart {
    /// When the change was written (dora.dev's "commit" time, surviving rebases).
    #[default]
    Author,
    /// When the commit was last rewritten (rebase, amend, cherry-pick).
    Committer,
}

/// DORA's deployment-frequency buckets, chosen from the median interval between deployments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FrequencyBand {
    /// Median interval under a day: on demand, multiple deploys per day.
    MultiplePerDay,
    /// Median interval from 1 to 7 days.
    DailyToWeekly,
    /// Median interval over 7 and up to 30 days.
    WeeklyToMonthly,
    /// Median interval over 30 and up to 183 days.
    MonthlyToSixMonths,
    /// Median interval over 183 days.
    FewerThanSixMonths,
}

const DAY: f64 = 86_400.0;
const HOUR: f64 = 3_600.0;

impl FrequencyBand {
    /// The band of a median interval in seconds.
    pub fn from_median_interval(seconds: f64) -> Self {
        if seconds < DAY {
            Self::MultiplePerDay
        } else if seconds <= 7.0 * DAY {
            Self::DailyToWeekly
        } else if seconds <= 30.0 * DAY {
            Self::WeeklyToMonthly
        } else if seconds <= 183.0 * DAY {
            Self::MonthlyToSixMonths
        } else {
            Self::FewerThanSixMonths
        }
    }

    /// How DORA's survey words it.
    pub fn describe(self) -> &'static str {
        match self {
            Self::MultiplePerDay => "on demand (multiple per day)",
            Self::DailyToWeekly => "once per day to once per week",
            Self::WeeklyToMonthly => "once per week to once per month",
            Self::MonthlyToSixMonths => "once per month to once every six months",
            Self::FewerThanSixMonths => "fewer than once every six months",
        }
    }
}

/// DORA's duration buckets, used for lead time and recovery time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DurationBand {
    /// Under an hour.
    LessThanOneHour,
    /// Under a day.
    LessThanOneDay,
    /// Under a week.
    LessThanOneWeek,
    /// Under 30 days.
    LessThanOneMonth,
    /// Under 183 days.
    LessThanSixMonths,
    /// 183 days or more.
    MoreThanSixMonths,
}

impl DurationBand {
    /// The band of a median duration in seconds.
    pub fn from_seconds(seconds: f64) -> Self {
        if seconds < HOUR {
            Self::LessThanOneHour
        } else if seconds < DAY {
            Self::LessThanOneDay
        } else if seconds < 7.0 * DAY {
            Self::LessThanOneWeek
        } else if seconds < 30.0 * DAY {
            Self::LessThanOneMonth
        } else if seconds < 183.0 * DAY {
            Self::LessThanSixMonths
        } else {
            Self::MoreThanSixMonths
        }
    }

    /// In words.
    pub fn describe(self) -> &'static str {
        match self {
            Self::LessThanOneHour => "less than one hour",
            Self::LessThanOneDay => "less than one day",
            Self::LessThanOneWeek => "less than one week",
            Self::LessThanOneMonth => "less than one month",
            Self::LessThanSixMonths => "less than six months",
            Self::MoreThanSixMonths => "six months or more",
        }
    }
}

/// The window of a report, as written in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WindowBounds {
    /// First instant inside.
    pub since: Timestamp,
    /// First instant after.
    pub until: Timestamp,
}

/// Deployment frequency.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeploymentFrequency {
    /// Successful deployments in the window.
    pub deployments: u64,
    /// Distinct UTC days with at least one deployment.
    pub deployment_days: u64,
    /// Deployments per 7 days of the window.
    pub per_week: f64,
    /// Deployments per day of the window.
    pub per_day: f64,
    /// Median time between consecutive deployments, seconds; `None` with fewer than two.
    pub median_interval_seconds: Option<f64>,
    /// DORA bucket of the median interval.
    pub band: Option<FrequencyBand>,
    /// Successful deployments of the scope that finished in the window but before their commit's
    /// committer time: left out of every metric (their times contradict git), and counted here so
    /// the loss is visible. `shiplog explain deployments` lists them.
    pub excluded_before_commit: u64,
}

/// Change lead time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangeLeadTime {
    /// Changes measured.
    pub changes: u64,
    /// Changes left out because their lead time was negative (clock skew).
    pub excluded_negative: u64,
    /// Changes left out because they were shipped by the first (baseline) deployment of their chain.
    pub baseline_excluded: u64,
    /// Median lead time, seconds.
    pub median_seconds: Option<f64>,
    /// 75th percentile, seconds.
    pub p75_seconds: Option<f64>,
    /// 90th percentile, seconds.
    pub p90_seconds: Option<f64>,
    /// Mean, seconds.
    pub mean_seconds: Option<f64>,
    /// DORA bucket of the median.
    pub band: Option<DurationBand>,
    /// Which commit time started each lead time.
    pub start: LeadTimeStart,
    /// The pull-request stages; `None` without pull-request data.
    pub stages: Option<LeadTimeStages>,
    /// Under a peer's definitions (`--definitions`): changes of the scope its lead time does not
    /// measure (no pull request, not in the deploying push). Absent under dora's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_measured: Option<u64>,
}

/// One stage of the way from first commit to production, over the pull requests of a scope.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageSummary {
    /// Pull requests measured.
    pub count: u64,
    /// Pull requests left out because their records put the stage's end before its start.
    pub excluded_negative: u64,
    /// Median, seconds.
    pub median_seconds: Option<f64>,
    /// 75th percentile, seconds.
    pub p75_seconds: Option<f64>,
    /// 90th percentile, seconds.
    pub p90_seconds: Option<f64>,
}

/// Lead time split into the stages of its pull requests.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeadTimeStages {
    /// Pull requests first shipped by the scope's deployments (not baselines).
    pub pull_requests: u64,
    /// Changes of the scope that belong to one of them.
    pub changes: u64,
    /// First commit → ready for review.
    pub coding: StageSummary,
    /// Ready for review → first review by someone other than the author.
    pub pickup: StageSummary,
    /// First review → merged.
    pub review: StageSummary,
    /// Merged → first deployment containing it.
    pub deploy: StageSummary,
}

/// Collects stage values, one pull request per service once.
#[derive(Default)]
struct StageCollector<'m> {
    seen: HashSet<(&'m ServiceName, usize)>,
    changes: u64,
    values: [(Vec<f64>, u64); 4],
}

impl<'m> StageCollector<'m> {
    fn add(&mut self, service: &'m ServiceName, pr: usize, times: impl FnOnce() -> StageTimes) {
        self.changes += 1;
        if !self.seen.insert((service, pr)) {
            return;
        }
        let t = times();
        for (slot, value) in self.values.iter_mut().zip([
            t.coding_seconds,
            t.pickup_seconds,
            t.review_seconds,
            t.deploy_seconds,
        ]) {
            match value {
                Some(v) if v >= 0.0 => slot.0.push(v),
                Some(_) => slot.1 += 1,
                None => {}
            }
        }
    }

    fn finish(self) -> LeadTimeStages {
        let [coding, pickup, review, deploy] = self.values.map(|(mut values, negative)| {
            let s = summarize(&mut values);
            StageSummary {
                count: s.map_or(0, |s| s.count as u64),
                excluded_negative: negative,
                median_seconds: s.map(|s| s.median),
                p75_seconds: s.map(|s| s.p75),
                p90_seconds: s.map(|s| s.p90),
            }
        });
        LeadTimeStages {
            pull_requests: self.seen.len() as u64,
            changes: self.changes,
            coding,
            pickup,
            review,
            deploy,
        }
    }
}

/// Change fail rate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangeFailRate {
    /// Successful deployments in the window.
    pub deployments: u64,
    /// Of those, how many failed (incident, rollback or revert).
    pub failed: u64,
    /// `failed / deployments`; `None` without deployments.
    pub rate: Option<f64>,
}

/// Failed deployment recovery time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecoveryTime {
    /// Failed deployments in the window that recovered.
    pub recoveries: u64,
    /// Failed deployments in the window not recovered (yet).
    pub unrecovered: u64,
    /// Recoveries left out because the records put the recovery before the deployment.
    pub excluded_negative: u64,
    /// Median, seconds.
    pub median_seconds: Option<f64>,
    /// 90th percentile, seconds.
    pub p90_seconds: Option<f64>,
    /// DORA bucket of the median.
    pub band: Option<DurationBand>,
}

/// Deployment rework rate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReworkRate {
    /// Successful deployments in the window.
    pub deployments: u64,
    /// Of those, how many were unplanned.
    pub unplanned: u64,
    /// `unplanned / deployments`; `None` without deployments.
    pub rate: Option<f64>,
}

/// Incident counts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentCounts {
    /// Incidents opened in the window.
    pub total: u64,
    /// Of those, how many no deployment could be blamed for.
    pub unattributed: u64,
}

/// The five metrics for one scope. Its JSON form is a documented contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DoraMetrics {
    /// A label for the period, when the window is one row of a trend (`2026-03`, `2026-W10`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
    /// The window.
    pub window: WindowBounds,
    /// The service, or `None` for all services (of the team, when one is selected).
    pub service: Option<ServiceName>,
    /// The team, when one was selected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team: Option<TeamName>,
    /// The environment.
    pub environment: Environment,
    /// Deployment frequency.
    pub deployment_frequency: DeploymentFrequency,
    /// Change lead time.
    pub change_lead_time: ChangeLeadTime,
    /// Change fail rate.
    pub change_fail_rate: ChangeFailRate,
    /// Failed deployment recovery time.
    pub failed_deployment_recovery_time: RecoveryTime,
    /// Deployment rework rate.
    pub rework_rate: ReworkRate,
    /// Incidents.
    pub incidents: IncidentCounts,
    /// Whose definitions the numbers follow; written only when not dora's (`--definitions`).
    #[serde(skip_serializing_if = "Definitions::is_dora")]
    pub definitions: Definitions,
}

/// The successful deployments of `scope` (service, environment and window) left out because they
/// finished before their commit's committer time.
pub fn before_commit<'m>(
    model: &'m DeliveryModel,
    scope: &'m Scope,
) -> impl Iterator<Item = &'m AnalyzedDeployment> + 'm {
    model
        .before_commit
        .iter()
        .filter_map(|&(i, _)| model.deployments.get(i))
        .filter(|d| {
            scope.includes(&d.deployment.service, &d.deployment.environment)
                && scope.window.contains(d.deployment.finished_at)
        })
}

/// The UTC day of `at` as days since 1970-01-01 ([`crate::window::utc_day`] without building a
/// date): whole days of seconds, rounding down (UTC has no leap seconds here).
fn utc_day_number(at: Timestamp) -> i64 {
    let seconds = at.as_second() - i64::from(at.subsec_nanosecond() < 0);
    seconds.div_euclid(86_400)
}

fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// Lead time of one change in seconds, or `None` when its time cannot be represented.
pub fn lead_time_seconds(deployed_at: Timestamp, start_seconds: i64) -> Option<f64> {
    LeadTimeClock::new(deployed_at).seconds(start_seconds)
}

/// Lead times to one deployment: [`lead_time_seconds`] with the deployment's time converted once,
/// for the hundreds of thousands of changes a large history ships.
#[derive(Debug, Clone, Copy)]
pub struct LeadTimeClock {
    deployed: SignedDuration,
    /// The seconds a [`Timestamp`] can hold.
    range: (i64, i64),
}

impl LeadTimeClock {
    /// The clock of a deployment that finished at `deployed_at`.
    pub fn new(deployed_at: Timestamp) -> Self {
        Self {
            deployed: deployed_at.as_duration(),
            range: (Timestamp::MIN.as_second(), Timestamp::MAX.as_second()),
        }
    }

    /// The lead time of a change that started at `start_seconds`, in seconds; `None` when that is
    /// not a representable time. Exactly `deployed_at.duration_since(start)` in seconds.
    #[inline]
    pub fn seconds(self, start_seconds: i64) -> Option<f64> {
        let (min, max) = self.range;
        (min..=max)
            .contains(&start_seconds)
            .then(|| (self.deployed - SignedDuration::from_secs(start_seconds)).as_secs_f64())
    }
}

/// Computes the five metrics over `scope`.
pub fn compute(
    model: &DeliveryModel,
    graph: &CommitGraph,
    scope: &Scope,
    start: LeadTimeStart,
) -> DoraMetrics {
    let mut finish_times: Vec<Timestamp> = Vec::new();
    // Deployments come in finish order, so distinct days are counted as they change.
    let mut days = 0u64;
    let mut last_day: Option<i64> = None;
    let mut lead_times: Vec<f64> = Vec::new();
    let mut excluded_negative = 0u64;
    let mut baseline_excluded = 0u64;
    let mut failed = 0u64;
    let mut unplanned = 0u64;
    let mut recoveries: Vec<f64> = Vec::new();
    let mut unrecovered = 0u64;
    let mut recovery_negative = 0u64;
    let links = &model.pull_requests;
    let mut stages = StageCollector::default();
    // Room for every lead time at once: growing a vector of hundreds of thousands by doubling
    // copies and faults in its memory several times over.
    lead_times.reserve_exact(
        scope
            .deployments(model)
            .filter(|(_, d)| !d.is_baseline())
            .map(|(_, d)| d.shipped.len())
            .sum(),
    );

    for (index, d) in scope.deployments(model) {
        let finished_at = d.deployment.finished_at;
        finish_times.push(finished_at);
        let day = utc_day_number(finished_at);
        if last_day != Some(day) {
            days += 1;
            last_day = Some(day);
        }
        if d.is_baseline() {
            baseline_excluded += d.shipped.len() as u64;
        } else {
            let clock = LeadTimeClock::new(finished_at);
            for change in model.shipped_by(index) {
                let (start_seconds, _) = links.start(graph, change.commit, start);
                match clock.seconds(start_seconds) {
                    Some(seconds) if seconds >= 0.0 => lead_times.push(seconds),
                    _ => excluded_negative += 1,
                }
                if let Some(pr) = links.of_commit(change.commit) {
                    stages.add(&d.deployment.service, pr, || {
                        stage_times(links.get(pr), finished_at)
                    });
                }
            }
        }
        if d.failed() {
            failed += 1;
            match d.recovery {
                Some(r) if r.duration >= SignedDuration::ZERO => {
                    recoveries.push(r.duration.as_secs_f64());
                }
                Some(_) => recovery_negative += 1,
                None => unrecovered += 1,
            }
        }
        if !d.unplanned.is_empty() {
            unplanned += 1;
        }
    }

    let deployments = finish_times.len() as u64;
    let mut intervals: Vec<f64> = finish_times
        .windows(2)
        .map(|w| w[1].duration_since(w[0]).as_secs_f64())
        .collect();
    let median_interval = summarize(&mut intervals).map(|s| s.median);
    let days_in_window = scope.window.days();
    let lead = summarize(&mut lead_times);
    let recovery = summarize(&mut recoveries);

    let (mut total, mut unattributed) = (0u64, 0u64);
    for i in &model.incidents {
        if scope.includes(&i.incident.service, &i.incident.environment)
            && scope.window.contains(i.incident.opened_at)
        {
            total += 1;
            if i.attribution.deployment().is_none() {
                unattributed += 1;
            }
        }
    }

    DoraMetrics {
        period: None,
        window: WindowBounds {
            since: scope.window.since,
            until: scope.window.until,
        },
        service: scope.service.clone(),
        team: scope.team.as_ref().map(|t| t.team.clone()),
        environment: scope.environment.clone(),
        deployment_frequency: DeploymentFrequency {
            deployments,
            deployment_days: days,
            per_week: deployments as f64 / days_in_window * 7.0,
            per_day: deployments as f64 / days_in_window,
            median_interval_seconds: median_interval,
            band: median_interval.map(FrequencyBand::from_median_interval),
            excluded_before_commit: before_commit(model, scope).count() as u64,
        },
        change_lead_time: ChangeLeadTime {
            changes: lead.map_or(0, |s| s.count as u64),
            excluded_negative,
            baseline_excluded,
            median_seconds: lead.map(|s| s.median),
            p75_seconds: lead.map(|s| s.p75),
            p90_seconds: lead.map(|s| s.p90),
            mean_seconds: lead.map(|s| s.mean),
            band: lead.map(|s| DurationBand::from_seconds(s.median)),
            start,
            stages: (!links.is_empty()).then(|| stages.finish()),
            not_measured: None,
        },
        change_fail_rate: ChangeFailRate {
            deployments,
            failed,
            rate: ratio(failed, deployments),
        },
        failed_deployment_recovery_time: RecoveryTime {
            recoveries: recovery.map_or(0, |s| s.count as u64),
            unrecovered,
            excluded_negative: recovery_negative,
            median_seconds: recovery.map(|s| s.median),
            p90_seconds: recovery.map(|s| s.p90),
            band: recovery.map(|s| DurationBand::from_seconds(s.median)),
        },
        rework_rate: ReworkRate {
            deployments,
            unplanned,
            rate: ratio(unplanned, deployments),
        },
        incidents: IncidentCounts {
            total,
            unattributed,
        },
        definitions: Definitions::Dora,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attribution::{AttributionOptions, attribute};
    use crate::event::{Deployment, DeploymentSource, DeploymentStatus};
    use crate::graph::NewCommit;
    use crate::names::{DeploymentId, Sha};

    const T0: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z, a Thursday

    fn at(hours: i64) -> Timestamp {
        Timestamp::from_second(T0 + hours * 3600).unwrap()
    }

    #[test]
    fn module_doc_frequency_example() {
        // A linear history; each deployment ships one new commit authored an hour before.
        let mut g = CommitGraph::new();
        let hours = [0i64, 6, 30, 78];
        let mut deployments = Vec::new();
        for (i, h) in hours.iter().enumerate() {
            let parents: Vec<u32> = if i == 0 { vec![] } else { vec![i as u32 - 1] };
            let mut bytes = [0u8; 20];
            bytes[0] = i as u8 + 1;
            g.push(NewCommit {
                sha: Sha::from_bytes(bytes),
                parents: &parents,
                author_time: T0 + (h - 1) * 3600,
                committer_time: T0 + (h - 1) * 3600,
                reverts: &[],
                shallow: false,
            })
            .unwrap();
            deployments.push(Deployment {
                id: DeploymentId::new(&format!("d{i}")).unwrap(),
                service: ServiceName::new("api").unwrap(),
                environment: Environment::production(),
                sha: Sha::from_bytes(bytes),
                finished_at: at(*h),
                started_at: None,
                status: DeploymentStatus::Success,
                unplanned: i == 3,
                source: DeploymentSource::Recorded,
                recorded_by: None,
            });
        }
        g.close_run();
        let model = attribute(&g, deployments, vec![], AttributionOptions::default()).unwrap();
        let scope = Scope {
            service: None,
            team: None,
            environment: Environment::production(),
            window: TimeWindow::new(at(0), at(7 * 24)).unwrap(),
        };
        let m = compute(&model, &g, &scope, LeadTimeStart::Author);
        let f = &m.deployment_frequency;
        assert_eq!((f.deployments, f.deployment_days), (4, 3));
        assert_eq!(f.per_week, 4.0);
        assert_eq!(f.median_interval_seconds, Some(86_400.0));
        assert_eq!(f.band, Some(FrequencyBand::DailyToWeekly));
        let l = &m.change_lead_time;
        assert_eq!(
            (l.changes, l.baseline_excluded, l.excluded_negative),
            (3, 1, 0)
        );
        assert_eq!(l.median_seconds, Some(3600.0));
        assert_eq!(l.band, Some(DurationBand::LessThanOneDay));
        assert_eq!(m.rework_rate.rate, Some(0.25));
        assert_eq!(m.change_fail_rate.rate, Some(0.0));
        assert_eq!(m.failed_deployment_recovery_time.median_seconds, None);

        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(json["window"]["since"], "2026-01-01T00:00:00Z");
        assert_eq!(json["service"], serde_json::Value::Null);
        assert_eq!(json["deployment_frequency"]["band"], "daily-to-weekly");
        assert_eq!(json["change_lead_time"]["band"], "less-than-one-day");
        assert_eq!(
            json["failed_deployment_recovery_time"]["median_seconds"],
            serde_json::Value::Null
        );
        assert!(json.get("period").is_none());
    }

    #[test]
    fn bands_have_inclusive_and_exclusive_edges() {
        assert_eq!(
            FrequencyBand::from_median_interval(DAY - 1.0),
            FrequencyBand::MultiplePerDay
        );
        assert_eq!(
            FrequencyBand::from_median_interval(DAY),
            FrequencyBand::DailyToWeekly
        );
        assert_eq!(
            FrequencyBand::from_median_interval(7.0 * DAY),
            FrequencyBand::DailyToWeekly
        );
        assert_eq!(
            FrequencyBand::from_median_interval(31.0 * DAY),
            FrequencyBand::MonthlyToSixMonths
        );
        assert_eq!(
            FrequencyBand::from_median_interval(200.0 * DAY),
            FrequencyBand::FewerThanSixMonths
        );
        assert_eq!(
            DurationBand::from_seconds(3599.0),
            DurationBand::LessThanOneHour
        );
        assert_eq!(
            DurationBand::from_seconds(3600.0),
            DurationBand::LessThanOneDay
        );
        assert_eq!(
            DurationBand::from_seconds(183.0 * DAY),
            DurationBand::MoreThanSixMonths
        );
    }

    #[test]
    fn per_deployment_shortcuts_match_their_definitions() {
        let epoch = jiff::civil::date(1970, 1, 1);
        let times: Vec<Timestamp> = [
            "1969-12-31T23:59:59.5Z",
            "1969-12-31T00:00:00Z",
            "1970-01-01T00:00:00Z",
            "2026-03-01T23:59:59.999999999Z",
            "2026-03-02T00:00:00Z",
            "-009999-01-02T01:59:59Z",
            "9999-12-30T22:00:00.000000001Z",
        ]
        .iter()
        .map(|t| t.parse().unwrap())
        .collect();
        for &t in &times {
            let day = crate::window::utc_day(t);
            assert_eq!(
                utc_day_number(t),
                i64::from(epoch.until(day).unwrap().get_days()),
                "{t}"
            );
            for start in [
                T0,
                -1,
                i64::MIN,
                i64::MAX,
                Timestamp::MIN.as_second(),
                Timestamp::MAX.as_second(),
                Timestamp::MIN.as_second() - 1,
                Timestamp::MAX.as_second() + 1,
            ] {
                let expected = Timestamp::from_second(start)
                    .ok()
                    .map(|s| t.duration_since(s).as_secs_f64());
                assert_eq!(
                    LeadTimeClock::new(t).seconds(start),
                    expected,
                    "{t} {start}"
                );
            }
        }
    }
}
