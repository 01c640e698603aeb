//! End-to-end: experiments (pre-registered practice changes) through the real binary, on real git
//! repositories in temporary directories and a real SQLite store: start, list, edit, review, the
//! primary metric chosen at the start, edits shown as edits, early reviews provisional, and the
//! demo's experiment reached.

mod common;

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use assert_cmd::cargo::CommandCargoExt;
use common::Fixture;
use serde_json::Value;

const DAY: i64 = 86_400;
/// 2026-03-02T00:00:00Z, a Monday: the experiments' start.
const START: i64 = 1_772_409_600;

/// A repository with one commit per change, and the deployments and incidents of `api` as a
/// JSON Lines import file: `per_week.0` deployments a week in the 12 weeks before `START`,
/// `per_week.1` in the 12 weeks after a 14-day transition, evenly spread; each ships three changes
/// whose lead times follow the same pattern before and after; every fifth deployment causes an
/// incident (resolved 2 hours later) and every seventh is unplanned.
fn history(per_week: (u32, u32)) -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).expect("mkdir");
    let git = |args: &[&str]| {
        let status = Command::new("git")
            .args(args)
            .current_dir(&repo)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .status()
            .expect("git");
        assert!(status.success(), "git {args:?}");
    };
    git(&["init", "-q", "-b", "main"]);
    let mut times = Vec::new();
    for week in -12i64..14 {
        if (0..2).contains(&week) {
            continue;
        }
        let n = i64::from(if week < 0 { per_week.0 } else { per_week.1 });
        for i in 0..n {
            times.push(START + 7 * DAY * week + (7 * DAY * (2 * i + 1)) / (2 * n));
        }
    }
    // The commits, by fast-import: three per deployment, hours before it.
    let mut stream = String::new();
    let mut mark = 0;
    for (k, at) in times.iter().enumerate() {
        for c in 0..3i64 {
            mark += 1;
            let lead = 3600 * (6 + ((k as i64 * 7 + c * 11) % 30));
            let msg = format!("change {mark}\n");
            let body = format!("{mark}\n");
            let _ = write!(
                stream,
                "commit refs/heads/main\nmark :{mark}\ncommitter Ada <ada@example.com> {} +0000\ndata {}\n{msg}",
                at - lead,
                msg.len()
            );
            if mark > 1 {
                let _ = writeln!(stream, "from :{}", mark - 1);
            }
            let _ = write!(
                stream,
                "M 644 inline file.txt\ndata {}\n{body}\n",
                body.len()
            );
        }
    }
    let marks = dir.path().join("marks");
    let mut child = Command::new("git")
        .args(["fast-import", "--quiet"])
        .arg(format!("--export-marks={}", marks.display()))
        .current_dir(&repo)
        .stdin(Stdio::piped())
        .spawn()
        .expect("git fast-import");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stream.as_bytes())
        .expect("write stream");
    assert!(child.wait().expect("fast-import").success());
    let marks = std::fs::read_to_string(&marks).expect("marks");
    let sha_of = |m: usize| {
        marks
            .lines()
            .find_map(|l| l.strip_prefix(&format!(":{m} ")))
            .expect("mark")
            .to_owned()
    };
    let time = |t: i64| jiff::Timestamp::from_second(t).expect("time").to_string();
    let mut jsonl = String::new();
    for (k, at) in times.iter().enumerate() {
        let n = k + 1;
        let _ = writeln!(
            jsonl,
            r#"{{"type":"deployment","id":"d-{n}","service":"api","environment":"production","sha":"{}","finished_at":"{}","status":"success","unplanned":{}}}"#,
            sha_of(3 * n),
            time(*at),
            n % 7 == 0
        );
        if n % 5 == 0 {
            let _ = writeln!(
                jsonl,
                r#"{{"type":"incident","id":"inc-{n}","service":"api","opened_at":"{}","resolved_at":"{}","deployment_id":"d-{n}"}}"#,
                time(at + 3600),
                time(at + 3 * 3600)
            );
        }
    }
    let file = dir.path().join("records.jsonl");
    std::fs::write(&file, jsonl).expect("write records");
    let fx = Fixture { dir };
    fx.ok(&["import", &file.display().to_string()]);
    fx
}

