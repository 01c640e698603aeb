//! End-to-end: release trains and versions read from tag names, through the real binary, on the
//! `release-lines` and `trains` fixture repositories (see tests/fixtures/ for their histories),
//! checked against values computed by hand.

mod common;

use common::{Fixture, num};
use serde_json::Value;

const FEB: [&str; 4] = ["--since", "2026-02-01", "--until", "2026-03-01"];
const MAR: [&str; 4] = ["--since", "2026-03-01", "--until", "2026-04-01"];

fn args<'a>(head: &[&'a str], window: [&'a str; 4], extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = head.to_vec();
    v.extend(window);
    v.extend(extra);
    v
}

fn deployment<'v>(items: &'v Value, id: &str) -> &'v Value {
    items
        .as_array()
        .expect("an array")
        .iter()
        .find(|d| d["id"] == id)
        .unwrap_or_else(|| panic!("no deployment {id} in {items}"))
}

#[test]
fn maintenance_lines_and_backfilled_tags_are_no_rollbacks() {
    let fx = Fixture::build("release-lines");
    let m = fx.json(&args(
        &["metrics", "--deploys", "tags", "--service", "app"],
        FEB,
        &["--format", "json"],
    ));
    // v1.9.0, v1.10.0, v1.11.0, v2.0.0, the four security releases (Feb 9), v1.8.0, v2.1.0; the
    // pre-release v2.1.0-rc1 is left out. Days: Feb 2, 3, 4, 5, 9, 10, 12.
    let f = &m["deployment_frequency"];
    assert_eq!(f["deployments"], 10);
    assert_eq!(f["deployment_days"], 7);
    // Intervals 24, 24, 24, 98, 0, 0, 0, 24, 46 h: median 24 h.
    assert_eq!(num(&f["median_interval_seconds"]), 24.0 * 3600.0);

    // Baseline v1.9.0 reaches c0, c1. Lead times: c2, c3, c4 1 h each; s1 4 h (v1.9.1); m1 3 h 50;
    // m2 3 h 40; m3 3 h 30; c5 25 h (v2.1.0). Median (3 h 30 + 3 h 40) / 2, mean 154800 s / 8.
    let l = &m["change_lead_time"];
    assert_eq!(l["changes"], 8);
    assert_eq!(l["baseline_excluded"], 2);
    assert_eq!(num(&l["median_seconds"]), 12_900.0);
    assert_eq!(num(&l["mean_seconds"]), 19_350.0);

    // Ordered by time then name, v1.9.1 came after v1.11.1 and v1.8.0 after v2.0.1, each an
    // ancestor: two false rollbacks. Versions make them maintenance and backfilled releases.
    let c = &m["change_fail_rate"];
    assert_eq!(
        (c["deployments"].as_u64(), c["failed"].as_u64()),
        (Some(10), Some(0))
    );
    assert_eq!(m["rework_rate"]["unplanned"], 0);
    assert_eq!(m["failed_deployment_recovery_time"]["recoveries"], 0);

    let items = fx.json(&args(
        &[
            "explain",
            "deployments",
            "--deploys",
            "tags",
            "--service",
            "app",
        ],
        FEB,
        &["--format", "json"],
    ));
    // Same finish time: ordered by version, so the 1.9 line ships the security fix itself.
    let order: Vec<&str> = items
        .as_array()
        .expect("array")
        .iter()
        .filter(|d| d["finished_at"] == "2026-02-09T12:00:00Z")
        .map(|d| d["id"].as_str().expect("id"))
        .collect();
    assert_eq!(
        order,
        ["tag:v1.9.1", "tag:v1.10.1", "tag:v1.11.1", "tag:v2.0.1"]
    );
    for id in order {
        let d = deployment(&items, id);
        assert_eq!(d["shipped_changes"], 1, "{id}");
        assert_eq!(d["failures"], Value::Array(vec![]), "{id}");
    }
    let fix = deployment(&items, "tag:v1.9.1");
    assert_eq!(
        (fix["train"].as_str(), fix["version"].as_str()),
        (Some(""), Some("1.9.1"))
    );
    let backfilled = deployment(&items, "tag:v1.8.0");
    assert_eq!(backfilled["shipped_changes"], 0);
    assert_eq!(backfilled["unplanned"], Value::Array(vec![]));
}

