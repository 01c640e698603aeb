//! End-to-end: vendor payloads (GitHub, GitLab, PagerDuty, CDEvents) imported by the real binary
//! into a real SQLite store over the `basic` fixture repository. Payloads are read from
//! `shared/payloads` beside the project; where a commit must resolve, a copy with the fixture's
//! commit written in is made in the test's temporary directory.

mod common;

use std::path::{Path, PathBuf};

use common::Fixture;
use serde_json::{Value, json};

fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/payloads")
        .join(rel)
}

fn read_json(rel: &str) -> Value {
    let path = shared(rel);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Writes `value` as `name` in the fixture's temporary directory; returns the path as text.
fn write(fx: &Fixture, name: &str, value: &Value) -> String {
    let path = fx.dir.path().join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(value).expect("json")).expect("write");
    path.to_str().expect("utf-8 path").to_owned()
}

/// The stored deployments (2019 to 2025), as `explain deployments` lists them.
fn deployments(fx: &Fixture) -> Vec<Value> {
    fx.json(&[
        "explain",
        "deployments",
        "--since",
        "2019-01-01",
        "--until",
        "2026-01-01",
        "--format",
        "json",
    ])
    .as_array()
    .expect("array")
    .clone()
}

fn path(rel: &str) -> String {
    shared(rel).to_str().expect("utf-8 path").to_owned()
}

/// The fixture's payload copies: a GitHub deployment of c4, a GitLab deployment of c5, the merged
/// pull request, and the GitHub issue labelled "bug".
fn copies(fx: &Fixture) -> Vec<String> {
    let c4 = fx.rev("v1.2.0^{commit}");
    let c5 = fx.rev("v1.3.0^{commit}");
    let mut github = read_json("github/deployment_status_payload.json");
    github["deployment"]["sha"] = json!(c4);
    let mut gitlab = read_json("gitlab/deployment_hook.success.zulip-fixture.json");
    gitlab["commit_url"] = json!(format!(
        "https://gitlab.com/vedant8600317/test/-/commit/{c5}"
    ));
    vec![
        write(fx, "github-deployment.json", &github),
        write(fx, "gitlab-deployment.json", &gitlab),
    ]
}

