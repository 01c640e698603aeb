//! The statistics of an impact analysis, each a small function over plain numbers.
//!
//! They are kept apart from the delivery data so that each can be checked against a published or
//! hand-computed value, and so that the simulation harness can feed synthetic samples to exactly the
//! code the command runs. Distributions (normal, Student's t) and log-binomials come from `statrs`;
//! the tests themselves are written here because statrs has no bootstrap, no clustered rank test, and
//! its Mann–Whitney test is O(n²).
//!
//! Worked examples (each is a unit test below):
//! - Wilson 95% interval of 7 events in 20: 0.1812 to 0.5671.
//! - Newcombe's hybrid interval for 56/70 − 48/80 = 0.2000: 0.0524 to 0.3339 (Newcombe 1998).
//! - Fisher's exact test of `[[3, 1], [1, 3]]`: two-sided p = 0.4857.
//! - Mann–Whitney of `[1, 2, 3]` against `[4, 5]`: U = 0, z = −1.443 (continuity-corrected), p = 0.149.
//! - Holm on p = `[0.01, 0.04, 0.03, 0.005]`: adjusted `[0.03, 0.06, 0.06, 0.02]`.

use rand::RngExt;
use rand_pcg::Pcg64;
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};
use statrs::function::factorial::ln_binomial;

use crate::stats::quantile_sorted;

/// The two-sided 95% normal quantile.
pub const Z95: f64 = 1.959_963_984_540_054;
/// The normal quantile for 80% power.
pub const Z80: f64 = 0.841_621_233_572_914_3;

/// The standard normal distribution function.
pub fn normal_cdf(x: f64) -> f64 {
    Normal::standard().cdf(x)
}

/// The `p` quantile of the standard normal distribution.
pub fn normal_quantile(p: f64) -> f64 {
    Normal::standard().inverse_cdf(p)
}

/// Two-sided p-value of a z statistic.
pub fn normal_p(z: f64) -> f64 {
    if !z.is_finite() {
        return if z.is_nan() { 1.0 } else { 0.0 };
    }
    (2.0 * Normal::standard().sf(z.abs())).min(1.0)
}

fn students_t(df: f64) -> Option<StudentsT> {
    StudentsT::new(0.0, 1.0, df).ok()
}

/// The `p` quantile of Student's t with `df` degrees of freedom (normal when `df` is not positive).
pub fn t_quantile(p: f64, df: f64) -> f64 {
    match students_t(df) {
        Some(t) if df.is_finite() => t.inverse_cdf(p),
        _ => Normal::standard().inverse_cdf(p),
    }
}

/// Two-sided p-value of a t statistic with `df` degrees of freedom.
pub fn t_p(t: f64, df: f64) -> f64 {
    if !t.is_finite() {
        return if t.is_nan() { 1.0 } else { 0.0 };
    }
    match students_t(df) {
        Some(dist) if df.is_finite() => (2.0 * dist.sf(t.abs())).min(1.0),
        _ => normal_p(t),
    }
}

/// An estimate with a two-sided interval and a p-value, on the analysis scale (a log ratio or a
/// difference of proportions).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// The point estimate.
    pub estimate: f64,
    /// Lower end of the 95% interval.
    pub low: f64,
    /// Upper end of the 95% interval.
    pub high: f64,
    /// Standard error (for the power note and for combining estimates).
    pub se: f64,
    /// Two-sided p-value of "no effect".
    pub p_value: f64,
}

impl Estimate {
    /// Whether the interval lies wholly above or below zero.
    pub fn excludes_zero(&self) -> bool {
        self.low > 0.0 || self.high < 0.0
    }

    /// A normal-theory estimate from a value and its standard error.
    pub fn normal(estimate: f64, se: f64) -> Self {
        Self {
            estimate,
            low: estimate - Z95 * se,
            high: estimate + Z95 * se,
            se,
            p_value: if se > 0.0 {
                normal_p(estimate / se)
            } else if estimate == 0.0 {
                1.0
            } else {
                0.0
            },
        }
    }
}

/// The median of `values` (reordered), the mean of the two middle values for an even count.
pub fn median(values: &mut [f64]) -> Option<f64> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let mid = n / 2;
    let (_, &mut upper, _) = values.select_nth_unstable_by(mid, f64::total_cmp);
    if n % 2 == 1 {
        return Some(upper);
    }
    let lower = values[..mid]
        .iter()
        .copied()
        .max_by(f64::total_cmp)
        .unwrap_or(upper);
    Some((lower + upper) / 2.0)
}

/// The result of a rank test comparing a `before` and an `after` sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankTest {
    /// Mann–Whitney U of `before`: the pairs in which the before value is larger, ties counting ½.
    pub u: f64,
    /// `u` over the number of pairs: the probability that a before value exceeds an after value
    /// (0.5 when the two samples are alike).
    pub superiority: f64,
    /// The standardised statistic.
    pub z: f64,
    /// Two-sided p-value.
    pub p_value: f64,
}

/// Midranks (1-based, ties sharing their average rank) of `before` followed by `after`, and the tie
/// correction term `Σ (t³ − t)`.
fn midranks(before: &[f64], after: &[f64]) -> (Vec<f64>, f64) {
    let mut all: Vec<(f64, usize)> = before
        .iter()
        .chain(after)
        .copied()
        .enumerate()
        .map(|(i, v)| (v, i))
        .collect();
    all.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let mut ranks = vec![0.0; all.len()];
    let mut ties = 0.0;
    let mut i = 0;
    while i < all.len() {
        let mut j = i + 1;
        while j < all.len() && all[j].0 == all[i].0 {
            j += 1;
        }
        let rank = (i + j + 1) as f64 / 2.0;
        for &(_, k) in &all[i..j] {
            ranks[k] = rank;
        }
        let t = (j - i) as f64;
        ties += t * t * t - t;
        i = j;
    }
    (ranks, ties)
}

/// The Mann–Whitney (Wilcoxon rank-sum) test of `before` against `after`, by ranks in O(n log n),
/// with the tie correction and the continuity-corrected normal approximation.
///
/// Worked example: `before = [1, 2, 3]`, `after = [4, 5]`: the before ranks sum to 6, so
/// U = 6 − 3·4/2 = 0; its mean is 3 and variance 3·2·6/12 = 3, so z = (0 − 3 + 0.5)/√3 = −1.443 and
/// p = 0.149.
pub fn mann_whitney(before: &[f64], after: &[f64]) -> Option<RankTest> {
    let (na, nb) = (before.len() as f64, after.len() as f64);
    if before.is_empty() || after.is_empty() {
        return None;
    }
    let (ranks, ties) = midranks(before, after);
    let rank_sum: f64 = ranks[..before.len()].iter().sum();
    let u = rank_sum - na * (na + 1.0) / 2.0;
    let n = na + nb;
    let mean = na * nb / 2.0;
    let variance = na * nb / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)));
    let (z, p_value) = if variance > 0.0 {
        let diff = u - mean;
        let corrected = diff - 0.5 * diff.signum();
        let corrected = if diff.abs() < 0.5 { 0.0 } else { corrected };
        let z = corrected / variance.sqrt();
        (z, normal_p(z))
    } else {
        (0.0, 1.0)
    };
    Some(RankTest {
        u,
        superiority: u / (na * nb),
        z,
        p_value,
    })
}

/// Placements: for each value of `of`, the share of `against` below it (ties counting ½).
fn placements(of: &[f64], sorted_against: &[f64]) -> Vec<f64> {
    let n = sorted_against.len() as f64;
    of.iter()
        .map(|&x| {
            let below = sorted_against.partition_point(|&y| y < x);
            let not_above = sorted_against.partition_point(|&y| y <= x);
            (below as f64 + 0.5 * (not_above - below) as f64) / n
        })
        .collect()
}