#[test]
fn prerelease_tags_count_only_when_asked() {
    let fx = Fixture::build("release-lines");
    let notes = fx.ok_stderr(&args(
        &["metrics", "--deploys", "tags", "--service", "app"],
        FEB,
        &[],
    ));
    assert!(
        notes.contains("1 pre-release tag (-rc, -beta, ...) left out (count them with --deploys 'tags=v*,prereleases')"),
        "{notes}"
    );
    let m = fx.json(&args(
        &[
            "metrics",
            "--deploys",
            "tags=v*,prereleases",
            "--service",
            "app",
        ],
        FEB,
        &["--format", "json"],
    ));
    // v2.1.0-rc1 (Feb 11 10:00) ships c5 in 1 h; v2.1.0 at the same commit ships nothing and is no
    // rollback. Lead times 1, 1, 1, 1 h, 3 h 30, 3 h 40, 3 h 50, 4 h: median 2 h 15.
    assert_eq!(m["deployment_frequency"]["deployments"], 11);
    assert_eq!(m["deployment_frequency"]["deployment_days"], 8);
    assert_eq!(m["change_lead_time"]["changes"], 8);
    assert_eq!(num(&m["change_lead_time"]["median_seconds"]), 8_100.0);
    assert_eq!(m["change_fail_rate"]["failed"], 0);
    // `tags,prereleases` is the same with the default glob.
    let same = fx.json(&args(
        &[
            "metrics",
            "--deploys",
            "tags,prereleases",
            "--service",
            "app",
        ],
        FEB,
        &["--format", "json"],
    ));
    assert_eq!(same["deployment_frequency"], m["deployment_frequency"]);
}

#[test]
fn each_train_is_its_own_chain_and_service() {
    let fx = Fixture::build("trains");
    let notes = fx.ok_stderr(&args(&["metrics", "--deploys", "tags=*"], MAR, &[]));
    assert!(
        notes.contains("tags: 4 release trains, each its own deployment chain: (main) (2 tags) as service repo, @acme/api (2 tags) as service acme/api, @acme/web (2 tags) as service acme/web, tool (2 tags) as service tool"),
        "{notes}"
    );
    assert!(
        notes.contains("1 tag with no version left out (no release of any train): latest"),
        "{notes}"
    );
    // Per train: (service, deployments, changes, median lead time in hours). Each baseline is at c0.
    // tool-1.2.0 ships c1 (1 h). 1.5.0 ships c1 (27 h), c2 (3 h). @acme/web@2.0.1 ships c1 (49 h),
    // c2 (25 h), c3 (1 h). @acme/api@1.4.0 ships c1 (74 h), c2 (50 h), c3 (26 h), c4 (2 h).
    for (service, changes, median_hours) in [
        ("tool", 1, 1.0),
        ("repo", 2, 15.0),
        ("acme/web", 3, 25.0),
        ("acme/api", 4, 38.0),
    ] {
        let m = fx.json(&args(
            &["metrics", "--deploys", "tags=*", "--service", service],
            MAR,
            &["--format", "json"],
        ));
        assert_eq!(m["deployment_frequency"]["deployments"], 2, "{service}");
        assert_eq!(m["change_lead_time"]["changes"], changes, "{service}");
        assert_eq!(m["change_lead_time"]["baseline_excluded"], 1, "{service}");
        assert_eq!(
            num(&m["change_lead_time"]["median_seconds"]),
            median_hours * 3600.0,
            "{service}"
        );
        assert_eq!(m["change_fail_rate"]["failed"], 0, "{service}");
        assert_eq!(m["rework_rate"]["unplanned"], 0, "{service}");
    }
    // `--service` naming no train names the main train.
    let app = fx.json(&args(
        &["metrics", "--deploys", "tags=*", "--service", "app"],
        MAR,
        &["--format", "json"],
    ));
    assert_eq!(app["change_lead_time"]["changes"], 2);
    let items = fx.json(&args(
        &["explain", "deployments", "--deploys", "tags=*"],
        MAR,
        &["--format", "json"],
    ));
    let web = deployment(&items, "tag:@acme/web@2.0.1");
    assert_eq!(web["service"], "acme/web");
    assert_eq!(
        (web["train"].as_str(), web["version"].as_str()),
        (Some("@acme/web"), Some("2.0.1"))
    );
    // A glob naming the versionless tag exactly counts it.
    let latest = fx.json(&args(
        &["explain", "deployments", "--deploys", "tags=latest"],
        MAR,
        &["--format", "json"],
    ));
    assert_eq!(latest.as_array().map(Vec::len), Some(1));
    assert_eq!(latest[0]["service"], "repo");
    assert_eq!(latest[0]["version"], Value::Null);
}