#[test]
fn importing_the_same_files_twice_changes_nothing() {
    let fx = Fixture::build("basic");
    let mut files = copies(&fx);
    files.extend([
        path("github/pull_request_closed_merged.DERIVED.json"),
        path("github/issues_labeled.json"),
        path("github/push_payload.json"),
        path("pagerduty/incident.triggered.v3.zulip-fixture.json"),
        path("pagerduty/incident.resolved.v3.zulip-fixture.json"),
        path("cdevents/incident_detected.cloudevents-http-binary.CONSTRUCTED.http"),
        path("cdevents/v0.5.1/incident_resolved.json"),
        path("gitlab/merge_request_hook.open.docs-example.json"),
    ]);
    // The recorded payloads finished years before the fixture's commits.
    let mut args = vec!["import", "--allow-before-commit", "--incident-label", "bug"];
    args.extend(files.iter().map(String::as_str));
    let first = fx.ok_stderr(&args);
    assert!(
        first.contains(
            "imported deployments: 2 new, 0 updated, 0 unchanged; incidents: 4 new, 0 updated, 0 unchanged; pull requests: 2 new, 0 updated, 0 unchanged"
        ),
        "{first}"
    );
    assert!(
        first.contains("skipped ") && first.contains("github/push_payload.json: $: GitHub push: commits are read from the repository itself, so a push adds nothing"),
        "skips are noted: {first}"
    );
    let second = fx.ok_stderr(&args);
    assert!(
        second.contains(
            "imported deployments: 0 new, 0 updated, 2 unchanged; incidents: 0 new, 0 updated, 4 unchanged; pull requests: 0 new, 0 updated, 2 unchanged"
        ),
        "{second}"
    );

    let deployments = deployments(&fx);
    let ids: Vec<&str> = deployments
        .iter()
        .map(|d| d["id"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        ids,
        [
            "github:Codertocat/Hello-World:deployment:145988746",
            "gitlab:deployment:988572802"
        ]
    );
}

#[test]
fn a_resolution_after_a_trigger_updates_only_the_resolution() {
    let fx = Fixture::build("basic");
    let first = fx.ok_stderr(&[
        "import",
        &path("pagerduty/incident.triggered.v3.zulip-fixture.json"),
    ]);
    assert!(
        first.contains("incidents: 1 new, 0 updated, 0 unchanged"),
        "{first}"
    );
    // The recorded resolution belongs to another incident: point it at the triggered one.
    let mut resolved = read_json("pagerduty/incident.resolved.v3.zulip-fixture.json");
    resolved["event"]["data"]["id"] = json!("PFQZPSY");
    resolved["event"]["data"]["title"] = json!("Test Incident 3");
    resolved["event"]["occurred_at"] = json!("2021-06-04T14:05:00Z");
    let file = write(&fx, "resolved.json", &resolved);
    let second = fx.ok_stderr(&["import", &file]);
    assert!(
        second.contains("incidents: 0 new, 1 updated, 0 unchanged"),
        "{second}"
    );
    let again = fx.ok_stderr(&["import", &file]);
    assert!(
        again.contains("incidents: 0 new, 0 updated, 1 unchanged"),
        "{again}"
    );

    let incidents = fx.json(&[
        "explain",
        "incidents",
        "--deploys",
        "tags",
        "--service",
        "pig208",
        "--since",
        "2021-06-01",
        "--until",
        "2021-07-01",
        "--format",
        "json",
    ]);
    let list = incidents.as_array().expect("array");
    assert_eq!(list.len(), 1, "{incidents}");
    assert_eq!(list[0]["id"], "pagerduty:PFQZPSY");
    assert_eq!(list[0]["opened_at"], "2021-06-04T13:35:29.781Z");
    assert_eq!(list[0]["resolved_at"], "2021-06-04T14:05:00Z");
    assert_eq!(list[0]["title"], "Test Incident 3");
}

/// PagerDuty pages for an outage and a GitHub incident issue links to the page.
fn outage_files(fx: &Fixture, link: bool) -> Vec<String> {
    let mut issue = read_json("github/issues_labeled.json");
    issue["issue"]["labels"][0]["name"] = json!("incident");
    issue["issue"]["created_at"] = json!("2021-06-04T13:40:00Z");
    issue["issue"]["updated_at"] = json!("2021-06-04T13:40:00Z");
    if link {
        issue["issue"]["body"] = json!("Paged at https://pig208.pagerduty.com/incidents/PFQZPSY");
    }
    vec![
        write(fx, "issue.json", &issue),
        path("pagerduty/incident.triggered.v3.zulip-fixture.json"),
    ]
}

fn incident_total(fx: &Fixture) -> u64 {
    let metrics = fx.json(&[
        "metrics",
        "--deploys",
        "tags",
        "--service",
        "pig208",
        "--since",
        "2021-06-01",
        "--until",
        "2021-07-01",
        "--format",
        "json",
    ]);
    metrics["incidents"]["total"]
        .as_u64()
        .expect("incidents.total")
}

#[test]
fn one_outage_reported_by_two_sources_counts_once() {
    let fx = Fixture::build("basic");
    let files = outage_files(&fx, true);
    // The issue first: its link names an incident not stored yet, then the page arrives.
    fx.ok(&["import", "--service", "pig208", &files[0]]);
    assert_eq!(incident_total(&fx), 1);
    fx.ok(&["import", &files[1]]);
    assert_eq!(incident_total(&fx), 1, "the issue duplicates the page");
    // Counted once, listed with the page: nothing is hidden.
    let window = ["--since", "2021-06-01", "--until", "2021-07-01"];
    let mut args = vec!["explain", "incidents", "--deploys", "tags"];
    args.extend(window);
    let table = fx.ok(&args);
    let listed = {
        args.extend(["--format", "json"]);
        fx.json(&args)
    };
    let listed = listed.as_array().expect("array");
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["id"], "pagerduty:PFQZPSY");
    assert_eq!(
        listed[0]["duplicates"],
        json!(["github:Codertocat/Hello-World:issue:1"])
    );
    assert!(
        table.contains("also reported as github:Codertocat/Hello-World:issue:1: counted once"),
        "{table}"
    );

    let control = Fixture::build("basic");
    let files = outage_files(&control, false);
    control.ok(&[
        "import",
        "--service",
        "Hello-World=pig208",
        &files[0],
        &files[1],
    ]);
    assert_eq!(
        incident_total(&control),
        2,
        "without a link they are two incidents"
    );
}

