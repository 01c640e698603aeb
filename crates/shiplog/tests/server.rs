//! The team server end to end: the real `shiplog serve` process on 127.0.0.1, a repository
//! mirrored over `file://`, the recorded payloads of `../shared/payloads` delivered as signed
//! webhooks, a real SQLite file, and the CLI run on the same store for comparison.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::CommandCargoExt;
use common::Fixture;
use hmac::{Hmac, Mac};
use sha2::Sha256;

const GITHUB_SECRET: &str = "gh-secret-one";
const GITHUB_NEXT: &str = "gh-secret-two";
const GITLAB_TOKEN: &str = "gl-token";
const PAGERDUTY_SECRET: &str = "pd-secret";
const CDEVENTS_TOKEN: &str = "cd-token";

fn payloads() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/payloads")
}

fn hmac_hex(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// A running `shiplog serve`, killed when dropped.
struct Server {
    child: Child,
    base: String,
    dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn shiplog_in(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("shiplog").expect("binary");
    cmd.current_dir(dir)
        .env_remove("SHIPLOG_DB")
        .env_remove("SHIPLOG_CONFIG")
        .env_remove("SHIPLOG_DATABASE_URL")
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "info")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null");
    cmd
}

/// The server configuration of these tests: the fixture's repository mirrored over file://,
/// every source authenticated.
fn write_config(dir: &Path, repo: &Path, extra: &str) -> PathBuf {
    std::fs::write(
        dir.join("shiplog.toml"),
        "[sources]\ndefault_service = \"app\"\n",
    )
    .expect("write shiplog.toml");
    let config = dir.join("shiplog-server.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\ndata_dir = \"data\"\nprocessing_lease = \"2s\"\n{extra}\n\
             [[repository]]\nname = \"basic\"\nurl = \"file://{}\"\nconfig = \"shiplog.toml\"\n\n\
             [sources.github]\nsecrets = [\"{GITHUB_SECRET}\", \"{GITHUB_NEXT}\"]\n\
             [sources.gitlab]\ntokens = [\"{GITLAB_TOKEN}\"]\n\
             [sources.pagerduty]\nsecrets = [\"{PAGERDUTY_SECRET}\"]\n\
             [sources.cdevents]\ntokens = [\"{CDEVENTS_TOKEN}\"]\n",
            repo.display()
        ),
    )
    .expect("write config");
    config
}

/// Starts the server in `dir` and waits for its "listening" line.
fn start(dir: &Path) -> Server {
    start_with(dir, &[])
}

