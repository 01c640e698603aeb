//! GitHub: every payload in `shared/payloads/github` (octokit's recorded webhook examples), REST
//! list responses assembled at test time from the objects in those payloads, and malformed input.

mod payloads;

use payloads::{ingest, ingest_all, ingest_made, notes, ts};
use serde_json::json;
use shiplog_core::{
    Deployment, DeploymentId, DeploymentSource, DeploymentStatus, Environment, IncidentId,
    PullRequest, PullRequestId, Recorder, RepositoryName, ServiceName, Sha,
};
use shiplog_ingest::formats::{Delivery, IncidentState, Options, Source};

fn sha(hex: &str) -> Sha {
    Sha::from_hex(hex).unwrap()
}

fn hello_world_deployment() -> Deployment {
    Deployment {
        id: DeploymentId::new("github:Codertocat/Hello-World:deployment:145988746").unwrap(),
        service: ServiceName::new("Hello-World").unwrap(),
        environment: Environment::production(),
        sha: sha("f95f852bd8fca8fcc58a9a2d6c842781e32a215e"),
        finished_at: ts("2019-05-15T15:20:55Z"),
        started_at: Some(ts("2019-05-15T15:20:53Z")),
        status: DeploymentStatus::Success,
        unplanned: false,
        source: DeploymentSource::Imported,
        recorded_by: Some(Recorder::ci("github-actions")),
    }
}

#[test]
fn deployment_status_success_is_a_deployment() {
    for file in [
        "github/deployment_status_payload.json",
        "github/deployment_status_with-installation.json",
    ] {
        let got = ingest(file, &Options::default()).unwrap();
        assert_eq!(got.deployments, [hello_world_deployment()], "{file}");
        assert!(got.incidents.is_empty() && got.pull_requests.is_empty());
        assert_eq!(notes(&got), Vec::<String>::new());
    }
}

#[test]
fn mapping_options_name_service_and_environment() {
    let options = Options {
        services: [(
            "Codertocat/Hello-World".to_owned(),
            ServiceName::new("api").unwrap(),
        )]
        .into(),
        environments: [("production".to_owned(), Environment::new("prod").unwrap())].into(),
        ..Options::default()
    };
    let got = ingest("github/deployment_status_payload.json", &options).unwrap();
    assert_eq!(got.deployments[0].service.as_str(), "api");
    assert_eq!(got.deployments[0].environment.as_str(), "prod");
    let flag = Options {
        service: Some(ServiceName::new("web").unwrap()),
        ..Options::default()
    };
    let got = ingest("github/deployment_status_payload.json", &flag).unwrap();
    assert_eq!(got.deployments[0].service.as_str(), "web");
}

#[test]
fn non_final_and_superseded_states_are_skipped_with_a_note() {
    let mut payload = payloads::json("github/deployment_status_payload.json");
    for (state, status) in [
        ("failure", Some(DeploymentStatus::Failure)),
        ("error", Some(DeploymentStatus::Failure)),
        ("in_progress", None),
        ("inactive", None),
    ] {
        payload["deployment_status"]["state"] = json!(state);
        let got = ingest_made("ds.json", &payload, Source::GitHub, &Options::default()).unwrap();
        match status {
            Some(status) => assert_eq!(
                got.deployments,
                [Deployment {
                    status,
                    ..hello_world_deployment()
                }]
            ),
            None => {
                assert!(got.deployments.is_empty());
                assert_eq!(
                    notes(&got),
                    [format!(
                        "ds.json: $.deployment_status.state: GitHub deployment status {state:?} is not final (success, failure or error): skipped"
                    )]
                );
            }
        }
    }
}

