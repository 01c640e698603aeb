//! End-to-end: configuration (shiplog.toml), teams, monorepo paths and pull-request data, through
//! the real binary on the `monorepo` and `merge-styles` fixtures (see tests/fixtures/), checked
//! against values computed by hand.

mod common;

use common::{Fixture, approx, num};
use serde_json::Value;

const H: f64 = 3600.0;

fn args<'a>(base: &[&'a str], window: [&'a str; 4], extra: &[&'a str]) -> Vec<&'a str> {
    let mut all = base.to_vec();
    all.extend(window);
    all.extend(extra);
    all
}

// ---- merge styles -------------------------------------------------------------------------------

const FEB: [&str; 4] = ["--since", "2026-02-01", "--until", "2026-03-01"];

fn shop(fx: &Fixture, what: &[&str]) -> Value {
    fx.json(&args(
        what,
        FEB,
        &["--deploys", "tags", "--service", "shop", "--format", "json"],
    ))
}

fn import_pull_requests(fx: &Fixture) {
    let dir = fx.dir.path();
    let stderr = fx.ok_stderr(&[
        "import",
        dir.join("pulls.json").to_str().unwrap_or_default(),
        dir.join("reviews.json").to_str().unwrap_or_default(),
    ]);
    assert!(stderr.contains("pull requests: 5 new"), "{stderr}");
}

#[test]
fn git_alone_finds_squashed_branches_by_patch() {
    let fx = Fixture::build("merge-styles");
    let stderr = fx.ok_stderr(&args(
        &["metrics"],
        FEB,
        &["--deploys", "tags", "--service", "shop"],
    ));
    assert!(
        stderr.contains("3 squash commits matched to their branches by patch"),
        "{stderr}"
    );
    let m = shop(&fx, &["metrics"]);
    let l = &m["change_lead_time"];
    // The squashes of #2, #4 and #5 match refs/pull/{2,4,5}/head: 27h, 1h, 1h instead of 2h,
    // 0.5h, 0.5h. v1.1.0: a1 22h, a2 20h, merge 1h; v1.3.0: rebased 22h, 20h (author times survive
    // a rebase). Sorted: 1, 1, 1, 20, 20, 22, 22, 27 h.
    assert_eq!(l["changes"], 8);
    assert_eq!(num(&l["median_seconds"]), 20.0 * H);
    approx(&l["mean_seconds"], 114.0 / 8.0 * H);
    assert_eq!(l["stages"], Value::Null, "no pull-request data");
    assert_eq!(m["change_fail_rate"]["failed"], 0);
    assert_eq!(m["rework_rate"]["unplanned"], 0);

    let changes = shop(&fx, &["explain", "lead-time"]);
    let rows = changes.as_array().expect("array");
    let squash = rows
        .iter()
        .find(|c| c["summary"] == "Add two (#2)")
        .expect("listed");
    assert_eq!(squash["start"], "squashed-branch-first-commit");
    assert_eq!(squash["squashed_branch"], "refs/pull/2/head");
    assert_eq!(squash["started_at"], "2026-02-02T09:00:00Z");
    assert_eq!(squash["pull_request"], Value::Null);
    assert_eq!(num(&squash["lead_time_seconds"]), 27.0 * H);
    let merge = rows
        .iter()
        .find(|c| c["summary"] == "one: a")
        .expect("listed");
    assert_eq!(merge["start"], "author");
    assert!(merge.get("squashed_branch").is_none(), "{merge}");
}

