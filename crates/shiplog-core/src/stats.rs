//! Summary statistics used by the metrics: quantiles and means of durations.
//!
//! Quantiles use linear interpolation between the two nearest ranks (Hyndman & Fan type 7, the
//! default of R, NumPy and spreadsheets), so the median of an even count is the mean of the two middle
//! values. Example: for `[1, 2, 3, 10]` the median is 2.5, the 75th percentile 4.75 and the 90th 7.9.

/// Summary of a set of values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// How many values.
    pub count: usize,
    /// The median (50th percentile).
    pub median: f64,
    /// The 75th percentile.
    pub p75: f64,
    /// The 90th percentile.
    pub p90: f64,
    /// The arithmetic mean.
    pub mean: f64,
}

const QUANTILES: [f64; 3] = [0.5, 0.75, 0.9];

/// Summarises `values` (reordering them); `None` when there are none.
///
/// Only the ranks the quantiles need are put in place (selection, not a full sort), so a million
/// lead times summarise in a few milliseconds.
pub fn summarize(values: &mut [f64]) -> Option<Summary> {
    if values.is_empty() {
        return None;
    }
    let n = values.len();
    let mut ranks: Vec<usize> = QUANTILES
        .iter()
        .flat_map(|&q| {
            let h = (n - 1) as f64 * q;
            [h.floor() as usize, h.ceil() as usize]
        })
        .collect();
    ranks.sort_unstable();
    ranks.dedup();
    // Selecting the largest rank first leaves the smaller ranks inside the prefix before it.
    let mut limit = n;
    for &rank in ranks.iter().rev() {
        values[..limit].select_nth_unstable_by(rank, f64::total_cmp);
        limit = rank;
    }
    let sum: f64 = values.iter().sum();
    let at = |q: f64| {
        let h = (n - 1) as f64 * q;
        let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
        values[lo] + (h - lo as f64) * (values[hi] - values[lo])
    };
    Some(Summary {
        count: n,
        median: at(0.5),
        p75: at(0.75),
        p90: at(0.9),
        mean: sum / n as f64,
    })
}

/// The `q` quantile (0..=1) of sorted, non-empty `values`, by linear interpolation.
pub fn quantile_sorted(values: &[f64], q: f64) -> f64 {
    debug_assert!(!values.is_empty());
    let h = (values.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    values[lo] + (h - lo as f64) * (values[hi] - values[lo])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_example() {
        let s = summarize(&mut [10.0, 1.0, 3.0, 2.0]).unwrap();
        assert_eq!(s.count, 4);
        assert_eq!(s.median, 2.5);
        assert!((s.p75 - 4.75).abs() < 1e-9);
        assert!((s.p90 - 7.9).abs() < 1e-9);
        assert_eq!(s.mean, 4.0);
    }

    #[test]
    fn selection_agrees_with_sorting() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for n in [1usize, 2, 3, 10, 101, 1000] {
            let values: Vec<f64> = (0..n)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (state % 10_000) as f64
                })
                .collect();
            let mut sorted = values.clone();
            sorted.sort_unstable_by(f64::total_cmp);
            let s = summarize(&mut values.clone()).unwrap();
            assert_eq!(s.median, quantile_sorted(&sorted, 0.5), "n={n}");
            assert_eq!(s.p75, quantile_sorted(&sorted, 0.75), "n={n}");
            assert_eq!(s.p90, quantile_sorted(&sorted, 0.9), "n={n}");
        }
    }

    #[test]
    fn single_value_and_empty() {
        let s = summarize(&mut [7.0]).unwrap();
        assert_eq!((s.median, s.p75, s.p90, s.mean), (7.0, 7.0, 7.0, 7.0));
        assert!(summarize(&mut []).is_none());
    }
}
