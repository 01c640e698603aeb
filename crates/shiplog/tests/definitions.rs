//! End-to-end: the definition presets (`--definitions dora|devlake|four-keys|gitlab`) and
//! `explain --compare-definitions`, through the real binary on the `basic` and `merge-styles`
//! fixtures, against values computed by hand under each peer's definitions (docs/metrics.md,
//! "Definition presets").

mod common;

use common::{Fixture, approx, num};
use serde_json::Value;

const H: f64 = 3600.0;

/// The incidents of docs/metrics.md's worked example (inc-3 names tag:v1.1.0, inc-1 opens 5 h
/// after v1.3.0, inc-2 48 h after v1.4.0 and never resolves), plus inc-4, whose root cause is
/// v1.2.0's commit c4 ("feat c (bad)"): opened Jan 8 10:30, resolved 11:30.
fn record_incidents(fx: &Fixture) {
    let c4 = fx.rev("v1.2.0^{commit}");
    for args in [
        vec![
            "--id",
            "inc-3",
            "--opened-at",
            "2026-01-07T12:00:00Z",
            "--resolved-at",
            "2026-01-07T14:00:00Z",
            "--deployment-id",
            "tag:v1.1.0",
        ],
        vec![
            "--id",
            "inc-1",
            "--opened-at",
            "2026-01-09T15:00:00Z",
            "--resolved-at",
            "2026-01-09T18:00:00Z",
        ],
        vec!["--id", "inc-2", "--opened-at", "2026-01-13T09:00:00+02:00"],
        vec![
            "--id",
            "inc-4",
            "--opened-at",
            "2026-01-08T10:30:00Z",
            "--resolved-at",
            "2026-01-08T11:30:00Z",
            "--sha",
            c4.as_str(),
        ],
    ] {
        let mut all = vec!["record", "incident", "--service", "app"];
        all.extend(args);
        fx.ok(&all);
    }
}

fn basic(fx: &Fixture, what: &[&str], preset: &str) -> Value {
    let mut args = what.to_vec();
    args.extend([
        "--deploys",
        "tags",
        "--service",
        "app",
        "--since",
        "2026-01-01",
        "--until",
        "2026-02-01",
        "--definitions",
        preset,
        "--format",
        "json",
    ]);
    fx.json(&args)
}