/// Starts the server in `dir` with more arguments.
fn start_with(dir: &Path, extra: &[&str]) -> Server {
    // The log goes to a file: a pipe nobody reads would fill and stall the server.
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("server.log"))
        .expect("log file");
    let mut child = shiplog_in(dir)
        .args(["serve", "--config", "shiplog-server.toml"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("start shiplog serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the listening line");
    let Some(base) = line.trim().strip_prefix("shiplog server listening on ") else {
        let _ = child.wait();
        let err = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
        panic!("the server did not start: {line:?}\n{err}");
    };
    Server {
        base: base.to_owned(),
        child,
        dir: dir.to_owned(),
    }
}

/// A response: status and body.
struct Answer {
    status: u16,
    body: String,
}

impl Answer {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn get(&self, path: &str, token: Option<&str>) -> Answer {
        let mut req = agent().get(&self.url(path));
        if let Some(t) = token {
            req = req.header("Authorization", &format!("Bearer {t}"));
        }
        let mut resp = req.call().expect("GET");
        Answer {
            status: resp.status().as_u16(),
            body: resp.body_mut().read_to_string().expect("body"),
        }
    }

    fn post(&self, path: &str, headers: &[(&str, String)], body: &[u8]) -> Answer {
        let mut req = agent().post(&self.url(path));
        for (n, v) in headers {
            req = req.header(*n, v);
        }
        let mut resp = req.send(body).expect("POST");
        Answer {
            status: resp.status().as_u16(),
            body: resp
                .body_mut()
                .with_config()
                .limit(64 * 1024 * 1024)
                .read_to_string()
                .expect("body"),
        }
    }

    /// Waits until no delivery is pending; returns the ingest log.
    fn settled(&self, token: Option<&str>) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let pending = self.get("/api/v1/deliveries?state=pending", token).json();
            if pending["deliveries"].as_array().is_some_and(Vec::is_empty) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "deliveries still pending: {pending}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        // Every page of the ingest log, newest first.
        let mut all = Vec::new();
        let mut before = String::new();
        loop {
            let page = self
                .get(&format!("/api/v1/deliveries?limit=1000{before}"), token)
                .json();
            let list = page["deliveries"].as_array().expect("list").clone();
            let Some(last) = list.last().and_then(|d| d["delivery"].as_i64()) else {
                break;
            };
            before = format!("&before={last}");
            all.extend(list);
        }
        all
    }

    fn mirror(&self) -> PathBuf {
        self.dir.join("data/mirrors/basic.git")
    }

    /// The CLI on the server's store and mirror.
    fn cli_json(&self, args: &[&str]) -> serde_json::Value {
        self.cli_json_on(
            &self.dir.join("data/shiplog.db").display().to_string(),
            args,
        )
    }

    /// The CLI's text output on the server's store and mirror.
    fn cli_text(&self, args: &[&str]) -> String {
        self.cli_text_on(
            &self.dir.join("data/shiplog.db").display().to_string(),
            args,
        )
    }

    /// The CLI on the store `db` (a file or a PostgreSQL URL) and the server's mirror.
    fn cli_json_on(&self, db: &str, args: &[&str]) -> serde_json::Value {
        serde_json::from_str(&self.cli_text_on(db, args)).expect("JSON")
    }

    /// The CLI's text output on the store `db` and the server's mirror.
    fn cli_text_on(&self, db: &str, args: &[&str]) -> String {
        let out = shiplog_in(&self.dir)
            .arg("--db")
            .arg(db)
            .arg("--repo")
            .arg(self.mirror())
            .arg("--config")
            .arg(self.dir.join("shiplog.toml"))
            .args(args)
            .output()
            .expect("run shiplog");
        assert!(
            out.status.success(),
            "shiplog {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }
}

/// A recorded payload with the headers and signature its sender would add.
struct Webhook {
    path: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

fn github(event: &str, file: &str, delivery: &str) -> Webhook {
    let body = std::fs::read(payloads().join("github").join(file)).expect("payload");
    Webhook {
        path: "/hooks/github",
        headers: vec![
            ("Content-Type", "application/json".to_owned()),
            ("X-GitHub-Event", event.to_owned()),
            ("X-GitHub-Delivery", delivery.to_owned()),
            (
                "X-Hub-Signature-256",
                format!("sha256={}", hmac_hex(GITHUB_SECRET, &body)),
            ),
        ],
        body,
    }
}

fn gitlab(event: &str, file: &str, uuid: &str) -> Webhook {
    let body = std::fs::read(payloads().join("gitlab").join(file)).expect("payload");
    Webhook {
        path: "/hooks/gitlab",
        headers: vec![
            ("Content-Type", "application/json".to_owned()),
            ("X-Gitlab-Event", event.to_owned()),
            ("X-Gitlab-Event-UUID", uuid.to_owned()),
            ("X-Gitlab-Token", GITLAB_TOKEN.to_owned()),
        ],
        body,
    }
}

fn pagerduty(file: &str, id: &str) -> Webhook {
    let body = std::fs::read(payloads().join("pagerduty").join(file)).expect("payload");
    Webhook {
        path: "/hooks/pagerduty",
        headers: vec![
            ("Content-Type", "application/json".to_owned()),
            ("X-Webhook-Id", id.to_owned()),
            (
                "X-PagerDuty-Signature",
                format!("v1={}", hmac_hex(PAGERDUTY_SECRET, &body)),
            ),
        ],
        body,
    }
}

/// A recorded CloudEvents HTTP request (binary or structured mode), sent as recorded.
fn cdevents(file: &str) -> Webhook {
    let raw = std::fs::read(payloads().join("cdevents").join(file)).expect("payload");
    let text = String::from_utf8(raw).expect("utf-8");
    let (head, body) = text.split_once("\n\n").expect("headers and body");
    let mut headers: Vec<(&'static str, String)> =
        vec![("Authorization", format!("Bearer {CDEVENTS_TOKEN}"))];
    for line in head.lines().skip(1) {
        let (name, value) = line.split_once(':').expect("header");
        let name = name.trim().to_ascii_lowercase();
        if name == "host" || name == "content-length" {
            continue;
        }
        headers.push((Box::leak(name.into_boxed_str()), value.trim().to_owned()));
    }
    Webhook {
        path: "/hooks/cdevents",
        headers,
        body: body.as_bytes().to_vec(),
    }
}

fn every_recorded_payload() -> Vec<Webhook> {
    vec![
        github(
            "deployment_status",
            "deployment_status_payload.json",
            "gh-1",
        ),
        github("deployment", "deployment_payload.json", "gh-2"),
        github("push", "push_payload.json", "gh-3"),
        github("check_run", "check_run_completed.json", "gh-4"),
        github("issues", "issues_labeled.json", "gh-5"),
        github("pull_request", "pull_request_closed.json", "gh-6"),
        github("release", "release_published.json", "gh-7"),
        github("workflow_run", "workflow_run_completed.json", "gh-8"),
        gitlab(
            "Deployment Hook",
            "deployment_hook.success.zulip-fixture.json",
            "gl-1",
        ),
        gitlab(
            "Deployment Hook",
            "deployment_hook.failed.zulip-fixture.json",
            "gl-2",
        ),
        gitlab(
            "Merge Request Hook",
            "merge_request_hook.open.docs-example.json",
            "gl-3",
        ),
        gitlab("Push Hook", "push_hook.docs-example.json", "gl-4"),
        pagerduty("incident.triggered.v3.zulip-fixture.json", "pd-1"),
        pagerduty("incident.resolved.v3.zulip-fixture.json", "pd-2"),
        cdevents("service_deployed.cloudevents-http-binary.CONSTRUCTED.http"),
        cdevents("incident_detected.cloudevents-http-structured.CONSTRUCTED.http"),
    ]
}

fn send(server: &Server, hook: &Webhook) -> Answer {
    server.post(hook.path, &hook.headers, &hook.body)
}

/// Deployments of the basic fixture's commits, as JSON Lines for `POST /api/v1/events`.
fn fixture_events(fixture: &Fixture) -> String {
    let mut lines = String::new();
    for (id, tag, at, status) in [
        ("d-1", "v1.1.0", "2026-01-07T12:00:00Z", "success"),
        ("d-2", "v1.2.0", "2026-01-08T10:00:00Z", "failure"),
        ("d-3", "v1.3.0", "2026-01-09T10:00:00Z", "success"),
        ("d-4", "v1.3.1", "2026-01-10T12:00:00Z", "success"),
    ] {
        let sha = fixture.rev(&format!("{tag}^{{commit}}"));
        lines.push_str(&format!(
            "{{\"type\":\"deployment\",\"id\":\"{id}\",\"service\":\"app\",\"environment\":\"production\",\"sha\":\"{sha}\",\"finished_at\":\"{at}\",\"status\":\"{status}\"}}\n"
        ));
    }
    lines.push_str("{\"type\":\"incident\",\"id\":\"inc-1\",\"service\":\"app\",\"opened_at\":\"2026-01-08T10:30:00Z\",\"resolved_at\":\"2026-01-08T11:30:00Z\"}\n");
    lines
}

/// The fixture's weeks; the recorded payloads deploy commits the fixture lacks, which the CLI
/// counts and leaves out with --skip-unknown.
const WINDOW: &str = "since=2026-01-01&until=2026-02-01&skip-unknown=true";

/// The basic fixture, a directory with the server configuration for it, and the server started
/// there. Fields drop in order: the server stops before its directory goes.
struct Served {
    server: Server,
    dir: tempfile::TempDir,
    fixture: Fixture,
}

fn served() -> Served {
    let fixture = Fixture::build("basic");
    let dir = tempfile::tempdir().expect("temp dir");
    write_config(dir.path(), &fixture.repo(), "");
    Served {
        server: start(dir.path()),
        dir,
        fixture,
    }
}

#[test]
fn signed_recorded_payloads_become_records_and_the_api_answers_what_the_cli_prints() {
    let served = served();
    let (server, fixture) = (&served.server, &served.fixture);

    let posted = server.post(
        "/api/v1/events",
        &[("Content-Type", "application/x-ndjson".to_owned())],
        fixture_events(fixture).as_bytes(),
    );
    assert_eq!(posted.status, 200, "{}", posted.body);
    assert_eq!(posted.json()["deployments"]["new"], 4);

    let hooks = every_recorded_payload();
    for hook in &hooks {
        let answer = send(server, hook);
        assert_eq!(answer.status, 202, "{} {}", hook.path, answer.body);
        assert_eq!(answer.json()["duplicate"], false);
    }
    let log = server.settled(None);
    assert_eq!(log.len(), hooks.len(), "{log:?}");
    for d in &log {
        let state = d["state"].as_str().expect("state");
        assert!(
            state == "accepted" || state == "ignored" || d["source"] == "cdevents",
            "delivery {} ended {state}: {}",
            d["delivery_id"],
            d["detail"]
        );
        assert!(d["detail"].as_str().is_some_and(|t| !t.is_empty()), "{d}");
    }
    let state_of = |id: &str| {
        log.iter()
            .find(|d| d["delivery_id"] == id)
            .map(|d| d["state"].as_str().unwrap_or_default().to_owned())
            .unwrap_or_default()
    };
    // Records, where the payload is one; a reason where it is not.
    assert_eq!(state_of("gh-1"), "accepted");
    assert_eq!(state_of("gh-4"), "ignored");
    assert_eq!(state_of("gl-1"), "accepted");
    assert_eq!(state_of("pd-1"), "accepted");
    assert_eq!(state_of("pd-2"), "accepted");
    // The CDEvents example deploys an OCI image that names no commit: kept as a dead letter, with
    // the parser's reason and JSON path.
    let deployed = log
        .iter()
        .find(|d| d["delivery_id"] == "/event/source/123 271069a8-fc18-44f1-b38f-9d70a1695819")
        .expect("the CDEvents deployment is stored");
    assert_eq!(deployed["state"], "failed");
    assert!(
        deployed["detail"]
            .as_str()
            .is_some_and(|t| t.contains("$.subject.content.artifactId")),
        "{deployed}"
    );
    // No credential is ever stored with a delivery.
    for d in &log {
        let headers = d["headers"].to_string().to_ascii_lowercase();
        for secret in [
            "x-hub-signature",
            "x-gitlab-token",
            "x-pagerduty-signature",
            "authorization",
        ] {
            assert!(!headers.contains(secret), "{headers}");
        }
    }

    // The API's numbers are the CLI's, for every metric and explanation.
    let api = server.get(&format!("/api/v1/metrics?{WINDOW}"), None);
    assert_eq!(api.status, 200, "{}", api.body);
    let cli = server.cli_json(&[
        "metrics",
        "--since",
        "2026-01-01",
        "--until",
        "2026-02-01",
        "--skip-unknown",
        "--format",
        "json",
    ]);
    assert_eq!(api.json(), cli);
    let metrics = &cli;
    assert_eq!(
        metrics["deployment_frequency"]["deployments"], 3,
        "{metrics}"
    );
    assert_eq!(metrics["incidents"]["total"], 1, "{metrics}");
    for what in ["lead-time", "deployments", "failures", "incidents"] {
        let api = server.get(&format!("/api/v1/explain/{what}?{WINDOW}"), None);
        assert_eq!(api.status, 200, "{what}: {}", api.body);
        let cli = server.cli_json(&[
            "explain",
            what,
            "--since",
            "2026-01-01",
            "--until",
            "2026-02-01",
            "--skip-unknown",
            "--format",
            "json",
        ]);
        assert_eq!(api.json(), cli, "{what}");
    }
    let by_week = server.get(&format!("/api/v1/metrics?{WINDOW}&by=week"), None);
    assert_eq!(
        by_week.json(),
        server.cli_json(&[
            "metrics",
            "--since",
            "2026-01-01",
            "--until",
            "2026-02-01",
            "--skip-unknown",
            "--by",
            "week",
            "--format",
            "json",
        ])
    );
    // The CLI's own errors, as 400 answers.
    let unknown = server.get(&format!("/api/v1/metrics?{WINDOW}&service=nosuch"), None);
    assert_eq!(unknown.status, 400);
    assert!(
        unknown.json()["error"]
            .as_str()
            .is_some_and(|e| e.contains("known services: app")),
        "{}",
        unknown.body
    );
    let bad_param = server.get("/api/v1/metrics?colour=blue", None);
    assert_eq!(bad_param.status, 400);
    assert!(
        bad_param.body.contains("unknown parameter"),
        "{}",
        bad_param.body
    );
    let services = server.get("/api/v1/services", None).json();
    assert!(
        services["services"]
            .as_array()
            .is_some_and(|s| s.iter().any(|x| x["service"] == "app")),
        "{services}"
    );

    // The same deliveries again (a sender's retries): answered 200, stored once.
    for hook in &hooks {
        let answer = send(server, hook);
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(answer.json()["duplicate"], true);
    }
    let log = server.settled(None);
    assert_eq!(log.len(), hooks.len());
    assert!(log.iter().all(|d| d["duplicates"] == 1), "{log:?}");

    // The Prometheus scrape parses with a real parser and holds the gauges, by window.
    let scrape = server.get("/metrics", None);
    assert_eq!(scrape.status, 200);
    let lines: Vec<String> = scrape.body.lines().map(str::to_owned).collect();
    let parsed = prometheus_parse::Scrape::parse(lines.into_iter().map(Ok)).expect("parse");
    let names: std::collections::BTreeSet<&str> =
        parsed.samples.iter().map(|s| s.metric.as_str()).collect();
    for name in [
        "shiplog_server_deliveries_received_total",
        "shiplog_server_deliveries_stored",
        "shiplog_server_pending_delivery_age_seconds",
        "shiplog_server_http_request_duration_seconds",
        "shiplog_deployments",
    ] {
        assert!(names.contains(name), "{name} missing from {names:?}");
    }
    let received: f64 = parsed
        .samples
        .iter()
        .filter(|s| s.metric == "shiplog_server_deliveries_received_total")
        .filter(|s| s.labels.get("outcome") == Some("duplicate"))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Untyped(v) => v,
            _ => 0.0,
        })
        .sum();
    #[allow(clippy::cast_precision_loss)]
    let expected = hooks.len() as f64;
    assert!((received - expected).abs() < 1e-9, "{received}");
    // No label may hold a sha, pull request or incident id.
    for s in &parsed.samples {
        for (name, value) in s.labels.iter() {
            assert!(
                [
                    "source",
                    "outcome",
                    "state",
                    "method",
                    "route",
                    "status",
                    "service",
                    "environment",
                    "team",
                    "window",
                    "le",
                    "quantile"
                ]
                .contains(&name.as_str()),
                "label {name}={value}"
            );
        }
    }
}

#[test]
fn every_wrong_credential_is_refused_and_nothing_is_stored() {
    let served = served();
    let server = &served.server;
    let body =
        std::fs::read(payloads().join("github/deployment_status_payload.json")).expect("payload");
    let gh = |signature: Option<String>, id: &str| {
        let mut h = vec![
            ("Content-Type", "application/json".to_owned()),
            ("X-GitHub-Event", "deployment_status".to_owned()),
            ("X-GitHub-Delivery", id.to_owned()),
        ];
        if let Some(s) = signature {
            h.push(("X-Hub-Signature-256", s));
        }
        server.post("/hooks/github", &h, &body)
    };
    assert_eq!(gh(None, "a").status, 401);
    assert_eq!(
        gh(Some(format!("sha256={}", hmac_hex("wrong", &body))), "b").status,
        401
    );
    assert_eq!(gh(Some("sha256=00".to_owned()), "c").status, 401);
    assert_eq!(
        gh(
            Some(format!("sha1={}", hmac_hex(GITHUB_SECRET, &body))),
            "d"
        )
        .status,
        401
    );
    let tampered = {
        let mut b = body.clone();
        b[10] ^= 1;
        b
    };
    let h = vec![
        ("Content-Type", "application/json".to_owned()),
        ("X-GitHub-Event", "deployment_status".to_owned()),
        (
            "X-Hub-Signature-256",
            format!("sha256={}", hmac_hex(GITHUB_SECRET, &body)),
        ),
    ];
    assert_eq!(server.post("/hooks/github", &h, &tampered).status, 401);
    // Both secrets of a rotation are good.
    assert_eq!(
        gh(
            Some(format!("sha256={}", hmac_hex(GITHUB_SECRET, &body))),
            "e"
        )
        .status,
        202
    );
    assert_eq!(
        gh(
            Some(format!("sha256={}", hmac_hex(GITHUB_NEXT, &body))),
            "f"
        )
        .status,
        202
    );

    let pd_body =
        std::fs::read(payloads().join("pagerduty/incident.triggered.v3.zulip-fixture.json"))
            .expect("payload");
    let pd = |signature: &str| {
        server.post(
            "/hooks/pagerduty",
            &[
                ("Content-Type", "application/json".to_owned()),
                ("X-PagerDuty-Signature", signature.to_owned()),
            ],
            &pd_body,
        )
    };
    assert_eq!(pd(&format!("v1={}", hmac_hex("old", &pd_body))).status, 401);
    assert_eq!(pd("v1=zz").status, 401);
    // During PagerDuty's rotation two values arrive; one matching is enough.
    assert_eq!(
        pd(&format!(
            "v1={},v1={}",
            hmac_hex("old", &pd_body),
            hmac_hex(PAGERDUTY_SECRET, &pd_body)
        ))
        .status,
        202
    );
    let gl = |token: Option<&str>| {
        let mut h = vec![
            ("Content-Type", "application/json".to_owned()),
            ("X-Gitlab-Event", "Deployment Hook".to_owned()),
        ];
        if let Some(t) = token {
            h.push(("X-Gitlab-Token", t.to_owned()));
        }
        server.post("/hooks/gitlab", &h, b"{\"object_kind\":\"deployment\"}")
    };
    assert_eq!(gl(None).status, 401);
    assert_eq!(gl(Some("gl-toke")).status, 401);
    assert_eq!(gl(Some("gl-tokenx")).status, 401);
    let cd = |auth: Option<&str>| {
        let mut h = vec![("Content-Type", "application/cloudevents+json".to_owned())];
        if let Some(a) = auth {
            h.push(("Authorization", a.to_owned()));
        }
        server.post("/hooks/cdevents", &h, b"{}")
    };
    assert_eq!(cd(None).status, 401);
    assert_eq!(cd(Some("Bearer nope")).status, 401);
    assert_eq!(cd(Some(CDEVENTS_TOKEN)).status, 401);

    let log = server.settled(None);
    let ids: Vec<&str> = log
        .iter()
        .filter_map(|d| d["delivery_id"].as_str())
        .collect();
    assert_eq!(
        log.len(),
        3,
        "only the three good deliveries are stored: {ids:?}"
    );
    let refused = server.get("/metrics", None).body;
    assert!(
        refused.contains(
            "shiplog_server_deliveries_received_total{source=\"github\",outcome=\"rejected\"} 5"
        ),
        "{refused}"
    );
}

#[test]
fn bad_input_gets_a_clear_status_and_nothing_half_written() {
    let served = served();
    let (server, fixture) = (&served.server, &served.fixture);
    let signed = |event: &str, id: &str, body: &[u8], content_type: &str| {
        server.post(
            "/hooks/github",
            &[
                ("Content-Type", content_type.to_owned()),
                ("X-GitHub-Event", event.to_owned()),
                ("X-GitHub-Delivery", id.to_owned()),
                (
                    "X-Hub-Signature-256",
                    format!("sha256={}", hmac_hex(GITHUB_SECRET, body)),
                ),
            ],
            body,
        )
    };
    // Wrong content type: 415, with what to choose.
    let form = signed(
        "push",
        "f",
        b"payload=%7B%7D",
        "application/x-www-form-urlencoded",
    );
    assert_eq!(form.status, 415);
    assert!(form.body.contains("application/json"), "{}", form.body);
    // Too large: 413 (GitHub sends at most 25 MB).
    let huge = vec![b' '; 26 * 1024 * 1024];
    let big = signed("push", "big", &huge, "application/json");
    assert_eq!(big.status, 413);
    // Malformed JSON: acknowledged (a sender that gets 4xx disables its hook), then failed with
    // the parser's position, kept for reprocessing.
    let broken = signed(
        "deployment_status",
        "broken",
        b"{\n  \"deployment_status\": {\n    \"state\": \"success\",\n  }\n}",
        "application/json",
    );
    assert_eq!(broken.status, 202);
    // An event shiplog does not use: acknowledged, ignored with the reason.
    let body = std::fs::read(payloads().join("github/check_run_completed.json")).expect("payload");
    assert_eq!(
        signed("check_run", "cr", &body, "application/json").status,
        202
    );
    let log = server.settled(None);
    assert_eq!(log.len(), 2, "{log:?}");
    let broken = log
        .iter()
        .find(|d| d["delivery_id"] == "broken")
        .expect("stored");
    assert_eq!(broken["state"], "failed");
    let detail = broken["detail"].as_str().expect("detail");
    assert!(detail.contains("line 4"), "{detail}");
    let ignored = log
        .iter()
        .find(|d| d["delivery_id"] == "cr")
        .expect("stored");
    assert_eq!(ignored["state"], "ignored");
    assert!(
        ignored["detail"]
            .as_str()
            .is_some_and(|d| d.contains("check_run")),
        "{ignored}"
    );
    // The dead-letter list can be reprocessed (it fails again: the body is still broken).
    let seq = broken["delivery"].as_i64().expect("seq");
    let again = server.post(&format!("/api/v1/deliveries/{seq}/reprocess"), &[], b"");
    assert_eq!(again.status, 200, "{}", again.body);
    let log = server.settled(None);
    let broken = log
        .iter()
        .find(|d| d["delivery_id"] == "broken")
        .expect("stored");
    assert_eq!(broken["attempts"], 2);
    assert_eq!(broken["state"], "failed");
    // Bad records through the API: all or nothing, with line and field.
    let sha = fixture.rev("HEAD");
    let events = format!(
        "{{\"type\":\"deployment\",\"id\":\"ok\",\"service\":\"app\",\"environment\":\"production\",\"sha\":\"{sha}\",\"finished_at\":\"2026-02-01T00:00:00Z\",\"status\":\"success\"}}\n{{\"type\":\"deployment\",\"id\":\"bad\",\"service\":\"app\"}}\n"
    );
    let refused = server.post("/api/v1/events", &[], events.as_bytes());
    assert_eq!(refused.status, 422);
    assert!(
        refused
            .body
            .contains("request body:2: field \\\"environment\\\""),
        "{}",
        refused.body
    );
    let deployments = server.get(
        "/api/v1/explain/deployments?since=2026-01-01&allow-unknown=true",
        None,
    );
    assert!(!deployments.body.contains("\"ok\""), "{}", deployments.body);
    // A slow body is cut off: the connection does not stay open forever.
    let mut stream =
        TcpStream::connect(server.base.trim_start_matches("http://")).expect("connect");
    stream
        .write_all(b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        .expect("write");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let started = Instant::now();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert!(started.elapsed() < Duration::from_secs(25));
}

#[test]
fn tokens_guard_the_api_once_one_exists() {
    let fixture = Fixture::build("basic");
    let dir = tempfile::tempdir().expect("temp dir");
    write_config(dir.path(), &fixture.repo(), "");
    // A non-loopback address is refused while no token exists.
    let out = shiplog_in(dir.path())
        .args([
            "serve",
            "--config",
            "shiplog-server.toml",
            "--listen",
            "0.0.0.0:0",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("while no API token exists"));

    let server = start(dir.path());
    assert_eq!(server.get("/api/v1/services", None).status, 200);
    let token = |name: &str, scope: &str| {
        let out = shiplog_in(dir.path())
            .args([
                "serve",
                "--config",
                "shiplog-server.toml",
                "token",
                "create",
                "--name",
                name,
                "--scope",
                scope,
            ])
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .expect("utf-8")
            .trim()
            .to_owned()
    };
    let reader = token("grafana", "read");
    let writer = token("ci", "events:write");
    assert!(reader.starts_with("shiplog_"));
    let listed = shiplog_in(dir.path())
        .args(["serve", "--config", "shiplog-server.toml", "token", "list"])
        .output()
        .expect("run");
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert!(
        listed.contains("grafana\tread") && listed.contains("ci\tevents:write"),
        "{listed}"
    );
    assert!(!listed.contains(&reader), "a token is shown only once");
    // Now every endpoint but the health checks needs a token of the right scope.
    assert_eq!(server.get("/api/v1/services", None).status, 401);
    assert_eq!(server.get("/metrics", None).status, 401);
    assert_eq!(
        server.get("/api/v1/services", Some("shiplog_nope")).status,
        401
    );
    assert_eq!(server.get("/api/v1/services", Some(&reader)).status, 200);
    assert_eq!(server.get("/healthz", None).status, 200);
    assert_eq!(server.get("/readyz", None).status, 200);
    let post = |token: &str| {
        server.post(
            "/api/v1/events",
            &[("Authorization", format!("Bearer {token}"))],
            b"{\"type\":\"incident\",\"id\":\"i-1\",\"service\":\"app\",\"opened_at\":\"2026-01-08T10:30:00Z\"}",
        )
    };
    assert_eq!(post(&reader).status, 403);
    assert_eq!(post(&writer).status, 200);
    assert_eq!(
        server.get("/api/v1/deliveries/1", Some(&writer)).status,
        403
    );
    let revoked = shiplog_in(dir.path())
        .args([
            "serve",
            "--config",
            "shiplog-server.toml",
            "token",
            "revoke",
            "grafana",
        ])
        .output()
        .expect("run");
    assert!(revoked.status.success());
    assert_eq!(server.get("/api/v1/services", Some(&reader)).status, 401);
    // Webhooks keep their own authentication, not API tokens.
    let body = b"{}";
    let hook = server.post(
        "/hooks/github",
        &[
            ("Content-Type", "application/json".to_owned()),
            ("X-GitHub-Event", "ping".to_owned()),
            (
                "X-Hub-Signature-256",
                format!("sha256={}", hmac_hex(GITHUB_SECRET, body)),
            ),
        ],
        body,
    );
    assert_eq!(hook.status, 202);
}

/// Signed deliveries with unique ids, sent by `clients` threads until `stop`; returns the ids
/// answered 2xx.
fn burst(base: &str, clients: usize, per_client: usize, prefix: &str) -> Vec<String> {
    let body =
        std::fs::read(payloads().join("github/deployment_status_payload.json")).expect("payload");
    let signature = format!("sha256={}", hmac_hex(GITHUB_SECRET, &body));
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let base = base.to_owned();
            let body = body.clone();
            let signature = signature.clone();
            let prefix = prefix.to_owned();
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .timeout_global(Some(Duration::from_secs(10)))
                    .build()
                    .into();
                let mut acked = Vec::new();
                for i in 0..per_client {
                    let id = format!("{prefix}-{c}-{i}");
                    let answer = agent
                        .post(&format!("{base}/hooks/github"))
                        .header("Content-Type", "application/json")
                        .header("X-GitHub-Event", "deployment_status")
                        .header("X-GitHub-Delivery", &id)
                        .header("X-Hub-Signature-256", &signature)
                        .send(&body[..]);
                    match answer {
                        Ok(r) if r.status().is_success() => acked.push(id),
                        Ok(r) => eprintln!("{id}: status {}", r.status()),
                        // The server was killed: stop.
                        Err(e) => {
                            eprintln!("{id}: {e}");
                            break;
                        }
                    }
                }
                acked
            })
        })
        .collect();
    threads
        .into_iter()
        .flat_map(|t| t.join().expect("client thread"))
        .collect()
}