/// The rank test of [`mann_whitney`] for clustered samples: changes shipped by one deployment share
/// its timing and are not independent. The statistic is the same U; its variance is the clustered
/// DeLong variance of Obuchowski (1997), computed from per-deployment sums of placements, so a few
/// large deployments count as few observations. With one value per cluster it is DeLong's variance,
/// asymptotically that of the Mann–Whitney test. Needs at least two clusters on each side.
pub fn clustered_rank_test(before: &[&[f64]], after: &[&[f64]]) -> Option<RankTest> {
    let flat_before: Vec<f64> = before.iter().flat_map(|c| c.iter().copied()).collect();
    let flat_after: Vec<f64> = after.iter().flat_map(|c| c.iter().copied()).collect();
    let (ka, kb) = (
        before.iter().filter(|c| !c.is_empty()).count(),
        after.iter().filter(|c| !c.is_empty()).count(),
    );
    if ka < 2 || kb < 2 {
        return None;
    }
    let (na, nb) = (flat_before.len() as f64, flat_after.len() as f64);
    let mut sorted_before = flat_before.clone();
    sorted_before.sort_unstable_by(f64::total_cmp);
    let mut sorted_after = flat_after.clone();
    sorted_after.sort_unstable_by(f64::total_cmp);
    // V10: share of after values below each before value; V01: share of before values above each
    // after value.
    let v10 = placements(&flat_before, &sorted_after);
    let v01: Vec<f64> = placements(&flat_after, &sorted_before)
        .into_iter()
        .map(|p| 1.0 - p)
        .collect();
    let theta = v10.iter().sum::<f64>() / na;
    let cluster_variance = |clusters: &[&[f64]], values: &[f64], k: usize, n: f64| {
        let mut offset = 0;
        let mut sum = 0.0;
        for c in clusters {
            let part = &values[offset..offset + c.len()];
            offset += c.len();
            let dev = part.iter().sum::<f64>() - part.len() as f64 * theta;
            sum += dev * dev;
        }
        k as f64 / ((k as f64 - 1.0) * n * n) * sum
    };
    let variance = cluster_variance(before, &v10, ka, na) + cluster_variance(after, &v01, kb, nb);
    let (z, p_value) = if variance > 0.0 {
        let z = (theta - 0.5) / variance.sqrt();
        (z, normal_p(z))
    } else {
        (0.0, 1.0)
    };
    Some(RankTest {
        u: theta * na * nb,
        superiority: theta,
        z,
        p_value,
    })
}

/// A bootstrap of the log ratio of medians, after ÷ before.
#[derive(Debug, Clone, PartialEq)]
pub struct BootstrapRatio {
    /// The estimate from the full samples, with its percentile interval and bootstrap standard error.
    pub estimate: Estimate,
    /// Every resampled log ratio, in draw order (combined index by index for a
    /// difference-in-differences of independent groups).
    pub draws: Vec<f64>,
}

/// The smallest duration a median may take before its logarithm is taken: one second.
pub const MIN_DURATION: f64 = 1.0;

/// Every value of some clusters, sorted once, with its cluster: the median of any resample of
/// whole clusters is then a weighted scan (each value counted as often as its cluster was picked),
/// with no copy and no selection per resample.
struct SortedPool {
    values: Vec<(f64, usize)>,
    lengths: Vec<usize>,
}

impl SortedPool {
    fn new(clusters: &[&[f64]]) -> Self {
        let mut values: Vec<(f64, usize)> = clusters
            .iter()
            .enumerate()
            .flat_map(|(k, c)| c.iter().map(move |&v| (v, k)))
            .collect();
        values.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        SortedPool {
            values,
            lengths: clusters.iter().map(|c| c.len()).collect(),
        }
    }

    /// The median of the values of the clusters picked (`counts[k]` times cluster k), as
    /// [`median`] of their concatenation gives it, floored at [`MIN_DURATION`].
    fn median(&self, counts: &[usize]) -> Option<f64> {
        let n: usize = counts
            .iter()
            .zip(&self.lengths)
            .map(|(c, len)| c * len)
            .sum();
        if n == 0 {
            return None;
        }
        let mid = n / 2;
        // The values at sorted positions mid - 1 (for an even count) and mid.
        let mut lower = None;
        let mut seen = 0usize;
        for &(value, k) in &self.values {
            let weight = counts[k];
            if weight == 0 {
                continue;
            }
            let next = seen + weight;
            if n.is_multiple_of(2) && lower.is_none() && mid >= 1 && mid - 1 < next {
                lower = Some(value);
            }
            if mid < next {
                let m = match lower {
                    Some(low) if n.is_multiple_of(2) => (low + value) / 2.0,
                    _ => value,
                };
                return Some(m.max(MIN_DURATION));
            }
            seen = next;
        }
        None
    }
}

/// The ratio of medians `median(after) / median(before)` of clustered durations, on the log scale,
/// with a 95% percentile interval from a bootstrap that resamples whole clusters (deployments) with
/// replacement, `resamples` times, on each side independently. The p-value is left to a rank test
/// (see [`clustered_rank_test`]) and set to 1 here.
pub fn bootstrap_median_ratio(
    before: &[&[f64]],
    after: &[&[f64]],
    resamples: usize,
    rng: &mut Pcg64,
) -> Option<BootstrapRatio> {
    let pool_before = SortedPool::new(before);
    let pool_after = SortedPool::new(after);
    let mut counts_before = vec![1usize; before.len()];
    let mut counts_after = vec![1usize; after.len()];
    let m0 = pool_before.median(&counts_before)?;
    let m1 = pool_after.median(&counts_after)?;
    let estimate = (m1 / m0).ln();
    let mut draws = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        counts_before.fill(0);
        for _ in 0..before.len() {
            counts_before[rng.random_range(0..before.len())] += 1;
        }
        counts_after.fill(0);
        for _ in 0..after.len() {
            counts_after[rng.random_range(0..after.len())] += 1;
        }
        let (Some(b), Some(a)) = (
            pool_before.median(&counts_before),
            pool_after.median(&counts_after),
        ) else {
            continue;
        };
        draws.push((a / b).ln());
    }
    let interval = percentile_interval(&draws)?;
    Some(BootstrapRatio {
        estimate: Estimate {
            estimate,
            low: interval.0,
            high: interval.1,
            se: interval.2,
            p_value: 1.0,
        },
        draws,
    })
}

/// The 2.5% and 97.5% percentiles and the standard deviation of bootstrap draws.
pub fn percentile_interval(draws: &[f64]) -> Option<(f64, f64, f64)> {
    if draws.len() < 2 {
        return None;
    }
    let mut sorted = draws.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    let mean = draws.iter().sum::<f64>() / draws.len() as f64;
    let var = draws.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (draws.len() - 1) as f64;
    Some((
        quantile_sorted(&sorted, 0.025),
        quantile_sorted(&sorted, 0.975),
        var.sqrt(),
    ))
}

/// The Wilson score interval for `events` out of `n` (95%).
///
/// Worked example: 7 of 20 gives 0.1812 to 0.5671.
pub fn wilson(events: u64, n: u64) -> Option<(f64, f64)> {
    if n == 0 || events > n {
        return None;
    }
    let (k, n) = (events as f64, n as f64);
    let p = k / n;
    let z2 = Z95 * Z95;
    let denominator = 1.0 + z2 / n;
    let center = (p + z2 / (2.0 * n)) / denominator;
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denominator;
    Some(((center - half).max(0.0), (center + half).min(1.0)))
}

/// Newcombe's hybrid score interval (his method 10) for the difference of two proportions,
/// `a_events/a_n − b_events/b_n`, built from the two Wilson intervals. The estimate's `se` is the
/// unpooled normal one and its p-value is left to [`fisher_exact`] (set to 1 here).
///
/// Worked example (Newcombe 1998): 56/70 − 48/80 = 0.2000, interval 0.0524 to 0.3339.
pub fn newcombe(a_events: u64, a_n: u64, b_events: u64, b_n: u64) -> Option<Estimate> {
    let (l1, u1) = wilson(a_events, a_n)?;
    let (l2, u2) = wilson(b_events, b_n)?;
    let p1 = a_events as f64 / a_n as f64;
    let p2 = b_events as f64 / b_n as f64;
    let d = p1 - p2;
    let low = d - ((p1 - l1).powi(2) + (u2 - p2).powi(2)).sqrt();
    let high = d + ((u1 - p1).powi(2) + (p2 - l2).powi(2)).sqrt();
    let se = (p1 * (1.0 - p1) / a_n as f64 + p2 * (1.0 - p2) / b_n as f64).sqrt();
    Some(Estimate {
        estimate: d,
        low,
        high,
        se,
        p_value: 1.0,
    })
}