#[test]
fn merged_pull_request_is_recorded_without_its_people() {
    let got = ingest(
        "github/pull_request_closed_merged.DERIVED.json",
        &Options::default(),
    )
    .unwrap();
    assert_eq!(got.pull_requests.len(), 1);
    let pr = got.pull_requests[0].apply(None);
    assert_eq!(
        pr,
        PullRequest {
            id: PullRequestId::new("github:Codertocat/Hello-World#2").unwrap(),
            repository: RepositoryName::new("Codertocat/Hello-World").unwrap(),
            number: Some(2),
            title: Some("Update the README with new information.".to_owned()),
            opened_at: ts("2019-05-15T15:20:33Z"),
            ready_for_review_at: None,
            draft: false,
            first_review_at: None,
            merged_at: Some(ts("2019-05-15T15:21:18Z")),
            closed_at: Some(ts("2019-05-15T15:21:18Z")),
            merge_commit: Some(sha("c4295bd74fb0f4fda03689c3df3f2803b658fd85")),
            head_sha: Some(sha("ec26c3e57ca3a959ca5aad62de7213c562f8c821")),
            head_branch: Some("changes".to_owned()),
            base_branch: Some("master".to_owned()),
            commits: vec![],
            first_commit_at: None,
            additions: Some(1),
            deletions: Some(1),
            changed_files: Some(1),
            labels: vec!["bug".to_owned()],
        }
    );
    assert_eq!(pr.validate(), Ok(()));
    let text = format!("{got:?}");
    assert!(
        !text.contains("Codertocat\""),
        "no login may survive: {text}"
    );
}

#[test]
fn a_pull_request_closed_without_merge_has_no_merge_commit() {
    let got = ingest("github/pull_request_closed.json", &Options::default()).unwrap();
    let pr = got.pull_requests[0].apply(None);
    assert_eq!(pr.merged_at, None);
    assert_eq!(pr.closed_at, Some(ts("2019-05-15T15:21:18Z")));
    assert_eq!(
        pr.merge_commit, None,
        "merge_commit_sha of an unmerged PR is a test merge"
    );
}

#[test]
fn a_pull_requests_changed_files_is_its_file_count() {
    // The recorded payload says `"changed_files": 1`; a larger count and a missing one show the
    // value is read, not assumed.
    let got = ingest("github/pull_request_closed.json", &Options::default()).unwrap();
    assert_eq!(got.pull_requests[0].apply(None).changed_files, Some(1));
    let mut payload = payloads::json("github/pull_request_closed.json");
    payload["pull_request"]["changed_files"] = json!(37);
    let got = ingest_made("pr.json", &payload, Source::GitHub, &Options::default()).unwrap();
    assert_eq!(got.pull_requests[0].apply(None).changed_files, Some(37));
    payload["pull_request"]
        .as_object_mut()
        .unwrap()
        .remove("changed_files");
    let got = ingest_made("pr.json", &payload, Source::GitHub, &Options::default()).unwrap();
    assert_eq!(got.pull_requests[0].apply(None).changed_files, None);
    payload["pull_request"]["changed_files"] = json!(-2);
    assert_eq!(
        ingest_made("pr.json", &payload, Source::GitHub, &Options::default()).unwrap_err(),
        [
            "pr.json: $.pull_request.changed_files: expected a non-negative integer, got the number -2"
        ]
    );
}

#[test]
fn a_review_by_someone_else_is_the_first_review_and_the_authors_own_is_not() {
    let base = payloads::json("github/pull_request_closed_merged.DERIVED.json");
    let reviewer = base["pull_request"]["requested_reviewers"][0].clone();
    let author = base["pull_request"]["user"].clone();
    for (who, expected) in [(reviewer, Some(ts("2019-05-15T15:21:00Z"))), (author, None)] {
        let mut payload = base.clone();
        payload["action"] = json!("submitted");
        payload["review"] = json!({"id": 1, "user": who, "state": "approved", "submitted_at": "2019-05-15T15:21:00Z"});
        let got =
            ingest_made("review.json", &payload, Source::GitHub, &Options::default()).unwrap();
        assert_eq!(got.pull_requests[0].apply(None).first_review_at, expected);
    }
}