#[test]
fn shiplog_toml_maps_trains_to_services() {
    let fx = Fixture::build("trains");
    std::fs::write(
        fx.repo().join("shiplog.toml"),
        "[tags]\ntrains = { \"@acme/web\" = \"web\", tool = \"tooling\" }\n",
    )
    .expect("write shiplog.toml");
    let items = fx.json(&args(
        &["explain", "deployments", "--deploys", "tags=*"],
        MAR,
        &["--format", "json"],
    ));
    assert_eq!(deployment(&items, "tag:@acme/web@2.0.1")["service"], "web");
    assert_eq!(deployment(&items, "tag:tool-1.2.0")["service"], "tooling");
    assert_eq!(
        deployment(&items, "tag:@acme/api@1.4.0")["service"],
        "acme/api"
    );
    let web = fx.json(&args(
        &["metrics", "--deploys", "tags=*", "--service", "web"],
        MAR,
        &["--format", "json"],
    ));
    assert_eq!(web["change_lead_time"]["changes"], 3);
}

#[test]
fn an_odd_directory_name_is_made_a_valid_service_name() {
    let fx = Fixture::build("trains");
    let bare = fx.repo().with_file_name("owner+name.git");
    let status = std::process::Command::new("git")
        .args(["clone", "-q", "--bare"])
        .arg(fx.repo())
        .arg(&bare)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .status()
        .expect("git clone");
    assert!(status.success());
    let out = fx
        .shiplog()
        .arg("--repo")
        .arg(&bare)
        .args(args(
            &["explain", "deployments", "--deploys", "tags=1.*"],
            MAR,
            &["--format", "json"],
        ))
        .output()
        .expect("run shiplog");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("service: \"owner-name\", the directory name \"owner+name\" made valid"),
        "{stderr}"
    );
    let items: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(items[0]["service"], "owner-name");
}

#[test]
fn an_empty_window_says_where_the_deployments_are() {
    let fx = Fixture::build("release-lines");
    let later = fx.ok_stderr(&[
        "metrics",
        "--deploys",
        "tags",
        "--service",
        "app",
        "--since",
        "2026-06-01",
        "--until",
        "2026-07-01",
    ]);
    assert!(
        later.contains("no deployments in the window 2026-06-01T00:00:00Z to 2026-07-01T00:00:00Z; 10 deployments of this scope finished from 2026-02-02T10:00:00Z to 2026-02-12T10:00:00Z\nhint: --since 2026-02-02 includes them all"),
        "{later}"
    );
    let earlier = fx.ok_stderr(&[
        "metrics",
        "--deploys",
        "tags",
        "--service",
        "app",
        "--since",
        "2025-12-01",
        "--until",
        "2026-01-01",
    ]);
    assert!(
        earlier.contains("hint: --since 2026-02-02 --until 2026-02-13 includes them all"),
        "{earlier}"
    );
    let full = fx.ok_stderr(&args(
        &["metrics", "--deploys", "tags", "--service", "app"],
        FEB,
        &[],
    ));
    assert!(!full.contains("no deployments in the window"), "{full}");
}

