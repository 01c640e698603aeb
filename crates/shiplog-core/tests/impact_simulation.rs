//! Proof that the impact statistics are honest: synthetic delivery histories with a known truth,
//! fed to the same analysis `shiplog impact` runs, checked over 500 seeded histories per case.
//!
//! Each history has 13 weeks before the change, a 14-day transition and 13 weeks after. Weekly
//! deployment counts are negative binomial (over-dispersed, as real ones are); each deployment ships
//! 1 + Poisson(2) changes whose lead times are log-normal with a shared per-deployment part (changes
//! shipped together are not independent); deployments fail with some probability and recover after
//! a log-normal time; some are unplanned. The truth is set on the population: the median lead time,
//! the deployment rate, the failure probability.
//!
//! Rates are checked with a binomial tolerance: an observed rate r over n histories is compared with
//! its target ± 2.33 standard errors (one-sided 1%).

use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Gamma, Normal, Poisson};
use rand_pcg::Pcg64;
use shiplog_core::impact::{
    DeploymentSample, Design, GroupHistory, ImpactAnalysis, ImpactOptions, MetricKind, Verdict,
    analyze,
};

const HISTORIES: usize = 500;
const BEFORE_WEEKS: u32 = 13;
const AFTER_WEEKS: u32 = 13;
const TRANSITION_DAYS: f64 = 14.0;
/// Bootstrap resamples per interval in the simulation (the command uses 2000).
const RESAMPLES: usize = 250;

/// The truth of one synthetic group.
#[derive(Debug, Clone, Copy)]
struct Truth {
    /// Mean deployments per week before the change.
    rate: f64,
    /// Negative binomial shape of weekly counts (smaller = more over-dispersed).
    shape: f64,
    /// Median lead time before, hours.
    lead_hours: f64,
    /// Failure probability before.
    fail: f64,
    /// Median recovery time before, hours.
    recovery_hours: f64,
    /// Unplanned probability before.
    rework: f64,
    /// Multiplicative effects from the change date on.
    rate_effect: f64,
    lead_effect: f64,
    recovery_effect: f64,
    /// Additive effects on the probabilities.
    fail_effect: f64,
    rework_effect: f64,
    /// Log-scale drift per week, through both windows (a pre-existing trend): lead time and rate.
    lead_trend: f64,
    rate_trend: f64,
    /// Whole weeks before and after.
    weeks: (u32, u32),
}

impl Default for Truth {
    fn default() -> Self {
        Self {
            rate: 6.0,
            shape: 4.0,
            lead_hours: 48.0,
            fail: 0.2,
            recovery_hours: 3.0,
            rework: 0.15,
            rate_effect: 1.0,
            lead_effect: 1.0,
            recovery_effect: 1.0,
            fail_effect: 0.0,
            rework_effect: 0.0,
            lead_trend: 0.0,
            rate_trend: 0.0,
            weeks: (BEFORE_WEEKS, AFTER_WEEKS),
        }
    }
}

/// Generates one group's history. A common `shock` (log factor on lead time, on rate) may be added
/// from the change date on.
fn history(truth: &Truth, rng: &mut Pcg64) -> GroupHistory {
    let deploy_noise = Normal::new(0.0, 0.5).unwrap();
    let change_noise = Normal::new(0.0, 0.8).unwrap();
    let recovery_noise = Normal::new(0.0, 1.0).unwrap();
    let changes = Poisson::new(2.0).unwrap();
    let mut deployments = Vec::new();
    let start = -7.0 * f64::from(truth.weeks.0);
    let end = TRANSITION_DAYS + 7.0 * f64::from(truth.weeks.1);
    let mut week_start = start;
    while week_start < end {
        let t_mid = (week_start + 3.5) / 7.0;
        let after = week_start >= 0.0;
        let mean = truth.rate
            * (truth.rate_trend * t_mid).exp()
            * if after { truth.rate_effect } else { 1.0 };
        let lambda = Gamma::new(truth.shape, mean / truth.shape)
            .unwrap()
            .sample(rng);
        let count = if lambda > 0.0 {
            Poisson::new(lambda).unwrap().sample(rng) as usize
        } else {
            0
        };
        for _ in 0..count {
            let at = week_start + rng.random_range(0.0..7.0);
            let weeks = at / 7.0;
            let log_median = (truth.lead_hours * 3600.0).ln()
                + truth.lead_trend * weeks
                + if after { truth.lead_effect.ln() } else { 0.0 };
            let shared = deploy_noise.sample(rng);
            let n = 1 + changes.sample(rng) as usize;
            let lead_times = (0..n)
                .map(|_| (log_median + shared + change_noise.sample(rng)).exp())
                .collect();
            let fail = truth.fail + if after { truth.fail_effect } else { 0.0 };
            let failed = rng.random_bool(fail);
            let recovery = failed.then(|| {
                ((truth.recovery_hours * 3600.0).ln()
                    + if after {
                        truth.recovery_effect.ln()
                    } else {
                        0.0
                    }
                    + recovery_noise.sample(rng))
                .exp()
            });
            let rework = truth.rework + if after { truth.rework_effect } else { 0.0 };
            deployments.push(DeploymentSample {
                at_days: at,
                lead_times,
                failed,
                recovery,
                unplanned: rng.random_bool(rework),
            });
        }
        week_start += 7.0;
    }
    GroupHistory { deployments }
}