#[test]
fn a_killed_server_loses_no_acknowledged_delivery_and_resumes_by_itself() {
    let mut served = served();
    let dir = served.dir.path().to_owned();
    let server = &mut served.server;
    let base = server.base.clone();
    let killer = {
        let pid = server.child.id();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(1500));
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        })
    };
    let acked = burst(&base, 8, 2000, "crash");
    killer.join().expect("killer");
    let _ = server.child.wait();
    assert!(
        !acked.is_empty(),
        "no delivery was answered before the kill"
    );
    assert!(
        acked.len() < 16_000,
        "the kill came after the burst: {}",
        acked.len()
    );

    let server = start(&dir);
    let log = server.settled(None);
    let stored: std::collections::BTreeMap<String, &serde_json::Value> = log
        .iter()
        .map(|d| (d["delivery_id"].as_str().unwrap_or_default().to_owned(), d))
        .collect();
    assert_eq!(stored.len(), log.len(), "a delivery id is stored twice");
    for id in &acked {
        let d = stored
            .get(id)
            .unwrap_or_else(|| panic!("{id} was acknowledged, then lost"));
        assert_eq!(d["state"], "accepted", "{d}");
    }
    eprintln!(
        "{} acknowledged before the kill, {} stored",
        acked.len(),
        log.len()
    );
}

