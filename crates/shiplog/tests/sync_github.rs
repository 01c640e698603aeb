//! End-to-end: `shiplog sync github` (the real binary) against a fake GitHub REST API on 127.0.0.1
//! (`shiplog_sync::test_server`) that serves items built from GitHub's recorded payloads in
//! `shared/payloads/github`, with the `basic` fixture repository's commits written in where they
//! must resolve, into a real SQLite store. The server records every request, so the tests assert
//! what the binary sent.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::Fixture;
use serde_json::Value;
use shiplog_sync::test_server::{FakeGitHub, Request, Trouble, items};

const TOKEN: &str = "ghp_e2e_secret_7f3a9c";
const REPO: &str = "/repos/Codertocat/Hello-World";

fn payloads() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/payloads/github")
}

/// `shiplog sync github Codertocat/Hello-World --base-url <server> ARGS` with `token` (none: no
/// GITHUB_TOKEN), isolated from the environment: no proxy, no GitHub Actions variables, and no
/// `gh` on the PATH.
fn sync(fx: &Fixture, server: &FakeGitHub, token: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = fx.shiplog();
    cmd.args(["sync", "github", items::REPOSITORY, "--base-url"])
        .arg(server.base_url())
        .args(args);
    for var in [
        "GITHUB_TOKEN",
        "GH_TOKEN",
        "GITHUB_API_URL",
        "GITHUB_REPOSITORY",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("PATH", fx.dir.path().join("no-gh-here"));
    if let Some(token) = token {
        cmd.env("GITHUB_TOKEN", token);
    }
    let out = cmd.output().expect("run shiplog");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!text.contains(TOKEN), "the token was printed: {text}");
    out
}

fn ok(fx: &Fixture, server: &FakeGitHub, args: &[&str]) -> String {
    let out = sync(fx, server, Some(TOKEN), args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "sync failed: {stderr}");
    stderr
}

fn fails(fx: &Fixture, server: &FakeGitHub, token: Option<&str>, args: &[&str]) -> String {
    let out = sync(fx, server, token, args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "expected exit 1: {stderr}");
    stderr
}

/// What the fake GitHub holds: five merged pull requests (two a page: three pages) merged as the
/// fixture's last five commits, each reviewed by someone else after a review by its author, #1
/// commented by its author, #2 commented on its diff by someone else; a
/// successful deployment of v1.2.0's commit and a failed one of v1.3.0's; a release; two incident
/// issues, one closed.
fn serve(fx: &Fixture, server: &FakeGitHub) {
    let dir = payloads();
    let pulls = (1..=5u64)
        .rev()
        .map(|n| {
            let sha = fx.rev(&format!("HEAD~{}", n - 1));
            items::pull(
                &dir,
                n,
                &format!("2026-01-1{n}T12:00:00Z"),
                Some((&sha, &format!("2026-01-1{n}T12:00:00Z"))),
            )
        })
        .collect();
    server.list_paged(&format!("{REPO}/pulls"), pulls, 2);
    for n in 1..=5 {
        server.list(
            &format!("{REPO}/pulls/{n}/reviews"),
            vec![
                items::review(&dir, 100 + n, n, true, &format!("2026-01-1{n}T09:00:00Z")),
                items::review(&dir, 200 + n, n, false, &format!("2026-01-1{n}T10:00:00Z")),
            ],
        );
    }
    server.list(
        &format!("{REPO}/issues/comments"),
        vec![items::comment(
            &dir,
            301,
            1,
            true,
            "author",
            "2026-01-11T08:00:00Z",
        )],
    );
    server.list(
        &format!("{REPO}/pulls/comments"),
        vec![items::review_comment(
            &dir,
            401,
            2,
            "reviewer",
            "2026-01-12T09:30:00Z",
        )],
    );
    let c4 = fx.rev("v1.2.0^{commit}");
    let c5 = fx.rev("v1.3.0^{commit}");
    server.list(
        &format!("{REPO}/deployments"),
        vec![
            items::deployment(&dir, 12, &c5, "2026-01-09T09:30:00Z"),
            items::deployment(&dir, 11, &c4, "2026-01-08T09:30:00Z"),
        ],
    );
    server.list(
        &format!("{REPO}/deployments/12/statuses"),
        vec![
            items::status(&dir, 12, 2, "failure", "2026-01-09T09:35:00Z"),
            items::status(&dir, 12, 1, "in_progress", "2026-01-09T09:31:00Z"),
        ],
    );
    server.list(
        &format!("{REPO}/deployments/11/statuses"),
        vec![items::status(
            &dir,
            11,
            3,
            "success",
            "2026-01-08T09:35:00Z",
        )],
    );
    server.list(
        &format!("{REPO}/releases"),
        vec![items::release(&dir, 7, "v1.2.0", "2026-01-08T09:00:00Z")],
    );
    server.list(
        &format!("{REPO}/issues"),
        vec![
            items::issue(
                &dir,
                41,
                "incident",
                "2026-01-09T12:00:00Z",
                "2026-01-09T12:00:00Z",
                None,
            ),
            items::issue(
                &dir,
                40,
                "incident",
                "2026-01-08T11:00:00Z",
                "2026-01-08T12:00:00Z",
                Some("2026-01-08T12:00:00Z"),
            ),
        ],
    );
}

