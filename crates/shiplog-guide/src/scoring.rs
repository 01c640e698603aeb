//! DORA Quick Check scoring: which answer bucket a measured value falls in, and its 0–10 score.
//!
//! The Quick Check asks people to pick an answer; shiplog measures instead, then places the
//! measurement in the answer the Quick Check offers, so that its score and the survey benchmarks
//! mean the same thing for a measured team as for a surveyed one. The formulas are the Quick
//! Check's own: a time bucket b (1–6) scores (b − 1) × 2, a percentage p scores 10 − p / 10, the
//! overall score is the mean of the answered metrics, and a capability statement answered r
//! (1–5, strongly disagree to strongly agree) scores (r − 1) × 2.5.
//!
//! Bucket boundaries (a value on a boundary falls in the faster bucket's neighbour, as "less than"
//! says): durations under 1 hour → 6, under 1 day → 5, under 7 days → 4, under 30 days → 3, under
//! 180 days → 2, else 1. Deployment frequency by the average interval between deployments over the
//! window: at least once a day → 5, once a week → 4, once in 30 days → 3, once in 180 days → 2, else
//! 1; and bucket 6 ("on demand, multiple deploys per day", whose wording overlaps bucket 5) when the
//! median working day (Monday to Friday, UTC, in the window) had two or more deployments.

use serde::Serialize;
use shiplog_core::impact::MetricKind;

use crate::data::quickcheck;

/// Seconds in an hour and a day.
const HOUR: f64 = 3600.0;
const DAY: f64 = 86_400.0;

/// A metric of the Quick Check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QuickCheckMetric {
    /// Deployment frequency (bucketed).
    DeploymentFrequency,
    /// Change lead time (bucketed).
    ChangeLeadTime,
    /// Change fail rate (a percentage).
    ChangeFailRate,
    /// Failed deployment recovery time (bucketed).
    FailedDeploymentRecoveryTime,
    /// Deployment rework rate (a percentage; asked from 2025 on).
    ReworkRate,
}

impl QuickCheckMetric {
    /// The five, in shiplog's report order.
    pub const ALL: [Self; 5] = [
        Self::DeploymentFrequency,
        Self::ChangeLeadTime,
        Self::ChangeFailRate,
        Self::FailedDeploymentRecoveryTime,
        Self::ReworkRate,
    ];

    /// The key the Quick Check files use.
    pub fn key(self) -> &'static str {
        match self {
            Self::DeploymentFrequency => "deployfreq",
            Self::ChangeLeadTime => "leadtime",
            Self::ChangeFailRate => "changefailure",
            Self::FailedDeploymentRecoveryTime => "failurerecovery",
            Self::ReworkRate => "rework",
        }
    }

    /// shiplog's name (as in `shiplog metrics --format json` and `--expect`).
    pub fn name(self) -> &'static str {
        match self {
            Self::DeploymentFrequency => "deployment_frequency",
            Self::ChangeLeadTime => "change_lead_time",
            Self::ChangeFailRate => "change_fail_rate",
            Self::FailedDeploymentRecoveryTime => "failed_deployment_recovery_time",
            Self::ReworkRate => "rework_rate",
        }
    }

    /// In prose.
    pub fn label(self) -> &'static str {
        match self {
            Self::DeploymentFrequency => "deployment frequency",
            Self::ChangeLeadTime => "change lead time",
            Self::ChangeFailRate => "change fail rate",
            Self::FailedDeploymentRecoveryTime => "recovery time",
            Self::ReworkRate => "rework rate",
        }
    }

    /// The same metric for the impact analysis.
    pub fn kind(self) -> MetricKind {
        match self {
            Self::DeploymentFrequency => MetricKind::DeploymentFrequency,
            Self::ChangeLeadTime => MetricKind::ChangeLeadTime,
            Self::ChangeFailRate => MetricKind::ChangeFailRate,
            Self::FailedDeploymentRecoveryTime => MetricKind::FailedDeploymentRecoveryTime,
            Self::ReworkRate => MetricKind::ReworkRate,
        }
    }

    /// Whether the Quick Check asks it as a bucketed question (the others are percentages).
    pub fn bucketed(self) -> bool {
        !matches!(self, Self::ChangeFailRate | Self::ReworkRate)
    }
}

/// A Quick Check answer bucket, 1 (slowest) to 6 (fastest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Bucket(u8);

impl Bucket {
    /// Bucket `n`, when 1..=6.
    pub fn new(n: u8) -> Option<Self> {
        (1..=6).contains(&n).then_some(Self(n))
    }

    /// Its number.
    pub fn number(self) -> u8 {
        self.0
    }

    /// Its score: (b − 1) × 2.
    pub fn score(self) -> f64 {
        f64::from(self.0 - 1) * 2.0
    }

    /// The answer's text in the Quick Check for `metric` (a bucketed one).
    pub fn text(self, metric: QuickCheckMetric) -> Option<&'static str> {
        quickcheck()
            .buckets
            .get(metric.key())?
            .get(&self.0.to_string())
            .map(String::as_str)
    }
}

/// The bucket of a duration (lead time, recovery time) in seconds.
pub fn duration_bucket(seconds: f64) -> Bucket {
    let n = if seconds < HOUR {
        6
    } else if seconds < DAY {
        5
    } else if seconds < 7.0 * DAY {
        4
    } else if seconds < 30.0 * DAY {
        3
    } else if seconds < 180.0 * DAY {
        2
    } else {
        1
    };
    Bucket(n)
}