#[test]
fn rest_lists_join_deployments_with_statuses_and_reviews_with_pull_requests() {
    let ds = payloads::json("github/deployment_status_payload.json");
    let mut deployment = ds["deployment"].clone();
    deployment["repository_url"] = json!("https://api.github.com/repos/Codertocat/Hello-World");
    deployment["statuses_url"] =
        json!("https://api.github.com/repos/Codertocat/Hello-World/deployments/145988746/statuses");
    let status = |state: &str, at: &str| {
        let mut s = ds["deployment_status"].clone();
        s["state"] = json!(state);
        s["created_at"] = json!(at);
        s["deployment_url"] =
            json!("https://api.github.com/repos/Codertocat/Hello-World/deployments/145988746");
        s["repository_url"] = json!("https://api.github.com/repos/Codertocat/Hello-World");
        s
    };
    // Newest first, as GitHub lists them: success, then inactive when superseded.
    let statuses = json!([
        status("inactive", "2019-05-16T10:00:00Z"),
        status("success", "2019-05-15T15:20:55Z"),
        status("in_progress", "2019-05-15T15:20:54Z")
    ]);
    let pr =
        payloads::json("github/pull_request_closed_merged.DERIVED.json")["pull_request"].clone();
    let mut review = json!({"id": 80, "user": pr["requested_reviewers"][0].clone(), "state": "COMMENTED", "submitted_at": "2019-05-15T15:21:00Z",
        "pull_request_url": "https://api.github.com/repos/Codertocat/Hello-World/pulls/2"});
    let own = json!({"id": 81, "user": pr["user"].clone(), "state": "COMMENTED", "submitted_at": "2019-05-15T15:20:40Z",
        "pull_request_url": "https://api.github.com/repos/Codertocat/Hello-World/pulls/2"});
    let list =
        |v: serde_json::Value, name: &str| Delivery::file(name, serde_json::to_vec(&v).unwrap());
    let got = ingest_all(
        &[
            list(json!([deployment]), "deployments.json"),
            list(statuses, "statuses.json"),
            list(json!([own, review.clone()]), "reviews.json"),
            list(json!([pr]), "pulls.json"),
        ],
        &Options::default(),
    )
    .unwrap();
    assert_eq!(got.deployments, [hello_world_deployment()]);
    let mut stored = None;
    for update in &got.pull_requests {
        stored = Some(update.apply(stored.as_ref()));
    }
    let stored = stored.unwrap();
    assert_eq!(
        stored.first_review_at,
        Some(ts("2019-05-15T15:21:00Z")),
        "the author's own earlier comment does not count"
    );
    assert_eq!(
        stored.merge_commit,
        Some(sha("c4295bd74fb0f4fda03689c3df3f2803b658fd85"))
    );

    // Without the pull request, a review cannot be judged; without statuses, nor a deployment.
    review["pull_request_url"] =
        json!("https://api.github.com/repos/Codertocat/Hello-World/pulls/3");
    let got = ingest_all(
        &[
            list(json!([review]), "reviews.json"),
            list(
                json!([ds["deployment"]
                    .clone()
                    .as_object()
                    .cloned()
                    .map(|mut o| {
                        o.insert(
                            "repository_url".into(),
                            json!("https://api.github.com/repos/Codertocat/Hello-World"),
                        );
                        o.insert("statuses_url".into(), json!("x"));
                        o
                    })
                    .unwrap()]),
                "deployments.json",
            ),
        ],
        &Options::default(),
    )
    .unwrap();
    assert!(got.deployments.is_empty() && got.pull_requests.is_empty());
    assert_eq!(
        notes(&got),
        [
            "deployments.json: $[0]: deployment github:Codertocat/Hello-World:deployment:145988746 skipped: none of its statuses in this import is final (success, failure or error); import its statuses with it",
            "reviews.json: $[0]: review skipped: its pull request github:Codertocat/Hello-World#3 is not in this import, so whether its author reviewed it cannot be told (authors are never stored); import the pull requests with their reviews",
        ]
    );
}

