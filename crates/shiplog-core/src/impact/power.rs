//! Power by simulation: how often the whole verdict procedure would say "improved" if the practice
//! had the reference effect, at the sample sizes, dispersion and weekly structure observed.
//!
//! A formula cannot give this number. The verdict needs the before/after test (Holm-adjusted), the
//! trend check and, with a comparison group, the difference in differences and its
//! parallel-trends gate; these tests share their data, so their powers do not multiply, and the
//! trend check is a t test on ~20 degrees of freedom whose power a normal formula overstates. So
//! the note re-runs the very code of the verdict on synthetic histories built from the observed
//! ones:
//!
//! - **weeks are resampled in moving blocks** (of ⌈n^⅓⌉ weeks, so consecutive weeks stay alike as
//!   they were) from the window they came from, each week with all its deployments;
//! - **the observed effect is taken out and the reference effect put in**: after-window durations
//!   are scaled so that their median is the before median times the reference ratio; the after
//!   window's weekly deployment counts are drawn from the before window's weeks and multiplied by
//!   the reference ratio; failures and unplanned deployments are redrawn with the before rate
//!   (plus the reference difference after);
//! - a comparison group is resampled the same way with no effect at all;
//! - the other metrics tested together are taken to have no effect: their p-values are uniform
//!   and enter Holm's adjustment with this metric's.
//!
//! Seeded (from `--seed`, one stream per metric): the same records give the same note. Worked
//! example: a history whose lead time falls 60% with 12 weeks on each side gives a simulated power
//! near 100% for a 30% fall; one with 2 weekly values after the change gives 0%, since the trend
//! check cannot run, and the note says so.

use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64;

use super::{
    DeploymentSample, Design, Group, GroupHistory, ImpactOptions, MetricKind, PowerNote, Verdict,
    Window, compare, comparison_check, same_direction, stats, trend_check, verdict,
};

/// How the power note is simulated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PowerOptions {
    /// Simulated verdicts per metric (0: no simulation, no power figure).
    pub simulations: usize,
    /// Bootstrap resamples inside each simulated verdict.
    pub resamples: usize,
    /// Whether to search, by further simulations, for the weeks that 80% power would take.
    pub search_more_weeks: bool,
}

impl Default for PowerOptions {
    fn default() -> Self {
        Self {
            simulations: 200,
            resamples: 100,
            search_more_weeks: true,
        }
    }
}

/// The longest extension of the after window the search considers: five years.
pub const MAX_MORE_WEEKS: u32 = 260;

/// What the simulation needs to know about one group and metric.
pub(super) struct Source<'g, 'a> {
    pub group: &'g Group<'a>,
    /// The observed medians (seconds) or before rate, to take the observed effect out.
    pub before_value: Option<f64>,
    pub after_value: Option<f64>,
}

fn block_length(n: usize) -> usize {
    ((n as f64).cbrt().ceil() as usize).max(1)
}

/// Indices of `n_out` weeks drawn in moving blocks from `n_in`.
fn block_indices(n_in: usize, n_out: usize, rng: &mut Pcg64) -> Vec<usize> {
    if n_in == 0 {
        return Vec::new();
    }
    let l = block_length(n_in).min(n_in);
    let mut out = Vec::with_capacity(n_out);
    while out.len() < n_out {
        let start = rng.random_range(0..=n_in - l);
        for k in start..start + l {
            if out.len() < n_out {
                out.push(k);
            }
        }
    }
    out
}

/// The start (days after the change) of week `k` of a window starting at `start`.
fn week_start(window: &Window<'_>, k: usize) -> f64 {
    window.weeks[k].0 * 7.0 - 3.5
}

/// Which effect, if any, a synthetic window carries.
#[derive(Clone, Copy)]
enum Role {
    /// As it was (durations untouched, rates redrawn at the before rate).
    Before,
    /// The after window of the subject: observed effect out, reference effect in (`effect` on the
    /// analysis scale; 0 for a comparison group).
    After { effect: f64 },
}