/// Fisher's exact test of the 2×2 table `[[a, b], [c, d]]` (rows: the two samples; columns: events
/// and non-events), two-sided: the probability, given the margins, of every table no more likely
/// than the one observed.
///
/// Worked example: `[[3, 1], [1, 3]]` gives p = 0.4857.
pub fn fisher_exact(a: u64, b: u64, c: u64, d: u64) -> f64 {
    let row = a + b;
    let col = a + c;
    let n = a + b + c + d;
    if n == 0 {
        return 1.0;
    }
    let ln_total = ln_binomial(n, row);
    let ln_p = |x: u64| ln_binomial(col, x) + ln_binomial(n - col, row - x) - ln_total;
    let observed = ln_p(a);
    let lo = row.saturating_sub(n - col);
    let hi = row.min(col);
    let mut p = 0.0;
    for x in lo..=hi {
        let lp = ln_p(x);
        if lp <= observed + 1e-7 {
            p += lp.exp();
        }
    }
    p.min(1.0)
}

/// Holm's step-down adjustment of p-values tested together: the k-th smallest of m is multiplied by
/// m − k + 1, and adjusted values never decrease along the sorted order. Returned in input order.
pub fn holm(p_values: &[f64]) -> Vec<f64> {
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]));
    let mut adjusted = vec![1.0; m];
    let mut running: f64 = 0.0;
    for (k, &i) in order.iter().enumerate() {
        let value = ((m - k) as f64 * p_values[i]).min(1.0);
        running = running.max(value);
        adjusted[i] = running;
    }
    adjusted
}

/// An ordinary least-squares fit.
#[derive(Debug, Clone, PartialEq)]
pub struct Ols {
    /// The coefficients, in the order of the design's columns.
    pub coefficients: Vec<f64>,
    /// Their covariance matrix (σ̂² (XᵀX)⁻¹), row-major.
    pub covariance: Vec<Vec<f64>>,
    /// Residual degrees of freedom.
    pub df: f64,
    /// The lag-1 autocorrelation of the residuals in row order (a check of independence).
    pub residual_autocorrelation: f64,
    /// The AR(1) coefficient of the errors, corrected for the bias of a short series of residuals
    /// (equal to the raw value for the ordinary fits, which assume independence).
    pub corrected_autocorrelation: f64,
}

impl Ols {
    /// Coefficient `i` as an estimate with a t interval and p-value.
    pub fn estimate(&self, i: usize) -> Estimate {
        self.combination(&{
            let mut w = vec![0.0; self.coefficients.len()];
            w[i] = 1.0;
            w
        })
    }

    /// A linear combination `Σ w_i β_i` as an estimate with a t interval and p-value.
    pub fn combination(&self, weights: &[f64]) -> Estimate {
        let estimate: f64 = weights
            .iter()
            .zip(&self.coefficients)
            .map(|(w, b)| w * b)
            .sum();
        let mut variance = 0.0;
        for (i, wi) in weights.iter().enumerate() {
            for (j, wj) in weights.iter().enumerate() {
                variance += wi * wj * self.covariance[i][j];
            }
        }
        let se = variance.max(0.0).sqrt();
        let t = t_quantile(0.975, self.df);
        Estimate {
            estimate,
            low: estimate - t * se,
            high: estimate + t * se,
            se,
            p_value: if se > 0.0 {
                t_p(estimate / se, self.df)
            } else if estimate == 0.0 {
                1.0
            } else {
                0.0
            },
        }
    }
}

/// Inverts a small symmetric positive-definite matrix by Gauss–Jordan elimination; `None` when it is
/// singular.
fn invert(matrix: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let n = matrix.len();
    let mut a: Vec<Vec<f64>> = matrix.to_vec();
    let mut inv: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..n).map(|j| f64::from(u8::from(i == j))).collect())
        .collect();
    let scale = matrix
        .iter()
        .flatten()
        .fold(0.0f64, |m, v| m.max(v.abs()))
        .max(1.0);
    for col in 0..n {
        let pivot = (col..n).max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs()))?;
        if a[pivot][col].abs() <= 1e-12 * scale {
            return None;
        }
        a.swap(col, pivot);
        inv.swap(col, pivot);
        let p = a[col][col];
        for j in 0..n {
            a[col][j] /= p;
            inv[col][j] /= p;
        }
        for row in 0..n {
            if row != col {
                let f = a[row][col];
                if f != 0.0 {
                    for j in 0..n {
                        a[row][j] -= f * a[col][j];
                        inv[row][j] -= f * inv[col][j];
                    }
                }
            }
        }
    }
    Some(inv)
}

/// Fits `y = X β` by ordinary least squares with the usual (homoscedastic, independent) standard
/// errors. `None` when there are no more rows than columns or the design is singular.
pub fn ols(x: &[Vec<f64>], y: &[f64]) -> Option<Ols> {
    let n = y.len();
    let p = x.first()?.len();
    if n <= p || x.len() != n {
        return None;
    }
    let mut xtx = vec![vec![0.0; p]; p];
    let mut xty = vec![0.0; p];
    for (row, &yi) in x.iter().zip(y) {
        for i in 0..p {
            xty[i] += row[i] * yi;
            for j in 0..p {
                xtx[i][j] += row[i] * row[j];
            }
        }
    }
    let inv = invert(&xtx)?;
    let beta: Vec<f64> = (0..p)
        .map(|i| (0..p).map(|j| inv[i][j] * xty[j]).sum())
        .collect();
    let residuals: Vec<f64> = x
        .iter()
        .zip(y)
        .map(|(row, &yi)| yi - row.iter().zip(&beta).map(|(a, b)| a * b).sum::<f64>())
        .collect();
    let df = (n - p) as f64;
    let sigma2 = residuals.iter().map(|r| r * r).sum::<f64>() / df;
    let covariance = inv
        .iter()
        .map(|row| row.iter().map(|v| v * sigma2).collect())
        .collect();
    let ss: f64 = residuals.iter().map(|r| r * r).sum();
    let lag: f64 = residuals.windows(2).map(|w| w[0] * w[1]).sum();
    Some(Ols {
        coefficients: beta,
        covariance,
        df,
        residual_autocorrelation: if ss > 0.0 { lag / ss } else { 0.0 },
        corrected_autocorrelation: if ss > 0.0 { lag / ss } else { 0.0 },
    })
}

/// Where each row of a weekly series sits in time: its week (midpoint, in weeks after the change)
/// and its window (0 before, 1 after; a comparison group's windows are 2 and 3). Rows in different
/// windows are treated as uncorrelated, which errs on the safe side for a before/after difference.
#[derive(Debug, Clone, Copy)]
pub struct WeeklyLayout<'a> {
    /// The week of each row.
    pub weeks: &'a [f64],
    /// The window of each row.
    pub windows: &'a [u8],
}

impl WeeklyLayout<'_> {
    /// Whether rows `i` and `j` (adjacent rows) are in the same window, and their distance in
    /// weeks.
    fn gap(&self, i: usize, j: usize) -> Option<i32> {
        (self.windows[i] == self.windows[j])
            .then(|| (self.weeks[j] - self.weeks[i]).abs().round() as i32)
    }

    /// `R v`, with `R_ij = ρ^|t_i − t_j|` within a window and 0 across windows, in O(n): a forward
    /// and a backward AR(1) filter (rows of a window are contiguous and in week order).
    fn times_r(&self, rho: f64, v: &[f64]) -> Vec<f64> {
        let n = v.len();
        let mut forward = v.to_vec();
        for i in 1..n {
            if let Some(d) = self.gap(i - 1, i) {
                forward[i] += rho.powi(d) * forward[i - 1];
            }
        }
        let mut backward = v.to_vec();
        for i in (0..n.saturating_sub(1)).rev() {
            if let Some(d) = self.gap(i, i + 1) {
                backward[i] += rho.powi(d) * backward[i + 1];
            }
        }
        (0..n).map(|i| forward[i] + backward[i] - v[i]).collect()
    }

    /// The pairs of adjacent rows one week apart in the same window.
    fn lag_pairs(&self) -> Vec<(usize, usize)> {
        (1..self.weeks.len())
            .filter(|&i| self.gap(i - 1, i) == Some(1))
            .map(|i| (i - 1, i))
            .collect()
    }

    /// Whether the rows are laid out as [`times_r`](Self::times_r) needs.
    fn is_ordered(&self) -> bool {
        (1..self.weeks.len())
            .all(|i| self.windows[i] != self.windows[i - 1] || self.weeks[i] > self.weeks[i - 1])
    }
}