#[test]
fn issues_are_incidents_only_with_an_incident_label() {
    let got = ingest("github/issues_labeled.json", &Options::default()).unwrap();
    assert!(got.incidents.is_empty());
    assert_eq!(
        notes(&got),
        [
            "github/issues_labeled.json: $.issue: issue #1 is not an incident: none of its labels (bug) is an incident label (incident); add one with --incident-label"
        ]
    );
    let options = Options {
        incident_labels: vec!["Bug".to_owned()],
        ..Options::default()
    };
    let got = ingest("github/issues_labeled.json", &options).unwrap();
    assert_eq!(got.incidents.len(), 1);
    let i = &got.incidents[0];
    assert_eq!(i.id.as_str(), "github:Codertocat/Hello-World:issue:1");
    assert_eq!(
        (i.service.as_str(), i.environment.as_str()),
        ("Hello-World", "production")
    );
    assert_eq!(i.opened_at, Some(ts("2019-05-15T15:20:18Z")));
    assert_eq!(i.state, IncidentState::Open);
    assert_eq!(
        i.title.as_deref(),
        Some("Spelling error in the README file")
    );
    assert_eq!(
        i.duplicate_of,
        Some(None),
        "an issue states its links: here none"
    );
}

#[test]
fn an_issue_linking_a_pagerduty_incident_is_its_duplicate_and_a_closed_one_is_resolved() {
    let mut payload = payloads::json("github/issues_labeled.json");
    payload["issue"]["labels"][0]["name"] = json!("incident");
    payload["issue"]["body"] = json!("Paged: https://pig208.pagerduty.com/incidents/PCPZE64");
    payload["issue"]["state"] = json!("closed");
    payload["issue"]["closed_at"] = json!("2019-05-15T16:00:00Z");
    let got = ingest_made("issue.json", &payload, Source::GitHub, &Options::default()).unwrap();
    let incident = got.incidents[0].apply(None);
    assert_eq!(
        incident.duplicate_of,
        Some(IncidentId::new("pagerduty:PCPZE64").unwrap())
    );
    assert_eq!(incident.resolved_at, Some(ts("2019-05-15T16:00:00Z")));
}

#[test]
fn workflow_runs_are_deployments_only_for_named_workflows() {
    for file in [
        "github/workflow_run_completed.json",
        "github/workflow_run_completed.with-pull-requests.json",
    ] {
        let got = ingest(file, &Options::default()).unwrap();
        assert!(got.deployments.is_empty());
        assert_eq!(
            notes(&got),
            [format!(
                "{file}: $.workflow_run: workflow run of \"test\" (.github/workflows/test.yml) is not a deployment: name it with --deploy-workflow to count its runs"
            )]
        );
        let options = Options {
            deploy_workflows: vec!["test.yml".to_owned()],
            ..Options::default()
        };
        let got = ingest(file, &options).unwrap();
        assert_eq!(
            got.deployments,
            [Deployment {
                id: DeploymentId::new("github:octo-org/octo-repo:workflow_run:289782451:1")
                    .unwrap(),
                service: ServiceName::new("octo-repo").unwrap(),
                environment: Environment::production(),
                sha: sha("3484a3fb816e0859fd6e1cea078d76385ff50625"),
                finished_at: ts("2020-10-05T16:33:49Z"),
                started_at: Some(ts("2020-10-05T16:33:49Z")),
                status: DeploymentStatus::Success,
                unplanned: false,
                source: DeploymentSource::Imported,
                recorded_by: Some(Recorder::ci("github-actions")),
            }]
        );
    }
}