#[test]
fn each_preset_gives_its_hand_computed_numbers() {
    let fx = Fixture::build("basic");
    record_incidents(&fx);

    // dora: v1.1.0 (inc-3), v1.2.0 (rolled back; inc-4 by its sha), v1.3.0 (inc-1, reverted).
    let dora = basic(&fx, &["metrics"], "dora");
    assert!(dora.get("definitions").is_none(), "dora's is not written");
    assert_eq!(dora["change_fail_rate"]["failed"], 3);
    assert_eq!(dora["incidents"]["unattributed"], 1);
    assert_eq!(dora["deployment_frequency"]["band"], "multiple-per-day");

    // devlake: every incident belongs to the latest earlier deployment, however long before;
    // only incidents fail deployments: v1.1.0, v1.2.0, v1.3.0 and v1.4.0 (inc-2, 46 h later).
    let devlake = basic(&fx, &["metrics"], "devlake");
    assert_eq!(devlake["definitions"], "devlake");
    let f = &devlake["deployment_frequency"];
    assert_eq!(
        (f["deployments"].clone(), f["deployment_days"].clone()),
        (7.into(), 6.into())
    );
    // Deployment days Jan 5, 7, 8, 9, 10, 11: 6 a 31-day window, intervals 2, 1, 1, 1, 1 days.
    approx(&f["per_week"], 6.0 / 31.0 * 7.0);
    assert_eq!(num(&f["median_interval_seconds"]), 24.0 * H);
    assert_eq!(f["band"], "daily-to-weekly");
    let c = &devlake["change_fail_rate"];
    assert_eq!(c["failed"], 4);
    approx(&c["rate"], 4.0 / 7.0);
    // Per incident, its deployment → its resolution: inc-3 3 h, inc-4 1.5 h, inc-1 8 h.
    let r = &devlake["failed_deployment_recovery_time"];
    assert_eq!(
        (r["recoveries"].clone(), r["unrecovered"].clone()),
        (3.into(), 1.into())
    );
    assert_eq!(num(&r["median_seconds"]), 3.0 * H);
    approx(&r["p90_seconds"], 7.0 * H);
    // Without pull requests DevLake measures no lead time: the 8 changes are not measured.
    let l = &devlake["change_lead_time"];
    assert_eq!(l["changes"], 0);
    assert_eq!(l["median_seconds"], Value::Null);
    assert_eq!(l["not_measured"], 8);
    assert_eq!(devlake["incidents"]["unattributed"], 0);

    // gitlab: incidents ÷ deployments; recovery is how long each incident was open.
    let gitlab = basic(&fx, &["metrics"], "gitlab");
    let c = &gitlab["change_fail_rate"];
    assert_eq!(c["failed"], 4, "4 incidents");
    approx(&c["rate"], 4.0 / 7.0);
    let r = &gitlab["failed_deployment_recovery_time"];
    // inc-3 2 h, inc-4 1 h, inc-1 3 h; inc-2 still open.
    assert_eq!(num(&r["median_seconds"]), 2.0 * H);
    approx(&r["p90_seconds"], 2.8 * H);
    assert_eq!(r["unrecovered"], 1);
    assert_eq!(gitlab["deployment_frequency"]["band"], "multiple-per-day");
    assert_eq!(gitlab["incidents"]["unattributed"], 4);

    // four-keys: the commits of each deploying push (here the tagged commit itself, merges
    // bringing their branch): v1.0.0 c2 2 h, v1.1.0 c3 0 s (left out), v1.2.0 c4 1 h, v1.2.1 c3
    // again 24 h, v1.3.0 c5 1 h, v1.3.1 c6 3 h, v1.4.0 c7 negative (left out).
    let four = basic(&fx, &["metrics"], "four-keys");
    let l = &four["change_lead_time"];
    assert_eq!(l["changes"], 5);
    assert_eq!(l["excluded_negative"], 2);
    assert_eq!(l["baseline_excluded"], 0);
    assert_eq!(
        l["not_measured"], 3,
        "f1, f2 and M1 were not in v1.1.0's push"
    );
    assert_eq!(num(&l["median_seconds"]), 2.0 * H);
    assert_eq!(num(&l["p75_seconds"]), 3.0 * H);
    approx(&l["p90_seconds"], 15.6 * H);
    approx(&l["mean_seconds"], 6.2 * H);
    // Only inc-4 names a root cause, in v1.2.0's push.
    let c = &four["change_fail_rate"];
    assert_eq!(c["failed"], 1);
    approx(&c["rate"], 1.0 / 7.0);
    // Per incident, opening (or its root cause's deployment) → resolution: 2 h, 1.5 h, 3 h.
    let r = &four["failed_deployment_recovery_time"];
    assert_eq!(num(&r["median_seconds"]), 2.0 * H);
    approx(&r["p90_seconds"], 2.8 * H);
    assert_eq!(four["incidents"]["unattributed"], 3);
}

#[test]
fn the_preset_comes_from_the_configuration_and_the_flag_wins() {
    let fx = Fixture::build("basic");
    record_incidents(&fx);
    std::fs::write(
        fx.repo().join("shiplog.toml"),
        "[definitions]\npreset = \"gitlab\"\n",
    )
    .expect("write config");
    let args = [
        "metrics",
        "--deploys",
        "tags",
        "--service",
        "app",
        "--since",
        "2026-01-01",
        "--until",
        "2026-02-01",
        "--format",
        "json",
    ];
    assert_eq!(fx.json(&args)["definitions"], "gitlab");
    let mut flagged = args.to_vec();
    flagged.extend(["--definitions", "dora"]);
    assert!(fx.json(&flagged).get("definitions").is_none());
    std::fs::write(
        fx.repo().join("shiplog.toml"),
        "[definitions]\npreset = \"fourkeys\"\n",
    )
    .expect("write config");
    let out = fx.fails(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("definitions.preset: expected one of dora, devlake, four-keys or gitlab, got \"fourkeys\""),
        "{stderr}"
    );
}

#[test]
fn an_unlimited_attribution_window_blames_the_latest_earlier_deployment() {
    let fx = Fixture::build("basic");
    record_incidents(&fx);
    let mut args = vec!["explain", "incidents", "--attribution-window", "none"];
    args.extend(["--deploys", "tags", "--service", "app"]);
    args.extend([
        "--since",
        "2026-01-01",
        "--until",
        "2026-02-01",
        "--format",
        "json",
    ]);
    let incidents = fx.json(&args);
    let inc2 = incidents
        .as_array()
        .and_then(|a| a.iter().find(|i| i["id"] == "inc-2"))
        .expect("inc-2 listed");
    assert_eq!(inc2["deployment"], "tag:v1.4.0", "46 h before it opened");
    assert_eq!(inc2["rule"], "time-window");
}