#[test]
fn a_burst_from_concurrent_clients_is_stored_once_each() {
    let served = served();
    let server = &served.server;
    let acked = burst(&server.base, 32, 25, "load");
    assert_eq!(acked.len(), 800);
    // Every delivery sent again: all duplicates.
    let again = burst(&server.base, 32, 25, "load");
    assert_eq!(again.len(), 800);
    let log = server.settled(None);
    assert_eq!(log.len(), 800);
    assert!(
        log.iter()
            .all(|d| d["duplicates"] == 1 && d["state"] == "accepted")
    );
}

#[test]
fn sigterm_stops_the_server_gracefully() {
    let mut served = served();
    let server = &mut served.server;
    assert_eq!(server.get("/readyz", None).status, 200);
    let status = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = server.child.try_wait().expect("wait") {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(Instant::now() < deadline, "still running after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_bad_server_config_names_its_file_line_and_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("shiplog-server.toml"),
        "listen = \"127.0.0.1:0\"\n\n[sources.github]\nsecret = \"x\"\n",
    )
    .expect("write");
    let out = shiplog_in(dir.path())
        .args(["serve"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("shiplog-server.toml:4:1"), "{err}");
    assert!(err.contains("secret"), "{err}");
}

#[test]
fn record_and_import_post_to_the_server_with_a_token() {
    let served = served();
    let (server, dir, fixture) = (&served.server, &served.dir, &served.fixture);
    let out = shiplog_in(dir.path())
        .args([
            "serve",
            "--config",
            "shiplog-server.toml",
            "token",
            "create",
            "--name",
            "ci",
            "--scope",
            "events:write",
        ])
        .output()
        .expect("run");
    let token = String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_owned();
    let sha = fixture.rev("v1.3.0^{commit}");
    // A CI job records with the command it already runs, plus --server (no checkout needed).
    let record = |token: &str, extra: &[&str]| {
        let mut cmd = shiplog_in(dir.path());
        cmd.env("SHIPLOG_TOKEN", token).args([
            "record",
            "deployment",
            "--server",
            &server.base,
            "--service",
            "app",
            "--env",
            "production",
            "--sha",
            &sha[..12],
            "--at",
            "2026-01-09T10:00:00Z",
            "--id",
            "ci-77",
        ]);
        cmd.args(extra).output().expect("run")
    };
    let refused = record("shiplog_wrong", &[]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("SHIPLOG_TOKEN"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let ok = record(&token, &[]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stderr).contains("deployment ci-77 recorded on"));
    let again = record(&token, &[]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("deployment ci-77 unchanged"));
    // The server checks the time against its mirror, as a local record does.
    let early = {
        let mut cmd = shiplog_in(dir.path());
        cmd.env("SHIPLOG_TOKEN", &token)
            .args([
                "record",
                "deployment",
                "--server",
                &server.base,
                "--service",
                "app",
                "--env",
                "production",
                "--sha",
                &sha,
                "--at",
                "1970-01-01T00:00:00Z",
                "--id",
                "ci-0",
            ])
            .output()
            .expect("run")
    };
    assert_eq!(early.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&early.stderr).contains("before its commit"),
        "{}",
        String::from_utf8_lossy(&early.stderr)
    );
    // import --server: each file read by the server's parser; errors name the file and line.
    let file = dir.path().join("incidents.jsonl");
    std::fs::write(&file, "{\"type\":\"incident\",\"id\":\"inc-9\",\"service\":\"app\",\"opened_at\":\"2026-01-09T11:00:00Z\",\"resolved_at\":\"2026-01-09T12:00:00Z\"}\n").expect("write");
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"type\":\"incident\",\"id\":\"inc-10\",\"service\":\"app\"}\n",
    )
    .expect("write");
    let import = |path: &Path| {
        shiplog_in(dir.path())
            .env("SHIPLOG_TOKEN", &token)
            .args(["import", "--server", &server.base])
            .arg(path)
            .output()
            .expect("run")
    };
    // Read before the import: the answer kept for repeated reads must not outlive the write.
    let before = server
        .get(
            "/api/v1/explain/incidents?since=2026-01-01&until=2026-02-01",
            Some(&token),
        )
        .json();
    assert!(!before.to_string().contains("inc-9"));
    let ok = import(&file);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(
        String::from_utf8_lossy(&ok.stderr).contains("incidents: 1 new"),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let failed = import(&bad);
    assert_eq!(failed.status.code(), Some(1));
    let err = String::from_utf8_lossy(&failed.stderr);
    assert!(err.contains("bad.jsonl:1: field \"opened_at\""), "{err}");
    let listed = server
        .get(
            "/api/v1/explain/incidents?since=2026-01-01&until=2026-02-01",
            Some(&token),
        )
        .json();
    let text = listed.to_string();
    assert!(text.contains("inc-9") && !text.contains("inc-10"), "{text}");
}

#[test]
fn a_server_that_cannot_be_reached_is_retried_then_reported() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let out = shiplog_in(dir.path())
        .args([
            "record",
            "incident",
            "--server",
            &format!("http://127.0.0.1:{port}"),
            "--service",
            "app",
            "--id",
            "inc-1",
            "--opened-at",
            "2026-01-09T11:00:00Z",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot reach") && err.contains("after 5 attempts"),
        "{err}"
    );
}

/// A fresh PostgreSQL database on the test server (SHIPLOG_TEST_DATABASE_URL; .ci/postgres.sh
/// starts one), or `None` when skipped on purpose with SHIPLOG_SKIP_POSTGRES=1.
fn postgres_database(label: &str) -> Option<shiplog_store_postgres::test_support::TestDatabase> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(shiplog_store_postgres::test_support::TestDatabase::create(
            label,
        ))
}

#[test]
fn on_postgresql_the_api_answers_what_the_cli_prints() {
    let Some(database) = postgres_database("server_e2e") else {
        return;
    };
    let fixture = Fixture::build("basic");
    let dir = tempfile::tempdir().expect("temp dir");
    write_config(dir.path(), &fixture.repo(), "");
    let server = start_with(dir.path(), &["--database-url", database.url()]);
    let posted = server.post("/api/v1/events", &[], fixture_events(&fixture).as_bytes());
    assert_eq!(posted.status, 200, "{}", posted.body);
    let hooks = every_recorded_payload();
    for hook in &hooks {
        assert_eq!(send(&server, hook).status, 202);
    }
    let log = server.settled(None);
    assert_eq!(log.len(), hooks.len());
    assert!(
        !dir.path().join("data/shiplog.db").exists(),
        "nothing goes to SQLite"
    );
    let api = server.get(&format!("/api/v1/metrics?{WINDOW}"), None);
    assert_eq!(api.status, 200, "{}", api.body);
    let cli = server.cli_json_on(
        database.url(),
        &[
            "metrics",
            "--since",
            "2026-01-01",
            "--until",
            "2026-02-01",
            "--skip-unknown",
            "--format",
            "json",
        ],
    );
    assert_eq!(api.json(), cli);
    assert_eq!(cli["deployment_frequency"]["deployments"], 3, "{cli}");
    for what in ["lead-time", "failures", "incidents"] {
        let api = server.get(&format!("/api/v1/explain/{what}?{WINDOW}"), None);
        let cli = server.cli_json_on(
            database.url(),
            &[
                "explain",
                what,
                "--since",
                "2026-01-01",
                "--until",
                "2026-02-01",
                "--skip-unknown",
                "--format",
                "json",
            ],
        );
        assert_eq!(api.json(), cli, "{what}");
    }
}

#[test]
fn two_servers_on_one_postgresql_database_store_every_delivery_once() {
    let Some(database) = postgres_database("two_servers") else {
        return;
    };
    let fixture = Fixture::build("basic");
    let one = tempfile::tempdir().expect("temp dir");
    let two = tempfile::tempdir().expect("temp dir");
    write_config(one.path(), &fixture.repo(), "");
    write_config(two.path(), &fixture.repo(), "");
    let first = start_with(one.path(), &["--database-url", database.url()]);
    let second = start_with(two.path(), &["--database-url", database.url()]);
    // The same burst through both (a load balancer retrying on the other one).
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| burst(&first.base, 16, 25, "shared"));
        let b = s.spawn(|| burst(&second.base, 16, 25, "shared"));
        (a.join().expect("first"), b.join().expect("second"))
    });
    assert_eq!((a.len(), b.len()), (400, 400));
    let log = first.settled(None);
    assert_eq!(log.len(), 400, "each delivery stored once");
    assert!(
        log.iter()
            .all(|d| d["duplicates"] == 1 && d["state"] == "accepted" && d["attempts"] == 1),
        "each stored once, processed once: {:?}",
        log.iter()
            .find(|d| d["duplicates"] != 1 || d["attempts"] != 1)
    );
    assert_eq!(second.settled(None).len(), 400);

    // Updates of one incident reaching both servers at the same instant are merged, never
    // overwritten: each incident is opened by a delivery to the first server and resolved by one
    // to the second, sent at once. Without the processing lock, a "triggered" merged before the
    // "resolved" was written could be written last and reopen the incident.
    let template = |file: &str| -> serde_json::Value {
        serde_json::from_slice(
            &std::fs::read(payloads().join("pagerduty").join(file)).expect("payload"),
        )
        .expect("JSON")
    };
    let signed = |body: &serde_json::Value, id: &str| -> Webhook {
        let body = serde_json::to_vec(body).expect("JSON");
        Webhook {
            path: "/hooks/pagerduty",
            headers: vec![
                ("Content-Type", "application/json".to_owned()),
                ("X-Webhook-Id", id.to_owned()),
                (
                    "X-PagerDuty-Signature",
                    format!("v1={}", hmac_hex(PAGERDUTY_SECRET, &body)),
                ),
            ],
            body,
        }
    };
    const INCIDENTS: usize = 40;
    let (opens, resolves): (Vec<Webhook>, Vec<Webhook>) = (0..INCIDENTS)
        .map(|i| {
            let mut open = template("incident.triggered.v3.zulip-fixture.json");
            open["event"]["id"] = format!("open-{i}").into();
            open["event"]["data"]["id"] = format!("PRACE{i}").into();
            let mut resolve = template("incident.resolved.v3.zulip-fixture.json");
            resolve["event"]["id"] = format!("resolve-{i}").into();
            resolve["event"]["data"]["id"] = format!("PRACE{i}").into();
            resolve["event"]["occurred_at"] = "2021-06-04T15:00:00Z".into();
            (
                signed(&open, &format!("pd-open-{i}")),
                signed(&resolve, &format!("pd-resolve-{i}")),
            )
        })
        .unzip();
    std::thread::scope(|s| {
        let a = s.spawn(|| {
            opens
                .iter()
                .map(|h| send(&first, h).status)
                .collect::<Vec<_>>()
        });
        let b = s.spawn(|| {
            resolves
                .iter()
                .map(|h| send(&second, h).status)
                .collect::<Vec<_>>()
        });
        for status in a
            .join()
            .expect("first")
            .into_iter()
            .chain(b.join().expect("second"))
        {
            assert_eq!(status, 202);
        }
    });
    first.settled(None);
    second.settled(None);
    let listed = first
        .get(
            "/api/v1/explain/incidents?since=2021-06-01&until=2021-07-01&skip-unknown=true&allow-unknown=true&limit=0",
            None,
        )
        .json();
    let incidents = listed.as_array().unwrap_or_else(|| panic!("{listed}"));
    let raced: Vec<&serde_json::Value> = incidents
        .iter()
        .filter(|i| i["id"].as_str().is_some_and(|id| id.contains("PRACE")))
        .collect();
    assert_eq!(raced.len(), INCIDENTS, "{listed}");
    for incident in raced {
        assert!(
            incident["resolved_at"].is_string(),
            "an update was lost: {incident}"
        );
    }
}

