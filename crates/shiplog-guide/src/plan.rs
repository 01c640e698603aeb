//! Where to start, and what to try: the capabilities whose signals look weakest relative to the
//! metrics they bear on, each with an experiment sized by the impact analysis's own power
//! simulation so that it can detect the effect it expects.
//!
//! The ranking is a rule, shown with its inputs, not a score: a capability is a candidate when at
//! least one of its measured signals misses the strong-team reference; candidates are ordered by the
//! lowest Quick Check score among the metrics they bear on (lowest first), then by the share of their
//! measured signals that miss (highest first), then in catalogue order.

use jiff::civil::Date;
use serde::Serialize;
use shiplog_core::Capability;
use shiplog_core::impact::{Design, GroupHistory, ImpactOptions, PowerOptions, simulate_power};

use crate::catalogue::catalogue;
use crate::scoring::QuickCheckMetric;
use crate::signals::{Signal, format_value};
use crate::standing::Standing;

/// The experiment lengths tried, in weeks: the shortest with 80% power is proposed.
pub const EXPERIMENT_WEEKS: [u32; 6] = [4, 6, 8, 12, 16, 26];

/// Days after the start left out while the team adapts (as `shiplog impact`'s default).
pub const TRANSITION_DAYS: f64 = 14.0;

/// The before window an experiment's review compares with (`shiplog experiment start --before`'s
/// default): the sizing simulates that same design, on the last this-many days of the window
/// (fewer when the window is shorter), so a long window neither promises power the review will not
/// have nor costs seconds to simulate.
pub const REVIEW_BEFORE_DAYS: i64 = 90;

/// A short-listed capability.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    /// The capability.
    pub capability: Capability,
    /// Its name.
    pub name: String,
    /// Its measured signals that miss the strong-team reference.
    pub weak_signals: Vec<String>,
    /// How many of its signals have a value.
    pub measured_signals: usize,
    /// The metric it bears on with the lowest score.
    pub metric: Option<QuickCheckMetric>,
    /// That metric's score.
    pub metric_score: Option<f64>,
    /// The reasoning, in words.
    pub reasoning: String,
}

fn score_of(standing: &Standing, metric: QuickCheckMetric) -> Option<f64> {
    standing
        .metrics
        .iter()
        .find(|m| m.metric == metric)
        .and_then(|m| m.score)
}