#[test]
fn events_that_are_no_records_are_skipped_with_a_note() {
    for (file, note) in [
        (
            "github/deployment_payload.json",
            "$: GitHub deployment created: it is imported once a deployment_status reaches a final state (success, failure or error)",
        ),
        (
            "github/push_payload.json",
            "$: GitHub push: commits are read from the repository itself, so a push adds nothing",
        ),
        (
            "github/push_with-new-branch.json",
            "$: GitHub push: commits are read from the repository itself, so a push adds nothing",
        ),
        (
            "github/release_published.json",
            "$.release: GitHub release: not a deployment unless --deploy-releases is given (a published release then deploys its tag); or read tags from git with --deploys tags",
        ),
        (
            "github/check_run_completed.json",
            "$: GitHub check_run event: not a deployment, pull request or incident; skipped",
        ),
        (
            "github/status_payload.json",
            "$: GitHub status event: not a deployment, pull request or incident; skipped",
        ),
    ] {
        let got = ingest(file, &Options::default()).unwrap();
        assert_eq!(
            got,
            shiplog_ingest::formats::Ingested {
                notes: got.notes.clone(),
                ..Default::default()
            },
            "{file}"
        );
        assert_eq!(notes(&got), [format!("{file}: {note}")]);
    }
}

#[test]
fn the_event_header_wins_over_the_shape() {
    let body = payloads::bytes("github/deployment_status_payload.json");
    let mut request =
        b"POST /hook HTTP/1.1\r\nX-GitHub-Event: deployment\r\nX-GitHub-Delivery: 1\r\n\r\n"
            .to_vec();
    request.extend_from_slice(&body);
    let d = Delivery::from_http("delivery.http", &request).unwrap();
    let got = ingest_all(&[d], &Options::default()).unwrap();
    assert!(
        got.deployments.is_empty(),
        "a deployment event is not a final state"
    );
}

#[test]
fn malformed_payloads_name_the_file_and_the_json_path() {
    let base = payloads::json("github/deployment_status_payload.json");
    let cases: Vec<(serde_json::Value, &str)> = vec![
        (
            {
                let mut p = base.clone();
                p["deployment_status"]["state"] = json!(3);
                p
            },
            "bad.json: $.deployment_status.state: expected one of \"success\", \"failure\", \"error\", \"inactive\", \"in_progress\", \"queued\", \"pending\", got the number 3",
        ),
        (
            {
                let mut p = base.clone();
                p["deployment"]["sha"] = json!("f95f852");
                p
            },
            "bad.json: $.deployment.sha: expected a 40-character hexadecimal commit sha, got \"f95f852\"",
        ),
        (
            {
                let mut p = base.clone();
                p["deployment"].as_object_mut().unwrap().remove("sha");
                p
            },
            "bad.json: $.deployment.sha: missing; expected a 40-character hexadecimal commit sha",
        ),
        (
            {
                let mut p = base.clone();
                p["deployment_status"]["created_at"] = json!("2019-05-15 15:20:55");
                p
            },
            "bad.json: $.deployment_status.created_at: expected an RFC 3339 timestamp (e.g. 2026-03-03T14:00:00Z), got \"2019-05-15 15:20:55\"",
        ),
        (
            {
                let mut p = base.clone();
                p["deployment_status"]["environment"] = json!("prod eu");
                p
            },
            "bad.json: $.deployment_status.environment: the environment \"prod eu\" is not a shiplog environment name (expected a environment name made of ASCII letters, digits, '-', '_', '.', '/' and ':', got ' ' in \"prod eu\"); map it with --env 'prod eu=NAME'",
        ),
    ];
    for (payload, expected) in cases {
        assert_eq!(
            ingest_made("bad.json", &payload, Source::GitHub, &Options::default()).unwrap_err(),
            [expected]
        );
    }
    let d = Delivery::file("broken.json", b"{\"deployment_status\": ".to_vec());
    assert_eq!(
        shiplog_ingest::formats::parse(&d, Source::GitHub, &Options::default()).unwrap_err()[0]
            .to_string(),
        "broken.json: not valid JSON: EOF while parsing a value at line 1 column 22"
    );
    let unknown = json!({"zen": "Keep it logically awesome."});
    assert_eq!(
        ingest_made("ping.json", &unknown, Source::GitHub, &Options::default()).unwrap_err(),
        [
            "ping.json: $: expected a GitHub webhook payload (deployment_status, pull_request, issues, workflow_run, ...) or a REST list, and could not tell which event this is; import it with its X-GitHub-Event header (a .http file)"
        ]
    );
}

