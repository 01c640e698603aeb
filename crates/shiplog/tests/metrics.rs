//! End-to-end: the `basic` fixture repository (see tests/fixtures/basic.sh for its history) through
//! the real binary, checked against values computed by hand.

mod common;

use common::{Fixture, approx, num};
use serde_json::Value;

const WINDOW: [&str; 4] = ["--since", "2026-01-01", "--until", "2026-02-01"];

fn tags_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["--deploys", "tags", "--service", "app"];
    args.extend(WINDOW);
    args.extend(extra);
    args
}

/// The incidents of the hand computation:
/// inc-3 names deployment tag:v1.1.0; inc-1 opens 5 h after v1.3.0; inc-2 opens 48 h after the last
/// deployment, outside the 24 h attribution window.
fn record_incidents(fx: &Fixture) {
    fx.ok(&[
        "record",
        "incident",
        "--service",
        "app",
        "--id",
        "inc-3",
        "--opened-at",
        "2026-01-07T12:00:00Z",
        "--resolved-at",
        "2026-01-07T14:00:00Z",
        "--deployment-id",
        "tag:v1.1.0",
    ]);
    fx.ok(&[
        "record",
        "incident",
        "--service",
        "app",
        "--id",
        "inc-1",
        "--opened-at",
        "2026-01-09T15:00:00Z",
        "--resolved-at",
        "2026-01-09T18:00:00Z",
        "--title",
        "errors",
    ]);
    fx.ok(&[
        "record",
        "incident",
        "--service",
        "app",
        "--id",
        "inc-2",
        "--opened-at",
        "2026-01-13T09:00:00+02:00",
    ]);
}

#[test]
fn tag_deployments_give_the_hand_computed_metrics() {
    let fx = Fixture::build("basic");
    record_incidents(&fx);
    let mut args = vec!["metrics"];
    args.extend(tags_args(&["--format", "json"]));
    let m = fx.json(&args);

    assert_eq!(m["window"]["since"], "2026-01-01T00:00:00Z");
    assert_eq!(m["window"]["until"], "2026-02-01T00:00:00Z");
    assert_eq!(m["service"], "app");
    assert_eq!(m["environment"], "production");

    // 7 tags match v*: deployments on Jan 5, 7, 8 (two), 9, 10, 11.
    let f = &m["deployment_frequency"];
    assert_eq!(f["deployments"], 7);
    assert_eq!(f["deployment_days"], 6);
    approx(&f["per_week"], 7.0 / 31.0 * 7.0);
    // Intervals 47h, 23h, 1h, 23h, 26h, 21h: median 23h.
    assert_eq!(num(&f["median_interval_seconds"]), 23.0 * 3600.0);
    assert_eq!(f["band"], "multiple-per-day");

    // v1.0.0 is the baseline (c1, c2). Lead times: f1 26h, f2 24h, merge 1h, c3 0h (v1.1.0);
    // c4 1h (v1.2.0); c5 1h (v1.3.0); c6 3h (v1.3.1); c7 -27h excluded (v1.4.0).
    let l = &m["change_lead_time"];
    assert_eq!(l["changes"], 7);
    assert_eq!(l["baseline_excluded"], 2);
    assert_eq!(l["excluded_negative"], 1);
    assert_eq!(num(&l["median_seconds"]), 3600.0);
    approx(&l["p75_seconds"], 13.5 * 3600.0);
    approx(&l["p90_seconds"], 24.8 * 3600.0);
    approx(&l["mean_seconds"], 8.0 * 3600.0);
    assert_eq!(l["band"], "less-than-one-day");

    // Failed: v1.1.0 (inc-3), v1.2.0 (rolled back by v1.2.1), v1.3.0 (reverted in v1.3.1, inc-1).
    let c = &m["change_fail_rate"];
    assert_eq!(
        (c["deployments"].as_u64(), c["failed"].as_u64()),
        (Some(7), Some(3))
    );
    assert_eq!(num(&c["rate"]), 3.0 / 7.0);

    // Recoveries: 3h (inc-3 resolved), 1h (rollback), 8h (inc-1 resolved before the revert's 26h).
    let r = &m["failed_deployment_recovery_time"];
    assert_eq!(r["recoveries"], 3);
    assert_eq!(num(&r["median_seconds"]), 3.0 * 3600.0);
    approx(&r["p90_seconds"], 7.0 * 3600.0);
    assert_eq!(r["band"], "less-than-one-day");

    // Unplanned: v1.2.1 (a rollback) and v1.3.1 (ships a revert).
    let w = &m["rework_rate"];
    assert_eq!(w["unplanned"], 2);
    assert_eq!(num(&w["rate"]), 2.0 / 7.0);

    assert_eq!(m["incidents"]["total"], 3);
    assert_eq!(m["incidents"]["unattributed"], 1);

    // docs/metrics.md shows this very output as the JSON contract's example.
    let docs = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/metrics.md"),
    )
    .expect("docs/metrics.md");
    let block = docs
        .split("```json\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a JSON block in docs/metrics.md");
    let documented: Value = serde_json::from_str(block).expect("documented JSON parses");
    assert_eq!(documented, m, "docs/metrics.md's example is out of date");
}

