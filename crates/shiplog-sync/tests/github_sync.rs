//! The GitHub sync against a fake GitHub on 127.0.0.1 (`shiplog_sync::test_server`) serving items
//! built from GitHub's recorded payloads in `shared/payloads/github`: what is requested, with which
//! headers, how pages and conditional requests are followed, how rate limits are waited out (the
//! observer records waits instead of sleeping), and what the errors say.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value as Json;
use shiplog_ingest::formats::{self, Ingested, Options, Source};
use shiplog_sync::github::{self, ReadFrom, Repository, SyncOptions, Synced};
use shiplog_sync::test_server::{FakeGitHub, Request, Trouble, items};
use shiplog_sync::{BaseUrl, Client, ClientOptions, Observer, SyncError, Token, Wait, WaitReason};

const TOKEN: &str = "ghp_test_0123456789abcdef";
const REPO: &str = "/repos/Codertocat/Hello-World";
const SHA_A: &str = "1111111111111111111111111111111111111111";
const SHA_B: &str = "2222222222222222222222222222222222222222";

fn payloads() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/payloads/github")
}

/// Records what the sync reports, and waits without sleeping.
#[derive(Default)]
struct Recorder {
    waits: Mutex<Vec<Wait>>,
    begun: Mutex<Vec<String>>,
    progress: Mutex<Vec<(u64, Option<u64>)>>,
}

impl Observer for Recorder {
    fn begin(&self, what: &str) {
        self.begun.lock().expect("lock").push(what.to_owned());
    }
    fn progress(&self, done: u64, total: Option<u64>) {
        self.progress.lock().expect("lock").push((done, total));
    }
    fn wait(&self, wait: &Wait) {
        self.waits.lock().expect("lock").push(wait.clone());
    }
}

impl Recorder {
    fn waits(&self) -> Vec<Wait> {
        self.waits.lock().expect("lock").clone()
    }
}

fn client(server: &FakeGitHub, token: &str, max_wait: Duration) -> Client {
    Client::new(
        BaseUrl::parse(&server.base_url()).expect("base url"),
        Token::new(token).expect("token"),
        &ClientOptions {
            user_agent: "shiplog/test".to_owned(),
            max_wait,
        },
    )
}

fn options(from: ReadFrom) -> SyncOptions {
    SyncOptions {
        incident_labels: Vec::new(),
        workflow_runs: false,
        from,
    }
}

fn repo() -> Repository {
    items::REPOSITORY.parse().expect("repository")
}

/// Every list a sync reads, empty.
fn serve_nothing(server: &FakeGitHub) {
    for list in [
        "pulls",
        "issues/comments",
        "pulls/comments",
        "deployments",
        "releases",
        "issues",
    ] {
        server.list(&format!("{REPO}/{list}"), Vec::new());
    }
}

/// Five pull requests (served two a page: three pages), each with a review by someone else; on #4
/// a comment by someone else an hour before its review (its first review), on #1 comments by its
/// author and by a bot (neither counts), a comment on an issue; two deployments, one succeeded and
/// one failed; a release; an incident issue, closed.
fn serve_history(server: &FakeGitHub) {
    let dir = payloads();
    let pulls: Vec<Json> = (1..=5)
        .rev()
        .map(|n| {
            items::pull(
                &dir,
                n,
                &format!("2026-01-0{n}T12:00:00Z"),
                Some((SHA_A, &format!("2026-01-0{n}T12:00:00Z"))),
            )
        })
        .collect();
    server.list_paged(&format!("{REPO}/pulls"), pulls, 2);
    for n in 1..=5 {
        server.list(
            &format!("{REPO}/pulls/{n}/reviews"),
            vec![
                items::review(&dir, 100 + n, n, true, &format!("2026-01-0{n}T10:00:00Z")),
                items::review(&dir, 200 + n, n, false, &format!("2026-01-0{n}T11:00:00Z")),
            ],
        );
    }
    server.list(
        &format!("{REPO}/issues/comments"),
        vec![
            items::comment(&dir, 301, 1, true, "author", "2026-01-01T10:30:00Z"),
            items::comment(&dir, 302, 1, true, "bot", "2026-01-01T10:40:00Z"),
            items::comment(&dir, 303, 40, false, "reviewer", "2026-01-06T10:30:00Z"),
        ],
    );
    server.list(
        &format!("{REPO}/pulls/comments"),
        vec![items::review_comment(
            &dir,
            401,
            4,
            "reviewer",
            "2026-01-04T10:00:00Z",
        )],
    );
    server.list(
        &format!("{REPO}/deployments"),
        vec![
            items::deployment(&dir, 12, SHA_B, "2026-01-06T09:00:00Z"),
            items::deployment(&dir, 11, SHA_A, "2026-01-05T09:00:00Z"),
        ],
    );
    server.list(
        &format!("{REPO}/deployments/12/statuses"),
        vec![
            items::status(&dir, 12, 2, "failure", "2026-01-06T09:05:00Z"),
            items::status(&dir, 12, 1, "in_progress", "2026-01-06T09:01:00Z"),
        ],
    );
    server.list(
        &format!("{REPO}/deployments/11/statuses"),
        vec![
            items::status(&dir, 11, 4, "inactive", "2026-01-06T09:05:00Z"),
            items::status(&dir, 11, 3, "success", "2026-01-05T09:05:00Z"),
        ],
    );
    server.list(
        &format!("{REPO}/releases"),
        vec![items::release(&dir, 7, "v1.0.0", "2026-01-05T08:00:00Z")],
    );
    server.list(
        &format!("{REPO}/issues"),
        vec![
            items::issue(
                &dir,
                40,
                "incident",
                "2026-01-06T10:00:00Z",
                "2026-01-06T11:00:00Z",
                Some("2026-01-06T11:00:00Z"),
            ),
            items::issue(
                &dir,
                41,
                "bug",
                "2026-01-06T10:00:00Z",
                "2026-01-06T10:00:00Z",
                None,
            ),
        ],
    );
}