#[test]
fn rest_lists_from_github_enterprise_server_name_their_repository() {
    let mut issue = payloads::json("github/issues_labeled.json")["issue"].clone();
    issue["labels"][0]["name"] = json!("incident");
    issue["repository_url"] = json!("https://ghe.example.com/api/v3/repos/acme/shop");
    let got = ingest_made(
        "issues.json",
        &json!([issue.clone()]),
        Source::GitHub,
        &Options::default(),
    )
    .unwrap();
    assert_eq!(got.incidents[0].id.as_str(), "github:acme/shop:issue:1");
    assert_eq!(got.incidents[0].service.as_str(), "shop");

    issue["repository_url"] = json!("https://ghe.example.com/repos/acme/shop");
    let errors = ingest_made(
        "issues.json",
        &json!([issue]),
        Source::GitHub,
        &Options::default(),
    )
    .unwrap_err();
    assert_eq!(
        errors,
        [
            "issues.json: $[0].repository_url: expected a GitHub API URL starting \"https://api.github.com/repos/\" (or https://HOST/api/v3/repos/ for GitHub Enterprise Server), got \"https://ghe.example.com/repos/acme/shop\""
        ]
    );
}

fn releases() -> Options {
    Options {
        deploy_releases: true,
        ..Options::default()
    }
}

#[test]
fn with_deploy_releases_a_published_release_deploys_its_tag() {
    let got = ingest("github/release_published.json", &releases()).unwrap();
    assert!(
        got.deployments.is_empty(),
        "the tag is resolved by the caller"
    );
    assert_eq!(notes(&got), Vec::<String>::new());
    let [release] = got.releases.as_slice() else {
        panic!("one release: {got:?}");
    };
    assert_eq!(release.tag, "0.0.1");
    assert_eq!(release.file, "github/release_published.json");
    assert_eq!(release.path, "$.release");
    let tagged = sha("6113728f27ae82c7b1a177c8d03f9e96e0adf246");
    assert_eq!(
        release.clone().into_deployment(tagged),
        Deployment {
            id: DeploymentId::new("github:Codertocat/Hello-World:release:17372790").unwrap(),
            service: ServiceName::new("Hello-World").unwrap(),
            environment: Environment::production(),
            sha: tagged,
            finished_at: ts("2019-05-15T15:20:53Z"),
            started_at: None,
            status: DeploymentStatus::Success,
            unplanned: false,
            source: DeploymentSource::Imported,
            // A release is published by whoever publishes it: the payload does not say CI.
            recorded_by: None,
        }
    );

    // The REST releases list holds the same objects; the repository comes from their API URL.
    let list = json!([payloads::json("github/release_published.json")["release"]]);
    let listed = ingest_made("releases.json", &list, Source::GitHub, &releases()).unwrap();
    assert_eq!(listed.releases.len(), 1);
    assert_eq!(listed.releases[0].deployment, release.deployment);
    assert_eq!(listed.releases[0].path, "$[0]");
}