fn explain(fx: &Fixture, what: &str) -> Vec<Value> {
    fx.json(&[
        "explain",
        what,
        "--since",
        "2026-01-01",
        "--until",
        "2026-02-01",
        "--format",
        "json",
    ])
    .as_array()
    .expect("a JSON array")
    .clone()
}

fn short(requests: &[Request]) -> Vec<String> {
    requests
        .iter()
        .map(|r| {
            let page = r
                .param("page")
                .map(|p| format!(" page {p}"))
                .unwrap_or_default();
            format!("{}{page}", r.path.trim_start_matches(REPO))
        })
        .collect()
}

#[test]
fn with_deploy_releases_a_synced_release_deploys_its_tag() {
    let fx = Fixture::build("basic");
    let server = FakeGitHub::start(TOKEN);
    serve(&fx, &server);
    let stderr = ok(&fx, &server, &["--deploy-releases"]);
    assert!(
        stderr.contains("synced deployments: 3 new, 0 updated, 0 unchanged"),
        "{stderr}"
    );
    let deployments = explain(&fx, "deployments");
    let release = deployments
        .iter()
        .find(|d| d["id"] == "github:Codertocat/Hello-World:release:7")
        .unwrap_or_else(|| panic!("the release is a deployment: {deployments:?}"));
    // v1.2.0 is an annotated tag: the release deploys the commit it names.
    assert_eq!(release["sha"], fx.rev("v1.2.0^{commit}"));
    assert_eq!(release["finished_at"], "2026-01-08T09:00:00Z");
    assert_eq!(release["status"], "success");
}