/// Runs `HISTORIES` analyses of the subject (and optional comparison) truth.
fn simulate(seed: u64, subject: Truth, comparison: Option<Truth>) -> Vec<ImpactAnalysis> {
    let design = Design::weeks(subject.weeks.0, TRANSITION_DAYS, subject.weeks.1);
    let mut rng = Pcg64::seed_from_u64(seed);
    (0..HISTORIES)
        .map(|i| {
            let s = history(&subject, &mut rng);
            let c = comparison.map(|t| history(&t, &mut rng));
            analyze(
                &s,
                c.as_ref(),
                &design,
                &ImpactOptions {
                    resamples: RESAMPLES,
                    seed: seed.wrapping_add(i as u64),
                },
            )
        })
        .collect()
}

fn metric(a: &ImpactAnalysis, kind: MetricKind) -> &shiplog_core::impact::MetricImpact {
    a.metrics
        .iter()
        .find(|m| m.metric == kind)
        .expect("every metric is reported")
}

fn rate(runs: &[ImpactAnalysis], kind: MetricKind, pred: impl Fn(&ImpactAnalysis) -> bool) -> f64 {
    let _ = kind;
    runs.iter().filter(|a| pred(a)).count() as f64 / runs.len() as f64
}

/// The upper limit for a rate whose target is `p`: p + 2.33 binomial standard errors.
fn upper(p: f64) -> f64 {
    p + 2.33 * (p * (1.0 - p) / HISTORIES as f64).sqrt()
}

fn claimed(a: &ImpactAnalysis, kind: MetricKind) -> bool {
    matches!(metric(a, kind).verdict, Verdict::Improved | Verdict::Worse)
}

fn covers(a: &ImpactAnalysis, kind: MetricKind, truth: f64) -> bool {
    metric(a, kind)
        .effect
        .as_ref()
        .is_some_and(|e| e.low <= truth && truth <= e.high)
}

#[test]
fn no_effect_gives_few_claims() {
    let runs = simulate(1, Truth::default(), None);
    for kind in MetricKind::ALL {
        let claims = rate(&runs, kind, |a| claimed(a, kind));
        let tested = rate(&runs, kind, |a| metric(a, kind).effect.is_some());
        eprintln!("no effect: {kind:?}: claims {claims:.3} (tested in {tested:.3})");
        assert!(tested > 0.95, "{kind:?} tested in only {tested}");
        assert!(
            claims <= upper(0.05),
            "{kind:?}: 'improved' or 'worse' in {claims} of histories with no effect"
        );
    }
}

#[test]
fn a_known_effect_is_covered_and_detected() {
    let truth = Truth {
        rate_effect: 2.0,
        lead_effect: 0.5,
        recovery_effect: 0.5,
        fail_effect: -0.1,
        ..Truth::default()
    };
    let runs = simulate(2, truth, None);
    let checks = [
        (MetricKind::DeploymentFrequency, 2.0, 2f64.ln()),
        (MetricKind::ChangeLeadTime, 0.5, 0.5f64.ln()),
        (MetricKind::ChangeFailRate, -0.1, -0.1),
    ];
    for (kind, effect, analysis_effect) in checks {
        let coverage = rate(&runs, kind, |a| covers(a, kind, effect));
        let detected = rate(&runs, kind, |a| {
            metric(a, kind).verdict == Verdict::Improved
        });
        // The power the note promises for this effect, history by history.
        let promised = runs
            .iter()
            .filter_map(|a| metric(a, kind).power_for(analysis_effect))
            .sum::<f64>()
            / runs.len() as f64;
        eprintln!(
            "known effect: {kind:?}: coverage {coverage:.3}, detected {detected:.3}, promised power {promised:.3}"
        );
        assert!(
            (0.93..=0.97).contains(&coverage),
            "{kind:?}: the 95% interval covered the truth in {coverage} of histories"
        );
        assert!(
            detected >= promised - 0.05,
            "{kind:?}: detected in {detected}, the power note promised {promised}"
        );
    }
}

