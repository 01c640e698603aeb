//! End-to-end: recording practice changes and analysing their impact through the real binary, on
//! the `basic` fixture repository and on the demo.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use assert_cmd::cargo::CommandCargoExt;
use common::Fixture;
use serde_json::Value;

fn practices(fx: &Fixture) -> Value {
    fx.json(&["practice", "list", "--format", "json"])
}

#[test]
fn practice_start_end_and_list_round_trip() {
    let fx = Fixture::build("basic");
    assert_eq!(practices(&fx), serde_json::json!([]));
    let stderr = fx.ok_stderr(&[
        "practice",
        "start",
        "Trunk-based  development",
        "--on",
        "2026-01-07",
        "--service",
        "web",
        "--service",
        "app",
        "--capability",
        "trunk-based-development",
        "--note",
        "Branches live a day at most",
    ]);
    assert!(stderr.contains("recorded"), "{stderr}");
    assert!(stderr.contains("shiplog impact"), "{stderr}");
    let list = practices(&fx);
    assert_eq!(list[0]["name"], "Trunk-based development");
    assert_eq!(list[0]["started_on"], "2026-01-07");
    assert_eq!(list[0]["ended_on"], Value::Null);
    assert_eq!(list[0]["scope"]["kind"], "services");
    assert_eq!(
        list[0]["scope"]["services"],
        serde_json::json!(["app", "web"])
    );
    assert_eq!(list[0]["capability"], "trunk-based-development");

    // Recording the same name again updates it.
    let stderr = fx.ok_stderr(&[
        "practice",
        "start",
        "Trunk-based development",
        "--on",
        "2026-01-08",
    ]);
    assert!(stderr.contains("updated"), "{stderr}");
    let stderr = fx.ok_stderr(&[
        "practice",
        "end",
        "trunk-based development",
        "--on",
        "2026-01-20",
    ]);
    assert!(stderr.contains("ended on 2026-01-20"), "{stderr}");
    let list = practices(&fx);
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert_eq!(list[0]["started_on"], "2026-01-08");
    assert_eq!(list[0]["ended_on"], "2026-01-20");
    assert_eq!(list[0]["scope"]["kind"], "all-services");
    assert_eq!(list[0]["note"], Value::Null);

    // Starting again keeps the end.
    fx.ok(&[
        "practice",
        "start",
        "Trunk-based development",
        "--on",
        "2026-01-09",
    ]);
    assert_eq!(practices(&fx)[0]["ended_on"], "2026-01-20");

    let table = fx.ok(&["practice", "list"]);
    assert!(table.contains("Trunk-based development"), "{table}");
    assert!(table.contains("all services"), "{table}");

    // Unknown names and bad dates are one-line errors with a hint.
    let out = fx.fails(&["practice", "end", "Pairing", "--on", "2026-01-20"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error: no practice change is named \"Pairing\""),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: the recorded ones are: \"Trunk-based development\""),
        "{stderr}"
    );
    let out = fx.fails(&[
        "practice",
        "end",
        "Trunk-based development",
        "--on",
        "2026-01-01",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ends (2026-01-01) before it starts"),
        "{stderr}"
    );
    let out = fx.fails(&["practice", "start", "X", "--on", "3 March"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("expected a date like 2026-03-03"),
        "{stderr}"
    );
    let out = fx.fails(&["impact", "Nothing like it"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no practice change is named \"Nothing like it\""),
        "{stderr}"
    );
}

#[test]
fn practice_changes_import_like_other_records() {
    let fx = Fixture::build("basic");
    let file = fx.dir.path().join("practices.jsonl");
    std::fs::write(
        &file,
        concat!(
            r#"{"type":"practice_change","name":"Pair programming","started_on":"2026-01-05","ended_on":"2026-01-30","team":"payments","note":"every change paired"}"#,
            "\n",
            r#"{"type":"practice_change","name":"Trunk-based development","started_on":"2026-01-07","services":["app"]}"#,
            "\n"
        ),
    )
    .expect("write");
    let path = file.display().to_string();
    let stderr = fx.ok_stderr(&["import", &path]);
    assert!(
        stderr.contains("practice changes: 2 new, 0 updated, 0 unchanged"),
        "{stderr}"
    );
    let stderr = fx.ok_stderr(&["import", &path]);
    assert!(
        stderr.contains("practice changes: 0 new, 0 updated, 2 unchanged"),
        "{stderr}"
    );
    let list = practices(&fx);
    assert_eq!(list[0]["name"], "Pair programming");
    assert_eq!(list[0]["scope"]["team"], "payments");
    assert_eq!(list[1]["scope"]["services"], serde_json::json!(["app"]));

    // Without a configuration the team's services are unknown: the analysis refuses, and says what
    // to do.
    let out = fx.fails(&[
        "impact",
        "Pair programming",
        "--deploys",
        "tags",
        "--service",
        "app",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("is scoped to team payments, whose services are not known"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "hint: map them in shiplog.toml (`team = \"payments\"` under [services.NAME]"
        ),
        "{stderr}"
    );
    // With the team mapped in shiplog.toml, its services are the subject.
    std::fs::write(
        fx.repo().join("shiplog.toml"),
        "[services.app]\nteam = \"payments\"\n",
    )
    .expect("write shiplog.toml");
    let report = fx.json(&[
        "impact",
        "Pair programming",
        "--deploys",
        "tags",
        "--service",
        "app",
        "--until",
        "2026-02-01",
        "--format",
        "json",
    ]);
    assert_eq!(report["services"], serde_json::json!(["app"]));
    assert_eq!(report["practice"]["scope"]["team"], "payments");

    // The fixture's month of tags is far too little to conclude anything.
    let report = fx.json(&[
        "impact",
        "Trunk-based development",
        "--deploys",
        "tags",
        "--service",
        "app",
        "--until",
        "2026-02-01",
        "--before",
        "14d",
        "--after",
        "14d",
        "--transition",
        "0d",
        "--format",
        "json",
    ]);
    for m in report["metrics"].as_array().expect("metrics") {
        assert_eq!(m["verdict"], "not-enough-data", "{m}");
    }
}

/// Builds the demo ending 2026-11-25 in a temporary directory.
fn demo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    let out = Command::cargo_bin("shiplog")
        .expect("binary")
        .args(["demo", "--quiet", "--end", "2026-11-25"])
        .arg(dir.path().join("demo"))
        .env("NO_COLOR", "1")
        .output()
        .expect("run demo");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(
            "shiplog impact \"Small daily deployments\" --compare-with billing --until 2026-11-26"
        ),
        "the demo points at the analysis: {stdout}"
    );
    dir
}

fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::cargo_bin("shiplog")
        .expect("binary")
        .args(args)
        .current_dir(dir)
        .env_remove("SHIPLOG_DB")
        .env("NO_COLOR", "1")
        .output()
        .expect("run shiplog")
}

fn ok_in(dir: &Path, args: &[&str]) -> String {
    let out = run_in(dir, args);
    assert!(
        out.status.success(),
        "shiplog {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn verdicts(report: &Value) -> Vec<(String, String)> {
    report["metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .map(|m| {
            (
                m["metric"].as_str().unwrap_or_default().to_owned(),
                m["verdict"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn verdict_of(report: &Value, metric: &str) -> String {
    verdicts(report)
        .into_iter()
        .find(|(m, _)| m == metric)
        .map(|(_, v)| v)
        .unwrap_or_default()
}

#[test]
fn the_demo_change_is_detected_and_the_comparison_service_shows_none() {
    let dir = demo();
    let repo = dir.path().join("demo");
    let until = ["--until", "2026-11-26"];

    // The recorded change, against billing.
    let mut args = vec![
        "impact",
        "Small daily deployments",
        "--compare-with",
        "billing",
        "--format",
        "json",
    ];
    args.extend(until);
    let report: Value = serde_json::from_str(&ok_in(&repo, &args)).expect("json");
    assert_eq!(report["practice"]["started_on"], "2026-08-27");
    assert_eq!(report["services"], serde_json::json!(["api", "web"]));
    assert_eq!(
        report["comparison_services"],
        serde_json::json!(["billing"])
    );
    assert_eq!(report["design"]["before_weeks"], 12);
    assert_eq!(report["design"]["transition_days"], 14.0);
    assert_eq!(verdict_of(&report, "deployment_frequency"), "improved");
    assert_eq!(verdict_of(&report, "change_lead_time"), "improved");
    let lead = &report["metrics"][1];
    assert!(
        lead["effect"]["estimate"].as_f64().unwrap_or(1.0) < 0.7,
        "{lead}"
    );
    assert!(
        lead["effect"]["high"].as_f64().unwrap_or(1.0) < 1.0,
        "{lead}"
    );
    assert_eq!(lead["trend"]["finding"], "supports");
    assert_eq!(lead["comparison"]["finding"], "supports");

    // api alone, and billing as if it had changed: only api shows an effect.
    ok_in(
        &repo,
        &[
            "practice",
            "start",
            "Api alone",
            "--on",
            "2026-08-27",
            "--service",
            "api",
        ],
    );
    ok_in(
        &repo,
        &[
            "practice",
            "start",
            "Billing placebo",
            "--on",
            "2026-08-27",
            "--service",
            "billing",
        ],
    );
    let mut args = vec!["impact", "Api alone", "--compare-auto", "--format", "json"];
    args.extend(until);
    let api: Value = serde_json::from_str(&ok_in(&repo, &args)).expect("json");
    // Every other service changed practice in the windows (web with the demo's change, billing with
    // the placebo), so --compare-auto finds no comparison group.
    assert_eq!(api["comparison_services"], serde_json::json!([]));
    // Without a comparison group, deployment frequency rests on the trend check alone: ×4.5, but
    // api's weekly rate was already rising in the 12 weeks before, and with the intervals that
    // allow for correlated weeks (10 weeks after: the data end at the demo's last record) the
    // weekly values cannot tell the change from that trend. Not credited, and said why.
    let frequency = &api["metrics"][0];
    assert_eq!(
        verdict_of(&api, "deployment_frequency"),
        "no-detectable-change"
    );
    assert_eq!(frequency["trend"]["finding"], "inconclusive", "{frequency}");
    assert!(
        frequency["effect"]["estimate"].as_f64().unwrap_or(0.0) > 2.0,
        "{frequency}"
    );
    assert_eq!(verdict_of(&api, "change_lead_time"), "improved");

    let mut args = vec![
        "impact",
        "Billing placebo",
        "--compare-with",
        "web",
        "--format",
        "json",
    ];
    args.extend(until);
    let billing: Value = serde_json::from_str(&ok_in(&repo, &args)).expect("json");
    for (metric, verdict) in verdicts(&billing) {
        assert!(
            verdict == "no-detectable-change" || verdict == "not-enough-data",
            "billing changed nothing, yet {metric} is {verdict}"
        );
    }
    assert_eq!(
        verdict_of(&billing, "deployment_frequency"),
        "no-detectable-change"
    );
    assert_eq!(
        verdict_of(&billing, "change_lead_time"),
        "no-detectable-change"
    );

    // The same records and seed give the same report; the story is in the terminal and Markdown
    // views.
    let mut args = vec![
        "impact",
        "Small daily deployments",
        "--compare-with",
        "billing",
    ];
    args.extend(until);
    let table = ok_in(&repo, &args);
    assert_eq!(table, ok_in(&repo, &args));
    assert!(
        table.contains("Deployment frequency improved: it rose from"),
        "{table}"
    );
    assert!(
        table.contains("Median change lead time improved: it fell from"),
        "{table}"
    );
    args.extend(["--format", "markdown"]);
    let markdown = ok_in(&repo, &args);
    assert!(
        markdown.starts_with(
            "## Impact of \"Small daily deployments\" on api and web (production, from 2026-08-27)\n"
        ),
        "{markdown}"
    );
    assert!(
        markdown.contains("started *Small daily deployments*"),
        "{markdown}"
    );
    assert!(
        markdown.contains("| Metric | Before | After |"),
        "{markdown}"
    );
}
