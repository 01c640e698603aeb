//! The Quick Check benchmarks: means and standard deviations of the survey's scores per industry
//! and organisation size, on the same 0–10 scale as the team's scores.
//!
//! Two things in the files must be corrected before a team's score can be compared with them, as
//! the Quick Check's own code does:
//!
//! - change fail rate, rework rate and instability are stored **inverted** (the mean of p / 10,
//!   where high is bad): the score is 10 − that;
//! - in the 2025 organisation-size file `failurerecovery` is itself inverted (its "all" row reads
//!   2.6 where the industry file's reads 7.4; they sum to 10). [`inverted_rows`] finds such a metric
//!   by comparing the two files' "all" rows of one edition (they describe the same respondents, so
//!   they must agree): when they disagree and sum to 10, the file whose value lies farther from the
//!   other edition's "all" row is the inverted one, and its every row is flipped.
//!
//! The files hold means and standard deviations only: a comparison is "+0.9 SD above the mean",
//! never a share of teams (no percentile can be read from them).

use serde::Serialize;

use crate::GuideError;
use crate::data::quickcheck;
use crate::scoring::QuickCheckMetric;

/// The edition whose benchmarks the guide shows.
pub const CURRENT_EDITION: u16 = 2025;

/// Which benchmark file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BenchmarkKind {
    /// By industry.
    Industry,
    /// By organisation size.
    OrganizationSize,
}

impl BenchmarkKind {
    fn file(self) -> &'static str {
        match self {
            Self::Industry => "industry",
            Self::OrganizationSize => "organization_size",
        }
    }

    fn other(self) -> Self {
        match self {
            Self::Industry => Self::OrganizationSize,
            Self::OrganizationSize => Self::Industry,
        }
    }

    /// The option that chooses a row (`--industry`, `--org-size`).
    pub fn option(self) -> &'static str {
        match self {
            Self::Industry => "industry",
            Self::OrganizationSize => "org-size",
        }
    }
}

/// Metrics stored as p / 10 (high = bad).
const STORED_INVERTED: [&str; 3] = ["changefailure", "rework", "software_delivery_instability"];

/// A benchmark for one metric, on the score scale.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Benchmark {
    /// The survey edition (year).
    pub edition: u16,
    /// Industry or organisation size.
    pub kind: BenchmarkKind,
    /// The row's key, e.g. `consumer`.
    pub key: String,
    /// The row's name, e.g. "Retail/Consumer/e-Commerce".
    pub name: String,
    /// The mean score of respondents (0–10, high = good).
    pub mean: f64,
    /// Its standard deviation.
    pub std: f64,
    /// The value as the file stores it, when it had to be flipped (10 − stored = mean).
    pub flipped_from: Option<f64>,
}

impl Benchmark {
    /// How many standard deviations `score` lies above (positive) or below the mean.
    pub fn standard_deviations(&self, score: f64) -> Option<f64> {
        (self.std > 0.0).then(|| (score - self.mean) / self.std)
    }
}

fn stored(edition: u16, kind: BenchmarkKind, key: &str, metric: &str) -> Option<f64> {
    let file = quickcheck()
        .benchmarks
        .get(&format!("{edition}-{}", kind.file()))?;
    Some(file.get(key)?.values.get(metric)?[0])
}

/// The metrics of (`edition`, `kind`) whose every row the file stores inverted although the
/// source format says otherwise, found from the "all" rows as the module explains.
pub fn inverted_rows(edition: u16, kind: BenchmarkKind) -> Vec<&'static str> {
    let others = [edition.wrapping_sub(1), edition.wrapping_add(1)];
    ["leadtime", "deployfreq", "failurerecovery"]
        .into_iter()
        .filter(|metric| {
            let (Some(mine), Some(theirs)) = (
                stored(edition, kind, "all", metric),
                stored(edition, kind.other(), "all", metric),
            ) else {
                return false;
            };
            let disagree = (mine - theirs).abs() > 1.0;
            let sum_to_ten = (mine + theirs - 10.0).abs() < 0.15;
            if !(disagree && sum_to_ten) {
                return false;
            }
            // The other edition says which of the two is the right way round.
            let reference = others.iter().find_map(|&e| {
                stored(e, kind, "all", metric).or_else(|| stored(e, kind.other(), "all", metric))
            });
            match reference {
                Some(r) => (mine - r).abs() > (theirs - r).abs(),
                None => false,
            }
        })
        .collect()
}

/// The row keys and names of a file, in the file's order.
pub fn rows(edition: u16, kind: BenchmarkKind) -> Vec<(&'static str, &'static str)> {
    let Some(file) = quickcheck()
        .benchmarks
        .get(&format!("{edition}-{}", kind.file()))
    else {
        return Vec::new();
    };
    file.iter()
        .map(|(k, row)| (k.as_str(), row.name.as_str()))
        .collect()
}