#[test]
fn a_sync_stores_every_page_and_the_next_one_asks_only_for_changes() {
    let fx = Fixture::build("basic");
    let server = FakeGitHub::start(TOKEN);
    serve(&fx, &server);

    let first = ok(&fx, &server, &[]);
    assert!(
        first.contains("fetched pull requests: 5, reviews: 10, comments: 1, review comments: 1, deployments: 2, deployment statuses: 3, releases: 1, issues labelled incident: 2 (15 requests)"),
        "{first}"
    );
    assert!(
        first.contains("synced deployments: 2 new, 0 updated, 0 unchanged; incidents: 2 new, 0 updated, 0 unchanged; pull requests: 5 new, 0 updated, 0 unchanged"),
        "{first}"
    );
    assert!(
        first.contains("skipped /repos/Codertocat/Hello-World/releases: $[0]: GitHub release: not a deployment unless --deploy-releases is given"),
        "{first}"
    );
    let requests = server.requests();
    assert_eq!(
        short(&requests)[..3],
        ["/pulls", "/pulls page 2", "/pulls page 3"],
        "every page, through the Link headers"
    );
    assert_eq!(requests.len(), 15);
    for r in &requests {
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        assert_eq!(r.header("accept"), Some("application/vnd.github+json"));
        assert_eq!(r.header("x-github-api-version"), Some("2022-11-28"));
        assert_eq!(
            r.header("user-agent"),
            Some(format!("shiplog/{}", env!("CARGO_PKG_VERSION")).as_str())
        );
    }

    let deployments = explain(&fx, "deployments");
    let ids: Vec<(&str, &str)> = deployments
        .iter()
        .map(|d| {
            (
                d["id"].as_str().unwrap_or_default(),
                d["status"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        ids,
        [
            ("github:Codertocat/Hello-World:deployment:11", "success"),
            ("github:Codertocat/Hello-World:deployment:12", "failure"),
        ],
        "{deployments:?}"
    );
    assert_eq!(deployments[0]["sha"], fx.rev("v1.2.0^{commit}"));
    let incidents = explain(&fx, "incidents");
    let incidents: Vec<(&str, &Value)> = incidents
        .iter()
        .map(|i| (i["id"].as_str().unwrap_or_default(), &i["resolved_at"]))
        .collect();
    assert_eq!(
        incidents,
        [
            (
                "github:Codertocat/Hello-World:issue:40",
                &Value::from("2026-01-08T12:00:00Z")
            ),
            ("github:Codertocat/Hello-World:issue:41", &Value::Null),
        ]
    );

    // Nothing changed: the first pages answer 304, the issues are asked `since` the last sync.
    server.clear_requests();
    let second = ok(&fx, &server, &[]);
    assert!(
        second.contains(
            "nothing changed on GitHub since the last sync: 6 requests, 3 answered 304 Not Modified"
        ),
        "{second}"
    );
    assert!(
        second.contains("synced deployments: 0 new, 0 updated, 0 unchanged; incidents: 0 new, 0 updated, 0 unchanged"),
        "{second}"
    );
    let requests = server.requests();
    assert_eq!(
        short(&requests),
        [
            "/pulls",
            "/issues/comments",
            "/pulls/comments",
            "/deployments",
            "/releases",
            "/issues"
        ]
    );
    for r in &requests {
        assert!(r.header("if-none-match").is_some(), "{r:?}");
    }
    for r in [&requests[1], &requests[2], &requests[5]] {
        assert!(r.param("since").is_some(), "{r:?}");
    }

    // The open incident is resolved on GitHub: the next sync updates just that record.
    let now = jiff::Timestamp::now().to_string();
    server.list(
        &format!("{REPO}/issues"),
        vec![items::issue(
            &payloads(),
            41,
            "incident",
            "2026-01-09T12:00:00Z",
            &now,
            Some(&now),
        )],
    );
    let third = ok(&fx, &server, &[]);
    assert!(
        third.contains(
            "fetched issues labelled incident: 1 (6 requests, 5 answered 304 Not Modified)"
        ) && third.contains("incidents: 0 new, 1 updated, 0 unchanged"),
        "{third}"
    );
    let resolved = explain(&fx, "incidents");
    assert!(resolved[1]["resolved_at"].is_string(), "{resolved:?}");
}

#[test]
fn a_rate_limit_is_waited_out_and_said() {
    let fx = Fixture::build("basic");
    let server = FakeGitHub::start(TOKEN);
    serve(&fx, &server);
    // 403 with X-RateLimit-Remaining: 0 and a reset at the next whole second: a real wait of
    // under a second.
    server.trouble(&format!("{REPO}/deployments"), Trouble::RateLimited);
    let stderr = ok(&fx, &server, &[]);
    assert!(
        stderr.contains("note: GitHub's rate limit is used up until 20")
            && stderr.contains("then going on"),
        "{stderr}"
    );
    assert!(stderr.contains("deployments: 2 new"), "{stderr}");
    let deployments = short(&server.requests())
        .into_iter()
        .filter(|p| p == "/deployments")
        .count();
    assert_eq!(deployments, 2, "asked again after the wait");
}

#[test]
fn a_wait_beyond_max_wait_stops_the_sync_and_stores_nothing() {
    let fx = Fixture::build("basic");
    let server = FakeGitHub::start(TOKEN);
    serve(&fx, &server);
    server.trouble(&format!("{REPO}/releases"), Trouble::RateLimitedFor(3600));
    let stderr = fails(&fx, &server, Some(TOKEN), &["--max-wait", "10m"]);
    assert!(
        stderr.contains("error: GitHub's rate limit for this token is used up until 20")
            && stderr.contains("is longer than the maximum wait of 10m"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: run the same command again later (nothing was stored, so nothing is lost), or allow a longer wait with --max-wait"),
        "{stderr}"
    );
    // Nothing was stored, not even the cursors: the next sync is a first sync again.
    server.clear_requests();
    let again = ok(&fx, &server, &[]);
    assert!(again.contains("pull requests: 5 new"), "{again}");
    assert!(
        server
            .requests()
            .iter()
            .all(|r| r.header("if-none-match").is_none())
    );

    let stderr = fails(&fx, &server, Some(TOKEN), &["--max-wait", "soon"]);
    assert!(
        stderr.contains("error: --max-wait: expected a duration like 90s, 15m or 1h, got \"soon\""),
        "{stderr}"
    );
}

#[test]
fn token_problems_exit_1_with_a_hint_and_never_show_the_token() {
    let fx = Fixture::build("basic");
    let server = FakeGitHub::start(TOKEN);
    serve(&fx, &server);

    let stderr = fails(&fx, &server, Some("ghp_not_the_right_one"), &[]);
    assert!(
        stderr.contains(&format!(
            "error: GitHub rejected the token (401 Bad credentials) at {}/repos/Codertocat/Hello-World/pulls?",
            server.base_url()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "hint: the token (GITHUB_TOKEN, else `gh auth token`) is wrong, expired or revoked"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("ghp_not_the_right_one"), "{stderr}");

    server.clear_requests();
    let stderr = fails(&fx, &server, None, &[]);
    assert!(
        stderr.contains("error: no GitHub token: GITHUB_TOKEN is not set, and `gh auth token` gave none for 127.0.0.1")
            && stderr.contains("hint: set GITHUB_TOKEN to a token that can read the repository"),
        "{stderr}"
    );
    assert!(
        server.requests().is_empty(),
        "nothing was asked without a token"
    );

    let mut cmd = fx.shiplog();
    let out = cmd
        .args([
            "sync",
            "github",
            "Codertocat/Nope",
            "--base-url",
            &server.base_url(),
        ])
        .env("GITHUB_TOKEN", TOKEN)
        .env("PATH", fx.dir.path())
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy")
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error: GitHub answered 404 Not Found for ")
            && stderr.contains("hint: is Codertocat/Nope the repository's name at "),
        "{stderr}"
    );
    assert!(!stderr.contains(TOKEN));
}

#[test]
fn github_enterprise_server_is_reached_under_its_api_path() {
    let fx = Fixture::build("basic");
    let server = FakeGitHub::start(TOKEN);
    let ghe = "/api/v3/repos/acme/shop";
    for list in [
        "pulls",
        "issues/comments",
        "pulls/comments",
        "deployments",
        "releases",
    ] {
        server.list(&format!("{ghe}/{list}"), Vec::new());
    }
    let mut issue = items::issue(
        &payloads(),
        3,
        "sev1",
        "2026-01-09T12:00:00Z",
        "2026-01-09T12:00:00Z",
        None,
    );
    issue["repository_url"] = Value::from("https://ghe.example.com/api/v3/repos/acme/shop");
    server.list(&format!("{ghe}/issues"), vec![issue]);
    let mut cmd = fx.shiplog();
    let out = cmd
        .args([
            "sync",
            "github",
            "acme/shop",
            "--incident-label",
            "sev1",
            "--base-url",
        ])
        .arg(format!("{}/api/v3/", server.base_url()))
        .env("GITHUB_TOKEN", TOKEN)
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy")
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("incidents: 1 new"), "{stderr}");
    assert_eq!(
        server
            .requests()
            .last()
            .map(|r| (r.path.clone(), r.param("labels").map(str::to_owned))),
        Some((format!("{ghe}/issues"), Some("sev1".to_owned())))
    );
    let incidents = fx.json(&[
        "explain",
        "incidents",
        "--deploys",
        "tags",
        "--service",
        "shop",
        "--since",
        "2026-01-01",
        "--until",
        "2026-02-01",
        "--format",
        "json",
    ]);
    assert_eq!(
        incidents[0]["id"], "github:acme/shop:issue:3",
        "{incidents}"
    );
}

#[test]
fn a_synced_deployment_finishing_before_its_commit_is_left_out_and_named() {
    let fx = Fixture::build("basic");
    let server = FakeGitHub::start(TOKEN);
    serve(&fx, &server);
    let dir = payloads();
    let c4 = fx.rev("v1.2.0^{commit}");
    let c5 = fx.rev("v1.3.0^{commit}");
    server.list(
        &format!("{REPO}/deployments"),
        vec![
            items::deployment(&dir, 13, &c5, "2025-06-01T00:00:00Z"),
            items::deployment(&dir, 12, &c5, "2026-01-09T09:30:00Z"),
            items::deployment(&dir, 11, &c4, "2026-01-08T09:30:00Z"),
        ],
    );
    server.list(
        &format!("{REPO}/deployments/13/statuses"),
        vec![items::status(
            &dir,
            13,
            4,
            "success",
            "2025-06-01T00:05:00Z",
        )],
    );
    let stderr = ok(&fx, &server, &[]);
    assert!(
        stderr.contains("left out GitHub deployment github:Codertocat/Hello-World:deployment:13")
            && stderr.contains("before its commit"),
        "{stderr}"
    );
    assert!(stderr.contains("synced deployments: 2 new"), "{stderr}");
}