#[test]
fn git_alone_loses_the_start_of_squashed_work_without_the_branches() {
    let fx = Fixture::build("merge-styles");
    // Turned off in the configuration: the squash commits start at their own author time.
    std::fs::write(
        fx.repo().join("shiplog.toml"),
        "[definitions]\nmatch_squashed_branches = false\n",
    )
    .expect("write config");
    let off = shop(&fx, &["metrics"]);
    std::fs::remove_file(fx.repo().join("shiplog.toml")).expect("remove config");
    // With the pull-request heads deleted there is nothing to match.
    for n in 1..=5 {
        fx.git(
            &["update-ref", "-d", &format!("refs/pull/{n}/head")],
            "2026-03-01T00:00:00Z",
        );
    }
    let gone = shop(&fx, &["metrics"]);
    for m in [off, gone] {
        let l = &m["change_lead_time"];
        // v1.1.0: a1 22h, a2 20h, merge 1h; v1.2.0: squash 2h; v1.3.0: rebased 22h, 20h;
        // v1.3.1: 0.5h; v1.4.0: 0.5h. Sorted: 0.5, 0.5, 1, 2, 20, 20, 22, 22 h.
        assert_eq!(l["changes"], 8);
        assert_eq!(num(&l["median_seconds"]), 11.0 * H);
        approx(&l["mean_seconds"], 88.0 / 8.0 * H);
    }
}

#[test]
fn pull_requests_start_every_merge_style_at_the_first_commit() {
    let fx = Fixture::build("merge-styles");
    import_pull_requests(&fx);
    let m = shop(&fx, &["metrics"]);
    let l = &m["change_lead_time"];
    // #1 (merge commit): a1, a2 and the merge start at a1 (Feb 1 11:00), deployed Feb 2 09:00: 22h.
    // #2 (squash): Feb 2 09:00 → Feb 3 12:00: 27h. #3 (rebase): both rebased commits from r1
    // (Feb 3 13:00) to Feb 4 11:00: 22h. #4: 12:00 → 13:00: 1h. #5: 09:00 → 10:00: 1h.
    // Sorted: 1, 1, 22, 22, 22, 22, 22, 27 h.
    assert_eq!(l["changes"], 8);
    assert_eq!(num(&l["median_seconds"]), 22.0 * H);
    assert_eq!(num(&l["p75_seconds"]), 22.0 * H);
    approx(&l["p90_seconds"], 23.5 * H);
    approx(&l["mean_seconds"], 139.0 / 8.0 * H);

    let s = &l["stages"];
    assert_eq!(s["pull_requests"], 5);
    assert_eq!(s["changes"], 8);
    // coding: 3h, 3h, 3h, 10 min, 5 min.
    assert_eq!(s["coding"]["count"], 5);
    assert_eq!(num(&s["coding"]["median_seconds"]), 3.0 * H);
    // pickup: 2h, 2h, 17h (#4 and #5 had no review; #2's earlier review is by its author).
    assert_eq!(s["pickup"]["count"], 3);
    assert_eq!(num(&s["pickup"]["median_seconds"]), 2.0 * H);
    approx(&s["pickup"]["p75_seconds"], 9.5 * H);
    approx(&s["pickup"]["p90_seconds"], 14.0 * H);
    // review: 16h, 20h, 1h.
    assert_eq!(num(&s["review"]["median_seconds"]), 16.0 * H);
    approx(&s["review"]["p90_seconds"], 19.2 * H);
    // deploy: 1h, 2h, 1h, 30 min, 30 min.
    assert_eq!(s["deploy"]["count"], 5);
    assert_eq!(num(&s["deploy"]["median_seconds"]), H);
    approx(&s["deploy"]["p90_seconds"], 1.6 * H);

    // #5 reverts #2 (by its revert-2-... branch): v1.2.0 failed, v1.4.0 is rework; #4 comes from a
    // hotfix/ branch: v1.3.1 is rework.
    assert_eq!(m["change_fail_rate"]["failed"], 1);
    assert_eq!(m["rework_rate"]["unplanned"], 2);
    // Recovered when the revert shipped: Feb 3 12:00 → Feb 5 10:00.
    assert_eq!(
        num(&m["failed_deployment_recovery_time"]["median_seconds"]),
        46.0 * H
    );

    let changes = shop(&fx, &["explain", "lead-time"]);
    let rows = changes.as_array().expect("array");
    let row = |summary: &str| {
        rows.iter()
            .find(|c| c["summary"] == summary)
            .unwrap_or_else(|| panic!("{summary} listed"))
    };
    let squash = row("Add two (#2)");
    assert_eq!(squash["pull_request"], "github:acme/shop#2");
    assert_eq!(squash["start"], "pull-request-first-commit");
    assert_eq!(squash["started_at"], "2026-02-02T09:00:00Z");
    assert_eq!(num(&squash["lead_time_seconds"]), 27.0 * H);
    assert_eq!(num(&squash["review_seconds"]), 20.0 * H);
    assert_eq!(num(&squash["deploy_seconds"]), 2.0 * H);
    assert_eq!(squash["pull_request_opened_at"], "2026-02-02T12:00:00Z");
    assert_eq!(
        squash["pull_request_first_review_at"],
        "2026-02-02T14:00:00Z"
    );
    assert_eq!(squash["pull_request_merged_at"], "2026-02-03T10:00:00Z");
    for rebased in ["three: a", "three: b"] {
        assert_eq!(
            row(rebased)["pull_request"],
            "github:acme/shop#3",
            "{rebased}"
        );
    }
    assert_eq!(row("one: b")["pull_request"], "github:acme/shop#1");
    assert_eq!(row("Fix login (#4)")["pickup_seconds"], Value::Null);

    let failures = shop(&fx, &["explain", "failures"]);
    let reason = &failures[0]["reasons"][0];
    assert_eq!(failures[0]["deployment"], "tag:v1.2.0");
    assert_eq!(reason["kind"], "reverted-pull-request");
    assert_eq!(reason["pull_request"], "github:acme/shop#2");
    assert_eq!(reason["revert"], "github:acme/shop#5");
    assert_eq!(reason["by"], "tag:v1.4.0");
    let deployments = shop(&fx, &["explain", "deployments"]);
    let unplanned = |id: &str| {
        deployments
            .as_array()
            .and_then(|a| a.iter().find(|d| d["id"] == id))
            .map(|d| d["unplanned"][0]["kind"].clone())
            .unwrap_or_default()
    };
    assert_eq!(unplanned("tag:v1.3.1"), "hotfix-pull-request");
    assert_eq!(unplanned("tag:v1.4.0"), "ships-revert-pull-request");

    // The committer time ignores pull requests: the rebased commits were committed at the merge.
    let committer = fx.json(&args(
        &["metrics"],
        FEB,
        &[
            "--deploys",
            "tags",
            "--service",
            "shop",
            "--lead-time-start",
            "committer",
            "--format",
            "json",
        ],
    ));
    assert_eq!(committer["change_lead_time"]["start"], "committer");
    assert_ne!(
        committer["change_lead_time"]["median_seconds"],
        l["median_seconds"]
    );

    // The table shows the stages.
    let table = fx.ok(&args(
        &["metrics"],
        FEB,
        &["--deploys", "tags", "--service", "shop"],
    ));
    assert!(table.contains("pickup (median)"), "{table}");
}