/// shiplog with the clock at `now` (an RFC 3339 time).
fn at(fx: &Fixture, now: &str, args: &[&str]) -> Output {
    fx.shiplog()
        .env("SHIPLOG_NOW", now)
        .args(args)
        .output()
        .expect("run shiplog")
}

fn ok_at(fx: &Fixture, now: &str, args: &[&str]) -> String {
    let out = at(fx, now, args);
    assert!(
        out.status.success(),
        "shiplog {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn json_at(fx: &Fixture, now: &str, args: &[&str]) -> Value {
    let text = ok_at(fx, now, args);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

const BEFORE_START: &str = "2026-02-25T10:00:00Z";
const EARLY: &str = "2026-04-20T00:00:00Z";
const DUE: &str = "2026-06-10T00:00:00Z";

fn start_faster_releases(fx: &Fixture) {
    let stderr = at(
        fx,
        BEFORE_START,
        &[
            "experiment",
            "start",
            "Faster releases",
            "--on",
            "2026-03-02",
            "--for",
            "14w",
            "--before",
            "12w",
            "--service",
            "api",
            "--capability",
            "continuous-delivery",
            "--expect",
            "deployment_frequency +50%",
        ],
    );
    assert!(stderr.status.success(), "{stderr:?}");
    let text = String::from_utf8_lossy(&stderr.stderr);
    assert!(text.contains("review on 2026-06-08"), "{text}");
    assert!(!text.contains("not pre-registered"), "{text}");
}

fn review_json(fx: &Fixture, now: &str) -> Value {
    json_at(
        fx,
        now,
        &[
            "experiment",
            "review",
            "Faster releases",
            "--data-complete",
            "--power-simulations",
            "0",
            "--format",
            "json",
        ],
    )
}

#[test]
fn review_tests_the_primary_metric_chosen_at_the_start() {
    // Four deployments a week before, seven after: significant alone (p about 0.02), not after
    // Holm's adjustment over the metrics tested together.
    let fx = history((4, 7));
    start_faster_releases(&fx);
    let list = json_at(
        &fx,
        BEFORE_START,
        &["experiment", "list", "--format", "json"],
    );
    assert_eq!(list[0]["name"], "Faster releases");
    assert_eq!(list[0]["status"], "running");
    assert_eq!(list[0]["review_on"], "2026-06-08");
    assert_eq!(list[0]["registered_after_start"], false);
    assert_eq!(list[0]["edited"], false);
    // The practice change is an ordinary one: `practice list` and `impact` see it.
    let practices = fx.json(&["practice", "list", "--format", "json"]);
    assert_eq!(practices[0]["name"], "Faster releases");
    assert_eq!(practices[0]["capability"], "continuous-delivery");

    // `shiplog impact` over the same windows: every metric in one Holm family.
    let impact = fx.json(&[
        "impact",
        "Faster releases",
        "--before",
        "84d",
        "--transition",
        "14d",
        "--after",
        "84d",
        "--until",
        "2026-06-10",
        "--data-complete",
        "--power-simulations",
        "0",
        "--format",
        "json",
    ]);
    let freq = &impact["metrics"][0];
    assert_eq!(freq["metric"], "deployment_frequency");
    let effect = &freq["effect"];
    let p = effect["p_value"].as_f64().expect("p");
    assert!(p < 0.05, "{effect}");
    assert!(
        effect["p_adjusted"].as_f64().expect("adjusted") >= 0.05,
        "{effect}"
    );
    assert!(
        effect["tested_together"].as_u64().expect("family") >= 3,
        "{effect}"
    );
    assert_eq!(freq["verdict"], "no-detectable-change");
    assert!(
        effect.get("family").is_none(),
        "the default output is unchanged: {effect}"
    );

    // Early: provisional, cannot tell yet, and recorded as such.
    let early = review_json(&fx, EARLY);
    assert_eq!(early["due"], false);
    assert_eq!(early["provisional"], true);
    assert_eq!(early["outcome"], "cannot-tell-yet");
    let early_text = ok_at(
        &fx,
        EARLY,
        &[
            "experiment",
            "review",
            "Faster releases",
            "--data-complete",
            "--power-simulations",
            "0",
        ],
    );
    assert!(
        early_text.contains(
            "PROVISIONAL: reviewed as of 2026-04-20, before the review date (2026-06-08)"
        ),
        "{early_text}"
    );
    let list = json_at(&fx, EARLY, &["experiment", "list", "--format", "json"]);
    assert_eq!(list[0]["status"], "running");
    assert_eq!(list[0]["reviews"][0]["provisional"], true);

    // Due: the pre-registered primary is tested at the full alpha, and the effect is reached.
    let list = json_at(&fx, DUE, &["experiment", "list", "--format", "json"]);
    assert_eq!(list[0]["status"], "due-for-review");
    let review = review_json(&fx, DUE);
    assert_eq!(review["due"], true);
    assert_eq!(
        review["outcome"], "reached",
        "{:#}\n{:#}",
        review["primary"], review["impact"]["metrics"][0]
    );
    let primary = &review["primary"][0];
    assert_eq!(primary["expectation"], "deployment_frequency +50%");
    assert_eq!(primary["outcome"], "reached");
    assert_eq!(primary["reason"], "confirmed");
    assert_eq!(primary["verdict"], "improved");
    assert_eq!(primary["p_value"], primary["p_adjusted"]);
    assert_eq!(primary["tested_together"], 1);
    assert_eq!(primary["p_value"].as_f64(), Some(p));
    let freq = &review["impact"]["metrics"][0];
    assert_eq!(freq["effect"]["family"], "primary");
    // The others are secondary: Holm among themselves.
    for m in review["secondary"].as_array().expect("secondary") {
        assert_ne!(m["metric"], "deployment_frequency");
    }
    let lead = &review["impact"]["metrics"][1];
    assert_eq!(lead["effect"]["family"], "secondary", "{lead}");

    let list = json_at(&fx, DUE, &["experiment", "list", "--format", "json"]);
    assert_eq!(list[0]["status"], "judged");
    let reviews = list[0]["reviews"].as_array().expect("reviews");
    assert_eq!(
        reviews.len(),
        3,
        "two early reviews and the final one: {reviews:?}"
    );
    assert_eq!(reviews[2]["outcome"], "reached");
    assert_eq!(reviews[2]["provisional"], false);
    let table = ok_at(&fx, DUE, &["experiment", "list"]);
    assert!(
        table.contains("Faster releases  [judged]  from 2026-03-02 to 2026-06-08"),
        "{table}"
    );
    assert!(table.contains("last review: 2026-06-10 reached"), "{table}");
    let csv = ok_at(&fx, DUE, &["experiment", "list", "--format", "csv"]);
    assert!(
        csv.starts_with("name,status,started_on,review_on,hypothesis,version,"),
        "{csv}"
    );
    assert!(csv.contains("Faster releases,judged,2026-03-02,2026-06-08,deployment_frequency +50%,1,false,false,2026-06-10 reached"), "{csv}");
}

#[test]
fn an_edited_hypothesis_is_shown_as_edited() {
    let fx = history((4, 7));
    start_faster_releases(&fx);
    let out = at(
        &fx,
        "2026-03-10T09:00:00Z",
        &[
            "experiment",
            "edit",
            "Faster releases",
            "--expect",
            "deployment_frequency +30%",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("hypothesis version 2 recorded"), "{stderr}");
    assert!(stderr.contains("after the experiment started"), "{stderr}");
    // The same hypothesis again is not a new version.
    let again = at(
        &fx,
        "2026-03-11T09:00:00Z",
        &[
            "experiment",
            "edit",
            "Faster releases",
            "--expect",
            "deployment_frequency +30%",
        ],
    );
    assert!(!again.status.success());

    let list = json_at(&fx, DUE, &["experiment", "list", "--format", "json"]);
    assert_eq!(list[0]["version"], 2);
    assert_eq!(list[0]["edited"], true);
    assert_eq!(list[0]["edited_after_start"], true);
    let edit = &list[0]["edits"][0];
    assert_eq!(edit["version"], 2);
    assert_eq!(edit["written_at"], "2026-03-10T09:00:00Z");
    assert_eq!(edit["after_start"], true);
    assert_eq!(edit["old"], "deployment_frequency +50%; for 98 days");
    assert_eq!(edit["new"], "deployment_frequency +30%; for 98 days");
    let table = ok_at(&fx, DUE, &["experiment", "list"]);
    assert!(
        table.contains("EDITED AFTER THE START on 2026-03-10 (v2)"),
        "{table}"
    );

    let text = ok_at(
        &fx,
        DUE,
        &[
            "experiment",
            "review",
            "Faster releases",
            "--data-complete",
            "--power-simulations",
            "0",
        ],
    );
    assert!(
        text.contains("EDITED AFTER THE START: version 2 written on 2026-03-10 replaced version 1 (deployment_frequency +50%; for 98 days) with: deployment_frequency +30%; for 98 days."),
        "{text}"
    );
    assert!(
        text.contains("This review uses the latest version (2)."),
        "{text}"
    );
    // The Markdown view, with the power for the expected size simulated.
    let markdown = ok_at(
        &fx,
        DUE,
        &[
            "experiment",
            "review",
            "Faster releases",
            "--data-complete",
            "--power-simulations",
            "20",
            "--format",
            "markdown",
        ],
    );
    assert!(
        markdown.starts_with("## Experiment \"Faster releases\" on api — started 2026-03-02, review date 2026-06-08\n"),
        "{markdown}"
    );
    assert!(
        markdown.contains("**Edited after the start:** version 2"),
        "{markdown}"
    );
    assert!(markdown.contains("power for +30%: "), "{markdown}");
    assert!(
        markdown.contains("## Impact of \"Faster releases\""),
        "{markdown}"
    );
    let review = review_json(&fx, DUE);
    assert_eq!(review["hypothesis"]["version"], 2);
    assert_eq!(
        review["primary"][0]["expectation"],
        "deployment_frequency +30%"
    );
    assert_eq!(review["edits"][0]["after_start"], true);
}

#[test]
fn bad_expectations_and_durations_name_the_flag() {
    let fx = Fixture::build("basic");
    let fails = |args: &[&str]| {
        let out = fx.fails(args);
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let base = [
        "experiment",
        "start",
        "X",
        "--on",
        "2026-03-02",
        "--for",
        "8w",
    ];
    let with = |extra: &[&str]| {
        let mut args: Vec<&str> = base.to_vec();
        args.extend(extra);
        fails(&args)
    };
    let err = with(&["--expect", "change_lead_time"]);
    assert!(err.contains("--expect \"change_lead_time\""), "{err}");
    assert!(err.contains("expected METRIC CHANGE"), "{err}");
    let err = with(&["--expect", "speed -30%"]);
    assert!(err.contains("--expect \"speed -30%\""), "{err}");
    assert!(err.contains("unknown metric \"speed\""), "{err}");
    let err = with(&["--expect", "change_lead_time 30%"]);
    assert!(err.contains("expected a signed change"), "{err}");
    let err = with(&["--expect", "change_lead_time -5pp"]);
    assert!(
        err.contains("change_lead_time is a ratio: give its expected change in percent"),
        "{err}"
    );
    let err = with(&["--expect", "change_fail_rate -50%"]);
    assert!(err.contains("percentage points, e.g. -5pp"), "{err}");
    let err = with(&[
        "--expect",
        "lead_time -30%",
        "--expect",
        "change_lead_time -20%",
    ]);
    assert!(err.contains("change_lead_time is expected twice"), "{err}");
    let err = fails(&[
        "experiment",
        "start",
        "X",
        "--on",
        "2026-03-02",
        "--for",
        "1w",
        "--expect",
        "change_lead_time -30%",
    ]);
    assert!(err.contains("--for \"1w\""), "{err}");
    assert!(err.contains("longer than the transition"), "{err}");
    let err = fails(&[
        "experiment",
        "start",
        "X",
        "--on",
        "2026-03-02",
        "--for",
        "36h",
        "--expect",
        "change_lead_time -30%",
    ]);
    assert!(err.contains("--for: expected whole days or weeks"), "{err}");
    let err = fails(&[
        "experiment",
        "start",
        "X",
        "--on",
        "2026-03-02",
        "--for",
        "8w",
    ]);
    assert!(err.contains("--expect"), "{err}");
    // Nothing was recorded by the refusals; a good start is, once.
    assert_eq!(
        fx.json(&["experiment", "list", "--format", "json"]),
        serde_json::json!([])
    );
    let mut good = base.to_vec();
    good.extend(["--expect", "change_lead_time -30%"]);
    fx.ok(&good);
    let err = fails(&good);
    assert!(err.contains("experiment \"X\" exists"), "{err}");
    assert!(err.contains("shiplog experiment edit"), "{err}");
    let err = fails(&["experiment", "review", "Nope"]);
    assert!(err.contains("no experiment is named \"Nope\""), "{err}");
}

fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::cargo_bin("shiplog")
        .expect("binary")
        .args(args)
        .current_dir(dir)
        .env_remove("SHIPLOG_DB")
        .env_remove("SHIPLOG_NOW")
        .env("NO_COLOR", "1")
        .output()
        .expect("run shiplog")
}

#[test]
fn the_demo_experiment_is_reached_on_the_treated_services() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = run_in(
        dir.path(),
        &["demo", "--quiet", "--end", "2026-11-25", "demo"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("shiplog experiment review \"Small daily deployments\" --until 2026-11-26"),
        "{stdout}"
    );
    let repo = dir.path().join("demo");
    let list = run_in(&repo, &["experiment", "list", "--format", "json"]);
    let list: Value = serde_json::from_slice(&list.stdout).expect("json");
    assert_eq!(list[0]["name"], "Small daily deployments");
    assert_eq!(list[0]["registered_after_start"], false);
    let out = run_in(
        &repo,
        &[
            "experiment",
            "review",
            "Small daily deployments",
            "--until",
            "2026-11-26",
            "--power-simulations",
            "0",
            "--format",
            "json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let review: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        review["impact"]["services"],
        serde_json::json!(["api", "web"])
    );
    assert_eq!(
        review["impact"]["comparison_services"],
        serde_json::json!(["billing"])
    );
    assert_eq!(review["due"], true);
    assert_eq!(review["outcome"], "reached", "{review:#}");
    for p in review["primary"].as_array().expect("primary") {
        assert_eq!(p["outcome"], "reached", "{p}");
        assert_eq!(p["tested_together"], 2, "{p}");
    }
}

#[test]
fn an_effect_the_data_rule_out_is_not_reached() {
    // Five deployments a week throughout: a tripling was expected, and the interval rules it out.
    let fx = history((5, 5));
    let out = at(
        &fx,
        BEFORE_START,
        &[
            "experiment",
            "start",
            "Faster releases",
            "--on",
            "2026-03-02",
            "--for",
            "14w",
            "--before",
            "12w",
            "--service",
            "api",
            "--expect",
            "deployment_frequency +200%",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let review = review_json(&fx, DUE);
    assert_eq!(review["outcome"], "not-reached", "{:#}", review["primary"]);
    assert_eq!(review["primary"][0]["reason"], "ruled-out");
    assert_eq!(review["primary"][0]["verdict"], "no-detectable-change");
    let list = json_at(&fx, DUE, &["experiment", "list", "--format", "json"]);
    assert_eq!(list[0]["status"], "judged");
    assert_eq!(list[0]["reviews"][0]["outcome"], "not-reached");
    assert_eq!(list[0]["start_moved"], Value::Null);

    // Moving the practice change's date after registration is shown, never silent.
    fx.ok(&[
        "practice",
        "start",
        "Faster releases",
        "--on",
        "2026-03-09",
        "--service",
        "api",
    ]);
    let list = json_at(&fx, DUE, &["experiment", "list", "--format", "json"]);
    assert_eq!(list[0]["started_on"], "2026-03-09");
    assert_eq!(list[0]["start_moved"]["registered"], "2026-03-02");
    assert_eq!(list[0]["start_moved"]["practice_change"], "2026-03-09");
    let table = ok_at(&fx, DUE, &["experiment", "list"]);
    assert!(
        table.contains("START MOVED: the hypothesis was registered for a start on 2026-03-02; the practice change now starts on 2026-03-09"),
        "{table}"
    );
}