/// The `limit` capabilities to start with, by the rule of the module.
pub fn where_to_start(signals: &[Signal], standing: &Standing, limit: usize) -> Vec<Candidate> {
    let mut ranked: Vec<(usize, f64, f64, Candidate)> = Vec::new();
    for (order, entry) in catalogue().into_iter().enumerate() {
        let own: Vec<&Signal> = signals
            .iter()
            .filter(|s| s.capability == entry.slug.as_str() && s.value.is_some())
            .collect();
        let weak: Vec<&Signal> = own
            .iter()
            .copied()
            .filter(|s| s.meets == Some(false))
            .collect();
        if weak.is_empty() {
            continue;
        }
        let scored: Vec<(QuickCheckMetric, f64)> = entry
            .drives
            .iter()
            .filter_map(|&m| Some((m, score_of(standing, m)?)))
            .collect();
        let lowest = scored.iter().copied().min_by(|a, b| a.1.total_cmp(&b.1));
        let missed: Vec<String> = weak
            .iter()
            .map(|s| {
                format!(
                    "{} is {} over {} {} (strong teams: {})",
                    s.label,
                    s.value.map(|v| format_value(v, s.unit)).unwrap_or_default(),
                    s.count,
                    s.counted,
                    s.strong.text
                )
            })
            .collect();
        let metrics_text = match lowest {
            Some((metric, score)) => format!(
                "it bears on {}, which scores {score:.1} (of {})",
                metric.label(),
                scored
                    .iter()
                    .map(|(m, s)| format!("{} {s:.1}", m.label()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => "none of the metrics it bears on has a score yet".to_owned(),
        };
        let reasoning = format!(
            "{} of {} measured signals miss: {}; {metrics_text}",
            weak.len(),
            own.len(),
            missed.join("; ")
        );
        let share = weak.len() as f64 / own.len() as f64;
        ranked.push((
            order,
            lowest.map_or(f64::INFINITY, |l| l.1),
            share,
            Candidate {
                capability: entry.slug.clone(),
                name: entry.name.clone(),
                weak_signals: weak.iter().map(|s| s.id.to_owned()).collect(),
                measured_signals: own.len(),
                metric: lowest.map(|l| l.0),
                metric_score: lowest.map(|l| l.1),
                reasoning,
            },
        ));
    }
    ranked.sort_by(|a, b| {
        a.1.total_cmp(&b.1)
            .then(b.2.total_cmp(&a.2))
            .then(a.0.cmp(&b.0))
    });
    ranked.into_iter().take(limit).map(|r| r.3).collect()
}

/// A proposed experiment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Experiment {
    /// The capability.
    pub capability: Capability,
    /// A name for it.
    pub name: String,
    /// What to change.
    pub change: String,
    /// The metric that should move.
    pub metric: QuickCheckMetric,
    /// By how much, in percent of its current value (negative: a fall).
    pub expected_percent: i32,
    /// For how long, in weeks (after a 14-day transition).
    pub weeks: u32,
    /// The simulated power to detect the expected change in that time, at the team's current
    /// sample sizes; `None` when it cannot be simulated (no history).
    pub power: Option<f64>,
    /// Whether `power` reaches 80%.
    pub powered: bool,
    /// When to start.
    pub start_on: Date,
    /// The command that records it.
    pub command: String,
    /// What the sizing found, in words.
    pub sizing: String,
}

/// What the sizing simulation reads.
pub struct Sizing<'a> {
    /// The team's deployments over the window, timed in days relative to the window's end.
    pub history: &'a GroupHistory,
    /// The window's whole weeks.
    pub weeks: u32,
    /// Simulated verdicts per experiment length.
    pub simulations: usize,
    /// The seed.
    pub seed: u64,
    /// Lengths already sized, per metric and expected change (capabilities often share them).
    pub sized: SizedLengths,
}

/// Experiment lengths already sized: (metric, expected percent) → (weeks, power).
pub type SizedLengths = std::cell::RefCell<Vec<((QuickCheckMetric, i32), Option<(u32, f64)>)>>;

fn experiment_name(slug: &str) -> &'static str {
    match slug {
        "working-in-small-batches" => "Small batches",
        "trunk-based-development" => "Branches merged within a day",
        "continuous-integration" => "Merge daily",
        "streamlining-change-approval" => "Review within a day",
        "deployment-automation" => "Deploy on every merge",
        "test-automation" => "Tests on every change",
        "monitoring-and-observability" => "Alert on symptoms",
        "loosely-coupled-teams" => "Ship services independently",
        _ => "Practice change",
    }
}

/// The change an experiment expects in `metric`, in percent of its current value.
pub fn expected_percent(metric: QuickCheckMetric) -> i32 {
    match metric {
        QuickCheckMetric::DeploymentFrequency => 50,
        _ => -30,
    }
}

/// The effect on the impact analysis's scale (a log ratio, or a difference of rates) of a change
/// of `percent` in `metric` whose current value is `current`.
fn analysis_effect(metric: QuickCheckMetric, percent: i32, current: Option<f64>) -> Option<f64> {
    let fraction = f64::from(percent) / 100.0;
    if metric.bucketed() {
        Some((1.0 + fraction).ln())
    } else {
        current.filter(|c| *c > 0.0).map(|c| c * fraction)
    }
}

/// The team's history, with the window played again after it as often as `after_weeks` needs: the
/// "after" window of a world without change, into which the simulation puts the expected effect.
fn replayed(history: &GroupHistory, weeks: u32, after_weeks: u32) -> GroupHistory {
    let span = f64::from(weeks) * 7.0;
    let end = TRANSITION_DAYS + f64::from(after_weeks) * 7.0;
    let mut deployments = history.deployments.clone();
    if span > 0.0 {
        let mut copy = 0.0;
        while TRANSITION_DAYS + copy * span < end {
            // The window is [-span, 0): copy k lands on [T + k·span, T + (k+1)·span).
            let shift = span + TRANSITION_DAYS + copy * span;
            deployments.extend(
                history
                    .deployments
                    .iter()
                    .map(|d| {
                        let mut d = d.clone();
                        d.at_days += shift;
                        d
                    })
                    .filter(|d| d.at_days < end),
            );
            copy += 1.0;
        }
    }
    GroupHistory { deployments }
}

