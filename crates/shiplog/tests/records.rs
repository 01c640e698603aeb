//! End-to-end: recorded and imported deployments and incidents — two services, two environments,
//! idempotent records, all-or-nothing imports with precise errors, unknown commits, and the demo.

mod common;

use common::{Fixture, approx, num};
use serde_json::Value;

const WINDOW: [&str; 4] = ["--since", "2026-01-01", "--until", "2026-02-01"];

/// The import of the two-service, two-environment test, over the `basic` fixture:
/// - api/production: P1 at c2 (Jan 5 12:00, baseline), P2 at c4 (Jan 8 12:00);
/// - api/staging: S1 at c3 (Jan 7 12:00, baseline), S2 at c5 (Jan 9 12:00);
/// - worker/production: W1 at c1 (Jan 5 10:00, baseline), W2 at c5 (Jan 9 13:00), W3 a failed
///   deployment of c6 (not counted);
/// - incidents: inc-a (api, production, Jan 8 13:00: P2 by time window), inc-w (worker, sha c4: W2),
///   inc-s (api, staging, Jan 9 12:30: S2).
fn import_two_services(fx: &Fixture) {
    let c1 = fx.rev("v1.0.0~1");
    let c2 = fx.rev("v1.0.0^{commit}");
    let c3 = fx.rev("v1.1.0");
    let c4 = fx.rev("v1.2.0^{commit}");
    let c5 = fx.rev("v1.3.0^{commit}");
    let c6 = fx.rev("v1.3.1^{commit}");
    let jsonl = format!(
        r#"{{"type":"deployment","id":"P1","service":"api","environment":"production","sha":"{c2}","finished_at":"2026-01-05T12:00:00Z"}}
{{"type":"deployment","id":"P2","service":"api","environment":"production","sha":"{c4_short}","finished_at":"2026-01-08T12:00:00Z","started_at":"2026-01-08T11:50:00Z"}}
{{"type":"deployment","id":"S1","service":"api","environment":"staging","sha":"{c3}","finished_at":"2026-01-07T12:00:00Z"}}
{{"type":"deployment","id":"S2","service":"api","environment":"staging","sha":"{c5}","finished_at":"2026-01-09T12:00:00Z"}}
{{"type":"incident","id":"inc-a","service":"api","opened_at":"2026-01-08T13:00:00Z","resolved_at":null}}
{{"type":"incident","id":"inc-s","service":"api","environment":"staging","opened_at":"2026-01-09T12:30:00Z","resolved_at":"2026-01-09T13:30:00Z"}}
"#,
        c4_short = &c4[..9],
    );
    let csv = format!(
        "type,id,service,environment,sha,finished_at,status,opened_at,resolved_at\n\
         deployment,W1,worker,production,{c1},2026-01-05T10:00:00Z,success,,\n\
         deployment,W2,worker,production,{c5},2026-01-09T13:00:00+00:00,success,,\n\
         deployment,W3,worker,production,{c6},2026-01-10T13:00:00Z,failure,,\n\
         incident,inc-w,worker,production,{c4},,,2026-01-09T14:00:00Z,2026-01-09T16:00:00Z\n"
    );
    let dir = fx.dir.path();
    std::fs::write(dir.join("deploys.jsonl"), jsonl).expect("write");
    std::fs::write(dir.join("worker.csv"), csv).expect("write");
    let stderr = fx.ok_stderr(&[
        "import",
        dir.join("deploys.jsonl").to_str().unwrap_or_default(),
        dir.join("worker.csv").to_str().unwrap_or_default(),
    ]);
    assert!(
        stderr.contains("deployments: 7 new, 0 updated, 0 unchanged; incidents: 3 new"),
        "{stderr}"
    );
}

fn metrics(fx: &Fixture, scope: &[&str]) -> Value {
    let mut args = vec!["metrics", "--format", "json"];
    args.extend(WINDOW);
    args.extend(scope);
    fx.json(&args)
}

