//! The impact story, exactly: a fixed history and seed give this text, word for word. Review a
//! changed snapshot as you would review prose: every claim must follow from its numbers.

use shiplog_core::impact::{
    ComparisonChoice, DeploymentSample, Design, GroupHistory, ImpactOptions, ImpactReport, analyze,
};
use shiplog_core::{Environment, PracticeChange, PracticeName, PracticeScope, ServiceName};

const HOUR: f64 = 3600.0;

/// `per_week` deployments a week of three changes each, lead times spread by a fixed pattern
/// around `lead_hours`; every `fail_every`-th deployment fails and recovers in a few hours.
fn history(per_week: (u32, u32), lead_hours: (f64, f64), fail_every: (u32, u32)) -> GroupHistory {
    let spread = [0.55, 0.8, 1.0, 1.3, 1.9, 0.7, 1.1, 1.6, 0.9];
    let mut deployments = Vec::new();
    let mut k = 0usize;
    let mut week = -84.0;
    while week < 14.0 + 84.0 {
        let after = week >= 0.0;
        let n = if after { per_week.1 } else { per_week.0 };
        for i in 0..n {
            k += 1;
            let base = if after { lead_hours.1 } else { lead_hours.0 } * HOUR;
            let every = if after { fail_every.1 } else { fail_every.0 } as usize;
            let failed = k.is_multiple_of(every);
            deployments.push(DeploymentSample {
                at_days: week + 7.0 * (f64::from(i) + 0.5) / f64::from(n),
                lead_times: (0..3)
                    .map(|j| base * spread[(k * 3 + j) % spread.len()])
                    .collect(),
                failed,
                recovery: failed.then_some(HOUR * (1.0 + (k % 5) as f64)),
                unplanned: k.is_multiple_of(6),
            });
        }
        week += 7.0;
    }
    GroupHistory { deployments }
}

fn report() -> ImpactReport {
    let subject = history((2, 5), (74.4, 21.6), (4, 5));
    let comparison = history((3, 3), (50.0, 48.0), (5, 5));
    let at: jiff::Timestamp = "2026-03-03T00:00:00Z".parse().unwrap();
    let day = jiff::SignedDuration::from_hours(24);
    let design = Design {
        change_at: at,
        before_since: at - day * 84,
        after_since: at + day * 14,
        after_until: at + day * 98,
        ..Design::weeks(12, 14.0, 12)
    };
    let analysis = analyze(
        &subject,
        Some(&comparison),
        &design,
        &ImpactOptions {
            resamples: 1000,
            seed: 42,
            ..ImpactOptions::default()
        },
    );
    ImpactReport {
        practice: PracticeChange {
            name: PracticeName::new("Trunk-based development").unwrap(),
            started_on: "2026-03-03".parse().unwrap(),
            ended_on: None,
            scope: PracticeScope::services(vec![
                ServiceName::new("api").unwrap(),
                ServiceName::new("web").unwrap(),
            ]),
            capability: None,
            note: Some("branches merged within a day".to_owned()),
        },
        environment: Environment::production(),
        services: vec![
            ServiceName::new("api").unwrap(),
            ServiceName::new("web").unwrap(),
        ],
        comparison_services: vec![ServiceName::new("billing").unwrap()],
        comparison_choice: Some(ComparisonChoice::Given),
        analysis,
    }
}

#[test]
fn markdown_story() {
    insta::assert_snapshot!(shiplog_report::impact::render_markdown(&report()));
}

#[test]
fn terminal_story() {
    insta::assert_snapshot!(shiplog_report::impact::render_terminal(&report()));
}

#[test]
fn json_carries_every_number() {
    let json: serde_json::Value =
        serde_json::from_str(&shiplog_report::impact::render_json(&report()).unwrap()).unwrap();
    let lead = &json["metrics"][1];
    assert_eq!(lead["metric"], "change_lead_time");
    for key in [
        "estimate",
        "low",
        "high",
        "se",
        "p_value",
        "p_adjusted",
        "test",
        "interval",
    ] {
        assert!(!lead["effect"][key].is_null(), "effect.{key}");
    }
    for key in ["n", "deployments", "weeks", "value"] {
        assert!(!lead["before"][key].is_null(), "before.{key}");
    }
    assert!(!lead["trend"]["effect_beyond_trend"]["p_value"].is_null());
    assert!(!lead["comparison"]["difference_in_differences"]["low"].is_null());
    assert!(!lead["power"]["needed_per_window"].is_null());
    assert_eq!(json["options"]["seed"], 42);
    assert_eq!(json["design"]["before_weeks"], 12);
    assert_eq!(json["practice"]["name"], "Trunk-based development");
}