#[test]
fn drafts_pre_releases_and_other_actions_are_not_deployments() {
    let recorded = payloads::json("github/release_published.json");
    let variant = |change: &dyn Fn(&mut serde_json::Value)| {
        let mut body = recorded.clone();
        change(&mut body);
        let got = ingest_made("release.json", &body, Source::GitHub, &releases()).unwrap();
        assert!(got.releases.is_empty() && got.deployments.is_empty());
        notes(&got)
    };
    assert_eq!(
        variant(&|b| b["release"]["prerelease"] = json!(true)),
        ["release.json: $.release: GitHub pre-release: not a production deployment; skipped"]
    );
    assert_eq!(
        variant(&|b| b["release"]["draft"] = json!(true)),
        [
            "release.json: $.release: GitHub draft release: not published, so not a deployment; skipped"
        ]
    );
    assert_eq!(
        variant(&|b| b["action"] = json!("deleted")),
        [
            "release.json: $.release: GitHub release deleted: only a published release is a deployment; skipped"
        ]
    );
    assert_eq!(
        variant(&|b| b["release"]["published_at"] = json!(null)),
        ["release.json: $.release: GitHub release not published yet: skipped"]
    );
}

#[test]
fn a_malformed_release_names_its_json_path() {
    let recorded = payloads::json("github/release_published.json");
    for (change, error) in [
        (
            ("published_at", json!("yesterday")),
            "release.json: $.release.published_at: expected",
        ),
        (
            ("tag_name", json!(7)),
            "release.json: $.release.tag_name: expected a string, got the number 7",
        ),
        (
            ("tag_name", json!(" ")),
            "release.json: $.release.tag_name: expected a tag name",
        ),
        (
            ("draft", json!("no")),
            "release.json: $.release.draft: expected",
        ),
    ] {
        let mut body = recorded.clone();
        body["release"][change.0] = change.1.clone();
        let errors = ingest_made("release.json", &body, Source::GitHub, &releases()).unwrap_err();
        assert!(
            errors.len() == 1 && errors[0].starts_with(error),
            "{change:?}: {errors:?}"
        );
    }
}

/// Comment payloads are not among the recorded ones: these are made from the recorded pull
/// request (its users, repository and pull request object) in GitHub's documented shapes.
#[test]
fn a_comment_by_someone_else_is_the_first_review_and_the_authors_or_a_bots_is_not() {
    let base = payloads::json("github/pull_request_closed_merged.DERIVED.json");
    let reviewer = base["pull_request"]["requested_reviewers"][0].clone();
    let author = base["pull_request"]["user"].clone();
    let mut bot = reviewer.clone();
    bot["login"] = json!("ci-reporter[bot]");
    bot["type"] = json!("Bot");
    let at = "2019-05-15T15:21:00Z";
    for (who, expected, note) in [
        (reviewer.clone(), Some(ts(at)), None),
        (author.clone(), None, None),
        (
            bot.clone(),
            None,
            Some("$.comment: written by a bot: not a review; skipped"),
        ),
    ] {
        // A review comment on the diff.
        let mut payload = base.clone();
        payload["action"] = json!("created");
        payload["comment"] = json!({"id": 5, "user": who, "body": "nit", "created_at": at,
            "diff_hunk": "@@ -1 +1 @@", "pull_request_url": base["pull_request"]["url"]});
        let got = ingest_made(
            "comment.json",
            &payload,
            Source::GitHub,
            &Options::default(),
        )
        .unwrap();
        assert_eq!(got.pull_requests[0].apply(None).first_review_at, expected);
        assert_eq!(
            notes(&got),
            note.map(|n| format!("comment.json: {n}"))
                .into_iter()
                .collect::<Vec<_>>()
        );

        // A conversation comment: an issue_comment webhook whose issue is the pull request.
        let pr = &base["pull_request"];
        let issue = json!({"number": pr["number"], "title": pr["title"], "user": pr["user"],
            "created_at": pr["created_at"], "pull_request": {"url": pr["url"]}});
        let payload = json!({"action": "created", "issue": issue, "repository": base["repository"],
            "comment": {"id": 6, "user": who, "body": "LGTM", "created_at": at}});
        let got = ingest_made(
            "issue_comment.json",
            &payload,
            Source::GitHub,
            &Options::default(),
        )
        .unwrap();
        let stored = got.pull_requests[0].apply(None);
        assert_eq!(stored.first_review_at, expected);
        assert_eq!(stored.id.as_str(), "github:Codertocat/Hello-World#2");
        assert_eq!(stored.opened_at, ts("2019-05-15T15:20:33Z"));
    }
    // A deleted comment is no review.
    let mut deleted = base.clone();
    deleted["action"] = json!("deleted");
    deleted["comment"] = json!({"id": 5, "user": reviewer, "body": "nit", "created_at": at});
    let got = ingest_made(
        "deleted.json",
        &deleted,
        Source::GitHub,
        &Options::default(),
    )
    .unwrap();
    assert!(got.pull_requests.is_empty());
    assert_eq!(
        notes(&got),
        ["deleted.json: $: GitHub comment deleted: a deleted comment is no review; skipped"]
    );
    // A comment on an issue says nothing about pull requests.
    let issue = payloads::json("github/issues_labeled.json");
    let payload = json!({"action": "created", "issue": issue["issue"], "repository": issue["repository"],
        "comment": {"id": 7, "user": reviewer, "body": "seen", "created_at": at}});
    let got = ingest_made(
        "issue_comment.json",
        &payload,
        Source::GitHub,
        &Options::default(),
    )
    .unwrap();
    assert!(got.pull_requests.is_empty());
    assert_eq!(
        notes(&got),
        [
            "issue_comment.json: $.issue: GitHub issue comment on an issue, not a pull request: skipped"
        ]
    );
}