#[test]
fn services_and_environments_are_separate_chains() {
    let fx = Fixture::build("basic");
    import_two_services(&fx);

    // api/production: P2 ships f1 51h, f2 49h, merge 26h, c3 25h, c4 3h (author times Jan 6 09:00,
    // Jan 6 11:00, Jan 7 10:00, Jan 7 11:00, Jan 8 09:00; deployed Jan 8 12:00).
    let api = metrics(&fx, &["--service", "api"]);
    assert_eq!(api["deployment_frequency"]["deployments"], 2);
    assert_eq!(api["change_lead_time"]["changes"], 5);
    assert_eq!(api["change_lead_time"]["baseline_excluded"], 2);
    approx(&api["change_lead_time"]["median_seconds"], 26.0 * 3600.0);
    assert_eq!(api["change_fail_rate"]["failed"], 1);
    assert_eq!(api["failed_deployment_recovery_time"]["unrecovered"], 1);
    assert_eq!(api["failed_deployment_recovery_time"]["recoveries"], 0);
    assert_eq!(api["incidents"]["total"], 1);

    // api/staging: S2 ships c4 (27h) and c5 (3h); inc-s resolved after 1.5h.
    let staging = metrics(&fx, &["--service", "api", "--env", "staging"]);
    assert_eq!(staging["deployment_frequency"]["deployments"], 2);
    assert_eq!(staging["change_lead_time"]["changes"], 2);
    approx(
        &staging["change_lead_time"]["median_seconds"],
        15.0 * 3600.0,
    );
    approx(
        &staging["failed_deployment_recovery_time"]["median_seconds"],
        1.5 * 3600.0,
    );

    // worker: W2 ships c2 99h, f1 76h, f2 74h, merge 51h, c3 50h, c4 28h, c5 4h; W3 failed to deploy.
    let worker = metrics(&fx, &["--service", "worker"]);
    assert_eq!(worker["deployment_frequency"]["deployments"], 2);
    assert_eq!(worker["change_lead_time"]["changes"], 7);
    approx(&worker["change_lead_time"]["median_seconds"], 51.0 * 3600.0);
    assert_eq!(
        worker["change_fail_rate"]["failed"], 1,
        "inc-w names c4, shipped by W2"
    );
    approx(
        &worker["failed_deployment_recovery_time"]["median_seconds"],
        3.0 * 3600.0,
    );

    // All services in production: 4 deployments, 12 changes.
    let all = metrics(&fx, &[]);
    assert_eq!(all["service"], Value::Null);
    assert_eq!(all["deployment_frequency"]["deployments"], 4);
    assert_eq!(all["change_lead_time"]["changes"], 12);
    assert_eq!(all["change_fail_rate"]["failed"], 2);
    assert_eq!(all["incidents"]["total"], 2);

    // The failed W3 is listed, flagged, and counts nowhere.
    let mut args = vec![
        "explain",
        "deployments",
        "--service",
        "worker",
        "--format",
        "json",
    ];
    args.extend(WINDOW);
    let listed = fx.json(&args);
    let w3 = listed
        .as_array()
        .and_then(|a| a.iter().find(|d| d["id"] == "W3"))
        .expect("W3 listed");
    assert_eq!(w3["status"], "failure");
    assert_eq!(w3["shipped_changes"], 0);
    assert_eq!(w3["source"], "imported");

    let mut args = vec![
        "explain",
        "incidents",
        "--service",
        "worker",
        "--format",
        "json",
    ];
    args.extend(WINDOW);
    let incidents = fx.json(&args);
    assert_eq!(incidents[0]["rule"], "sha");
    assert_eq!(incidents[0]["deployment"], "W2");
}