#[test]
fn a_bad_file_among_good_ones_stores_nothing() {
    let fx = Fixture::build("basic");
    let good = copies(&fx);
    let mut bad = read_json("pagerduty/incident.resolved.v3.zulip-fixture.json");
    bad["event"]["occurred_at"] = json!(1_622_812_613);
    let bad = write(&fx, "bad.json", &bad);
    let broken = fx.dir.path().join("broken.json");
    std::fs::write(&broken, b"{\"event\": {").expect("write");
    let broken = broken.to_str().expect("utf-8").to_owned();
    let out = fx.fails(&[
        "import",
        "--allow-before-commit",
        &good[0],
        &bad,
        &good[1],
        &broken,
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("import failed; nothing was stored"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "{bad}: $.event.occurred_at: expected an RFC 3339 timestamp (e.g. 2026-03-03T14:00:00Z), got the number 1622812613"
        )),
        "{stderr}"
    );
    // Broken JSON cannot say which vendor it is: the JSON Lines reader names the line.
    assert!(
        stderr.contains(&format!(
            "{broken}:1: not valid JSON: EOF while parsing an object at column 11"
        )),
        "{stderr}"
    );
    // Nothing was stored: the good files now import as new.
    let after = fx.ok_stderr(&["import", "--allow-before-commit", &good[0], &good[1]]);
    assert!(
        after.contains("deployments: 2 new, 0 updated, 0 unchanged"),
        "{after}"
    );
}

#[test]
fn standard_input_and_forced_formats() {
    let fx = Fixture::build("basic");
    let body =
        std::fs::read(shared("pagerduty/incident.triggered.v3.zulip-fixture.json")).expect("read");
    let mut cmd = fx.shiplog();
    cmd.args(["import", "-"]);
    let out = assert_cmd::Command::from_std(cmd)
        .write_stdin(body)
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("incidents: 1 new"));

    // Forcing the wrong format is an error naming the path, not a guess.
    let out = fx.fails(&[
        "import",
        "--from",
        "gitlab",
        &path("pagerduty/incident.triggered.v3.zulip-fixture.json"),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("incident.triggered.v3.zulip-fixture.json: $.object_kind: missing; expected a GitLab event kind (object_kind)"),
        "{stderr}"
    );
    // A vendor payload that names no commit explains where to put one.
    let out = fx.fails(&["import", &path("cdevents/v0.5.1/service_deployed.json")]);
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("or put the commit in customData.shiplog.sha")
    );
}

#[test]
fn with_deploy_releases_a_release_deploys_the_commit_its_tag_names() {
    let fx = Fixture::build("basic");
    let file = path("github/release_published.json");
    // Without the flag a release is skipped, with a note that says how to take it.
    let skipped = fx.ok_stderr(&["import", &file]);
    assert!(
        skipped.contains("GitHub release: not a deployment unless --deploy-releases is given"),
        "{skipped}"
    );
    // The recorded release's tag (0.0.1) is not in the repository: nothing is stored.
    let out = fx.fails(&["import", "--deploy-releases", &file]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("import failed; nothing was stored")
            && stderr.contains(&format!(
                "{file}: $.release: release \"0.0.1\" (github:Codertocat/Hello-World:release:17372790): no tag named \"0.0.1\" in the repository (hint: git fetch --tags)"
            )),
        "{stderr}"
    );
    let empty = fx.fails(&["explain", "deployments"]);
    assert!(
        String::from_utf8_lossy(&empty.stderr).contains("the store holds no deployments"),
        "nothing was stored"
    );

    // Tagged (annotated, as releases usually are): the release deploys the tagged commit at its
    // publication time.
    let c2 = fx.rev("v1.1.0^{commit}");
    fx.git(
        &["tag", "-a", "0.0.1", "-m", "0.0.1", &c2],
        "2019-05-15T15:19:25Z",
    );
    let stderr = fx.ok_stderr(&[
        "import",
        "--allow-before-commit",
        "--deploy-releases",
        &file,
    ]);
    assert!(stderr.contains("imported deployments: 1 new"), "{stderr}");
    let listed = deployments(&fx);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(
        listed[0]["id"],
        "github:Codertocat/Hello-World:release:17372790"
    );
    assert_eq!(listed[0]["sha"], c2.as_str());
    assert_eq!(listed[0]["finished_at"], "2019-05-15T15:20:53Z");
    assert_eq!(listed[0]["service"], "Hello-World");
    assert_eq!(listed[0]["environment"], "production");
    // Importing it again changes nothing.
    let again = fx.ok_stderr(&[
        "import",
        "--allow-before-commit",
        "--deploy-releases",
        &file,
    ]);
    assert!(
        again.contains("imported deployments: 0 new, 0 updated, 1 unchanged"),
        "{again}"
    );
}