#[allow(clippy::too_many_arguments)]
fn fill(
    out: &mut Vec<DeploymentSample>,
    metric: MetricKind,
    source: &Source<'_, '_>,
    from: &Window<'_>,
    role: Role,
    start_days: f64,
    weeks_out: usize,
    rng: &mut Pcg64,
) {
    let picks = block_indices(from.weeks.len(), weeks_out, rng);
    let ratio_out = |effect: f64| match (source.before_value, source.after_value) {
        (Some(b), Some(a)) if a > 0.0 => b / a * effect.exp(),
        _ => effect.exp(),
    };
    let base_rate = source.before_value.unwrap_or(0.0);
    for (j, &k) in picks.iter().enumerate() {
        let offset = start_days + 7.0 * j as f64 - week_start(from, k);
        let week = &from.weeks[k].1;
        match (metric, role) {
            (MetricKind::DeploymentFrequency, Role::After { effect }) => {
                let target = week.len() as f64 * effect.exp();
                let mut count = target.floor() as usize;
                if rng.random_bool((target - target.floor()).clamp(0.0, 1.0)) {
                    count += 1;
                }
                for i in 0..count {
                    if let Some(d) = week.get(i % week.len().max(1)) {
                        out.push(DeploymentSample {
                            at_days: d.at_days + offset,
                            ..DeploymentSample::default()
                        });
                    }
                }
            }
            _ => {
                for d in week {
                    let mut s = DeploymentSample {
                        at_days: d.at_days + offset,
                        ..DeploymentSample::default()
                    };
                    match metric {
                        MetricKind::DeploymentFrequency => {}
                        MetricKind::ChangeLeadTime => {
                            let factor = match role {
                                Role::Before => 1.0,
                                Role::After { effect } => ratio_out(effect),
                            };
                            s.lead_times = d.lead_times.iter().map(|v| v * factor).collect();
                        }
                        MetricKind::FailedDeploymentRecoveryTime => {
                            let factor = match role {
                                Role::Before => 1.0,
                                Role::After { effect } => ratio_out(effect),
                            };
                            s.failed = d.failed;
                            s.recovery = d.recovery.map(|v| v * factor);
                        }
                        MetricKind::ChangeFailRate | MetricKind::ReworkRate => {
                            let p = match role {
                                Role::Before => base_rate,
                                Role::After { effect } => base_rate + effect,
                            }
                            .clamp(0.0, 1.0);
                            let event = rng.random_bool(p);
                            if metric == MetricKind::ChangeFailRate {
                                s.failed = event;
                            } else {
                                s.unplanned = event;
                            }
                        }
                    }
                    out.push(s);
                }
            }
        }
    }
}

/// One synthetic history of a group for `metric`, with `after_weeks` weeks after the change.
fn synthetic(
    metric: MetricKind,
    source: &Source<'_, '_>,
    design: &Design,
    after_weeks: u32,
    effect: f64,
    rng: &mut Pcg64,
) -> GroupHistory {
    let g = source.group;
    let mut deployments = Vec::new();
    let before_start = -7.0 * f64::from(design.before_weeks);
    fill(
        &mut deployments,
        metric,
        source,
        &g.before,
        Role::Before,
        before_start,
        g.before.weeks.len(),
        rng,
    );
    // Deployment frequency: the after window's counts come from the before weeks (no change but
    // the reference one); the other metrics keep the after window's own pace.
    let from = if metric == MetricKind::DeploymentFrequency {
        &g.before
    } else {
        &g.after
    };
    fill(
        &mut deployments,
        metric,
        source,
        from,
        Role::After { effect },
        design.transition_days,
        after_weeks as usize,
        rng,
    );
    GroupHistory { deployments }
}