#[test]
fn records_are_idempotent_and_updates_are_reported() {
    let fx = Fixture::build("basic");
    let sha = fx.rev("HEAD");
    let deploy = [
        "record",
        "deployment",
        "--service",
        "api",
        "--env",
        "production",
        "--sha",
        &sha[..8],
        "--at",
        "2026-01-20T10:00:00Z",
        "--id",
        "gh-1",
    ];
    assert!(fx.ok_stderr(&deploy).contains("deployment gh-1 recorded"));
    assert!(fx.ok_stderr(&deploy).contains("deployment gh-1 unchanged"));
    let open = [
        "record",
        "incident",
        "--service",
        "api",
        "--id",
        "inc-9",
        "--opened-at",
        "2026-01-20T11:00:00Z",
    ];
    assert!(fx.ok_stderr(&open).contains("incident inc-9 recorded"));
    assert!(fx.ok_stderr(&open).contains("incident inc-9 unchanged"));
    let mut resolve = open.to_vec();
    resolve.extend(["--resolved-at", "2026-01-20T12:30:00Z"]);
    assert!(fx.ok_stderr(&resolve).contains("incident inc-9 updated"));

    let listed = fx.json(&[
        "explain",
        "incidents",
        "--since",
        "2026-01-01",
        "--until",
        "2026-02-01",
        "--format",
        "json",
    ]);
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    assert_eq!(listed[0]["resolved_at"], "2026-01-20T12:30:00Z");
    assert_eq!(listed[0]["deployment"], "gh-1");

    // The abbreviated sha was resolved to the full one.
    let deployments = fx.json(&[
        "explain",
        "deployments",
        "--since",
        "2026-01-01",
        "--until",
        "2026-02-01",
        "--format",
        "json",
    ]);
    assert_eq!(deployments[0]["sha"], sha);
}

#[test]
fn bad_imports_name_file_line_and_field_and_store_nothing() {
    let fx = Fixture::build("basic");
    let sha = fx.rev("HEAD");
    let dir = fx.dir.path();
    let good = format!(
        "{{\"type\":\"deployment\",\"id\":\"d-1\",\"service\":\"api\",\"environment\":\"production\",\"sha\":\"{sha}\",\"finished_at\":\"2026-01-20T10:00:00Z\"}}\n"
    );
    std::fs::write(dir.join("good.jsonl"), &good).expect("write");
    fx.ok(&[
        "import",
        dir.join("good.jsonl").to_str().unwrap_or_default(),
    ]);

    let cases: [(&str, String, &str); 5] = [
        (
            "naive.jsonl",
            good.replace("2026-01-20T10:00:00Z", "2026-01-20T10:00:00"),
            "naive.jsonl:1: field \"finished_at\": expected an RFC 3339 timestamp with an offset",
        ),
        (
            "typo.jsonl",
            format!(
                "{good}{}",
                good.replace("finished_at", "finshed_at")
                    .replace("d-1", "d-2")
            ),
            "typo.jsonl:2: field \"finshed_at\": unknown field",
        ),
        (
            "unknown-prefix.jsonl",
            good.replace(&sha, "abcdef0"),
            "unknown-prefix.jsonl:1: field \"sha\": no commit abcdef0 in the repository",
        ),
        (
            "status.csv",
            format!(
                "type,id,service,environment,sha,finished_at,status\ndeployment,d-3,api,production,{sha},2026-01-20T10:00:00Z,ok\n"
            ),
            "status.csv:2: field \"status\"",
        ),
        (
            "notjson.jsonl",
            format!("{good}{{not json\n"),
            "notjson.jsonl:2:",
        ),
    ];
    let list = |fx: &Fixture| {
        fx.json(&[
            "explain",
            "deployments",
            "--since",
            "2026-01-01",
            "--until",
            "2026-02-01",
            "--format",
            "json",
        ])
    };
    let before = list(&fx);
    for (name, content, expected) in cases {
        let path = dir.join(name);
        std::fs::write(&path, content).expect("write");
        // A good file imported together with the bad one is not stored either.
        let other = dir.join("other.jsonl");
        std::fs::write(&other, good.replace("d-1", "d-new")).expect("write");
        let out = fx.fails(&[
            "import",
            other.to_str().unwrap_or_default(),
            path.to_str().unwrap_or_default(),
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("nothing was stored"), "{stderr}");
        assert!(
            stderr.contains(expected),
            "{name}: expected {expected:?} in\n{stderr}"
        );
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(list(&fx), before, "{name} changed the store");
    }
}

#[test]
fn unknown_commits_fail_with_their_names_or_are_skipped_on_request() {
    let fx = Fixture::build("basic");
    let missing = "0123456789abcdef0123456789abcdef01234567";
    fx.ok(&[
        "record",
        "deployment",
        "--service",
        "api",
        "--env",
        "production",
        "--sha",
        missing,
        "--at",
        "2026-01-20T10:00:00Z",
        "--id",
        "ghost",
    ]);
    let head = fx.rev("HEAD");
    fx.ok(&[
        "record",
        "deployment",
        "--service",
        "api",
        "--env",
        "production",
        "--sha",
        &head,
        "--at",
        "2026-01-21T10:00:00Z",
        "--id",
        "real",
    ]);
    let mut args = vec!["metrics", "--format", "json"];
    args.extend(WINDOW);
    let out = fx.fails(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("ghost (0123456789ab)"), "{stderr}");
    assert!(stderr.contains("--skip-unknown"), "{stderr}");

    args.push("--skip-unknown");
    let out = fx.shiplog().args(&args).output().expect("run");
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "deployment ghost skipped: commit {missing} is not in the repository"
        )),
        "{stderr}"
    );
    let m: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(m["deployment_frequency"]["deployments"], 1);
}