#[test]
fn rest_comment_lists_join_their_pull_requests() {
    let pr =
        payloads::json("github/pull_request_closed_merged.DERIVED.json")["pull_request"].clone();
    let api = "https://api.github.com/repos/Codertocat/Hello-World";
    let web = "https://github.com/Codertocat/Hello-World";
    let reviewer = pr["requested_reviewers"][0].clone();
    let comment = |id: u64, who: &serde_json::Value, page: &str, at: &str| {
        json!({"id": id, "user": who, "body": "…", "created_at": at, "updated_at": at,
            "issue_url": format!("{api}/issues/2"),
            "html_url": format!("{web}/{page}/2#issuecomment-{id}")})
    };
    let issue_comments = json!([
        comment(1, &pr["user"], "pull", "2019-05-15T15:20:40Z"),
        comment(2, &reviewer, "issues", "2019-05-15T15:20:45Z"),
        comment(3, &reviewer, "pull", "2019-05-15T15:20:50Z"),
    ]);
    let review_comments = json!([{"id": 9, "user": reviewer, "body": "nit", "diff_hunk": "@@",
        "created_at": "2019-05-15T15:20:47Z", "pull_request_url": format!("{api}/pulls/2")}]);
    let list =
        |v: &serde_json::Value, name: &str| Delivery::file(name, serde_json::to_vec(v).unwrap());
    let first_review = |files: &[Delivery]| {
        let got = ingest_all(files, &Options::default()).unwrap();
        let mut stored = None;
        for update in &got.pull_requests {
            stored = Some(update.apply(stored.as_ref()));
        }
        (stored.and_then(|s| s.first_review_at), notes(&got))
    };
    // The author's own comment does not count, nor one on the issue page of the same number:
    // the first is #3's at 15:20:50.
    let (first, notes) = first_review(&[
        list(&json!([pr]), "pulls.json"),
        list(&issue_comments, "comments.json"),
    ]);
    assert_eq!(first, Some(ts("2019-05-15T15:20:50Z")));
    assert_eq!(
        notes,
        ["comments.json: $[1]: GitHub issue comment on an issue, not a pull request: skipped"]
    );
    // A review comment on the diff came earlier.
    let (first, _) = first_review(&[
        list(&json!([pr]), "pulls.json"),
        list(&issue_comments, "comments.json"),
        list(&review_comments, "review-comments.json"),
    ]);
    assert_eq!(first, Some(ts("2019-05-15T15:20:47Z")));
}