/// The share of `simulations` synthetic histories, with `extra_weeks` more weeks after the change,
/// in which the whole verdict procedure says "improved" for a true `effect` (analysis scale, in
/// the good direction) of `metric`. `family` is the number of metrics tested together.
#[allow(clippy::too_many_arguments)]
pub(super) fn simulated_power(
    metric: MetricKind,
    family: usize,
    subject: &Source<'_, '_>,
    comparison: Option<&Source<'_, '_>>,
    design: &Design,
    effect: f64,
    extra_weeks: u32,
    simulations: usize,
    resamples: usize,
    seed: u64,
) -> Option<f64> {
    if simulations == 0 || subject.group.before.weeks.is_empty() {
        return None;
    }
    let after_weeks = design.after_weeks.saturating_add(extra_weeks);
    let sim_design = Design::weeks(design.before_weeks, design.transition_days, after_weeks);
    let options = ImpactOptions {
        resamples,
        seed,
        ..ImpactOptions::default()
    };
    let mut rng = Pcg64::seed_from_u64(seed ^ 0x9e37_79b9_7f4a_7c15);
    let good = if metric.higher_is_better() { 1.0 } else { -1.0 };
    let dummy = PowerNote::empty("weeks", 0);
    let mut improved = 0usize;
    for _ in 0..simulations {
        let s = synthetic(metric, subject, design, after_weeks, effect, &mut rng);
        let c = comparison.map(|c| synthetic(metric, c, design, after_weeks, 0.0, &mut rng));
        let gs = Group::new(&s, &sim_design);
        let gc = c.as_ref().map(|c| Group::new(c, &sim_design));
        let mut brng = Pcg64::seed_from_u64(rng.random());
        let compared = compare(metric, &gs, &options, &mut brng);
        let Some((estimate, _)) = compared.estimate.as_ref() else {
            continue;
        };
        if compared.no_events {
            continue;
        }
        // The other metrics, with no effect: uniform p-values in the Holm family.
        let mut ps = vec![estimate.p_value];
        ps.extend((1..family).map(|_| rng.random::<f64>()));
        let adjusted = stats::holm(&ps)[0];
        let direction = Some(estimate.estimate.signum())
            .filter(|s| *s != 0.0)
            .unwrap_or(good);
        let trend = trend_check(metric, &gs, direction);
        let cmp = gc
            .as_ref()
            .map(|gc| comparison_check(metric, &gs, &compared, gc, &options, &mut brng, direction));
        let (v, _) = verdict(
            metric,
            &compared,
            Some(adjusted),
            &trend,
            cmp.as_ref(),
            &dummy,
        );
        if v == Verdict::Improved && same_direction(estimate.estimate, good) {
            improved += 1;
        }
    }
    Some(improved as f64 / simulations as f64)
}

/// The fewest extra after-window weeks (up to [`MAX_MORE_WEEKS`]) at which the simulated power
/// reaches 80%. A first guess comes from the power now (`power_now`), taking the test statistic
/// to grow as √(1 / (1/n₀ + 1/n₁)) with only the after window growing; the guess is then checked
/// by simulation and raised by half until it holds (at most four times), and a smaller one tried
/// once. `None` when the guess lies beyond five years (the before window limits) or never holds.
#[allow(clippy::too_many_arguments)]
pub(super) fn weeks_for_power(
    metric: MetricKind,
    family: usize,
    subject: &Source<'_, '_>,
    comparison: Option<&Source<'_, '_>>,
    design: &Design,
    effect: f64,
    power_now: f64,
    simulations: usize,
    resamples: usize,
    seed: u64,
) -> Option<u32> {
    let power_at = |extra: u32| {
        simulated_power(
            metric,
            family,
            subject,
            comparison,
            design,
            effect,
            extra,
            simulations,
            resamples,
            seed,
        )
        .unwrap_or(0.0)
    };
    let (n0, n1) = (
        f64::from(design.before_weeks.max(1)),
        f64::from(design.after_weeks.max(1)),
    );
    let z_target = stats::Z95 + stats::Z80;
    let guess = if power_now > 0.0 {
        let z_now = stats::normal_quantile(power_now.clamp(0.02, 0.98)) + stats::Z95;
        // (1/n₀ + 1/n₁') = (1/n₀ + 1/n₁) (z_now / z_target)²
        let wanted = (1.0 / n0 + 1.0 / n1) * (z_now / z_target).powi(2);
        if wanted <= 1.0 / n0 {
            return None;
        }
        let n1_needed = 1.0 / (wanted - 1.0 / n0);
        (n1_needed - n1).max(1.0).ceil()
    } else {
        n1
    };
    if guess > f64::from(MAX_MORE_WEEKS) {
        return None;
    }
    let mut extra = guess as u32;
    let mut tries = 0;
    while power_at(extra) < 0.8 {
        tries += 1;
        if tries > 4 || extra >= MAX_MORE_WEEKS {
            return None;
        }
        extra = (extra + extra.div_ceil(2)).min(MAX_MORE_WEEKS);
    }
    if tries == 0 && extra > 1 {
        let smaller = extra * 3 / 4;
        if smaller >= 1 && power_at(smaller) >= 0.8 {
            extra = smaller;
        }
    }
    Some(extra)
}