#[test]
fn bad_arguments_fail_with_a_cause() {
    let fx = Fixture::build("basic");
    let out = fx.fails(&["metrics", "--deploys", "tags", "--since", "yesterday"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("error: --since"), "{stderr}");
    assert!(stderr.contains("got \"yesterday\""), "{stderr}");
    let out = fx.fails(&["metrics", "--deploys", "nope"]);
    assert_eq!(out.status.code(), Some(2), "usage errors exit with 2");
    let out = fx.fails(&["metrics"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("the store holds no deployments"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: derive deployments from git"),
        "{stderr}"
    );
    let out = fx.fails(&["metrics", "--deploys", "tags", "--service", "has space"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--service \"has space\""), "{stderr}");
}

#[test]
fn the_demo_shows_a_change_half_way() {
    let dir = tempfile::tempdir().expect("tmp");
    let demo = dir.path().join("demo");
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("shiplog"))
        .args(["demo", "--end", "2026-11-25", "--format", "json"])
        .arg(&demo)
        .env("NO_COLOR", "1")
        .output()
        .expect("run demo");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Value = serde_json::from_slice(&out.stdout).expect("json");
    let rows = rows.as_array().expect("array");
    let per_week = |service: &str, months: &[&str]| -> f64 {
        let picked: Vec<f64> = rows
            .iter()
            .filter(|r| {
                r["service"] == service && months.contains(&r["period"].as_str().unwrap_or(""))
            })
            .map(|r| num(&r["deployment_frequency"]["per_week"]))
            .collect();
        picked.iter().sum::<f64>() / picked.len() as f64
    };
    let before = ["2026-06", "2026-07"];
    let after = ["2026-09", "2026-10"];
    assert!(per_week("api", &after) > 3.0 * per_week("api", &before));
    assert!(per_week("web", &after) > 3.0 * per_week("web", &before));
    let billing_ratio = per_week("billing", &after) / per_week("billing", &before);
    assert!(
        (0.6..1.6).contains(&billing_ratio),
        "billing changed: {billing_ratio}"
    );

    // The demo is deterministic: the same seed and end give the same repository.
    let again = dir.path().join("again");
    let out2 = std::process::Command::new(assert_cmd::cargo::cargo_bin("shiplog"))
        .args(["demo", "--end", "2026-11-25", "--format", "json"])
        .arg(&again)
        .output()
        .expect("run demo");
    assert_eq!(out.stdout, out2.stdout);
    let head = |d: &std::path::Path| {
        std::process::Command::new("git")
            .args(["rev-parse", "HEAD"])
            .current_dir(d)
            .output()
            .expect("git")
            .stdout
    };
    assert_eq!(head(&demo), head(&again));
    // An existing directory is not overwritten without --force.
    let out3 = std::process::Command::new(assert_cmd::cargo::cargo_bin("shiplog"))
        .args(["demo", "--end", "2026-11-25"])
        .arg(&demo)
        .output()
        .expect("run demo");
    assert!(!out3.status.success());
    assert!(String::from_utf8_lossy(&out3.stderr).contains("--force"));
}