fn run(
    server: &FakeGitHub,
    from: ReadFrom,
    saved: &BTreeMap<String, String>,
) -> (Synced, Recorder) {
    let recorder = Recorder::default();
    let synced = github::sync(
        &client(server, TOKEN, Duration::from_secs(900)),
        &repo(),
        &options(from),
        saved,
        &recorder,
    )
    .unwrap_or_else(|e| panic!("sync failed: {e}"));
    (synced, recorder)
}

/// The deliveries through the real GitHub parser, as `shiplog sync` hands them on.
fn ingest(synced: &Synced) -> Ingested {
    let parsed = synced
        .deliveries
        .iter()
        .map(|d| {
            formats::parse(d, Source::GitHub, &Options::default()).unwrap_or_else(|e| {
                panic!(
                    "{}: {}",
                    d.label,
                    e.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("\n")
                )
            })
        })
        .collect();
    formats::combine(parsed)
}

fn paths(requests: &[Request]) -> Vec<String> {
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
fn a_first_sync_reads_every_page_of_every_list_with_githubs_headers() {
    let server = FakeGitHub::start(TOKEN);
    serve_history(&server);
    let (synced, recorder) = run(&server, ReadFrom::LastSync, &BTreeMap::new());
    let requests = server.requests();
    assert_eq!(
        paths(&requests),
        [
            "/pulls",
            "/pulls page 2",
            "/pulls page 3",
            "/pulls/5/reviews",
            "/pulls/4/reviews",
            "/pulls/3/reviews",
            "/pulls/2/reviews",
            "/pulls/1/reviews",
            "/issues/comments",
            "/pulls/comments",
            "/deployments",
            "/deployments/12/statuses",
            "/deployments/11/statuses",
            "/releases",
            "/issues",
        ]
    );
    for r in &requests {
        assert_eq!(r.method, "GET");
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        assert_eq!(r.header("accept"), Some("application/vnd.github+json"));
        assert_eq!(r.header("x-github-api-version"), Some("2022-11-28"));
        assert_eq!(r.header("user-agent"), Some("shiplog/test"));
        assert_eq!(
            r.header("if-none-match"),
            None,
            "nothing to compare with yet"
        );
        assert_eq!(r.param("per_page"), Some("100"), "{}", r.path);
        assert_eq!(r.param("since"), None);
    }
    let pulls = &requests[0];
    assert_eq!(
        (
            pulls.param("state"),
            pulls.param("sort"),
            pulls.param("direction")
        ),
        (Some("all"), Some("updated"), Some("desc"))
    );
    assert_eq!(
        (requests[14].param("labels"), requests[14].param("state")),
        (Some("incident"), Some("all"))
    );
    assert!(
        recorder
            .progress
            .lock()
            .expect("lock")
            .contains(&(3, Some(3))),
        "the last page is known from Link: rel=\"last\""
    );
    assert_eq!(
        recorder.begun.lock().expect("lock").clone(),
        [
            "pull requests",
            "reviews",
            "comments",
            "review comments",
            "deployments",
            "deployment statuses",
            "releases",
            "issues labelled incident"
        ]
    );

    let fetched: Vec<(&str, u32, u64)> = synced
        .fetched
        .iter()
        .map(|f| (f.what.as_str(), f.requests, f.items))
        .collect();
    assert_eq!(
        fetched,
        [
            ("pull requests", 3, 5),
            ("reviews", 5, 10),
            ("comments", 1, 3),
            ("review comments", 1, 1),
            ("deployments", 1, 2),
            ("deployment statuses", 2, 4),
            ("releases", 1, 1),
            ("issues labelled incident", 1, 1),
        ]
    );
    assert_eq!(synced.previous, None);
    assert_eq!(
        synced.state.keys().collect::<Vec<_>>(),
        [
            "deployments",
            "issue-comments",
            "issues:incident",
            "pulls",
            "releases",
            "review-comments"
        ]
    );

    // What was served reads as records through the same parser as `shiplog import`.
    let got = ingest(&synced);
    let mut deployments: Vec<(String, String)> = got
        .deployments
        .iter()
        .map(|d| (d.id.to_string(), d.status.as_str().to_owned()))
        .collect();
    deployments.sort();
    assert_eq!(
        deployments,
        [
            (
                "github:Codertocat/Hello-World:deployment:11".to_owned(),
                "success".to_owned()
            ),
            (
                "github:Codertocat/Hello-World:deployment:12".to_owned(),
                "failure".to_owned()
            ),
        ]
    );
    assert_eq!(got.incidents.len(), 1, "only the issue labelled incident");
    assert_eq!(
        got.incidents[0].id.as_str(),
        "github:Codertocat/Hello-World:issue:40"
    );
    // The earliest review or comment by someone else, per pull request.
    let mut first_reviews: BTreeMap<String, String> = BTreeMap::new();
    for update in &got.pull_requests {
        if let Some(at) = update.first_review_at {
            let at = at.to_string();
            let first = first_reviews
                .entry(update.id.to_string())
                .or_insert(at.clone());
            *first = first.clone().min(at);
        }
    }
    assert_eq!(first_reviews.len(), 5);
    assert_eq!(
        first_reviews["github:Codertocat/Hello-World#3"], "2026-01-03T11:00:00Z",
        "the author's own earlier review does not count"
    );
    assert_eq!(
        first_reviews["github:Codertocat/Hello-World#1"], "2026-01-01T11:00:00Z",
        "nor do its author's or a bot's comments"
    );
    assert_eq!(
        first_reviews["github:Codertocat/Hello-World#4"], "2026-01-04T10:00:00Z",
        "a review comment by someone else before the review"
    );
    assert!(
        got.notes
            .iter()
            .any(|n| n.message == "GitHub issue comment on an issue, not a pull request: skipped"),
        "{:?}",
        got.notes
    );
    assert!(
        got.notes.iter().any(|n| n
            .message
            .starts_with("GitHub release: not a deployment unless --deploy-releases")),
        "{:?}",
        got.notes
    );
}

#[test]
fn a_second_sync_is_conditional_and_reads_only_what_changed() {
    let server = FakeGitHub::start(TOKEN);
    serve_history(&server);
    let (first, _) = run(&server, ReadFrom::LastSync, &BTreeMap::new());

    // Nothing changed: every list's first page is asked with its ETag, and answered 304 but for
    // the lists asked `since` (comments and issues), which answer what changed since: nothing.
    server.clear_requests();
    let (second, _) = run(&server, ReadFrom::LastSync, &first.state);
    let requests = server.requests();
    assert_eq!(
        paths(&requests),
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
        assert!(
            r.header("if-none-match")
                .is_some_and(|e| e.starts_with("W/\"")),
            "{r:?}"
        );
    }
    for r in [&requests[1], &requests[2], &requests[5]] {
        let since = r.param("since").expect("since");
        assert!(since.ends_with('Z') && since.len() == 20, "{since}");
    }
    assert_eq!(second.not_modified(), 3);
    assert_eq!(second.items(), 0);
    assert!(second.deliveries.is_empty());
    assert!(second.previous.is_some());

    // A pull request updated now comes first; paging stops at the first one older than the last
    // sync, so only its reviews are read.
    let dir = payloads();
    let now = jiff::Timestamp::now().to_string();
    let mut pulls = vec![items::pull(&dir, 6, &now, None)];
    pulls.extend((1..=5).rev().map(|n| {
        items::pull(
            &dir,
            n,
            &format!("2026-01-0{n}T12:00:00Z"),
            Some((SHA_A, &format!("2026-01-0{n}T12:00:00Z"))),
        )
    }));
    server.list_paged(&format!("{REPO}/pulls"), pulls, 2);
    server.list(&format!("{REPO}/pulls/6/reviews"), Vec::new());
    server.clear_requests();
    let (third, _) = run(&server, ReadFrom::LastSync, &second.state);
    assert_eq!(
        paths(&server.requests()),
        [
            "/pulls",
            "/pulls/6/reviews",
            "/issues/comments",
            "/pulls/comments",
            "/deployments",
            "/releases",
            "/issues"
        ]
    );
    assert_eq!(third.items(), 1);
    let got = ingest(&third);
    assert_eq!(got.pull_requests.len(), 1);
    assert_eq!(
        got.pull_requests[0].id.as_str(),
        "github:Codertocat/Hello-World#6"
    );

    // --since ignores what was remembered: no If-None-Match, and a cut-off of its own.
    server.clear_requests();
    let since: jiff::Timestamp = "2026-01-04T00:00:00Z".parse().expect("ts");
    let (fourth, _) = run(&server, ReadFrom::Since(since), &third.state);
    let requests = server.requests();
    assert!(requests.iter().all(|r| r.header("if-none-match").is_none()));
    assert_eq!(fourth.fetched[0].items, 3, "pull requests 6, 5 and 4");
    assert_eq!(
        requests.last().and_then(|r| r.param("since")),
        Some("2026-01-04T00:00:00Z")
    );
}

#[test]
fn unfinished_deployments_are_read_again_until_they_finish() {
    let server = FakeGitHub::start(TOKEN);
    serve_nothing(&server);
    let dir = payloads();
    let now = jiff::Timestamp::now();
    let created = (now - jiff::SignedDuration::from_hours(1)).to_string();
    let path = format!("{REPO}/deployments");
    server.list(&path, vec![items::deployment(&dir, 77, SHA_A, &created)]);
    server.object(
        &format!("{path}/77"),
        items::deployment(&dir, 77, SHA_A, &created),
    );
    server.list(
        &format!("{path}/77/statuses"),
        vec![items::status(&dir, 77, 1, "in_progress", &created)],
    );
    let (first, _) = run(&server, ReadFrom::LastSync, &BTreeMap::new());
    assert!(ingest(&first).deployments.is_empty());
    assert_eq!(
        first.notes,
        [
            "deployment 77 to production is not finished yet (in_progress): it is read again on the next sync"
        ]
    );
    assert!(
        first.state["deployments"].contains("\"pending\":[77]"),
        "{}",
        first.state["deployments"]
    );

    // It finished: the list is unchanged (304), the deployment is read on its own.
    let finished = (now - jiff::SignedDuration::from_mins(50)).to_string();
    server.list(
        &format!("{path}/77/statuses"),
        vec![
            items::status(&dir, 77, 2, "success", &finished),
            items::status(&dir, 77, 1, "in_progress", &created),
        ],
    );
    server.clear_requests();
    let (second, _) = run(&server, ReadFrom::LastSync, &first.state);
    let requests = paths(&server.requests());
    assert!(
        requests.starts_with(&[
            "/pulls".to_owned(),
            "/issues/comments".to_owned(),
            "/pulls/comments".to_owned(),
            "/deployments".to_owned(),
            "/deployments/77".to_owned(),
            "/deployments/77/statuses".to_owned()
        ]),
        "{requests:?}"
    );
    let got = ingest(&second);
    assert_eq!(got.deployments.len(), 1);
    assert_eq!(got.deployments[0].finished_at.to_string(), finished);
    assert!(second.notes.is_empty());
    assert!(!second.state["deployments"].contains("pending"));
}

#[test]
fn workflow_runs_and_each_incident_label_are_their_own_requests() {
    let server = FakeGitHub::start(TOKEN);
    serve_nothing(&server);
    let dir = payloads();
    server.runs(
        &format!("{REPO}/actions/runs"),
        vec![items::run(
            &dir,
            900,
            "Deploy",
            SHA_A,
            "2026-01-07T10:00:00Z",
        )],
    );
    server.list(
        &format!("{REPO}/issues"),
        vec![items::issue(
            &dir,
            9,
            "sev1",
            "2026-01-06T10:00:00Z",
            "2026-01-06T10:00:00Z",
            None,
        )],
    );
    let sync_options = SyncOptions {
        incident_labels: vec!["Sev1".to_owned(), "outage".to_owned(), "sev1".to_owned()],
        workflow_runs: true,
        from: ReadFrom::LastSync,
    };
    let synced = github::sync(
        &client(&server, TOKEN, Duration::from_secs(900)),
        &repo(),
        &sync_options,
        &BTreeMap::new(),
        &Recorder::default(),
    )
    .expect("sync");
    let requests = server.requests();
    let runs = requests
        .iter()
        .find(|r| r.path.ends_with("/actions/runs"))
        .expect("runs requested");
    assert_eq!(runs.param("status"), Some("completed"));
    assert_eq!(runs.param("created"), None, "a first sync reads every run");
    let labels: Vec<Option<&str>> = requests
        .iter()
        .filter(|r| r.path.ends_with("/issues"))
        .map(|r| r.param("labels"))
        .collect();
    assert_eq!(labels, [Some("sev1"), Some("outage")]);
    let got = formats::combine(
        synced
            .deliveries
            .iter()
            .map(|d| {
                formats::parse(
                    d,
                    Source::GitHub,
                    &Options {
                        deploy_workflows: vec!["Deploy".to_owned()],
                        incident_labels: vec!["sev1".to_owned()],
                        ..Options::default()
                    },
                )
                .expect("parses")
            })
            .collect(),
    );
    assert_eq!(got.deployments.len(), 1);
    assert_eq!(
        got.deployments[0].id.as_str(),
        "github:Codertocat/Hello-World:workflow_run:900:1"
    );
    assert_eq!(got.incidents.len(), 1);

    // The next sync reads runs created from a week before the last one.
    server.clear_requests();
    github::sync(
        &client(&server, TOKEN, Duration::from_secs(900)),
        &repo(),
        &sync_options,
        &synced.state,
        &Recorder::default(),
    )
    .expect("sync");
    let requests = server.requests();
    let created = requests
        .iter()
        .find(|r| r.path.ends_with("/actions/runs"))
        .and_then(|r| r.param("created"))
        .expect("created filter");
    let from: jiff::Timestamp = created.trim_start_matches(">=").parse().expect("a time");
    let days = jiff::Timestamp::now().duration_since(from).as_hours() / 24;
    assert!(created.starts_with(">=") && days == 7, "{created}");
}

#[test]
fn rate_limits_are_waited_out_and_said() {
    let server = FakeGitHub::start(TOKEN);
    serve_history(&server);
    server.trouble(&format!("{REPO}/pulls"), Trouble::RateLimitedFor(30));
    server.trouble(&format!("{REPO}/deployments"), Trouble::RetryAfter(7));
    server.trouble(&format!("{REPO}/releases"), Trouble::SecondaryLimit);
    server.trouble(
        &format!("{REPO}/issues"),
        Trouble::Status(502, "Server Error".into()),
    );
    let (synced, recorder) = run(&server, ReadFrom::LastSync, &BTreeMap::new());
    let waits = recorder.waits();
    assert_eq!(waits.len(), 4, "{waits:?}");
    assert!(
        matches!(waits[0].reason, WaitReason::RateLimit { reset: Some(_) })
            && waits[0].duration > Duration::from_secs(28)
            && waits[0].duration <= Duration::from_secs(30),
        "{:?}",
        waits[0]
    );
    assert!(
        waits[0]
            .to_string()
            .starts_with("GitHub's rate limit is used up until ")
    );
    assert_eq!(
        (waits[1].duration, &waits[1].reason),
        (Duration::from_secs(7), &WaitReason::SecondaryRateLimit)
    );
    assert_eq!(
        (waits[2].duration, &waits[2].reason),
        (Duration::from_secs(60), &WaitReason::SecondaryRateLimit)
    );
    assert_eq!(
        (waits[3].duration, &waits[3].reason),
        (
            Duration::from_secs(1),
            &WaitReason::ServerError { status: 502 }
        )
    );
    // Each limited request was made again, and the sync completed.
    assert_eq!(server.requests().len(), 15 + 4);
    assert_eq!(synced.requests(), 15, "a retried request counts once");
    assert_eq!(synced.fetched[0].items, 5);
}

#[test]
fn a_wait_beyond_the_maximum_fails_saying_when_the_limit_resets() {
    let server = FakeGitHub::start(TOKEN);
    serve_history(&server);
    server.trouble(&format!("{REPO}/pulls"), Trouble::RateLimitedFor(3600));
    let recorder = Recorder::default();
    let error = github::sync(
        &client(&server, TOKEN, Duration::from_secs(15 * 60)),
        &repo(),
        &options(ReadFrom::LastSync),
        &BTreeMap::new(),
        &recorder,
    )
    .expect_err("a one-hour wait is over the cap");
    assert!(
        matches!(error, SyncError::RateLimitTooLong { reset: Some(_), .. }),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(
        text.starts_with("GitHub's rate limit for this token is used up until 20")
            && text.contains("is longer than the maximum wait of 15m"),
        "{text}"
    );
    assert!(recorder.waits().is_empty(), "it did not wait");

    // Limited again and again: it gives up after a few waits.
    let server = FakeGitHub::start(TOKEN);
    serve_history(&server);
    for _ in 0..6 {
        server.trouble(&format!("{REPO}/pulls"), Trouble::RetryAfter(1));
    }
    let error = github::sync(
        &client(&server, TOKEN, Duration::from_secs(900)),
        &repo(),
        &options(ReadFrom::LastSync),
        &BTreeMap::new(),
        &Recorder::default(),
    )
    .expect_err("still limited");
    assert!(error.to_string().contains("still rate limiting"), "{error}");
}

#[test]
fn errors_say_what_went_wrong_and_never_show_the_token() {
    let server = FakeGitHub::start(TOKEN);
    serve_history(&server);
    let sync_with = |token: &str, repository: &str| {
        github::sync(
            &client(&server, token, Duration::from_secs(900)),
            &repository.parse().expect("repository"),
            &options(ReadFrom::LastSync),
            &BTreeMap::new(),
            &Recorder::default(),
        )
    };
    let wrong = "ghp_wrong_token_zzz";
    let error = sync_with(wrong, items::REPOSITORY).expect_err("bad token");
    assert!(
        matches!(error, SyncError::TokenRejected { .. }),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(
        text.starts_with("GitHub rejected the token (401 Bad credentials) at http://127.0.0.1:"),
        "{text}"
    );
    assert!(!text.contains(wrong) && !format!("{error:?}").contains(wrong));

    let error = sync_with(TOKEN, "Codertocat/Nope").expect_err("unknown repository");
    assert_eq!(
        error.to_string(),
        format!(
            "GitHub answered 404 Not Found for {}/repos/Codertocat/Nope/pulls?state=all&sort=updated&direction=desc&per_page=100",
            server.base_url()
        )
    );

    server.trouble(&format!("{REPO}/deployments"), Trouble::Forbidden);
    let error = sync_with(TOKEN, items::REPOSITORY).expect_err("forbidden");
    assert!(
        error.to_string().ends_with(
            "/deployments?per_page=100 (403: Resource not accessible by personal access token)"
        ),
        "{error}"
    );

    for _ in 0..3 {
        server.trouble(
            &format!("{REPO}/releases"),
            Trouble::Status(503, "Unavailable".into()),
        );
    }
    let error = sync_with(TOKEN, items::REPOSITORY).expect_err("still failing after retries");
    assert!(
        error.to_string().starts_with("GitHub answered 503 for ")
            && error.to_string().ends_with(": Unavailable"),
        "{error}"
    );

    // Nobody listening: the error names the URL.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr")
    };
    let error = github::sync(
        &Client::new(
            BaseUrl::parse(&format!("http://{closed}")).expect("base"),
            Token::new(TOKEN).expect("token"),
            &ClientOptions {
                user_agent: "shiplog/test".to_owned(),
                max_wait: Duration::from_secs(1),
            },
        ),
        &repo(),
        &options(ReadFrom::LastSync),
        &BTreeMap::new(),
        &Recorder::default(),
    )
    .expect_err("connection refused");
    let text = error.to_string();
    assert!(
        text.starts_with(&format!("cannot reach http://{closed}/repos/")),
        "{text}"
    );
    assert!(!text.contains(TOKEN));
}

#[test]
fn an_answer_that_is_not_a_list_is_an_error_naming_the_url() {
    let server = FakeGitHub::start(TOKEN);
    serve_history(&server);
    server.object(
        &format!("{REPO}/releases"),
        serde_json::json!({"message": "odd"}),
    );
    let error = github::sync(
        &client(&server, TOKEN, Duration::from_secs(900)),
        &repo(),
        &options(ReadFrom::LastSync),
        &BTreeMap::new(),
        &Recorder::default(),
    )
    .expect_err("not a list");
    assert!(
        error
            .to_string()
            .ends_with("/releases?per_page=100: expected a JSON array, got an object"),
        "{error}"
    );
}