/// `AᵀB` for column-major `a` and `b` (each a list of columns).
fn cross(a: &[Vec<f64>], b: &[Vec<f64>]) -> Vec<Vec<f64>> {
    a.iter()
        .map(|ai| {
            b.iter()
                .map(|bj| ai.iter().zip(bj).map(|(x, y)| x * y).sum())
                .collect()
        })
        .collect()
}

/// tr(A B) of two p × p matrices.
fn trace_product(a: &[Vec<f64>], b: &[Vec<f64>]) -> f64 {
    let mut sum = 0.0;
    for (i, row) in a.iter().enumerate() {
        for (j, v) in row.iter().enumerate() {
            sum += v * b[j][i];
        }
    }
    sum
}

fn mat_mul(a: &[Vec<f64>], b: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let inner = b.len();
    let cols = b.first().map_or(0, Vec::len);
    a.iter()
        .map(|row| {
            (0..cols)
                .map(|j| (0..inner).map(|k| row[k] * b[k][j]).sum())
                .collect()
        })
        .collect()
}

/// The lag-1 autocorrelation of residuals `e` over `pairs`: Σ e_i e_(i+1) / Σ e².
fn lag1(e: &[f64], pairs: &[(usize, usize)]) -> f64 {
    let ss: f64 = e.iter().map(|v| v * v).sum();
    if ss <= 0.0 {
        return 0.0;
    }
    pairs.iter().map(|&(i, j)| e[i] * e[j]).sum::<f64>() / ss
}

/// A design (as columns) and what the AR(1) corrections need of it, computed once.
struct Ar1Design<'l, 'a> {
    layout: &'l WeeklyLayout<'a>,
    columns: Vec<Vec<f64>>,
    /// (XᵀX)⁻¹.
    g: Vec<Vec<f64>>,
    pairs: Vec<(usize, usize)>,
    /// A X and Xᵀ A X, with A the symmetric lag-1 pair matrix (½ per pair and direction).
    ax: Vec<Vec<f64>>,
    xax: Vec<Vec<f64>>,
}

impl<'l, 'a> Ar1Design<'l, 'a> {
    fn new(columns: Vec<Vec<f64>>, layout: &'l WeeklyLayout<'a>) -> Option<Self> {
        let g = invert(&cross(&columns, &columns))?;
        let pairs = layout.lag_pairs();
        let ax: Vec<Vec<f64>> = columns
            .iter()
            .map(|c| {
                let mut out = vec![0.0; c.len()];
                for &(i, j) in &pairs {
                    out[i] += 0.5 * c[j];
                    out[j] += 0.5 * c[i];
                }
                out
            })
            .collect();
        let xax = cross(&columns, &ax);
        Some(Self {
            layout,
            columns,
            g,
            pairs,
            ax,
            xax,
        })
    }

    /// R X (as columns) and Xᵀ R X.
    fn rx(&self, rho: f64) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
        let rx: Vec<Vec<f64>> = self
            .columns
            .iter()
            .map(|c| self.layout.times_r(rho, c))
            .collect();
        let xrx = cross(&self.columns, &rx);
        (rx, xrx)
    }

    /// tr(M R) = n − tr(G XᵀRX): the expected residual sum of squares over σ².
    fn effective_df(&self, xrx: &[Vec<f64>]) -> f64 {
        self.layout.weeks.len() as f64 - trace_product(&self.g, xrx)
    }

    /// The expected lag-1 autocorrelation of the residuals when the errors are AR(1) with `rho`:
    /// tr(M A M R) / tr(M R), expanded so that nothing n × n is formed.
    fn expected_lag1(&self, rho: f64) -> f64 {
        let (rx, xrx) = self.rx(rho);
        let tr_ar = self.pairs.len() as f64 * rho;
        let tr_ahr = trace_product(&self.g, &cross(&rx, &self.ax));
        let tr_ahrh = trace_product(&mat_mul(&self.g, &self.xax), &mat_mul(&self.g, &xrx));
        let denominator = self.effective_df(&xrx);
        if denominator > 0.0 {
            (tr_ar - 2.0 * tr_ahr + tr_ahrh) / denominator
        } else {
            0.0
        }
    }

    /// The bias-corrected AR(1) coefficient: the ρ whose expected residual lag-1 autocorrelation
    /// (a ratio of expectations) equals the `observed` one, by bisection on [−0.95, 0.95].
    /// Residuals of a fit are pulled towards zero correlation, the more so the shorter the series
    /// (for a plain mean by about (1 + 3ρ)/n, Marriott and Pope 1954), so the raw estimate from
    /// ~23 residuals rarely reaches a true 0.5.
    fn corrected_rho(&self, observed: f64) -> f64 {
        let (mut lo, mut hi) = (-0.95, 0.95);
        if observed <= self.expected_lag1(lo) {
            return lo;
        }
        if observed >= self.expected_lag1(hi) {
            return hi;
        }
        for _ in 0..20 {
            let mid = (lo + hi) / 2.0;
            if self.expected_lag1(mid) < observed {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        (lo + hi) / 2.0
    }
}

/// Weighted least squares with standard errors that allow for AR(1) errors between consecutive
/// weeks: the coefficients are [`wls`]'s, their covariance the sandwich
/// `(XᵀX)⁻¹ XᵀRX (XᵀX)⁻¹ σ̂²` with `R` the AR(1) correlation at the bias-corrected ρ (never below 0:
/// negative correlation would only narrow the interval), and `σ̂² = RSS / tr(M R)`, the residual
/// variance corrected for the same correlation (with ρ = 0 both are the ordinary ones). This is
/// the parametric counterpart of Newey–West: with 20 to 30 weeks a kernel estimate of the long-run
/// variance is too noisy and too biased to keep a 95% interval near 95%, while one coefficient,
/// corrected for its small-sample bias, is not. Rows of a window must be contiguous and in week
/// order.
pub fn wls_ar1(
    x: &[Vec<f64>],
    y: &[f64],
    weights: &[f64],
    layout: &WeeklyLayout<'_>,
) -> Option<Ols> {
    let n = y.len();
    let p = x.first()?.len();
    if n <= p
        || x.len() != n
        || weights.len() != n
        || layout.weeks.len() != n
        || layout.windows.len() != n
        || !layout.is_ordered()
        || weights.iter().any(|w| w.is_nan() || *w <= 0.0)
    {
        return None;
    }
    let root: Vec<f64> = weights.iter().map(|w| w.sqrt()).collect();
    let columns: Vec<Vec<f64>> = (0..p)
        .map(|j| x.iter().zip(&root).map(|(row, r)| row[j] * r).collect())
        .collect();
    let ys: Vec<f64> = y.iter().zip(&root).map(|(v, r)| v * r).collect();
    let design = Ar1Design::new(columns, layout)?;
    let xty: Vec<f64> = design
        .columns
        .iter()
        .map(|c| c.iter().zip(&ys).map(|(a, b)| a * b).sum())
        .collect();
    let beta: Vec<f64> = (0..p)
        .map(|i| (0..p).map(|j| design.g[i][j] * xty[j]).sum())
        .collect();
    let residuals: Vec<f64> = (0..n)
        .map(|i| ys[i] - (0..p).map(|j| design.columns[j][i] * beta[j]).sum::<f64>())
        .collect();
    let raw = lag1(&residuals, &design.pairs);
    let rho = design.corrected_rho(raw);
    let (_, xrx) = design.rx(rho.max(0.0));
    let rss: f64 = residuals.iter().map(|v| v * v).sum();
    let effective = design.effective_df(&xrx);
    let sigma2 = if effective > 0.0 {
        rss / effective
    } else {
        0.0
    };
    let covariance = mat_mul(&mat_mul(&design.g, &xrx), &design.g)
        .into_iter()
        .map(|row| row.into_iter().map(|v| v * sigma2).collect())
        .collect();
    Some(Ols {
        coefficients: beta,
        covariance,
        df: (n - p) as f64,
        residual_autocorrelation: raw,
        corrected_autocorrelation: rho,
    })
}

/// The AR(1) variance factor of a sum of `n` consecutive weekly values: `1ᵀR1 / n`, i.e.
/// `1 + 2 Σ_k (1 − k/n) ρ^k`. Worked example: ρ = 0.5, n = 4 gives 1 + 2(0.375 + 0.125 + 0.03125)
/// = 2.0625.
pub fn ar1_sum_factor(rho: f64, n: usize) -> f64 {
    let nf = n as f64;
    1.0 + 2.0
        * (1..n)
            .map(|k| (1.0 - k as f64 / nf) * rho.powi(k as i32))
            .sum::<f64>()
}

/// The largest AR(1) coefficient the latent weekly level is given: beyond it a 13-week window
/// has fewer than two effectively independent weeks and the estimate is noise.
pub const MAX_LATENT_RHO: f64 = 0.7;

/// Weekly values as a latent AR(1) level seen through white noise: a week's deployment count is
/// Poisson around the week's rate (Zeger 1988, *Biometrika* 75:621), a week's median lead time is
/// the week's level plus the sampling noise of a median. The observed series is then ARMA(1,1):
/// its lag-k correlations are `share · latent^k`, decaying more slowly than its lag-1 coefficient
/// alone implies, and an AR(1) model fitted to it underrates the variance of a window's total.
/// With the noise variance known (Poisson: 1 on the Pearson scale; a median: from the deployment
/// bootstrap), the latent share and coefficient follow from the observed lag-1 correlation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatentAr1 {
    /// The bias-corrected lag-1 autocorrelation of the observed weekly values (never below 0).
    pub observed: f64,
    /// The share of the weekly variance that is the latent level (0 to 1).
    pub share: f64,
    /// The AR(1) coefficient of the latent level.
    pub latent: f64,
}