/// A GET that does not follow redirects, with extra headers: what a browser's first request sees.
fn get_raw(
    server: &Server,
    path: &str,
    headers: &[(&str, String)],
) -> (u16, Vec<(String, String)>, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into();
    let mut req = agent.get(&server.url(path));
    for (n, v) in headers {
        req = req.header(*n, v);
    }
    let mut resp = req.call().expect("GET");
    let head = resp
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                v.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    (
        resp.status().as_u16(),
        head,
        resp.body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_string()
            .expect("body"),
    )
}

fn header_of<'a>(head: &'a [(String, String)], name: &str) -> Option<&'a str> {
    head.iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The basic fixture served with its deployments, incident and a practice change posted.
fn served_with_records() -> Served {
    let served = served();
    let mut events = fixture_events(&served.fixture);
    events.push_str("{\"type\":\"practice_change\",\"name\":\"Trunk-based development\",\"started_on\":\"2026-01-08\",\"services\":[\"app\"]}\n");
    let posted = served.server.post(
        "/api/v1/events",
        &[("Content-Type", "application/x-ndjson".to_owned())],
        events.as_bytes(),
    );
    assert_eq!(posted.status, 200, "{}", posted.body);
    served
}

/// The dashboard's window over the fixture's weeks.
const PAGE_WINDOW: &str = "since=2026-01-01&until=2026-02-01";