#[test]
fn configured_hotfix_and_revert_patterns_replace_the_defaults() {
    let fx = Fixture::build("merge-styles");
    import_pull_requests(&fx);
    std::fs::write(
        fx.repo().join("shiplog.toml"),
        "[definitions]\nhotfix_branches = [\"urgent/*\"]\nhotfix_labels = [\"feature\"]\nrevert_branches = []\n",
    )
    .expect("write");
    let m = shop(&fx, &["metrics"]);
    // #3 carries the label "feature": v1.3.0 is rework; hotfix/login no longer counts. #5 is still a
    // revert by its title `Revert "Add two"`.
    let d = shop(&fx, &["explain", "deployments"]);
    let kinds: Vec<(String, String)> = d
        .as_array()
        .expect("array")
        .iter()
        .flat_map(|d| {
            d["unplanned"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|u| {
                    (
                        d["id"].as_str().unwrap_or_default().to_owned(),
                        u["kind"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("tag:v1.3.0".to_owned(), "hotfix-pull-request".to_owned()),
            (
                "tag:v1.4.0".to_owned(),
                "ships-revert-pull-request".to_owned()
            )
        ]
    );
    assert_eq!(m["rework_rate"]["unplanned"], 2);
}

// ---- monorepo -----------------------------------------------------------------------------------

const MARCH: [&str; 4] = ["--since", "2026-03-01", "--until", "2026-04-01"];

/// api: A1 m1 (Mar 2 09:30, baseline), A2 m4 (12:30), A3 m7 (Mar 3 10:00); web: W1 m1 (09:30),
/// W2 m5 (14:00), W3 m7 (Mar 3 10:00); billing: B1 m1 (09:30), B2 M6 (16:00).
fn import_deployments(fx: &Fixture) {
    let line = |id: &str, service: &str, rev: &str, at: &str| {
        format!(
            "{{\"type\":\"deployment\",\"id\":\"{id}\",\"service\":\"{service}\",\"environment\":\"production\",\"sha\":\"{}\",\"finished_at\":\"{at}\"}}\n",
            fx.rev(rev)
        )
    };
    let mut jsonl = String::new();
    for (id, service, rev, at) in [
        ("A1", "api", "m1", "2026-03-02T09:30:00Z"),
        ("A2", "api", "m4", "2026-03-02T12:30:00Z"),
        ("A3", "api", "m7", "2026-03-03T10:00:00Z"),
        ("W1", "web", "m1", "2026-03-02T09:30:00Z"),
        ("W2", "web", "m5", "2026-03-02T14:00:00Z"),
        ("W3", "web", "m7", "2026-03-03T10:00:00Z"),
        ("B1", "billing", "m1", "2026-03-02T09:30:00Z"),
        ("B2", "billing", "M6", "2026-03-02T16:00:00Z"),
    ] {
        jsonl.push_str(&line(id, service, rev, at));
    }
    let path = fx.dir.path().join("deploys.jsonl");
    std::fs::write(&path, jsonl).expect("write");
    fx.ok(&["import", path.to_str().unwrap_or_default()]);
}

fn lead(fx: &Fixture, scope: &[&str]) -> (u64, f64) {
    let m = fx.json(&args(&["metrics", "--format", "json"], MARCH, scope));
    let l = &m["change_lead_time"];
    (
        l["changes"].as_u64().unwrap_or(u64::MAX),
        num(&l["median_seconds"]),
    )
}

#[test]
fn monorepo_deployments_ship_only_their_services_changes() {
    let fx = Fixture::build("monorepo");
    import_deployments(&fx);
    // The first run classifies every commit by its paths; the next reads the masks from the cache.
    let stderr = fx.ok_stderr(&args(&["metrics", "--service", "api"], MARCH, &[]));
    assert!(stderr.contains("paths: classified 8 commits"), "{stderr}");
    let stderr = fx.ok_stderr(&args(&["metrics", "--service", "api"], MARCH, &[]));
    assert!(!stderr.contains("paths: classified"), "{stderr}");

    // api: A2 ships m2 (2.5h) and m4 (0.5h) but not m3 (web); A3 ships m7 (1h), not m5 (no
    // service), f1 or M6 (billing).
    assert_eq!(lead(&fx, &["--service", "api"]), (3, H));
    // web: W2 ships m3 (3h), m4 (2h); W3 ships m7 (1h).
    assert_eq!(lead(&fx, &["--service", "web"]), (3, 2.0 * H));
    // billing: B2 ships f1 (2h) and the merge M6 (1h).
    assert_eq!(lead(&fx, &["--service", "billing"]), (2, 1.5 * H));
    // Team platform = api + web: 0.5, 1, 1, 2, 2.5, 3 h.
    let m = fx.json(&args(
        &["metrics", "--team", "platform", "--format", "json"],
        MARCH,
        &[],
    ));
    assert_eq!(m["team"], "platform");
    assert_eq!(m["service"], Value::Null);
    assert_eq!(m["deployment_frequency"]["deployments"], 6);
    assert_eq!(m["change_lead_time"]["changes"], 6);
    assert_eq!(num(&m["change_lead_time"]["median_seconds"]), 1.5 * H);
    let explained = fx.json(&args(
        &[
            "explain",
            "deployments",
            "--team",
            "payments",
            "--format",
            "json",
        ],
        MARCH,
        &[],
    ));
    let ids: Vec<&str> = explained
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|d| d["id"].as_str())
        .collect();
    assert_eq!(ids, ["B1", "B2"]);

    let out = fx.fails(&args(&["metrics", "--team", "growth"], MARCH, &[]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no team \"growth\"") && stderr.contains("known teams: payments, platform"),
        "{stderr}"
    );

    // Changing the paths reclassifies every commit: billing owning README.md adds m5 to B2.
    let config = std::fs::read_to_string(fx.repo().join("shiplog.toml")).expect("read");
    std::fs::write(
        fx.repo().join("shiplog.toml"),
        config.replace(
            "paths = [\"services/billing\"]",
            "paths = [\"services/billing\", \"README.md\"]",
        ),
    )
    .expect("write");
    let stderr = fx.ok_stderr(&args(&["metrics", "--service", "billing"], MARCH, &[]));
    assert!(stderr.contains("paths: classified 8 commits"), "{stderr}");
    // m5 3h, f1 2h, M6 1h.
    assert_eq!(lead(&fx, &["--service", "billing"]), (3, 2.0 * H));
    // Without path globs every commit belongs to every service again (A2: m2, m3, m4).
    let elsewhere = fx.dir.path().join("empty.toml");
    std::fs::write(&elsewhere, "").expect("write");
    let m = fx.json(&args(
        &["metrics", "--service", "api", "--format", "json"],
        MARCH,
        &["--config", elsewhere.to_str().unwrap_or_default()],
    ));
    assert_eq!(m["change_lead_time"]["changes"], 7);
}

#[test]
fn configuration_supplies_defaults_the_flags_override() {
    let fx = Fixture::build("monorepo");
    import_deployments(&fx);
    // An incident 3h after W2 (Mar 2 14:00): outside a 2h window, inside the default 24h.
    fx.ok(&[
        "record",
        "incident",
        "--service",
        "web",
        "--id",
        "inc-1",
        "--opened-at",
        "2026-03-02T17:00:00Z",
    ]);
    let failed = |extra: &[&str]| -> Value {
        let m = fx.json(&args(
            &["metrics", "--service", "web", "--format", "json"],
            MARCH,
            extra,
        ));
        m["change_fail_rate"]["failed"].clone()
    };
    assert_eq!(failed(&[]), 1);
    let config = std::fs::read_to_string(fx.repo().join("shiplog.toml")).expect("read");
    std::fs::write(
        fx.repo().join("shiplog.toml"),
        format!("[definitions]\nattribution_window = \"2h\"\nlead_time_start = \"committer\"\n\n{config}"),
    )
    .expect("write");
    assert_eq!(failed(&[]), 0);
    assert_eq!(failed(&["--attribution-window", "4h"]), 1, "the flag wins");
    let m = fx.json(&args(
        &["metrics", "--service", "web", "--format", "json"],
        MARCH,
        &[],
    ));
    assert_eq!(m["change_lead_time"]["start"], "committer");

    // A broken file is an error naming the file, the line and the key.
    std::fs::write(
        fx.repo().join("shiplog.toml"),
        "[services.api]\nteam = \"the team\"\n",
    )
    .expect("write");
    let out = fx.fails(&args(&["metrics", "--service", "web"], MARCH, &[]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("shiplog.toml:2:8: services.api.team: expected a team name"),
        "{stderr}"
    );
}

#[test]
fn config_init_prints_the_commented_default_and_check_the_effective_one() {
    let fx = Fixture::build("monorepo");
    let template = fx.ok(&["config", "init"]);
    assert!(
        template.contains("#attribution_window = \"24h\""),
        "{template}"
    );
    let check = fx.ok(&["config", "check"]);
    assert!(check.contains("is valid"), "{check}");
    assert!(
        check.contains("paths = [\"services/api/**\", \"libs/common/**\"]"),
        "{check}"
    );
    assert!(check.contains("#   platform: api, web"), "{check}");
    // The template itself is a valid configuration: the built-in defaults.
    let path = fx.dir.path().join("template.toml");
    std::fs::write(&path, &template).expect("write");
    let defaults = fx.ok(&[
        "config",
        "check",
        "--config",
        path.to_str().unwrap_or_default(),
    ]);
    assert!(
        defaults.contains("hotfix_branches = [\"hotfix/*\", \"hotfix-*\"]"),
        "{defaults}"
    );
}