/// Checks that `key` names a row of the current edition's `kind` file.
pub fn check_row(kind: BenchmarkKind, key: &str) -> Result<(), GuideError> {
    let known = rows(CURRENT_EDITION, kind);
    if known.iter().any(|(k, _)| *k == key) {
        return Ok(());
    }
    Err(GuideError::UnknownBenchmarkRow {
        option: kind.option(),
        given: key.to_owned(),
        known: known.iter().map(|(k, _)| (*k).to_owned()).collect(),
    })
}

/// The benchmark of `metric` in row `key` of (`edition`, `kind`), on the score scale.
pub fn benchmark(
    edition: u16,
    kind: BenchmarkKind,
    key: &str,
    metric: QuickCheckMetric,
) -> Result<Option<Benchmark>, GuideError> {
    let file = quickcheck()
        .benchmarks
        .get(&format!("{edition}-{}", kind.file()))
        .ok_or(GuideError::UnknownEdition { edition })?;
    let row = file
        .get(key)
        .ok_or_else(|| GuideError::UnknownBenchmarkRow {
            option: kind.option(),
            given: key.to_owned(),
            known: file.keys().cloned().collect(),
        })?;
    let Some(&[value, std]) = row.values.get(metric.key()) else {
        // 2024 did not ask about rework.
        return Ok(None);
    };
    let flip = STORED_INVERTED.contains(&metric.key())
        || inverted_rows(edition, kind).contains(&metric.key());
    Ok(Some(Benchmark {
        edition,
        kind,
        key: key.to_owned(),
        name: row.name.clone(),
        mean: if flip { round1(10.0 - value) } else { value },
        std,
        flipped_from: flip.then_some(value),
    }))
}

/// Rounds to the files' one decimal (10 − 7.82 is 2.18, not 2.1799999…).
fn round1(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_2025_organisation_size_recovery_row_is_found_inverted_and_corrected() {
        assert_eq!(
            inverted_rows(2025, BenchmarkKind::OrganizationSize),
            ["failurerecovery"]
        );
        assert!(inverted_rows(2025, BenchmarkKind::Industry).is_empty());
        assert!(inverted_rows(2024, BenchmarkKind::OrganizationSize).is_empty());
        assert!(inverted_rows(2024, BenchmarkKind::Industry).is_empty());
        let recovery = |kind, key| {
            benchmark(
                2025,
                kind,
                key,
                QuickCheckMetric::FailedDeploymentRecoveryTime,
            )
            .unwrap()
            .unwrap()
        };
        let all_sizes = recovery(BenchmarkKind::OrganizationSize, "all");
        let all_industries = recovery(BenchmarkKind::Industry, "all");
        assert_eq!(all_sizes.mean, 7.4);
        assert_eq!(all_sizes.flipped_from, Some(2.6));
        assert_eq!(all_sizes.mean, all_industries.mean);
        assert_eq!(all_industries.flipped_from, None);
        // Every row of the file is flipped: "1 employee" stores 2.8.
        let solo = recovery(BenchmarkKind::OrganizationSize, "solo");
        assert_eq!(
            (solo.mean, solo.std, solo.flipped_from),
            (7.2, 2.6, Some(2.8))
        );
    }

    #[test]
    fn stored_inverted_metrics_are_flipped() {
        let b = benchmark(
            2025,
            BenchmarkKind::Industry,
            "consumer",
            QuickCheckMetric::ChangeFailRate,
        )
        .unwrap()
        .unwrap();
        assert_eq!((b.mean, b.std, b.flipped_from), (8.3, 2.0, Some(1.7)));
        let b = benchmark(
            2025,
            BenchmarkKind::Industry,
            "consumer",
            QuickCheckMetric::ReworkRate,
        )
        .unwrap()
        .unwrap();
        assert_eq!((b.mean, b.flipped_from), (8.0, Some(2.0)));
        let b = benchmark(
            2025,
            BenchmarkKind::Industry,
            "consumer",
            QuickCheckMetric::ChangeLeadTime,
        )
        .unwrap()
        .unwrap();
        assert_eq!((b.mean, b.std, b.flipped_from), (5.9, 2.3, None));
        assert_eq!(b.name, "Retail/Consumer/e-Commerce");
        assert_eq!(
            benchmark(
                2024,
                BenchmarkKind::Industry,
                "all",
                QuickCheckMetric::ReworkRate
            )
            .unwrap(),
            None,
            "2024 did not ask about rework"
        );
    }

    #[test]
    fn standard_deviations_from_the_mean() {
        let b = benchmark(
            2025,
            BenchmarkKind::Industry,
            "consumer",
            QuickCheckMetric::ChangeLeadTime,
        )
        .unwrap()
        .unwrap();
        let sd = b.standard_deviations(8.0).unwrap();
        assert!((sd - (8.0 - 5.9) / 2.3).abs() < 1e-12);
    }

    #[test]
    fn unknown_rows_name_the_option_and_the_known_keys() {
        let e = check_row(BenchmarkKind::Industry, "retail").unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with("--industry retail: not an industry of the 2025 benchmarks"),
            "{text}"
        );
        assert!(text.contains("consumer"), "{text}");
        assert!(check_row(BenchmarkKind::OrganizationSize, "fewer_than_100").is_ok());
    }
}