#[test]
fn a_known_effect_is_detected_where_the_power_note_promises_it() {
    // Half a year on each side, ten deployments a week: the power note promises at least 80% for
    // halved lead times and doubled deployment rates, and the verdicts keep that promise.
    let truth = Truth {
        rate: 10.0,
        shape: 20.0,
        rate_effect: 2.0,
        lead_effect: 0.5,
        weeks: (26, 26),
        ..Truth::default()
    };
    let runs = simulate(5, truth, None);
    for (kind, effect) in [
        (MetricKind::DeploymentFrequency, 2f64.ln()),
        (MetricKind::ChangeLeadTime, 0.5f64.ln()),
    ] {
        let promised = runs
            .iter()
            .filter_map(|a| metric(a, kind).power_for(effect))
            .sum::<f64>()
            / runs.len() as f64;
        let detected = rate(&runs, kind, |a| {
            metric(a, kind).verdict == Verdict::Improved
        });
        let coverage = rate(&runs, kind, |a| covers(a, kind, effect.exp()));
        eprintln!(
            "powered: {kind:?}: promised power {promised:.3}, detected {detected:.3}, coverage {coverage:.3}"
        );
        assert!(
            promised >= 0.8,
            "{kind:?}: the note promises only {promised}"
        );
        assert!(
            detected >= promised - 0.05,
            "{kind:?}: detected in {detected}, the power note promised {promised}"
        );
        assert!(
            (0.93..=0.97).contains(&coverage),
            "{kind:?}: coverage {coverage}"
        );
    }
}

#[test]
fn a_pre_existing_trend_is_not_credited() {
    // Lead time falls 3% a week and the deployment rate rises 6% a week, through both windows,
    // with nothing happening at the date.
    let truth = Truth {
        lead_trend: -0.03,
        rate_trend: 0.06,
        ..Truth::default()
    };
    let runs = simulate(3, truth, None);
    for kind in [MetricKind::ChangeLeadTime, MetricKind::DeploymentFrequency] {
        let naive = rate(&runs, kind, |a| {
            metric(a, kind)
                .effect
                .as_ref()
                .is_some_and(|e| e.p_adjusted < 0.05)
        });
        let credited = rate(&runs, kind, |a| {
            metric(a, kind).verdict == Verdict::Improved
        });
        eprintln!(
            "trend: {kind:?}: before/after alone significant in {naive:.3}, credited {credited:.3}"
        );
        assert!(
            naive > 0.5,
            "{kind:?}: the trend should show in a naive comparison"
        );
        assert!(
            credited <= upper(0.05),
            "{kind:?}: the practice was credited in {credited} of histories with only a trend"
        );
    }
}

#[test]
fn a_shock_to_every_service_cancels_in_the_comparison() {
    // Everything halves its lead time and doubles its rate at the date, subject and comparison.
    let truth = Truth {
        rate_effect: 2.0,
        lead_effect: 0.5,
        ..Truth::default()
    };
    let runs = simulate(4, truth, Some(truth));
    for kind in [MetricKind::ChangeLeadTime, MetricKind::DeploymentFrequency] {
        let dids: Vec<f64> = runs
            .iter()
            .filter_map(|a| {
                metric(a, kind)
                    .comparison
                    .as_ref()
                    .and_then(|c| c.difference_in_differences)
            })
            .map(|d| d.estimate.ln())
            .collect();
        let mean_did = dids.iter().sum::<f64>() / dids.len() as f64;
        let covered = rate(&runs, kind, |a| {
            metric(a, kind)
                .comparison
                .as_ref()
                .and_then(|c| c.difference_in_differences)
                .is_some_and(|d| d.low <= 1.0 && 1.0 <= d.high)
        });
        let credited = rate(&runs, kind, |a| {
            metric(a, kind).verdict == Verdict::Improved
        });
        eprintln!(
            "shock: {kind:?}: mean log DiD {mean_did:+.4} over {}, DiD covers 1 in {covered:.3}, credited {credited:.3}",
            dids.len()
        );
        assert!(dids.len() > HISTORIES * 95 / 100);
        assert!(
            mean_did.abs() < 0.05,
            "{kind:?}: mean log difference-in-differences {mean_did}"
        );
        assert!(
            covered >= 0.93,
            "{kind:?}: DiD interval covered 1 in {covered}"
        );
        assert!(
            credited <= upper(0.05),
            "{kind:?}: a shock to every service was credited to the practice in {credited}"
        );
    }
}
