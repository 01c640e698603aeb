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
/// Only the ranks the quantiles need are found (selection, not a full sort; see
/// [`order_statistics`]), so a million lead times summarise in a few milliseconds. The mean sums
/// the values in the order given.
pub fn summarize(values: &mut [f64]) -> Option<Summary> {
    if values.is_empty() {
        return None;
    }
    let n = values.len();
    let sum: f64 = values.iter().sum();
    let mut ranks: Vec<usize> = QUANTILES
        .iter()
        .flat_map(|&q| {
            let h = (n - 1) as f64 * q;
            [h.floor() as usize, h.ceil() as usize]
        })
        .collect();
    ranks.sort_unstable();
    ranks.dedup();
    let ranked = order_statistics(values, &ranks);
    let value_at = |rank: usize| ranked[ranks.partition_point(|&r| r < rank)];
    let at = |q: f64| {
        let h = (n - 1) as f64 * q;
        let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
        value_at(lo) + (h - lo as f64) * (value_at(hi) - value_at(lo))
    };
    Some(Summary {
        count: n,
        median: at(0.5),
        p75: at(0.75),
        p90: at(0.9),
        mean: sum / n as f64,
    })
}

/// Below this many values, quantiles are selected in place; from it on, through a histogram.
const HISTOGRAM_FROM: usize = 2048;

/// The values of `ranks` (ascending, each below `values.len()`) in the order of
/// [`f64::total_cmp`], reordering `values`.
///
/// Many values go through a histogram: one pass counts them into buckets of a monotone integer
/// key, the counts tell which few buckets hold the wanted ranks, a second pass gathers those
/// buckets' values, and a selection within each (a few values, however many there are in all)
/// finishes. Two linear passes replace selections over the whole set (four times less work for a
/// million lead times). Values that share one bucket (all equal, say) fall back to selecting
/// among all of them, as for few values.
fn order_statistics(values: &mut [f64], ranks: &[usize]) -> Vec<f64> {
    let n = values.len();
    if n < HISTOGRAM_FROM {
        select_ranks(values, ranks, f64::total_cmp);
        return ranks.iter().map(|&r| values[r]).collect();
    }
    let (min, max) = values.iter().fold((u64::MAX, 0), |(lo, hi), &x| {
        let k = total_order_key(x);
        (lo.min(k), hi.max(k))
    });
    // About four values a bucket, at most 2^16 buckets.
    let wanted_bits = (n / 4)
        .next_power_of_two()
        .clamp(256, 1 << 16)
        .trailing_zeros();
    let shift = (u64::BITS - (max - min).leading_zeros()).saturating_sub(wanted_bits);
    let bucket_of = |x: f64| ((total_order_key(x) - min) >> shift) as usize;
    let mut counts = vec![0u32; ((max - min) >> shift) as usize + 1];
    for &x in values.iter() {
        counts[bucket_of(x)] += 1;
    }
    // Each rank's bucket, and the rank within it.
    let mut located: Vec<(usize, usize)> = Vec::with_capacity(ranks.len());
    let (mut bucket, mut before) = (0usize, 0usize);
    for &rank in ranks {
        while before + counts[bucket] as usize <= rank {
            before += counts[bucket] as usize;
            bucket += 1;
        }
        located.push((bucket, rank - before));
    }
    let mut buckets: Vec<usize> = located.iter().map(|&(b, _)| b).collect();
    buckets.dedup();
    if buckets.iter().map(|&b| counts[b] as usize).sum::<usize>() == n {
        select_ranks(values, ranks, f64::total_cmp);
        return ranks.iter().map(|&r| values[r]).collect();
    }
    // Gather the wanted buckets (the counts are reused to name each one's list).
    let mut gathered: Vec<Vec<f64>> = buckets
        .iter()
        .map(|&b| Vec::with_capacity(counts[b] as usize))
        .collect();
    counts.fill(0);
    for (j, &b) in buckets.iter().enumerate() {
        counts[b] = j as u32 + 1;
    }
    for &x in values.iter() {
        let slot = counts[bucket_of(x)] as usize;
        if slot > 0 {
            gathered[slot - 1].push(x);
        }
    }
    located
        .iter()
        .map(|&(b, within)| {
            let list = &mut gathered[buckets.partition_point(|&w| w < b)];
            *list.select_nth_unstable_by(within, f64::total_cmp).1
        })
        .collect()
}