#[test]
fn the_dashboard_shows_the_reports_numbers_and_exports_what_the_cli_prints() {
    let Served {
        server,
        dir,
        fixture: _fixture,
    } = served_with_records();

    // The home page lists the service, with the headline numbers `shiplog metrics` computes.
    let home = server.get(&format!("/?{PAGE_WINDOW}"), None);
    assert_eq!(home.status, 200, "{}", home.body);
    let services = common::browser::element(
        &home.body,
        "<table data-table=\"home-services\"",
        "</table>",
    );
    assert_eq!(services.matches("<tr>").count(), 1 + 1, "{services}");
    assert!(
        services.contains(
            "href=\"/services/app?since=2026-01-01&amp;until=2026-02-01&amp;env=production\""
        ),
        "{services}"
    );
    let metrics = server.cli_json(&[
        "metrics",
        "--service",
        "app",
        "--since",
        "2026-01-01",
        "--until",
        "2026-02-01",
        "--format",
        "json",
    ]);
    let fail_rate = metrics["change_fail_rate"]["rate"]
        .as_f64()
        .expect("a rate");
    assert!(
        services.contains(&format!("{:.1} %", fail_rate * 100.0)),
        "change fail rate {fail_rate} not on the home page: {services}"
    );
    assert!(
        home.body.contains("href=\"/export/home.csv?"),
        "no export of the home table"
    );
    assert!(
        home.body
            .contains("href=\"/practices/Trunk-based%20development?"),
        "{}",
        home.body
    );

    // A service's page is the report's page for that scope: the same tiles as
    // `shiplog report --format json`, inside the dashboard's navigation and filters.
    let page = server.get(&format!("/services/app?{PAGE_WINDOW}&env=production"), None);
    assert_eq!(page.status, 200, "{}", page.body);
    let model = server.cli_json(&[
        "report",
        "--service",
        "app",
        "--since",
        "2026-01-01",
        "--until",
        "2026-02-01",
        "--format",
        "json",
    ]);
    for tile in model["tiles"].as_array().expect("tiles") {
        let anchor = tile["definition"].as_str().expect("its anchor");
        let html =
            common::browser::element(&page.body, &format!("data-tile=\"{anchor}\""), "</details>");
        let value = tile["value_text"].as_str().expect("value text");
        assert!(
            html.contains(&format!("<div class=\"value\">{value}</div>")),
            "{anchor}: {value} not in {html}"
        );
    }
    assert!(
        page.body
            .contains("<form method=\"get\" action=\"/services/app\""),
        "no filter form"
    );
    assert!(
        page.body.contains("value=\"2026-01-01\""),
        "the filter does not show the window"
    );
    assert_eq!(page.body.matches("<svg class=\"chart trend\"").count(), 5);
    // An empty filter field means its default, as a form submits it.
    let defaulted = server.get("/services/app?since=2026-01-01&until=&env=production", None);
    assert_eq!(defaulted.status, 200, "{}", defaulted.body);

    // Every table exports as CSV, byte for byte what the CLI prints.
    for (table, args) in [
        ("metrics", vec!["metrics"]),
        ("trend", vec!["metrics", "--by", "week"]),
        ("changes", vec!["explain", "lead-time"]),
        ("deployments", vec!["explain", "deployments"]),
        ("failures", vec!["explain", "failures"]),
        ("incidents", vec!["explain", "incidents"]),
    ] {
        let link = format!(
            "/export/{table}.csv?service=app&amp;{}",
            PAGE_WINDOW.replace('&', "&amp;")
        );
        assert!(page.body.contains(&link), "no export link {link}");
        let (status, head, csv) = get_raw(
            &server,
            &format!("/export/{table}.csv?service=app&{PAGE_WINDOW}"),
            &[],
        );
        assert_eq!(status, 200, "{table}: {csv}");
        assert_eq!(
            header_of(&head, "content-type"),
            Some("text/csv; charset=utf-8")
        );
        let mut cli = args.clone();
        cli.extend([
            "--service",
            "app",
            "--since",
            "2026-01-01",
            "--until",
            "2026-02-01",
            "--format",
            "csv",
        ]);
        assert_eq!(csv, server.cli_text(&cli), "{table}");
        assert!(csv.lines().count() > 1, "{table} is empty: {csv}");
    }
    // The home page's table exports one row per service (and team), in `metrics`' columns.
    let (status, _, home_csv) = get_raw(&server, &format!("/export/home.csv?{PAGE_WINDOW}"), &[]);
    assert_eq!(status, 200, "{home_csv}");
    let mut lines = home_csv.lines();
    let header = lines.next().expect("a header");
    let metrics_csv = server
        .get(
            &format!("/export/metrics.csv?service=app&{PAGE_WINDOW}"),
            None,
        )
        .body;
    assert_eq!(
        Some(header),
        metrics_csv.lines().next(),
        "the columns of shiplog metrics"
    );
    assert_eq!(
        lines.collect::<Vec<_>>(),
        metrics_csv.lines().skip(1).collect::<Vec<_>>()
    );
    let (status, _, body) = get_raw(&server, "/export/nosuch.csv", &[]);
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("changes.csv"), "{body}");

    // The guide page is `shiplog guide --format markdown` for the scope, inside the bar.
    let guide = server.get(
        &format!("/guide?service=app&{PAGE_WINDOW}&power-simulations=0"),
        None,
    );
    assert_eq!(guide.status, 200, "{}", guide.body);
    assert!(
        guide.body.contains("<nav class=\"dash\""),
        "no dashboard bar"
    );
    let markdown = server.cli_text(&[
        "guide",
        "--service",
        "app",
        "--since",
        "2026-01-01",
        "--until",
        "2026-02-01",
        "--power-simulations",
        "0",
        "--format",
        "markdown",
    ]);
    let heading = markdown
        .lines()
        .find_map(|l| l.strip_prefix("## "))
        .expect("a section heading");
    assert!(
        guide.body.contains(&format!("<h2>{heading}</h2>")),
        "{heading} not in the guide page"
    );
    let unknown = server.get("/guide?nosuch=1", None);
    assert_eq!(unknown.status, 400);

    // A practice change's page carries its impact story.
    let practice = server.get("/practices/Trunk-based%20development", None);
    assert_eq!(practice.status, 200, "{}", practice.body);
    assert!(
        practice.body.contains("<section id=\"practices\">"),
        "no impact section"
    );
    assert!(practice.body.contains("Trunk-based development"));

    // Wrong input is a page a person can read, with the CLI's own words.
    let bad = server.get("/services/app?since=yesterday", None);
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("--since"), "{}", bad.body);
    let unknown = server.get("/practices/Nothing%20recorded", None);
    assert_eq!(unknown.status, 400);
    assert!(
        unknown.body.contains("no practice change named"),
        "{}",
        unknown.body
    );
    drop(dir);
}