#[test]
fn with_quiet_the_summary_line_still_counts_what_was_skipped_and_why() {
    let fx = Fixture::build("basic");
    let mut bot = read_json("github/pull_request_closed_merged.DERIVED.json");
    bot["action"] = json!("submitted");
    bot["review"] = json!({"id": 7, "user": {"login": "ci[bot]", "type": "Bot"}, "state": "commented", "submitted_at": "2019-05-15T15:21:00Z"});
    let files = [
        path("github/push_payload.json"),
        path("github/push_with-new-branch.json"),
        write(&fx, "bot-review.json", &bot),
    ];
    let mut args = vec!["--quiet", "import"];
    args.extend(files.iter().map(String::as_str));
    let stderr = fx.ok_stderr(&args);
    assert!(
        !stderr.contains("note:"),
        "--quiet hides the notes: {stderr}"
    );
    assert!(
        stderr.contains("pull requests: 1 new, 0 updated, 0 unchanged; skipped 3 (2 GitHub push, 1 written by a bot)"),
        "{stderr}"
    );
}

/// A PagerDuty REST incidents response (`{"incidents": [...]}`) is read one incident at a time, as
/// a top-level list is; a bad incident deep in it is named by its JSON path, and nothing is stored.
#[test]
fn a_wrapped_incidents_list_is_read_item_by_item_and_names_a_bad_item() {
    let fx = Fixture::build("basic");
    let mut incident =
        read_json("pagerduty/incident.resolved.v3.zulip-fixture.json")["event"]["data"].clone();
    incident["created_at"] = json!("2021-06-04T13:00:00Z");
    incident["last_status_change_at"] = json!("2021-06-04T14:00:00Z");
    incident["status"] = json!("resolved");
    let mut items = Vec::new();
    for n in 1..=3 {
        let mut item = incident.clone();
        item["id"] = json!(format!("PLIST{n}"));
        item["incident_number"] = json!(n);
        items.push(item);
    }
    let good = write(
        &fx,
        "incidents.json",
        &json!({"limit": 25, "incidents": items.clone(), "more": false}),
    );
    let out = fx.ok_stderr(&["import", "--from", "pagerduty", &good]);
    assert!(out.contains("3 new"), "{out}");
    let listed = fx.json(&[
        "explain",
        "incidents",
        "--since",
        "2021-06-01",
        "--until",
        "2021-07-01",
        "--format",
        "json",
        "--allow-unknown",
    ]);
    let ids: Vec<&str> = listed
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|i| i["id"].as_str())
        .collect();
    assert_eq!(
        ids,
        ["pagerduty:PLIST1", "pagerduty:PLIST2", "pagerduty:PLIST3"]
    );

    items[1]["status"] = json!("exploded");
    items[2]["id"] = json!("PLIST9");
    let bad = write(
        &fx,
        "bad-incidents.json",
        &json!({"incidents": items, "more": false}),
    );
    let failed = fx.fails(&["import", "--from", "pagerduty", &bad]);
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(
        stderr.contains("bad-incidents.json: $.incidents[1].status"),
        "{stderr}"
    );
    let listed = fx.json(&[
        "explain",
        "incidents",
        "--since",
        "2021-06-01",
        "--until",
        "2021-07-01",
        "--format",
        "json",
        "--allow-unknown",
    ]);
    assert_eq!(
        listed.as_array().expect("array").len(),
        3,
        "a failed import stored something"
    );
}

/// A vendor deployment that finished before its commit is refused naming the file and the JSON
/// path it came from, as a JSON Lines one names its line.
#[test]
fn a_vendor_deployment_before_its_commit_names_its_file_and_path() {
    let fx = Fixture::build("basic");
    let c7 = fx.rev("v1.4.0^{commit}");
    let mut payload = read_json("github/deployment_status_payload.json");
    payload["deployment"]["sha"] = json!(c7);
    for field in ["created_at", "updated_at"] {
        payload["deployment_status"][field] = json!("1970-01-01T00:00:00Z");
        payload["deployment"][field] = json!("1970-01-01T00:00:00Z");
    }
    let file = write(&fx, "early.json", &payload);
    let failed = fx.fails(&["import", "--from", "github", &file]);
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(
        stderr.contains("early.json: $: deployment ")
            && stderr.contains("before its commit's committer time"),
        "{stderr}"
    );
}