#[test]
fn explain_lists_the_items_behind_each_number() {
    let fx = Fixture::build("basic");
    record_incidents(&fx);

    let mut args = vec!["explain", "failures"];
    args.extend(tags_args(&["--format", "json"]));
    let failures = fx.json(&args);
    let failures = failures.as_array().expect("array");
    let ids: Vec<&str> = failures
        .iter()
        .map(|f| f["deployment"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(ids, ["tag:v1.1.0", "tag:v1.2.0", "tag:v1.3.0"]);
    assert_eq!(failures[1]["reasons"][0]["kind"], "rolled-back");
    assert_eq!(failures[1]["reasons"][0]["by"], "tag:v1.2.1");
    assert_eq!(failures[1]["recovered_by"], "rollback");
    let reverted = &failures[2]["reasons"];
    assert_eq!(reverted[0]["kind"], "reverted");
    assert_eq!(reverted[0]["change"], fx.rev("v1.3.0^{commit}"));
    assert_eq!(reverted[0]["by"], "tag:v1.3.1");
    assert_eq!(reverted[1]["kind"], "incident");
    assert_eq!(reverted[1]["incident"], "inc-1");
    assert_eq!(failures[2]["recovered_by"], "incidents-resolved");
    assert_eq!(num(&failures[2]["recovery_seconds"]), 8.0 * 3600.0);

    let mut args = vec!["explain", "lead-time"];
    args.extend(tags_args(&["--format", "json"]));
    let changes = fx.json(&args);
    // An array of items, like every explain command (the baseline's 2 changes are not items).
    let rows = changes.as_array().expect("array");
    assert_eq!(rows.len(), 8, "7 measured and 1 excluded");
    let skewed = rows
        .iter()
        .find(|c| c["excluded"].is_string())
        .expect("an excluded change");
    assert_eq!(skewed["sha"], fx.rev("v1.4.0"));
    assert_eq!(skewed["summary"], "feat e (skewed clock)");
    let f1 = rows
        .iter()
        .find(|c| c["summary"] == "f1")
        .expect("f1 listed");
    assert_eq!(f1["deployment"], "tag:v1.1.0");
    assert_eq!(num(&f1["lead_time_seconds"]), 26.0 * 3600.0);

    let mut args = vec!["explain", "incidents"];
    args.extend(tags_args(&["--format", "json"]));
    let incidents = fx.json(&args);
    let rule = |id: &str| -> (Value, Value) {
        let i = incidents
            .as_array()
            .and_then(|a| a.iter().find(|i| i["id"] == id))
            .expect("incident listed");
        (i["rule"].clone(), i["deployment"].clone())
    };
    assert_eq!(
        rule("inc-3"),
        ("explicit-deployment".into(), "tag:v1.1.0".into())
    );
    assert_eq!(rule("inc-1"), ("time-window".into(), "tag:v1.3.0".into()));
    assert_eq!(rule("inc-2"), ("unattributed".into(), Value::Null));

    let mut args = vec!["explain", "deployments"];
    args.extend(tags_args(&["--format", "json"]));
    let deployments = fx.json(&args);
    let shipped: Vec<u64> = deployments
        .as_array()
        .expect("array")
        .iter()
        .map(|d| d["shipped_changes"].as_u64().unwrap_or(u64::MAX))
        .collect();
    assert_eq!(shipped, [2, 4, 1, 0, 1, 1, 1]);
    assert_eq!(deployments[0]["baseline"], true);
    assert_eq!(deployments[3]["unplanned"][0]["kind"], "rollback");
    // Each deployment names the one before it in its chain.
    assert_eq!(deployments[0]["previous_deployment"], Value::Null);
    assert_eq!(deployments[3]["previous_deployment"], "tag:v1.2.0");
    assert_eq!(deployments[6]["previous_deployment"], "tag:v1.3.1");

    // The table form says what it left out.
    let mut args = vec!["explain", "lead-time"];
    args.extend(tags_args(&["--limit", "3"]));
    let table = fx.ok(&args);
    assert!(
        table.contains("… and 5 more (use --limit 0 to list all)"),
        "{table}"
    );
    assert!(table.contains("2 baseline changes not listed"), "{table}");
}

#[test]
fn annotated_tag_time_wins_over_commit_time_and_globs_select_tags() {
    let fx = Fixture::build("basic");
    // Only v1.3.*: v1.3.0 (baseline) and v1.3.1 (ships c6).
    let m = fx.json(&[
        "metrics",
        "--deploys",
        "tags=v1.3.*",
        "--service",
        "app",
        "--since",
        "2026-01-01",
        "--until",
        "2026-02-01",
        "--format",
        "json",
    ]);
    assert_eq!(m["deployment_frequency"]["deployments"], 2);
    // v1.3.0's tagger time (10:00) and v1.3.1's (12:00 next day): 26h apart.
    assert_eq!(
        num(&m["deployment_frequency"]["median_interval_seconds"]),
        26.0 * 3600.0
    );
    assert_eq!(num(&m["change_lead_time"]["median_seconds"]), 3.0 * 3600.0);
    // A pattern that matches nothing is an error with a hint.
    let out = fx.fails(&["metrics", "--deploys", "tags=release-*", "--service", "app"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no tag matches \"release-*\""), "{stderr}");
    assert!(stderr.contains("hint:"), "{stderr}");
}

#[test]
fn merges_make_every_first_parent_commit_a_deployment() {
    let fx = Fixture::build("basic");
    let m = fx.json(&[
        "metrics",
        "--deploys",
        "merges",
        "--service",
        "app",
        "--since",
        "2026-01-01",
        "--until",
        "2026-02-01",
        "--format",
        "json",
    ]);
    // First-parent chain: c1, c2, merge, c3, c4, c5, c6, c7.
    assert_eq!(m["deployment_frequency"]["deployments"], 8);
    assert_eq!(m["change_lead_time"]["baseline_excluded"], 1);
    // c2 0h, f1 25h, f2 23h, merge 0h, c3 0h, c4 0h, c5 0h, c6 0h (c7 is negative: its author time
    // is after its committer time).
    assert_eq!(m["change_lead_time"]["changes"], 8);
    assert_eq!(m["change_lead_time"]["excluded_negative"], 1);
    assert_eq!(num(&m["change_lead_time"]["median_seconds"]), 0.0);
    approx(
        &m["change_lead_time"]["p90_seconds"],
        23.0 * 3600.0 + 0.3 * 2.0 * 3600.0,
    );
    // c6 reverts c5: the deployment of c5 failed, the one of c6 is rework.
    assert_eq!(m["change_fail_rate"]["failed"], 1);
    assert_eq!(m["rework_rate"]["unplanned"], 1);
    let named = fx.json(&[
        "metrics",
        "--deploys",
        "merges=main",
        "--service",
        "app",
        "--since",
        "2026-01-01",
        "--until",
        "2026-02-01",
        "--format",
        "json",
    ]);
    assert_eq!(named, m);
    let out = fx.fails(&["metrics", "--deploys", "merges=nope", "--service", "app"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no branch named \"nope\""));
}

#[test]
fn periods_split_the_window() {
    let fx = Fixture::build("basic");
    let rows = fx.json(&[
        "metrics",
        "--deploys",
        "tags",
        "--service",
        "app",
        "--since",
        "2026-01-05",
        "--until",
        "2026-01-19",
        "--by",
        "week",
        "--format",
        "json",
    ]);
    let rows = rows.as_array().expect("array");
    let periods: Vec<&str> = rows.iter().filter_map(|r| r["period"].as_str()).collect();
    assert_eq!(periods, ["2026-W02", "2026-W03"]);
    assert_eq!(rows[0]["deployment_frequency"]["deployments"], 7);
    assert_eq!(rows[1]["deployment_frequency"]["deployments"], 0);
    // Nothing happened in week 3: no value pretends to be a measurement.
    assert_eq!(rows[1]["change_lead_time"]["median_seconds"], Value::Null);
    assert_eq!(rows[1]["change_fail_rate"]["rate"], Value::Null);
    assert_eq!(rows[1]["deployment_frequency"]["per_week"], 0.0);

    let csv = fx.ok(&[
        "metrics",
        "--deploys",
        "tags",
        "--service",
        "app",
        "--since",
        "2026-01-05",
        "--until",
        "2026-01-19",
        "--by",
        "week",
        "--format",
        "csv",
    ]);
    let mut lines = csv.lines();
    let header = lines.next().unwrap_or_default();
    assert!(
        header.starts_with("period,since,until,service,environment,deployments,"),
        "{header}"
    );
    assert_eq!(lines.count(), 2);

    let table = fx.ok(&[
        "metrics",
        "--deploys",
        "tags",
        "--service",
        "app",
        "--since",
        "2026-01-05",
        "--until",
        "2026-01-19",
        "--by",
        "week",
    ]);
    assert!(
        table.contains("2026-W02") && table.contains("2026-W03"),
        "{table}"
    );
}

#[test]
fn second_runs_read_only_new_commits() {
    let fx = Fixture::build("basic");
    let args = tags_args(&["--format", "json"]);
    let mut metrics = vec!["metrics"];
    metrics.extend(args.iter().copied());

    let first = fx.ok_stderr(&metrics);
    assert!(first.contains("read 10 new commits"), "{first}");
    let second = fx.ok_stderr(&metrics);
    assert!(second.contains("10 commits, all cached"), "{second}");

    fx.git(
        &["commit", "-q", "--allow-empty", "-m", "next"],
        "2026-01-20T10:00:00Z",
    );
    fx.git(&["tag", "v1.5.0"], "2026-01-20T10:00:00Z");
    let out = fx.shiplog().args(&metrics).output().expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("read 1 new commits"), "{stderr}");
    assert!(stderr.contains("(10 cached)"), "{stderr}");
    let m: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(m["deployment_frequency"]["deployments"], 8);
    assert_eq!(m["change_lead_time"]["changes"], 8);

    // The cache gives the same numbers as a fresh read.
    let fresh = tempfile::tempdir().expect("tmp");
    let db = fresh.path().join("fresh.db");
    let mut with_db = vec!["--db", db.to_str().unwrap_or_default()];
    with_db.extend(metrics.iter().copied());
    let cold: Value = serde_json::from_str(&fx.ok(&with_db)).expect("json");
    assert_eq!(cold, m);
}

#[test]
fn the_store_lives_under_the_repository_or_where_told() {
    let fx = Fixture::build("basic");
    let mut args = vec!["metrics"];
    args.extend(tags_args(&[]));
    fx.ok(&args);
    assert!(fx.repo().join(".shiplog/shiplog.db").is_file());
    // The store does not show up as untracked files in the repository.
    let status = std::process::Command::new("git")
        .args(["status", "--porcelain"])
        .current_dir(fx.repo())
        .output()
        .expect("git status");
    assert_eq!(String::from_utf8_lossy(&status.stdout), "");

    let elsewhere = tempfile::tempdir().expect("tmp");
    let db = elsewhere.path().join("nested/dir/s.db");
    let out = fx
        .shiplog()
        .env("SHIPLOG_DB", &db)
        .args(&args)
        .output()
        .expect("run");
    assert!(out.status.success());
    assert!(db.is_file());
}

#[test]
fn incidents_are_explained_on_a_store_without_deployments() {
    let fx = Fixture::build("basic");
    record_incidents(&fx);
    // No --deploys and no recorded deployment: the incidents are listed, none attributed.
    let incidents = fx.json(&[
        "explain",
        "incidents",
        "--since",
        "2026-01-01",
        "--until",
        "2026-02-01",
        "--format",
        "json",
    ]);
    let rows = incidents.as_array().expect("array");
    assert_eq!(rows.len(), 3);
    assert!(
        rows.iter().all(|i| i["deployment"].is_null()),
        "{incidents}"
    );
    assert_eq!(rows[0]["id"], "inc-3");
    assert_eq!(rows[0]["rule"], "unattributed");
    // metrics still asks for deployments.
    let out = fx.fails(&["metrics"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("the store holds no deployments"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