#[test]
fn the_dashboard_signs_in_with_a_read_token_and_its_cookie_only_reads() {
    let Served {
        server,
        dir,
        fixture: _fixture,
    } = served_with_records();
    let out = shiplog_in(dir.path())
        .args([
            "serve",
            "--config",
            "shiplog-server.toml",
            "token",
            "create",
            "--name",
            "screen",
            "--scope",
            "read",
        ])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_owned();

    // Without a token a browser is sent to the sign-in form, and comes back where it was.
    let (status, head, _) = get_raw(&server, "/services/app?since=30d", &[]);
    assert_eq!(status, 303);
    assert_eq!(
        header_of(&head, "location"),
        Some("/login?next=/services/app%3Fsince%3D30d")
    );
    let (status, _, form) = get_raw(&server, "/login?next=/services/app", &[]);
    assert_eq!(status, 200);
    assert!(
        form.contains("name=\"token\"") && form.contains("value=\"/services/app\""),
        "{form}"
    );
    // Exports and the API answer 401 as JSON: programs are not redirected.
    let (status, _, _) = get_raw(&server, "/export/metrics.csv", &[]);
    assert_eq!(status, 401);

    let login = |body: String| {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        let mut resp = agent
            .post(&server.url("/login"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .send(body.as_bytes())
            .expect("POST");
        let cookie = resp
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let location = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = resp.body_mut().read_to_string().unwrap_or_default();
        (resp.status().as_u16(), cookie, location, body)
    };
    let (status, cookie, _, body) = login("token=shiplog_wrong&next=%2F".to_owned());
    assert_eq!(status, 401);
    assert!(cookie.is_none());
    assert!(body.contains("unknown or revoked"), "{body}");
    // Another site as the destination is refused: the redirect stays on this server.
    let (status, cookie, location, _) =
        login(format!("token={token}&next=https%3A%2F%2Fevil.example%2F"));
    assert_eq!(status, 303);
    assert_eq!(location.as_deref(), Some("/"));
    let cookie = cookie.expect("a cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().expect("name=value").to_owned();

    let (status, _, page) = get_raw(
        &server,
        &format!("/services/app?{PAGE_WINDOW}"),
        &[("Cookie", pair.clone())],
    );
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Delivery report: app"), "{page}");
    let (status, _, _) = get_raw(&server, "/export/metrics.csv", &[("Cookie", pair.clone())]);
    assert_eq!(status, 200);
    // The cookie never writes, whatever its token could do.
    let posted = server.post(
        "/api/v1/events",
        &[("Cookie", pair.clone())],
        b"{\"type\":\"incident\",\"id\":\"i-9\",\"service\":\"app\",\"opened_at\":\"2026-01-08T10:30:00Z\"}",
    );
    assert_eq!(posted.status, 401, "{}", posted.body);

    // Revoking the token signs the browser out.
    let out = shiplog_in(dir.path())
        .args([
            "serve",
            "--config",
            "shiplog-server.toml",
            "token",
            "revoke",
            "screen",
        ])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (status, _, _) = get_raw(
        &server,
        &format!("/services/app?{PAGE_WINDOW}&env=x"),
        &[("Cookie", pair)],
    );
    assert_eq!(status, 303);
}

#[test]
fn chromium_renders_the_live_dashboard_with_every_chart_and_table() {
    use common::browser::{console_lines, element, run_chromium};
    let Served {
        server,
        dir: _dir,
        fixture: _fixture,
    } = served_with_records();
    let profile = tempfile::tempdir().expect("profile dir");
    let url = server.url(&format!("/services/app?{PAGE_WINDOW}"));
    let (dom, stderr) = run_chromium(&url, profile.path(), &["--dump-dom".to_owned()]);
    assert!(
        console_lines(&stderr).is_empty(),
        "the dashboard logged to the console:\n{}",
        console_lines(&stderr).join("\n")
    );
    assert!(
        dom.contains("<h1>Delivery report: app · production</h1>"),
        "{dom}"
    );
    assert_eq!(dom.matches("<svg class=\"chart trend\"").count(), 5);
    // Five weeks, the first before any deployment: 4 points of deployment frequency.
    let figure = element(
        &dom,
        "<figure data-trend=\"deployment-frequency\"",
        "</figure>",
    );
    assert_eq!(figure.matches("<circle class=\"point\"").count(), 4);
    // The four recorded deployments: d-2 failed by its status, d-3 (v1.3.0) because v1.3.1
    // reverts it; and the incident.
    let rows = |name: &str| {
        element(&dom, &format!("<table data-table=\"{name}\""), "</table>")
            .matches("<tr>")
            .count()
            - 1
    };
    assert_eq!(rows("deployments"), 4);
    assert_eq!(rows("failures"), 2);
    assert_eq!(rows("incidents"), 1);
    assert_eq!(dom.matches("data-export=").count(), 6);
    let home = server.url(&format!("/?{PAGE_WINDOW}"));
    let (dom, stderr) = run_chromium(&home, profile.path(), &["--dump-dom".to_owned()]);
    assert!(console_lines(&stderr).is_empty(), "{stderr}");
    assert_eq!(rows_of(&dom, "home-services"), 1);

    common::browser::screenshots(&url, profile.path(), "dashboard");
}

fn rows_of(dom: &str, table: &str) -> usize {
    common::browser::element(dom, &format!("<table data-table=\"{table}\""), "</table>")
        .matches("<tr>")
        .count()
        - 1
}