/// The shortest of [`EXPERIMENT_WEEKS`] with 80% power to detect `effect` in `metric`, else the
/// longest, with its power; `None` when it cannot be simulated.
fn size(sizing: &Sizing<'_>, metric: QuickCheckMetric, effect: f64) -> Option<(u32, f64)> {
    // The experiment's review tests its expected metric as its only primary, at the full alpha.
    let options = ImpactOptions {
        resamples: 200,
        seed: sizing.seed,
        primary: shiplog_core::impact::MetricSet::of(&[metric.kind()]),
    };
    let power_options = PowerOptions {
        simulations: sizing.simulations,
        resamples: 100,
        search_more_weeks: false,
    };
    let (history, before_weeks) = (sizing.history, sizing.weeks);
    let power_at = |weeks: u32| {
        let subject = replayed(history, before_weeks, weeks);
        let design = Design::weeks(before_weeks, TRANSITION_DAYS, weeks);
        simulate_power(
            &subject,
            None,
            &design,
            &options,
            metric.kind(),
            effect,
            &power_options,
        )
    };
    // The lengths in order, as many at once as there are cores: each simulation is seeded on its
    // own, so the answer does not depend on how many run together.
    let at_once = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut chosen = None;
    for lengths in EXPERIMENT_WEEKS.chunks(at_once.clamp(1, EXPERIMENT_WEEKS.len())) {
        let powers: Vec<Option<f64>> = std::thread::scope(|scope| {
            let running: Vec<_> = lengths
                .iter()
                .map(|&weeks| scope.spawn(move || power_at(weeks)))
                .collect();
            running
                .into_iter()
                .map(|r| {
                    r.join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        });
        for (&weeks, power) in lengths.iter().zip(powers) {
            let power = power?;
            chosen = Some((weeks, power));
            if power >= 0.8 {
                return chosen;
            }
        }
    }
    chosen
}

/// The experiment for `candidate`, sized by simulation; `scope_flags` are the `--service`/`--team`
/// flags of the command.
pub fn propose(
    candidate: &Candidate,
    standing: &Standing,
    sizing: &Sizing<'_>,
    start_on: Date,
    scope_flags: &str,
) -> Option<Experiment> {
    let entry = catalogue()
        .into_iter()
        .find(|e| e.slug == candidate.capability)?;
    let metric = candidate.metric.or_else(|| entry.drives.first().copied())?;
    let percent = expected_percent(metric);
    let current = standing
        .metrics
        .iter()
        .find(|m| m.metric == metric)
        .and_then(|m| m.value);
    let effect = analysis_effect(metric, percent, current);
    let chosen = match effect.filter(|_| sizing.weeks > 0 && sizing.simulations > 0) {
        Some(effect) => {
            let key = (metric, percent);
            let cached = sizing
                .sized
                .borrow()
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| *v);
            match cached {
                Some(v) => v,
                None => {
                    let v = size(sizing, metric, effect);
                    sizing.sized.borrow_mut().push((key, v));
                    v
                }
            }
        }
        None => None,
    };
    let longest = EXPERIMENT_WEEKS[EXPERIMENT_WEEKS.len() - 1];
    let (weeks, power) = match chosen {
        Some((w, p)) => (w, Some(p)),
        None => (8, None),
    };
    let powered = power.is_some_and(|p| p >= 0.8);
    let change_words = format!("{} {percent:+}%", metric.label());
    let sizing_text = match power {
        Some(p) if powered => format!(
            "at the team's current pace, {weeks} weeks after a {TRANSITION_DAYS:.0}-day transition give {:.0}% power to detect {change_words} ({} simulated verdicts)",
            p * 100.0,
            sizing.simulations
        ),
        Some(p) => format!(
            "even {longest} weeks give only {:.0}% power to detect {change_words} at the team's current pace: expect a larger change, or include more services, before relying on a verdict",
            p * 100.0
        ),
        None if sizing.simulations == 0 => {
            "not sized (no simulations asked for; 8 weeks proposed)".to_owned()
        }
        None if effect.is_none() => format!(
            "not sized: the current {} is 0, so a relative change has no size (8 weeks proposed)",
            metric.label()
        ),
        None => "not sized: the window holds too little history for the power simulation (8 weeks proposed)".to_owned(),
    };
    let name = experiment_name(entry.slug.as_str());
    // `experiment start` takes a ratio metric's change in percent, a rate's in percentage points
    // (the analysis tests rates as differences): the relative change of a rate is written as the
    // points it comes to at the current rate.
    let expect = if metric.bucketed() {
        format!("{percent:+}%")
    } else {
        let points = effect.map_or(-5.0, |e| ((e * 1000.0).round() / 10.0).min(-0.1));
        format!("{points:+.1}pp")
    };
    let command = format!(
        "shiplog experiment start \"{name}\" --capability {} --on {start_on} --expect \"{} {expect}\" --for {weeks}w{scope_flags}",
        entry.slug,
        metric.name()
    );
    Some(Experiment {
        capability: entry.slug.clone(),
        name: name.to_owned(),
        change: entry.experiment.unwrap_or_default().to_owned(),
        metric,
        expected_percent: percent,
        weeks,
        power,
        powered,
        start_on,
        command,
        sizing: sizing_text,
    })
}

/// The Monday after `day` (a week later when `day` is a Monday): experiments start on a week
/// boundary.
pub fn next_monday(day: Date) -> Date {
    let ahead = 7 - i16::from(day.weekday().to_monday_zero_offset());
    day.checked_add(jiff::Span::new().days(i64::from(ahead)))
        .unwrap_or(day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn experiments_start_on_the_next_monday() {
        let d = |s: &str| s.parse::<Date>().unwrap();
        assert_eq!(next_monday(d("2026-03-04")), d("2026-03-09"));
        assert_eq!(next_monday(d("2026-03-09")), d("2026-03-16"));
        assert_eq!(next_monday(d("2026-03-08")), d("2026-03-09"));
    }

    #[test]
    fn effects_on_the_analysis_scale() {
        let e = analysis_effect(QuickCheckMetric::ChangeLeadTime, -30, None).unwrap();
        assert!((e - 0.7f64.ln()).abs() < 1e-12);
        let e = analysis_effect(QuickCheckMetric::ChangeFailRate, -30, Some(0.2)).unwrap();
        assert!((e + 0.06).abs() < 1e-12);
        assert_eq!(
            analysis_effect(QuickCheckMetric::ReworkRate, -30, Some(0.0)),
            None
        );
    }
}

#[cfg(test)]
mod sizing_tests {
    use shiplog_core::impact::DeploymentSample;

    use super::*;

    /// Twelve steady weeks, a deployment every working day, each shipping three changes whose lead
    /// times vary around a day.
    fn steady() -> GroupHistory {
        let mut deployments = Vec::new();
        for week in 0..12 {
            for day in 0..5 {
                let at_days = -84.0 + f64::from(week) * 7.0 + f64::from(day) + 0.5;
                let k = f64::from(week * 5 + day);
                let base = 86_400.0 * (1.0 + 0.3 * (k * 1.7).sin());
                deployments.push(DeploymentSample {
                    at_days,
                    lead_times: vec![base * 0.8, base, base * 1.25],
                    ..DeploymentSample::default()
                });
            }
        }
        GroupHistory { deployments }
    }

    #[test]
    fn replaying_fills_every_after_week() {
        let h = steady();
        let r = replayed(&h, 12, 26);
        let after: Vec<f64> = r
            .deployments
            .iter()
            .map(|d| d.at_days)
            .filter(|&t| t >= 0.0)
            .collect();
        assert_eq!(after.len(), 26 * 5);
        assert!(
            after
                .iter()
                .all(|&t| (TRANSITION_DAYS..TRANSITION_DAYS + 182.0).contains(&t))
        );
    }

    #[test]
    fn a_steady_history_is_sized_to_detect_a_30_percent_fall_in_lead_time() {
        let h = steady();
        let sizing = Sizing {
            history: &h,
            weeks: 12,
            simulations: 40,
            seed: 7,
            sized: SizedLengths::default(),
        };
        let (weeks, power) =
            size(&sizing, QuickCheckMetric::ChangeLeadTime, 0.7f64.ln()).expect("sized");
        assert!(power >= 0.8, "{weeks} weeks give {power}");
        assert!(weeks <= 12, "{weeks} weeks");
    }
}