impl LatentAr1 {
    /// From the observed (bias-corrected) lag-1 autocorrelation and the share of the weekly
    /// variance that is not white noise. The share is raised to at least `observed /
    /// MAX_LATENT_RHO`, so the latent coefficient stays within [`MAX_LATENT_RHO`]; with
    /// `share = 1` this is plain AR(1).
    pub fn new(observed: f64, share: f64) -> Self {
        let observed = if observed.is_finite() {
            observed.max(0.0)
        } else {
            0.0
        };
        let share = if share.is_finite() {
            share.clamp(0.0, 1.0)
        } else {
            1.0
        };
        if observed <= 0.0 {
            return Self {
                observed,
                share,
                latent: 0.0,
            };
        }
        let share = share.max(observed / MAX_LATENT_RHO).min(1.0);
        Self {
            observed,
            share,
            latent: (observed / share).min(MAX_LATENT_RHO),
        }
    }

    /// As [`new`](Self::new), but with the share held where it is: the latent coefficient is
    /// `observed / share` capped at [`MAX_LATENT_RHO`], and with no latent share the series is
    /// plain AR(1) at `observed` (through the floor of [`sum_factor`](Self::sum_factor)). This is
    /// the variance model as a function of the observed coefficient alone, for the sensitivity
    /// that [`autocorrelation_df`] needs: raising the share with the coefficient, as `new` does to
    /// keep the latent coefficient in range, would credit a series whose counts are Poisson (no
    /// latent share) with a strongly correlated latent rate as soon as its estimate moved above 0.
    pub fn at_share(observed: f64, share: f64) -> Self {
        let observed = if observed.is_finite() {
            observed.max(0.0)
        } else {
            0.0
        };
        let share = if share.is_finite() {
            share.clamp(0.0, 1.0)
        } else {
            1.0
        };
        let latent = if share > 0.0 {
            (observed / share).min(MAX_LATENT_RHO)
        } else {
            0.0
        };
        Self {
            observed,
            share,
            latent,
        }
    }

    /// Var(sum of `n` consecutive weeks) ÷ (n × the weekly variance): `1 + share (f(latent) − 1)`
    /// with `f` = [`ar1_sum_factor`]. Never below the AR(1) factor of the observed coefficient.
    /// Worked example: observed 0.2, share 0.5 gives latent 0.4 and, over 13 weeks,
    /// 1 + 0.5 × (2.162 − 1) = 1.581 (plain AR(1) at 0.2: 1.452).
    pub fn sum_factor(&self, n: usize) -> f64 {
        (1.0 + self.share * (ar1_sum_factor(self.latent, n) - 1.0))
            .max(ar1_sum_factor(self.observed, n))
    }
}

impl LatentAr1 {
    /// The effective number of independent weeks in windows of `n0` and `n1` weeks, less the two
    /// window means: `n₀/F₀ + n₁/F₁ − 2` (never below 2). A t with these degrees of freedom is
    /// the small-sample correction for a variance that rests on correlated weeks (the "t with
    /// reduced degrees of freedom" of short-series HAC inference): with independent weeks it is
    /// n − 2; for the worked example of [`sum_factor`](Self::sum_factor), 13 weeks a side, 14.44.
    pub fn effective_df(&self, n0: usize, n1: usize) -> f64 {
        (n0 as f64 / self.sum_factor(n0) + n1 as f64 / self.sum_factor(n1) - 2.0).max(2.0)
    }
}

/// Degrees of freedom for a t interval whose variance rests on an estimated autocorrelation: a
/// Satterthwaite approximation, ν = 2 / CV², with CV² the squared coefficient of variation of the
/// variance estimate, the residual variance's (2 / `base_df`) plus the autocorrelation's by the
/// delta method (`d ln V / dρ` squared times Var(ρ̂) ≈ (1 − ρ²) / `pairs`), never below 4. With
/// 13 weeks a side the lag-1 coefficient is uncertain by ±0.2, which moves the variance by ±40%:
/// a t with n − 2 degrees of freedom ignores that and undercovers in exactly the histories whose
/// estimate came out low (the small-sample problem Kiefer and Vogelsang's fixed-b critical values
/// address for kernel estimates). `variance_at(ρ)` is the variance as a function of the observed
/// coefficient.
pub fn autocorrelation_df(
    variance_at: impl Fn(f64) -> f64,
    observed: f64,
    pairs: usize,
    base_df: f64,
) -> f64 {
    let rho = observed.clamp(0.0, MAX_LATENT_RHO);
    let h = 0.01;
    let (v, up) = (variance_at(rho), variance_at(rho + h));
    if !(v > 0.0 && up > 0.0 && base_df > 0.0) || pairs == 0 {
        return base_df;
    }
    let slope = (up.ln() - v.ln()) / h;
    let cv2 = 2.0 / base_df + slope * slope * (1.0 - rho * rho) / pairs as f64;
    (2.0 / cv2).clamp(base_df.min(4.0), base_df)
}

/// The bias-corrected lag-1 autocorrelation of weekly `residuals` around their window means (rows
/// as in [`WeeklyLayout`]: contiguous windows in week order), by the ratio-of-expectations
/// correction of [`wls_ar1`]. None when there are too few rows.
pub fn window_lag1(residuals: &[f64], layout: &WeeklyLayout<'_>) -> Option<f64> {
    let n = residuals.len();
    if n < 3 || layout.weeks.len() != n || layout.windows.len() != n || !layout.is_ordered() {
        return None;
    }
    let mut windows: Vec<u8> = layout.windows.to_vec();
    windows.dedup();
    let columns: Vec<Vec<f64>> = windows
        .iter()
        .map(|w| {
            layout
                .windows
                .iter()
                .map(|x| if x == w { 1.0 } else { 0.0 })
                .collect()
        })
        .collect();
    let design = Ar1Design::new(columns, layout)?;
    Some(design.corrected_rho(lag1(residuals, &design.pairs)))
}

/// Weighted least squares: [`ols`] of the rows and values scaled by √weight, so a week of 10
/// deployments counts as much as five weeks of 2 (the residual scale is estimated, as in `ols`).
pub fn wls(x: &[Vec<f64>], y: &[f64], weights: &[f64]) -> Option<Ols> {
    if weights.len() != y.len() || weights.iter().any(|w| w.is_nan() || *w <= 0.0) {
        return None;
    }
    let root: Vec<f64> = weights.iter().map(|w| w.sqrt()).collect();
    let xs: Vec<Vec<f64>> = x
        .iter()
        .zip(&root)
        .map(|(row, r)| row.iter().map(|v| v * r).collect())
        .collect();
    let ys: Vec<f64> = y.iter().zip(&root).map(|(v, r)| v * r).collect();
    ols(&xs, &ys)
}