#[test]
fn compare_definitions_lists_where_the_numbers_part_ways() {
    let fx = Fixture::build("basic");
    record_incidents(&fx);
    let compare = |what: &str, preset: &str| {
        let mut args = vec!["explain", what, "--compare-definitions", preset];
        args.extend(["--deploys", "tags", "--service", "app"]);
        args.extend([
            "--since",
            "2026-01-01",
            "--until",
            "2026-02-01",
            "--format",
            "json",
        ]);
        fx.json(&args)
    };
    // Failures: v1.4.0 is failed only for DevLake (inc-2 is its incident); v1.2.0 is failed for
    // both (rolled back under dora, inc-4 under both).
    let failures = compare("failures", "devlake");
    let rows = failures.as_array().expect("array");
    assert_eq!(rows.len(), 1, "{failures}");
    assert_eq!(rows[0]["item"], "tag:v1.4.0");
    assert_eq!(rows[0]["metric"], "change_fail_rate");
    assert_eq!(rows[0]["definitions"], "dora");
    assert_eq!(rows[0]["value"], "not failed");
    assert_eq!(rows[0]["compared_definitions"], "devlake");
    assert_eq!(rows[0]["compared_value"], "failed: incident inc-2");

    let incidents = compare("incidents", "devlake");
    let rows = incidents.as_array().expect("array");
    assert_eq!(rows.len(), 1, "{incidents}");
    assert_eq!(rows[0]["item"], "inc-2");
    assert_eq!(rows[0]["value"], "no deployment");
    assert_eq!(rows[0]["compared_value"], "tag:v1.4.0");

    // Lead time: Four Keys measures the re-deployed c3 again at v1.2.1, and not f1 at v1.1.0.
    let c3 = fx.rev("v1.1.0^{commit}");
    let f1 = fx.rev("v1.1.0^{commit}~1^2~1");
    let lead = compare("lead-time", "four-keys");
    let row = |sha: &str, at: &str| {
        let item = format!("{} at {at}", &sha[..10]);
        lead.as_array()
            .and_then(|a| a.iter().find(|r| r["item"] == item.as_str()))
            .cloned()
            .unwrap_or_else(|| panic!("{item} in {lead}"))
    };
    let again = row(&c3, "tag:v1.2.1");
    assert_eq!(again["value"], "not measured");
    assert_eq!(again["compared_value"], "24h 0m");
    let branch = row(&f1, "tag:v1.1.0");
    assert_eq!(branch["value"], "26h 0m");
    assert_eq!(branch["compared_value"], "not measured");

    // The same definitions part ways nowhere.
    assert_eq!(compare("failures", "dora"), Value::Array(Vec::new()));
    // The table says how many items differ.
    let mut args = vec!["explain", "incidents", "--compare-definitions", "devlake"];
    args.extend(["--deploys", "tags", "--service", "app"]);
    args.extend(["--since", "2026-01-01", "--until", "2026-02-01"]);
    let table = fx.ok(&args);
    assert!(
        table.contains("1 item where dora and devlake part ways"),
        "{table}"
    );
}

#[test]
fn pull_request_presets_measure_each_pull_request_once() {
    let fx = Fixture::build("merge-styles");
    let dir = fx.dir.path();
    fx.ok(&[
        "import",
        dir.join("pulls.json").to_str().unwrap_or_default(),
        dir.join("reviews.json").to_str().unwrap_or_default(),
    ]);
    let shop = |preset: &str| {
        fx.json(&[
            "metrics",
            "--deploys",
            "tags",
            "--service",
            "shop",
            "--since",
            "2026-02-01",
            "--until",
            "2026-03-01",
            "--definitions",
            preset,
            "--format",
            "json",
        ])["change_lead_time"]
            .clone()
    };
    // DevLake: first commit → deployment of the merge commit: 22, 27, 22, 1, 1 h.
    let devlake = shop("devlake");
    assert_eq!(devlake["changes"], 5);
    assert_eq!(num(&devlake["median_seconds"]), 22.0 * H);
    approx(&devlake["mean_seconds"], 73.0 / 5.0 * H);
    assert_eq!(devlake["not_measured"], 0);
    // GitLab: merge → deployment: 1, 2, 1, 0.5, 0.5 h.
    let gitlab = shop("gitlab");
    assert_eq!(gitlab["changes"], 5);
    assert_eq!(num(&gitlab["median_seconds"]), H);
    approx(&gitlab["mean_seconds"], H);
    // dora: the 8 changes (median 22 h).
    let dora = shop("dora");
    assert_eq!(dora["changes"], 8);
    assert_eq!(num(&dora["median_seconds"]), 22.0 * H);
}