/// An integer that orders like [`f64::total_cmp`].
fn total_order_key(x: f64) -> u64 {
    let bits = x.to_bits();
    // Negative values: flip the magnitude bits so larger magnitudes order lower; then offset the
    // sign so that negatives come before positives.
    (bits ^ ((((bits as i64) >> 63) as u64) >> 1)) ^ (1 << 63)
}

/// Puts the values of `ranks` (ascending) in place, as in a sort by `order`. Selecting the largest
/// rank first leaves the smaller ranks inside the prefix before it; a rank just below the previous
/// one (the lower neighbour of an interpolated quantile) is the largest value of that prefix: a
/// scan, not another selection.
fn select_ranks<T: Copy>(
    values: &mut [T],
    ranks: &[usize],
    order: impl Fn(&T, &T) -> std::cmp::Ordering,
) {
    let mut limit = values.len();
    for &rank in ranks.iter().rev() {
        if rank + 1 == limit {
            let largest = (0..limit).fold(rank, |best, i| {
                if order(&values[i], &values[best]).is_gt() {
                    i
                } else {
                    best
                }
            });
            values.swap(rank, largest);
        } else {
            values[..limit].select_nth_unstable_by(rank, &order);
        }
        limit = rank;
    }
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
    fn negative_values_select_like_sorting_too() {
        let values = [
            3.5, -0.0, -7.25, 0.0, 12.0, -1.0, 2.0, -7.25, 9.5, 0.5, -3.0,
        ];
        let mut sorted = values.to_vec();
        sorted.sort_unstable_by(f64::total_cmp);
        let s = summarize(&mut values.clone()).unwrap();
        assert_eq!(s.median, quantile_sorted(&sorted, 0.5));
        assert_eq!(s.p75, quantile_sorted(&sorted, 0.75));
        assert_eq!(s.p90, quantile_sorted(&sorted, 0.9));
        assert_eq!(s.mean, values.iter().sum::<f64>() / values.len() as f64);
    }

    #[test]
    fn histogram_selection_agrees_with_sorting() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let shapes: [&dyn Fn(u64) -> f64; 6] = [
            &|r| (r % 1_000_000) as f64,
            // Lead-time like: spread over many orders of magnitude.
            &|r| ((r % 4000) as f64 / 100.0).exp(),
            &|r| (r % 3) as f64,
            &|_| 42.5,
            &|r| (r % 2001) as f64 - 1000.25,
            &|r| match r % 50 {
                0 => f64::INFINITY,
                1 => f64::NEG_INFINITY,
                2 => -0.0,
                3 => 0.0,
                _ => (r % 97) as f64 * 1e-300,
            },
        ];
        for (k, shape) in shapes.iter().enumerate() {
            for n in [HISTOGRAM_FROM, 5000, 20_011] {
                let values: Vec<f64> = (0..n).map(|_| shape(next())).collect();
                let mut sorted = values.clone();
                sorted.sort_unstable_by(f64::total_cmp);
                let ranks = [0, 1, n / 3, n / 2, n / 2 + 1, n - 2, n - 1];
                let got = order_statistics(&mut values.clone(), &ranks);
                let expected: Vec<f64> = ranks.iter().map(|&r| sorted[r]).collect();
                assert_eq!(
                    got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    expected.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    "shape {k}, n={n}"
                );
                let s = summarize(&mut values.clone()).unwrap();
                assert_eq!(s.median.to_bits(), quantile_sorted(&sorted, 0.5).to_bits());
                assert_eq!(s.p90.to_bits(), quantile_sorted(&sorted, 0.9).to_bits());
            }
        }
    }

    #[test]
    fn single_value_and_empty() {
        let s = summarize(&mut [7.0]).unwrap();
        assert_eq!((s.median, s.p75, s.p90, s.mean), (7.0, 7.0, 7.0, 7.0));
        assert!(summarize(&mut []).is_none());
    }
}