/// A rate ratio of weekly counts, after ÷ before, from a quasi-Poisson model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateRatio {
    /// The log rate ratio with its t interval (df = weeks − 2) and p-value.
    pub estimate: Estimate,
    /// The dispersion used: Pearson χ² over its degrees of freedom, never below 1 (Poisson).
    pub dispersion: f64,
    /// The bias-corrected lag-1 autocorrelation of the weekly counts (their Pearson residuals)
    /// within the windows; when positive, the variance allows for it.
    pub autocorrelation: f64,
}

/// The ratio of mean weekly counts, after ÷ before, with a 95% interval that allows for
/// over-dispersion and for weeks that are alike: a quasi-Poisson log-linear model with one
/// indicator for the after period, whose dispersion φ is Pearson's χ² over its expectation
/// (n − 2 with independent weeks; floored at 1, so the interval is never narrower than Poisson's).
/// Var(log RR) = φ (F₀/Y₀ + F₁/Y₁), Y the total counts and F the variance factor of a window's
/// total under the latent AR(1) rate ([`LatentAr1`], 1 with independent weeks). Intervals and
/// p-values use t with the effective number of independent weeks as degrees of freedom, reduced
/// for the uncertainty of the estimated autocorrelation ([`autocorrelation_df`], never below 4).
/// A zero total is replaced by ½ (a continuity correction).
///
/// Worked example: before `[2, 4, 3, 3]` (12 in 4 weeks), after `[6, 5, 7, 6]` (24): RR = 2; the
/// Pearson χ² is 2/3 + 1/4 = 0.917, so φ = 1 (floored); the residuals' lag-1 autocorrelation is
/// negative, so F = 1 and se = √(1/12 + 1/24) = 0.354. Four weeks a side cannot tell whether
/// weeks are alike (a coefficient of 0.2 would widen the variance by a third), so the degrees of
/// freedom fall from n − 2 = 6 to the floor of 4: with t₄ = 2.776 the interval is
/// 2·e^(±0.982) = 0.75 to 5.34 (t₆ would give 0.84 to 4.75).
pub fn rate_ratio(before: &[f64], after: &[f64]) -> Option<RateRatio> {
    let (n0, n1) = (before.len(), after.len());
    if n0 == 0 || n1 == 0 || n0 + n1 < 3 {
        return None;
    }
    let y0: f64 = before.iter().sum();
    let y1: f64 = after.iter().sum();
    let (m0, m1) = (y0 / n0 as f64, y1 / n1 as f64);
    let pearson = |values: &[f64], mean: f64| {
        if mean > 0.0 {
            values
                .iter()
                .map(|y| (y - mean).powi(2) / mean)
                .sum::<f64>()
        } else {
            0.0
        }
    };
    let df = (n0 + n1 - 2) as f64;
    // Consecutive weeks may be correlated (a busy stretch, a slow month): the lag-1
    // autocorrelation of the Pearson residuals within each window, bias-corrected, widens the
    // variance of each window's total by the AR(1) factor, and the dispersion is Pearson's χ² over
    // its expectation under that correlation, tr(M R), instead of n − 2.
    let residual = |y: f64, mean: f64| {
        if mean > 0.0 {
            (y - mean) / mean.sqrt()
        } else {
            0.0
        }
    };
    let residuals: Vec<f64> = before
        .iter()
        .map(|y| residual(*y, m0))
        .chain(after.iter().map(|y| residual(*y, m1)))
        .collect();
    let weeks: Vec<f64> = (0..n0).chain(0..n1).map(|k| k as f64).collect();
    let windows: Vec<u8> = std::iter::repeat_n(0u8, n0)
        .chain(std::iter::repeat_n(1u8, n1))
        .collect();
    let layout = WeeklyLayout {
        weeks: &weeks,
        windows: &windows,
    };
    let columns = vec![
        vec![1.0; n0 + n1],
        windows.iter().map(|w| f64::from(*w)).collect(),
    ];
    let design = Ar1Design::new(columns, &layout);
    let autocorrelation = design
        .as_ref()
        .map_or(0.0, |d| d.corrected_rho(lag1(&residuals, &d.pairs)));
    let chi2 = pearson(before, m0) + pearson(after, m1);
    let (y0c, y1c) = (y0.max(0.5), y1.max(0.5));
    // The variance of the log ratio, and the dispersion and latent process behind it, had the
    // corrected coefficient come out `rho`: Pearson's χ² over tr(M R) at `rho` (floored at 1,
    // Poisson); the Poisson part of a week's count (1 on the Pearson scale) is white noise, the
    // rest, the week's rate, carries the correlation (Zeger 1988).
    let dispersion_at = |rho: f64| {
        let effective = design
            .as_ref()
            .map_or(df, |d| d.effective_df(&d.rx(rho.max(0.0)).1));
        (chi2 / effective.max(1.0)).max(1.0)
    };
    let variance_of = |dispersion: f64, latent: &LatentAr1| {
        dispersion * (latent.sum_factor(n0) / y0c + latent.sum_factor(n1) / y1c)
    };
    let dispersion = dispersion_at(autocorrelation);
    let latent = LatentAr1::new(autocorrelation, 1.0 - 1.0 / dispersion);
    let variance = variance_of(dispersion, &latent);
    // The same variance had the coefficient come out `rho`, the latent share held at its
    // estimate (a `LatentAr1::at_share`).
    let variance_at = |rho: f64| {
        let dispersion = dispersion_at(rho);
        variance_of(dispersion, &LatentAr1::at_share(rho, latent.share))
    };
    let log_rr = ((y1c / n1 as f64) / (y0c / n0 as f64)).ln();
    let se = variance.sqrt();
    // The t quantile allows for the correlation (the effective number of independent weeks) and
    // for its uncertainty: with 13 weeks a side the coefficient is uncertain by about ±0.2, which
    // moves the variance by a third, and a t that ignores it undercovers in exactly the histories
    // whose estimate came out low (Satterthwaite degrees of freedom, as for lead time,
    // [`autocorrelation_df`]).
    let effective_df = latent.effective_df(n0, n1).min(df);
    let df = if design.is_some() {
        autocorrelation_df(variance_at, autocorrelation, n0 + n1 - 2, effective_df)
    } else {
        effective_df
    };
    let t = t_quantile(0.975, df);
    Some(RateRatio {
        estimate: Estimate {
            estimate: log_rr,
            low: log_rr - t * se,
            high: log_rr + t * se,
            se,
            p_value: t_p(log_rr / se, df),
        },
        dispersion,
        autocorrelation,
    })
}

/// The per-side sample size a two-sample comparison needs for 80% power at a two-sided 5% level,
/// given the standard error `se` observed with `n` per side and the effect to detect (on the same
/// scale as `se`). Standard errors shrink as 1/√n.
pub fn needed_per_side(se: f64, n: f64, effect: f64) -> Option<f64> {
    if se <= 0.0 || effect == 0.0 || n <= 0.0 || !se.is_finite() {
        return None;
    }
    let target = effect.abs() / (Z95 + Z80);
    Some((n * (se / target).powi(2)).ceil())
}

/// The power of a two-sided 5% test to detect `effect` when its estimate has standard error `se`.
pub fn power(se: f64, effect: f64) -> f64 {
    power_at(se, effect, 0.05)
}

/// The power of a two-sided test at level `alpha` to detect `effect` when its estimate has
/// standard error `se`.
pub fn power_at(se: f64, effect: f64, alpha: f64) -> f64 {
    if se <= 0.0 || !se.is_finite() {
        return if effect != 0.0 { 1.0 } else { alpha };
    }
    let z = Normal::standard().inverse_cdf(1.0 - alpha / 2.0);
    normal_cdf(effect.abs() / se - z)
}

/// The smallest effect a two-sided 5% test detects with 80% power when the estimate has standard
/// error `se`.
pub fn minimum_detectable(se: f64) -> f64 {
    (Z95 + Z80) * se
}