/// The bucket of `deployments` over a window of `window_days` days whose median working day had
/// `median_working_day` deployments; `None` with no deployment or an empty window.
pub fn frequency_bucket(
    deployments: u64,
    window_days: f64,
    median_working_day: f64,
) -> Option<Bucket> {
    if deployments == 0 || window_days <= 0.0 {
        return None;
    }
    if median_working_day >= 2.0 {
        return Some(Bucket(6));
    }
    // "At least once per D days" is deployments × D ≥ window days: exact for whole numbers.
    let n = deployments as f64;
    let at_least_every = |days: f64| n * days >= window_days;
    let b = if at_least_every(1.0) {
        5
    } else if at_least_every(7.0) {
        4
    } else if at_least_every(30.0) {
        3
    } else if at_least_every(180.0) {
        2
    } else {
        1
    };
    Some(Bucket(b))
}

/// The score of a percentage answer (0–100): 10 − p / 10.
pub fn percentage_score(percent: f64) -> f64 {
    10.0 - percent / 10.0
}

/// The score of a capability statement answered `r` (1–5): (r − 1) × 2.5; `None` outside 1–5.
pub fn statement_score(r: u8) -> Option<f64> {
    (1..=5).contains(&r).then(|| f64::from(r - 1) * 2.5)
}

/// The overall score: the mean of the answered metrics' scores; `None` when none is answered.
pub fn overall_score(scores: &[Option<f64>]) -> Option<f64> {
    let answered: Vec<f64> = scores.iter().flatten().copied().collect();
    (!answered.is_empty()).then(|| answered.iter().sum::<f64>() / answered.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_scores_are_twice_b_minus_one() {
        let scores: Vec<f64> = (1..=6).map(|b| Bucket::new(b).unwrap().score()).collect();
        assert_eq!(scores, [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(Bucket::new(0), None);
        assert_eq!(Bucket::new(7), None);
    }

    #[test]
    fn duration_buckets_at_every_boundary() {
        let cases = [
            (0.0, 6),
            (HOUR - 1.0, 6),
            (HOUR, 5),
            (DAY - 1.0, 5),
            (DAY, 4),
            (7.0 * DAY - 1.0, 4),
            (7.0 * DAY, 3),
            (30.0 * DAY - 1.0, 3),
            (30.0 * DAY, 2),
            (180.0 * DAY - 1.0, 2),
            (180.0 * DAY, 1),
            (1e9, 1),
        ];
        for (seconds, bucket) in cases {
            assert_eq!(duration_bucket(seconds).number(), bucket, "{seconds} s");
        }
    }

    #[test]
    fn frequency_buckets_at_every_boundary() {
        // 90-day window.
        let cases = [
            (90, 1.0, 5), // exactly once a day
            (89, 1.0, 4), // just under
            (13, 0.0, 4), // 13 × 7 = 91 ≥ 90
            (12, 0.0, 3), // 84 < 90
            (3, 0.0, 3),  // exactly once in 30 days
            (2, 0.0, 2),
            (1, 0.0, 2),   // 180 ≥ 90
            (500, 1.5, 5), // many deployments, but the median working day has fewer than 2
            (500, 2.0, 6), // median working day with two: on demand
        ];
        for (n, median, bucket) in cases {
            assert_eq!(
                frequency_bucket(n, 90.0, median).map(Bucket::number),
                Some(bucket),
                "{n} deployments, median working day {median}"
            );
        }
        // 360-day window: once in 180 days is the edge of bucket 2.
        assert_eq!(frequency_bucket(2, 360.0, 0.0).map(Bucket::number), Some(2));
        assert_eq!(frequency_bucket(1, 360.0, 0.0).map(Bucket::number), Some(1));
        assert_eq!(frequency_bucket(0, 90.0, 0.0), None);
        assert_eq!(frequency_bucket(3, 0.0, 0.0), None);
    }

    #[test]
    fn percentages_and_statements_score_as_the_quick_check() {
        assert_eq!(percentage_score(0.0), 10.0);
        assert_eq!(percentage_score(15.0), 8.5);
        assert_eq!(percentage_score(100.0), 0.0);
        let scores: Vec<Option<f64>> = (0..=6).map(statement_score).collect();
        assert_eq!(
            scores,
            [
                None,
                Some(0.0),
                Some(2.5),
                Some(5.0),
                Some(7.5),
                Some(10.0),
                None
            ]
        );
    }

    #[test]
    fn overall_is_the_mean_of_answered_metrics() {
        assert_eq!(
            overall_score(&[Some(6.0), Some(8.0), None, Some(10.0), None]),
            Some(8.0)
        );
        assert_eq!(overall_score(&[None, None]), None);
    }

    #[test]
    fn bucket_texts_come_from_the_quick_check() {
        let six = Bucket::new(6).unwrap();
        assert_eq!(
            six.text(QuickCheckMetric::DeploymentFrequency),
            Some("On demand (multiple deploys per day)")
        );
        assert_eq!(
            Bucket::new(1)
                .unwrap()
                .text(QuickCheckMetric::ChangeLeadTime),
            Some("More than six months")
        );
        assert_eq!(six.text(QuickCheckMetric::ChangeFailRate), None);
    }
}
