//! How long the simulated power note takes, against the analysis without it, in the same run.
//!
//! `cargo run --release -p shiplog-core --example impact_power_speed` (or `bench/impact.sh`).
//! A seeded history of 13 weeks each side (about 6 deployments a week, three changes each, one in
//! five failing), with and without a comparison group; each analysis is timed as the median of
//! five runs. The figure the issue asks for is the time per simulated verdict: a few hundred in
//! well under a second.

use std::time::Instant;

use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64;
use shiplog_core::impact::{
    DeploymentSample, Design, GroupHistory, ImpactOptions, PowerOptions, analyze_with_power,
};

fn history(seed: u64, after_factor: f64) -> GroupHistory {
    let mut rng = Pcg64::seed_from_u64(seed);
    let mut deployments = Vec::new();
    let mut week = -91.0;
    while week < 14.0 + 91.0 {
        let after = week >= 0.0;
        let n = rng.random_range(3..10);
        for _ in 0..n {
            let factor = if after { after_factor } else { 1.0 };
            let failed = rng.random_bool(0.2);
            deployments.push(DeploymentSample {
                at_days: week + rng.random_range(0.0..7.0),
                lead_times: (0..3)
                    .map(|_| 48.0 * 3600.0 * factor * rng.random_range(0.2..3.0))
                    .collect(),
                failed,
                recovery: failed.then(|| 3.0 * 3600.0 * rng.random_range(0.2..3.0)),
                unplanned: rng.random_bool(0.15),
            });
        }
        week += 7.0;
    }
    GroupHistory { deployments }
}

fn median_seconds(mut run: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..5)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[2]
}

fn main() {
    let design = Design::weeks(13, 14.0, 13);
    let options = ImpactOptions::default();
    let subject = history(1, 0.6);
    let comparison = history(2, 1.0);
    let power = PowerOptions::default();
    let none = PowerOptions {
        simulations: 0,
        ..power
    };
    for (label, cmp) in [
        ("no comparison", None),
        ("comparison group", Some(&comparison)),
    ] {
        let baseline = median_seconds(|| {
            analyze_with_power(&subject, cmp, &design, &options, &none);
        });
        let mut verdicts = 0usize;
        let with_power = median_seconds(|| {
            let a = analyze_with_power(&subject, cmp, &design, &options, &power);
            verdicts = a.metrics.iter().filter_map(|m| m.power.simulations).sum();
        });
        let extra = with_power - baseline;
        println!(
            "{label}: analysis {:.3} s without power, {:.3} s with ({}× the baseline); the note's {verdicts} simulated verdicts (plus the search for more weeks) add {:.3} s",
            baseline,
            with_power,
            format_args!("{:.1}", with_power / baseline),
            extra
        );
    }
    // The figure in the issue: a few hundred simulated verdicts of one metric, no search.
    let one = PowerOptions {
        search_more_weeks: false,
        ..power
    };
    let t = median_seconds(|| {
        analyze_with_power(&subject, Some(&comparison), &design, &options, &one);
    });
    let base = median_seconds(|| {
        analyze_with_power(&subject, Some(&comparison), &design, &options, &none);
    });
    println!(
        "{} simulated verdicts per metric, 5 metrics, comparison group, no search: {:.3} s over the analysis ({:.2} ms per verdict)",
        one.simulations,
        t - base,
        (t - base) * 1000.0 / (5 * one.simulations) as f64
    );
}