/// The number of deployments per side that a test of two proportions needs for 80% power at a
/// two-sided 5% level to tell `p0` from `p1` (the usual normal-approximation formula).
pub fn proportions_needed(p0: f64, p1: f64) -> Option<f64> {
    if (p0 - p1).abs() < 1e-12 {
        return None;
    }
    let pbar = (p0 + p1) / 2.0;
    let a = Z95 * (2.0 * pbar * (1.0 - pbar)).sqrt();
    let b = Z80 * (p0 * (1.0 - p0) + p1 * (1.0 - p1)).sqrt();
    Some(((a + b) / (p0 - p1)).powi(2).ceil())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() <= tol, "{a} is not within {tol} of {b}");
    }

    /// The weighted scan of a sorted pool gives exactly the median of the resample's values
    /// concatenated, for odd and even counts, empty clusters, ties and clusters picked many times.
    #[test]
    fn a_sorted_pools_median_is_the_median_of_the_resampled_values() {
        let mut rng = Pcg64::seed_from_u64(7);
        for _ in 0..500 {
            let clusters: Vec<Vec<f64>> = (0..rng.random_range(1..8))
                .map(|_| {
                    (0..rng.random_range(0..6))
                        .map(|_| f64::from(rng.random_range(0..20u32)) * 600.0)
                        .collect()
                })
                .collect();
            let slices: Vec<&[f64]> = clusters.iter().map(Vec::as_slice).collect();
            let pool = SortedPool::new(&slices);
            let counts: Vec<usize> = (0..slices.len()).map(|_| rng.random_range(0..4)).collect();
            let mut concatenated: Vec<f64> = counts
                .iter()
                .enumerate()
                .flat_map(|(k, &c)| std::iter::repeat_n(slices[k], c).flatten().copied())
                .collect();
            let expected = median(&mut concatenated).map(|m| m.max(MIN_DURATION));
            assert_eq!(pool.median(&counts), expected, "{clusters:?} {counts:?}");
        }
    }

    #[test]
    fn wilson_seven_of_twenty() {
        let (lo, hi) = wilson(7, 20).unwrap();
        close(lo, 0.1812, 5e-5);
        close(hi, 0.5671, 5e-5);
        assert_eq!(wilson(0, 0), None);
        let (lo, hi) = wilson(0, 10).unwrap();
        assert_eq!(lo, 0.0);
        close(hi, 0.2775, 5e-5);
    }

    #[test]
    fn newcombe_published_example() {
        let e = newcombe(56, 70, 48, 80).unwrap();
        close(e.estimate, 0.2, 1e-12);
        close(e.low, 0.0524, 5e-5);
        close(e.high, 0.3339, 5e-5);
    }

    #[test]
    fn fisher_exact_known_tables() {
        close(fisher_exact(3, 1, 1, 3), 0.485_714, 1e-6);
        // R: fisher.test(matrix(c(1, 11, 9, 3), 2))$p.value = 0.002759
        close(fisher_exact(1, 9, 11, 3), 0.002_759, 1e-6);
        assert_eq!(fisher_exact(0, 5, 0, 5), 1.0);
    }

    #[test]
    fn mann_whitney_by_hand() {
        let t = mann_whitney(&[1.0, 2.0, 3.0], &[4.0, 5.0]).unwrap();
        assert_eq!(t.u, 0.0);
        close(t.z, -2.5 / 3f64.sqrt(), 1e-12);
        close(t.p_value, 0.149, 5e-4);
        // Ties: before [1, 2, 2], after [2, 3]: midranks 1, 3, 3 | 3, 5; U = 7 − 6 = 1;
        // variance 3·2/12·(6 − 24/20) = 2.4; z = (1 − 3 + 0.5)/√2.4.
        let t = mann_whitney(&[1.0, 2.0, 2.0], &[2.0, 3.0]).unwrap();
        assert_eq!(t.u, 1.0);
        close(t.z, -1.5 / 2.4f64.sqrt(), 1e-12);
        // Every value tied: no evidence at all.
        assert_eq!(mann_whitney(&[1.0, 1.0], &[1.0]).unwrap().p_value, 1.0);
    }

    #[test]
    fn clustered_rank_test_reduces_to_delong_for_singletons() {
        let before = [3.0, 5.0, 7.0, 9.0, 11.0];
        let after = [1.0, 2.0, 4.0, 6.0];
        let b: Vec<&[f64]> = before.chunks(1).collect();
        let a: Vec<&[f64]> = after.chunks(1).collect();
        let clustered = clustered_rank_test(&b, &a).unwrap();
        let plain = mann_whitney(&before, &after).unwrap();
        assert_eq!(clustered.u, plain.u);
        // Placements of before values among after: 2/4, 3/4, 1, 1, 1 → θ = 0.85.
        close(clustered.superiority, 0.85, 1e-12);
        // DeLong: var(V10)/5 + var(V01)/4 with V10 = [.5, .75, 1, 1, 1], V01 = [1, 1, .8, .6].
        let var10 = [0.5f64, 0.75, 1.0, 1.0, 1.0]
            .iter()
            .map(|v| (v - 0.85).powi(2))
            .sum::<f64>()
            / 4.0;
        let var01 = [1.0f64, 1.0, 0.8, 0.6]
            .iter()
            .map(|v| (v - 0.85).powi(2))
            .sum::<f64>()
            / 3.0;
        close(
            clustered.z,
            0.35 / (var10 / 5.0 + var01 / 4.0).sqrt(),
            1e-12,
        );
    }

    #[test]
    fn clustering_widens_the_rank_test() {
        // The same values, once as 4 deployments of 5 changes and once as 20 deployments of 1.
        let before: Vec<f64> = (0..20)
            .map(|i| 10.0 + f64::from(i % 5) + f64::from(i / 5))
            .collect();
        let after: Vec<f64> = (0..20)
            .map(|i| 8.0 + f64::from(i % 5) + f64::from(i / 5))
            .collect();
        let grouped = |v: &[f64], size: usize| -> Vec<Vec<f64>> {
            v.chunks(size).map(<[f64]>::to_vec).collect()
        };
        let (b4, a4) = (grouped(&before, 5), grouped(&after, 5));
        let b4: Vec<&[f64]> = b4.iter().map(Vec::as_slice).collect();
        let a4: Vec<&[f64]> = a4.iter().map(Vec::as_slice).collect();
        let (b20, a20) = (grouped(&before, 1), grouped(&after, 1));
        let b20: Vec<&[f64]> = b20.iter().map(Vec::as_slice).collect();
        let a20: Vec<&[f64]> = a20.iter().map(Vec::as_slice).collect();
        let four = clustered_rank_test(&b4, &a4).unwrap();
        let twenty = clustered_rank_test(&b20, &a20).unwrap();
        assert_eq!(four.u, twenty.u);
        assert!(four.p_value > twenty.p_value, "{four:?} {twenty:?}");
    }

    #[test]
    fn holm_small_vector() {
        let adjusted = holm(&[0.01, 0.04, 0.03, 0.005]);
        let want = [0.03, 0.06, 0.06, 0.02];
        for (a, w) in adjusted.iter().zip(want) {
            close(*a, w, 1e-12);
        }
        assert_eq!(holm(&[]), Vec::<f64>::new());
        // 0.8 × 2 = 1.6 caps at 1, and adjusted values never decrease.
        assert_eq!(holm(&[0.9, 0.8]), vec![1.0, 1.0]);
        assert_eq!(holm(&[0.04, 0.01]), vec![0.04, 0.02]);
    }

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&mut []), None);
    }

    #[test]
    fn rate_ratio_worked_example() {
        let rr = rate_ratio(&[2.0, 4.0, 3.0, 3.0], &[6.0, 5.0, 7.0, 6.0]).unwrap();
        close(rr.estimate.estimate, 2f64.ln(), 1e-12);
        assert_eq!(rr.dispersion, 1.0);
        let se = (1.0f64 / 12.0 + 1.0 / 24.0).sqrt();
        close(rr.estimate.se, se, 1e-12);
        close(rr.estimate.low.exp(), 0.75, 5e-3);
        close(rr.estimate.high.exp(), 5.34, 5e-3);
        // Over-dispersed counts widen the interval.
        let wide = rate_ratio(&[0.0, 9.0, 1.0, 2.0], &[12.0, 0.0, 10.0, 2.0]).unwrap();
        assert!(wide.dispersion > 1.0);
        assert!(wide.estimate.se > se);
    }

    #[test]
    fn ols_fits_a_line_exactly_and_with_noise() {
        let x: Vec<Vec<f64>> = (0..5).map(|i| vec![1.0, f64::from(i)]).collect();
        let y = [1.0, 3.0, 5.0, 7.0, 9.0];
        let fit = ols(&x, &y).unwrap();
        close(fit.coefficients[0], 1.0, 1e-9);
        close(fit.coefficients[1], 2.0, 1e-9);
        // y = 1 + 2x + (1, -1, 0, 1, -1): slope 2 − 0.2 = 1.8 (Σ(x−x̄)e = −2, Sxx = 10).
        let y = [2.0, 2.0, 5.0, 8.0, 8.0];
        let fit = ols(&x, &y).unwrap();
        close(fit.coefficients[1], 1.8, 1e-9);
        // σ̂² = RSS/3; RSS = 4 − 0.4 = 3.6 → se(slope) = √(1.2/10).
        close(fit.estimate(1).se, (1.2f64 / 10.0).sqrt(), 1e-9);
        assert!(ols(&x[..2], &y[..2]).is_none());
    }

    #[test]
    fn wls_with_equal_weights_is_ols() {
        let x: Vec<Vec<f64>> = (0..5).map(|i| vec![1.0, f64::from(i)]).collect();
        let y = [2.0, 2.0, 5.0, 8.0, 8.0];
        let plain = ols(&x, &y).unwrap();
        let weighted = wls(&x, &y, &[3.0; 5]).unwrap();
        close(weighted.coefficients[1], plain.coefficients[1], 1e-12);
        close(weighted.estimate(1).se, plain.estimate(1).se, 1e-12);
        // A heavy point pulls the fit: weight 100 on (4, 8) vs the rest.
        let heavy = wls(&x, &y, &[1.0, 1.0, 1.0, 1.0, 100.0]).unwrap();
        assert!(heavy.coefficients[0] + 4.0 * heavy.coefficients[1] > 7.9);
        assert!(wls(&x, &y, &[1.0, 0.0, 1.0, 1.0, 1.0]).is_none());
    }

    #[test]
    fn bootstrap_is_seeded_and_centred() {
        let before: Vec<Vec<f64>> = (0..30).map(|i| vec![100.0 + f64::from(i); 3]).collect();
        let after: Vec<Vec<f64>> = (0..30)
            .map(|i| vec![50.0 + f64::from(i) / 2.0; 3])
            .collect();
        let b: Vec<&[f64]> = before.iter().map(Vec::as_slice).collect();
        let a: Vec<&[f64]> = after.iter().map(Vec::as_slice).collect();
        let run =
            |seed| bootstrap_median_ratio(&b, &a, 400, &mut Pcg64::seed_from_u64(seed)).unwrap();
        let one = run(1);
        assert_eq!(one, run(1));
        close(one.estimate.estimate, 0.5f64.ln(), 1e-12);
        assert!(one.estimate.low < 0.5f64.ln() && one.estimate.high > 0.5f64.ln());
        assert_eq!(one.draws.len(), 400);
    }

    #[test]
    fn ar1_filter_matches_the_correlation_matrix() {
        // Two windows; the second skips a week.
        let weeks = [0.5, 1.5, 2.5, 3.5, 10.5, 12.5, 13.5];
        let windows = [0, 0, 0, 0, 1, 1, 1];
        let layout = WeeklyLayout {
            weeks: &weeks,
            windows: &windows,
        };
        let v = [1.0, -2.0, 0.5, 3.0, 1.5, -1.0, 2.0];
        let fast = layout.times_r(0.6, &v);
        for i in 0..7 {
            let direct: f64 = (0..7)
                .filter(|&j| windows[i] == windows[j])
                .map(|j| 0.6f64.powi((weeks[i] - weeks[j]).abs().round() as i32) * v[j])
                .sum();
            close(fast[i], direct, 1e-12);
        }
        assert_eq!(layout.lag_pairs(), vec![(0, 1), (1, 2), (2, 3), (5, 6)]);
        close(ar1_sum_factor(0.5, 4), 2.0625, 1e-12);
        assert_eq!(ar1_sum_factor(0.0, 9), 1.0);
    }

    #[test]
    fn the_corrected_autocorrelation_undoes_the_bias_of_short_series() {
        // 400 series of 13 + 13 weeks with AR(1) errors, ρ = 0.5, around two means: the raw lag-1
        // autocorrelation of the residuals averages far below 0.5, the corrected one near it.
        let mut rng = Pcg64::seed_from_u64(3);
        let normal = statrs::distribution::Normal::standard();
        let weeks: Vec<f64> = (0..13).chain(15..28).map(f64::from).collect();
        let windows: Vec<u8> = (0..26).map(|i| u8::from(i >= 13)).collect();
        let layout = WeeklyLayout {
            weeks: &weeks,
            windows: &windows,
        };
        let x: Vec<Vec<f64>> = windows.iter().map(|w| vec![1.0, f64::from(*w)]).collect();
        let (mut raw, mut corrected) = (0.0, 0.0);
        for _ in 0..400 {
            let mut e = 0.0;
            let y: Vec<f64> = (0..26)
                .map(|i| {
                    let z = normal.inverse_cdf(rng.random_range(1e-9..1.0 - 1e-9));
                    e = if i == 0 || i == 13 {
                        z
                    } else {
                        0.5 * e + 0.75f64.sqrt() * z
                    };
                    e
                })
                .collect();
            let fit = wls_ar1(&x, &y, &[1.0; 26], &layout).unwrap();
            raw += fit.residual_autocorrelation / 400.0;
            corrected += fit.corrected_autocorrelation / 400.0;
        }
        assert!(raw < 0.38, "raw {raw}");
        assert!((corrected - 0.5).abs() < 0.06, "corrected {corrected}");
    }

    #[test]
    fn latent_ar1_worked_example() {
        let latent = LatentAr1::new(0.2, 0.5);
        close(latent.latent, 0.4, 1e-12);
        close(latent.sum_factor(13), 1.581_197, 1e-6);
        close(ar1_sum_factor(0.2, 13), 1.451_923, 1e-6);
        close(latent.effective_df(13, 13), 14.443_237, 1e-5);
        // Share 1 is plain AR(1); no correlation, no widening; the latent coefficient is capped.
        close(
            LatentAr1::new(0.3, 1.0).sum_factor(13),
            ar1_sum_factor(0.3, 13),
            1e-12,
        );
        assert_eq!(LatentAr1::new(-0.2, 0.5).sum_factor(13), 1.0);
        let capped = LatentAr1::new(0.5, 0.1);
        close(capped.latent, MAX_LATENT_RHO, 1e-12);
        close(capped.share, 0.5 / MAX_LATENT_RHO, 1e-12);
        assert_eq!(LatentAr1::new(0.0, 0.5).effective_df(13, 13), 24.0);
    }

    #[test]
    fn satterthwaite_df_shrinks_with_an_uncertain_autocorrelation() {
        // A variance that does not depend on ρ keeps its residual degrees of freedom.
        close(autocorrelation_df(|_| 2.0, 0.3, 24, 24.0), 24.0, 1e-9);
        // V = 1 + 2ρ at ρ = 0: d ln V/dρ ≈ 2, CV² = 2/24 + 4/24 = 0.25, ν = 8.
        close(
            autocorrelation_df(|r| 1.0 + 2.0 * r, 0.0, 24, 24.0),
            8.0,
            0.2,
        );
        // Never below 4.
        assert_eq!(autocorrelation_df(|r| (20.0 * r).exp(), 0.0, 24, 24.0), 4.0);
    }

    #[test]
    fn power_and_sample_sizes() {
        // se 0.2 with 50 per side; to detect a log effect of 0.28 needs (0.2/0.1)² = 4× → 200.
        let n = needed_per_side(0.2, 50.0, (Z95 + Z80) * 0.1).unwrap();
        assert_eq!(n, 200.0);
        close(power(0.1, (Z95 + Z80) * 0.1), 0.8, 1e-9);
        // Two proportions 0.2 vs 0.1: 199 per side by the usual formula.
        assert_eq!(proportions_needed(0.2, 0.1), Some(199.0));
    }
}