#[test]
fn month_durations_widen_the_attribution_window() {
    let fx = Fixture::build("release-lines");
    // Opened 8 days after v2.1.0 (Feb 12 10:00): outside 24 h, inside 1mo (30 days).
    fx.ok(&[
        "record",
        "incident",
        "--service",
        "app",
        "--id",
        "inc-1",
        "--opened-at",
        "2026-02-20T10:00:00Z",
        "--resolved-at",
        "2026-02-20T14:00:00Z",
    ]);
    let day = fx.json(&args(
        &["metrics", "--deploys", "tags", "--service", "app"],
        FEB,
        &["--format", "json"],
    ));
    assert_eq!(day["change_fail_rate"]["failed"], 0);
    assert_eq!(day["incidents"]["unattributed"], 1);
    let month = fx.json(&args(
        &["metrics", "--deploys", "tags", "--service", "app"],
        FEB,
        &["--format", "json", "--attribution-window", "1mo"],
    ));
    assert_eq!(month["change_fail_rate"]["failed"], 1);
    assert_eq!(month["incidents"]["unattributed"], 0);
    assert_eq!(month["failed_deployment_recovery_time"]["recoveries"], 1);
    let year = fx.json(&args(
        &["metrics", "--deploys", "tags", "--service", "app"],
        FEB,
        &["--format", "json", "--attribution-window", "1y"],
    ));
    assert_eq!(year["change_fail_rate"]["failed"], 1);
}

#[test]
fn reverts_in_every_form_fail_what_they_revert_and_unresolved_ones_are_noted() {
    let fx = Fixture::build("reverts");
    let m = fx.json(&args(
        &["metrics", "--deploys", "tags", "--service", "app"],
        MAR,
        &["--format", "json"],
    ));
    // v1.0.0 (baseline) to v1.9.0: ten tags on ten days.
    let f = &m["deployment_frequency"];
    assert_eq!(
        (f["deployments"].as_u64(), f["deployment_days"].as_u64()),
        (Some(10), Some(10))
    );
    // v1.1.0, v1.3.0 and v1.5.0 are reverted (10-hex reference form, 12-hex kernel form, 40 hex);
    // v1.7.0 is not: "reverts ff28602" names both twins. Each revert shipped a day later.
    let c = &m["change_fail_rate"];
    assert_eq!(
        (c["deployments"].as_u64(), c["failed"].as_u64()),
        (Some(10), Some(3))
    );
    assert_eq!(m["rework_rate"]["unplanned"], 3);
    assert_eq!(
        num(&m["failed_deployment_recovery_time"]["median_seconds"]),
        24.0 * 3600.0
    );
    // Eleven changes after the baseline: nine 1 h from commit to tag, the twins 2 h.
    let l = &m["change_lead_time"];
    assert_eq!(
        (l["changes"].as_u64(), l["baseline_excluded"].as_u64()),
        (Some(11), Some(1))
    );
    assert_eq!(num(&l["median_seconds"]), 3600.0);

    let out = fx
        .shiplog()
        .args(args(
            &[
                "explain",
                "failures",
                "--deploys",
                "tags",
                "--service",
                "app",
            ],
            MAR,
            &["--format", "json"],
        ))
        .output()
        .expect("run shiplog");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let items: Value = serde_json::from_slice(&out.stdout).expect("json");
    let failed: Vec<&str> = items
        .as_array()
        .expect("an array")
        .iter()
        .map(|i| i["deployment"].as_str().expect("id"))
        .collect();
    assert_eq!(failed, ["tag:v1.1.0", "tag:v1.3.0", "tag:v1.5.0"]);
    let a = fx.rev("v1.1.0^{commit}");
    assert!(
        items.to_string().contains(&a),
        "the full sha of the reverted change: {items}"
    );
    let notes = String::from_utf8_lossy(&out.stderr);
    let revert_twin = fx.rev("v1.8.0^{commit}");
    let twin = fx.rev("v1.7.0^{commit}^1");
    assert!(
        notes.contains(&format!(
            "commit {} says it reverts {}, which 2 commits start with",
            &revert_twin[..12],
            &twin[..7]
        )),
        "{notes}"
    );
    assert!(
        notes.contains("1 revert message in scope names a commit this history does not have"),
        "{notes}"
    );
}
