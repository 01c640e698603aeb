//! Where a team stands: each of the five metrics placed in the Quick Check answer it falls in,
//! scored on DORA's 0–10 scale, and compared with the 2025 survey benchmarks for the team's
//! industry and organisation size.

use serde::Serialize;
use shiplog_core::metrics::DoraMetrics;

use crate::GuideError;
use crate::benchmark::{Benchmark, BenchmarkKind, CURRENT_EDITION, benchmark};
use crate::scoring::{
    Bucket, QuickCheckMetric, duration_bucket, frequency_bucket, overall_score, percentage_score,
};

/// Said wherever a benchmark is shown.
pub const SURVEY_CAVEAT: &str = "The benchmarks are means and standard deviations of self-reported answers to DORA's 2025 survey, not measurements; a team's measured score and a surveyed team's answer mean the same bucket, but are not the same kind of evidence.";

/// One metric's place.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricStanding {
    /// Which metric.
    pub metric: QuickCheckMetric,
    /// The measured value: seconds (lead time, recovery), deployments per week, or a share 0–1.
    pub value: Option<f64>,
    /// How many items it rests on (deployments, changes or recoveries).
    pub count: u64,
    /// The Quick Check answer it falls in (bucketed metrics).
    pub bucket: Option<Bucket>,
    /// That answer's text.
    pub bucket_text: Option<&'static str>,
    /// Its 0–10 score.
    pub score: Option<f64>,
    /// The benchmarks asked for, with how far the score lies from their mean.
    pub benchmarks: Vec<Comparison>,
}

/// A score against a benchmark.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The benchmark.
    pub benchmark: Benchmark,
    /// Standard deviations above (+) or below (−) its mean; `None` without a score.
    pub standard_deviations: Option<f64>,
}

/// The whole standing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Standing {
    /// The five metrics.
    pub metrics: Vec<MetricStanding>,
    /// The mean of the scored metrics.
    pub overall_score: Option<f64>,
    /// Deployments on the median working day (the rule for deployment-frequency bucket 6).
    pub median_working_day_deployments: f64,
}

/// Which benchmark rows to compare with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BenchmarkChoice {
    /// An industry key of the 2025 file (`consumer`, `technology`, …).
    pub industry: Option<String>,
    /// An organisation-size key (`fewer_than_100`, …).
    pub org_size: Option<String>,
}

/// The standing of `metrics`, whose median working day had `median_working_day` deployments.
pub fn standing(
    metrics: &DoraMetrics,
    median_working_day: f64,
    choice: &BenchmarkChoice,
) -> Result<Standing, GuideError> {
    let window_days = metrics
        .window
        .until
        .duration_since(metrics.window.since)
        .as_secs_f64()
        / 86_400.0;
    let mut rows = Vec::new();
    for metric in QuickCheckMetric::ALL {
        let (value, count, bucket, score) = match metric {
            QuickCheckMetric::DeploymentFrequency => {
                let f = &metrics.deployment_frequency;
                let b = frequency_bucket(f.deployments, window_days, median_working_day);
                (
                    (f.deployments > 0).then_some(f.per_week),
                    f.deployments,
                    b,
                    b.map(Bucket::score),
                )
            }
            QuickCheckMetric::ChangeLeadTime => {
                let l = &metrics.change_lead_time;
                let b = l.median_seconds.map(duration_bucket);
                (l.median_seconds, l.changes, b, b.map(Bucket::score))
            }
            QuickCheckMetric::FailedDeploymentRecoveryTime => {
                let r = &metrics.failed_deployment_recovery_time;
                let b = r.median_seconds.map(duration_bucket);
                (r.median_seconds, r.recoveries, b, b.map(Bucket::score))
            }
            QuickCheckMetric::ChangeFailRate => {
                let c = &metrics.change_fail_rate;
                (
                    c.rate,
                    c.deployments,
                    None,
                    c.rate.map(|r| percentage_score(r * 100.0)),
                )
            }
            QuickCheckMetric::ReworkRate => {
                let r = &metrics.rework_rate;
                (
                    r.rate,
                    r.deployments,
                    None,
                    r.rate.map(|x| percentage_score(x * 100.0)),
                )
            }
        };
        let mut benchmarks = Vec::new();
        for (kind, key) in [
            (BenchmarkKind::Industry, &choice.industry),
            (BenchmarkKind::OrganizationSize, &choice.org_size),
        ] {
            let Some(key) = key else { continue };
            if let Some(b) = benchmark(CURRENT_EDITION, kind, key, metric)? {
                benchmarks.push(Comparison {
                    standard_deviations: score.and_then(|s| b.standard_deviations(s)),
                    benchmark: b,
                });
            }
        }
        rows.push(MetricStanding {
            metric,
            value,
            count,
            bucket,
            bucket_text: bucket.and_then(|b| b.text(metric)),
            score,
            benchmarks,
        });
    }
    let scores: Vec<Option<f64>> = rows.iter().map(|r| r.score).collect();
    Ok(Standing {
        overall_score: overall_score(&scores),
        metrics: rows,
        median_working_day_deployments: median_working_day,
    })
}
