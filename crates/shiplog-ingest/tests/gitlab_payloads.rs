//! GitLab: every payload in `shared/payloads/gitlab` (real gitlab.com deployment hooks recorded by
//! zulip, and GitLab's documented examples), REST list items derived from them, and malformed
//! input. The deployment hooks' `status_changed_at` is `2025-05-02 12:30:19 +0000`, not RFC 3339.

mod payloads;

use payloads::{ingest, ingest_made, notes, ts};
use serde_json::json;
use shiplog_core::{
    Deployment, DeploymentId, DeploymentSource, DeploymentStatus, Environment, PullRequest,
    PullRequestId, Recorder, RepositoryName, ServiceName, Sha,
};
use shiplog_ingest::formats::{IncidentState, Options, Source};

fn deployment(
    id: &str,
    service: &str,
    env: &str,
    sha: &str,
    at: &str,
    status: DeploymentStatus,
) -> Deployment {
    Deployment {
        id: DeploymentId::new(id).unwrap(),
        service: ServiceName::new(service).unwrap(),
        environment: Environment::new(env).unwrap(),
        sha: Sha::from_hex(sha).unwrap(),
        finished_at: ts(at),
        started_at: None,
        status,
        unplanned: false,
        source: DeploymentSource::Imported,
        recorded_by: Some(Recorder::ci("gitlab")),
    }
}

#[test]
fn deployment_hooks_with_non_rfc3339_times() {
    for (file, expected) in [
        (
            "gitlab/deployment_hook.success.zulip-fixture.json",
            deployment(
                "gitlab:deployment:988572802",
                "test",
                "production",
                "58793660b22d6ceacbdc23b28a0562bca339702c",
                "2025-05-02T11:55:16Z",
                DeploymentStatus::Success,
            ),
        ),
        (
            "gitlab/deployment_hook.failed.zulip-fixture.json",
            deployment(
                "gitlab:deployment:988604916",
                "test",
                "production",
                "846d8de0b7b3d694954249d2fd5d87fbe8c84e4c",
                "2025-05-02T12:30:19Z",
                DeploymentStatus::Failure,
            ),
        ),
        // "2021-04-28 21:50:00 +0200" is 19:50 UTC.
        (
            "gitlab/deployment_hook.docs-example.json",
            deployment(
                "gitlab:deployment:15",
                "test-deployment-webhooks",
                "staging",
                "279484c09fbe69ededfced8c1bb6e6d24616b468",
                "2021-04-28T19:50:00Z",
                DeploymentStatus::Success,
            ),
        ),
    ] {
        let got = ingest(file, &Options::default()).unwrap();
        assert_eq!(got.deployments, [expected], "{file}");
        assert!(got.notes.is_empty());
    }
}

#[test]
fn the_three_gitlab_time_forms_are_read() {
    let mut hook = payloads::json("gitlab/deployment_hook.success.zulip-fixture.json");
    for (text, expected) in [
        ("2025-05-02 11:55:16 +0000", "2025-05-02T11:55:16Z"),
        ("2025-05-02 13:55:16.5 +0200", "2025-05-02T11:55:16.5Z"),
        ("2025-05-02 11:55:16 UTC", "2025-05-02T11:55:16Z"),
        ("2025-05-02T11:55:16Z", "2025-05-02T11:55:16Z"),
    ] {
        hook["status_changed_at"] = json!(text);
        let got = ingest_made("hook.json", &hook, Source::GitLab, &Options::default()).unwrap();
        assert_eq!(got.deployments[0].finished_at, ts(expected), "{text}");
    }
    hook["status_changed_at"] = json!("2025-05-02 11:55:16");
    assert_eq!(
        ingest_made("hook.json", &hook, Source::GitLab, &Options::default()).unwrap_err(),
        [
            "hook.json: $.status_changed_at: expected a GitLab time (2026-03-03T14:00:00Z, 2026-03-03 14:00:00 +0000 or 2026-03-03 14:00:00 UTC), got \"2025-05-02 11:55:16\""
        ]
    );
}

#[test]
fn running_and_canceled_deployments_are_skipped() {
    let mut hook = payloads::json("gitlab/deployment_hook.success.zulip-fixture.json");
    for status in ["running", "canceled"] {
        hook["status"] = json!(status);
        let got = ingest_made("hook.json", &hook, Source::GitLab, &Options::default()).unwrap();
        assert!(got.deployments.is_empty());
        assert_eq!(
            notes(&got),
            [format!(
                "hook.json: $.status: GitLab deployment status {status:?} is not final (success or failed): skipped"
            )]
        );
    }
}

#[test]
fn merge_request_hook_leaving_draft_is_a_pull_request_ready_for_review() {
    let got = ingest(
        "gitlab/merge_request_hook.open.docs-example.json",
        &Options::default(),
    )
    .unwrap();
    assert_eq!(
        got.pull_requests[0].apply(None),
        PullRequest {
            id: PullRequestId::new("gitlab:gitlabhq/gitlab-test!1").unwrap(),
            repository: RepositoryName::new("gitlabhq/gitlab-test").unwrap(),
            number: Some(1),
            title: Some("MS-Viewport".to_owned()),
            opened_at: ts("2013-12-03T17:23:34Z"),
            ready_for_review_at: Some(ts("2013-12-03T17:23:34Z")),
            draft: false,
            first_review_at: None,
            merged_at: None,
            closed_at: None,
            merge_commit: None,
            head_sha: Some(Sha::from_hex("da1560886d4f094c3e6c9ef40349f7d38b5d27d7").unwrap()),
            head_branch: Some("ms-viewport".to_owned()),
            base_branch: Some("master".to_owned()),
            commits: vec![],
            first_commit_at: None,
            additions: None,
            deletions: None,
            changed_files: None,
            labels: vec!["API".to_owned()],
        }
    );
}

#[test]
fn changes_count_is_the_file_count_only_when_exact() {
    // GitLab's documented hook example has no `changes_count`: unknown.
    let mut hook = payloads::json("gitlab/merge_request_hook.open.docs-example.json");
    let changed = |hook: &serde_json::Value| {
        ingest_made("mr.json", hook, Source::GitLab, &Options::default())
            .unwrap()
            .pull_requests[0]
            .changed_files
    };
    assert_eq!(changed(&hook), None);
    for (value, expected) in [
        (json!("12"), Some(12)),
        (json!(7), Some(7)),
        (json!("1000+"), None),
        (json!(""), None),
        (json!("-3"), None),
        (json!(null), None),
    ] {
        hook["object_attributes"]["changes_count"] = value.clone();
        assert_eq!(changed(&hook), expected, "{value}");
    }
}

#[test]
fn merged_and_approved_merge_requests() {
    let mut hook = payloads::json("gitlab/merge_request_hook.open.docs-example.json");
    hook["object_attributes"]["state"] = json!("merged");
    hook["object_attributes"]["action"] = json!("merge");
    hook["object_attributes"]["updated_at"] = json!("2013-12-04 09:00:00 UTC");
    hook["object_attributes"]["merge_commit_sha"] =
        json!("b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327");
    let merged = ingest_made("mr.json", &hook, Source::GitLab, &Options::default())
        .unwrap()
        .pull_requests[0]
        .apply(None);
    assert_eq!(merged.merged_at, Some(ts("2013-12-04T09:00:00Z")));
    assert_eq!(merged.closed_at, merged.merged_at);
    assert_eq!(
        merged.merge_commit,
        Some(Sha::from_hex("b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327").unwrap())
    );

    // An approval by another user (user 1, the author is 51) is the first review; the author's is not.
    hook["object_attributes"]["state"] = json!("opened");
    hook["object_attributes"]["action"] = json!("approved");
    let got = ingest_made("mr.json", &hook, Source::GitLab, &Options::default()).unwrap();
    assert_eq!(
        got.pull_requests[0].first_review_at,
        Some(ts("2013-12-04T09:00:00Z"))
    );
    hook["user"]["id"] = json!(51);
    let got = ingest_made("mr.json", &hook, Source::GitLab, &Options::default()).unwrap();
    assert_eq!(got.pull_requests[0].first_review_at, None);
}

#[test]
fn push_hooks_are_skipped_with_a_note() {
    let got = ingest("gitlab/push_hook.docs-example.json", &Options::default()).unwrap();
    assert_eq!(
        notes(&got),
        [
            "gitlab/push_hook.docs-example.json: $: GitLab push: commits are read from the repository itself, so a push adds nothing"
        ]
    );
}

#[test]
fn rest_lists_of_deployments_merge_requests_and_incident_issues() {
    let hook = payloads::json("gitlab/deployment_hook.success.zulip-fixture.json");
    let deployments = json!([{
        "id": hook["deployment_id"], "iid": 7, "ref": "master", "sha": "58793660b22d6ceacbdc23b28a0562bca339702c",
        "created_at": "2025-05-02T11:50:00.000Z", "updated_at": "2025-05-02T11:55:16.000Z", "status": "success",
        "environment": {"id": 1, "name": "production"}, "deployable": {"finished_at": "2025-05-02T11:55:16.000Z"}
    }]);
    assert_eq!(
        ingest_made(
            "deployments.json",
            &deployments,
            Source::GitLab,
            &Options::default()
        )
        .unwrap_err(),
        [
            "deployments.json: $[0]: GitLab's deployments list does not name the project; give the service with --service NAME"
        ]
    );
    let options = Options {
        service: Some(ServiceName::new("test").unwrap()),
        ..Options::default()
    };
    let got = ingest_made("deployments.json", &deployments, Source::GitLab, &options).unwrap();
    let from_hook = ingest(
        "gitlab/deployment_hook.success.zulip-fixture.json",
        &Options::default(),
    )
    .unwrap();
    assert_eq!(
        got.deployments[0].id, from_hook.deployments[0].id,
        "the hook and the API give one id"
    );
    assert_eq!(
        got.deployments[0].started_at,
        Some(ts("2025-05-02T11:50:00Z"))
    );

    let mrs = json!([{"id": 99, "iid": 1, "project_id": 14, "title": "MS-Viewport", "state": "merged",
        "created_at": "2013-12-03T17:23:34.000Z", "updated_at": "2013-12-04T09:00:00.000Z", "merged_at": "2013-12-04T09:00:00.000Z",
        "closed_at": null, "target_branch": "master", "source_branch": "ms-viewport", "labels": ["API"], "draft": false,
        "sha": "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", "merge_commit_sha": null, "squash_commit_sha": "b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327",
        "references": {"full": "gitlabhq/gitlab-test!1"}, "author": {"id": 51, "username": "someone"}, "changes_count": "4"}]);
    let pr = ingest_made("mrs.json", &mrs, Source::GitLab, &Options::default())
        .unwrap()
        .pull_requests[0]
        .apply(None);
    assert_eq!(pr.id.as_str(), "gitlab:gitlabhq/gitlab-test!1");
    assert_eq!(
        pr.merge_commit,
        Some(Sha::from_hex("b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327").unwrap()),
        "a squash merge"
    );
    assert_eq!(pr.closed_at, pr.merged_at);
    assert_eq!(pr.changed_files, Some(4));

    let issues = json!([
        {"iid": 12, "project_id": 14, "title": "Checkout down", "description": "PD: https://acme.pagerduty.com/incidents/Q0RIJJZL24RC6W",
         "state": "closed", "created_at": "2025-05-02T12:00:00Z", "updated_at": "2025-05-02T13:00:00Z", "closed_at": "2025-05-02T12:40:00Z",
         "labels": [], "issue_type": "incident", "type": "INCIDENT", "references": {"full": "gitlabhq/gitlab-test#12"}},
        {"iid": 13, "project_id": 14, "title": "Typo", "description": "", "state": "opened", "created_at": "2025-05-02T12:00:00Z",
         "labels": ["docs"], "issue_type": "issue", "type": "ISSUE", "references": {"full": "gitlabhq/gitlab-test#13"}}
    ]);
    let got = ingest_made("issues.json", &issues, Source::GitLab, &Options::default()).unwrap();
    assert_eq!(got.incidents.len(), 1);
    let i = got.incidents[0].apply(None);
    assert_eq!(i.id.as_str(), "gitlab:gitlabhq/gitlab-test:issue:12");
    assert_eq!(i.service.as_str(), "gitlab-test");
    assert_eq!(
        (i.opened_at, i.resolved_at),
        (ts("2025-05-02T12:00:00Z"), Some(ts("2025-05-02T12:40:00Z")))
    );
    assert_eq!(
        i.duplicate_of.map(|d| d.to_string()),
        Some("pagerduty:Q0RIJJZL24RC6W".to_owned())
    );
    assert_eq!(
        got.incidents[0].state,
        IncidentState::Resolved(ts("2025-05-02T12:40:00Z"))
    );
    assert_eq!(
        notes(&got),
        [
            "issues.json: $[1]: issue #13 is not an incident: its type is not incident and none of its labels is an incident label (incident); add one with --incident-label"
        ]
    );
}

#[test]
fn malformed_hooks_name_the_json_path() {
    let base = payloads::json("gitlab/deployment_hook.success.zulip-fixture.json");
    let cases: Vec<(serde_json::Value, &str)> = vec![
        (
            {
                let mut p = base.clone();
                p["commit_url"] = json!("https://gitlab.com/vedant8600317/test/-/commit/58793660");
                p
            },
            "hook.json: $.commit_url: expected a commit URL ending in a 40-character hexadecimal commit sha, got \"https://gitlab.com/vedant8600317/test/-/commit/58793660\"",
        ),
        (
            {
                let mut p = base.clone();
                p.as_object_mut().unwrap().remove("status_changed_at");
                p
            },
            "hook.json: $.status_changed_at: missing; expected a GitLab time (2026-03-03T14:00:00Z, 2026-03-03 14:00:00 +0000 or 2026-03-03 14:00:00 UTC)",
        ),
        (
            {
                let mut p = base.clone();
                p["project"]["name"] = json!("my test");
                p
            },
            "hook.json: $.project: the GitLab project \"my test\" is not a shiplog service name (expected a service name made of ASCII letters, digits, '-', '_', '.', '/' and ':', got ' ' in \"my test\"); map it with --service 'my test=NAME' or give --service NAME",
        ),
        (
            {
                let mut p = base.clone();
                p["object_kind"] = json!(["deployment"]);
                p
            },
            "hook.json: $.object_kind: expected a string, got an array",
        ),
    ];
    for (payload, expected) in cases {
        assert_eq!(
            ingest_made("hook.json", &payload, Source::GitLab, &Options::default()).unwrap_err(),
            [expected]
        );
    }
    let mut mapped = base.clone();
    mapped["project"]["name"] = json!("my test");
    let options = Options {
        services: [(
            "vedant8600317/test".to_owned(),
            ServiceName::new("api").unwrap(),
        )]
        .into(),
        ..Options::default()
    };
    assert_eq!(
        ingest_made("hook.json", &mapped, Source::GitLab, &options)
            .unwrap()
            .deployments[0]
            .service
            .as_str(),
        "api"
    );
}

/// GitLab note hooks are not among the recorded payloads: this one is made from the recorded merge
/// request hook (its user, project and merge request) in GitLab's documented note hook shape.
#[test]
fn a_comment_on_a_merge_request_by_someone_else_is_its_first_review() {
    let mr_hook = payloads::json("gitlab/merge_request_hook.open.docs-example.json");
    let note = |author_id: u64, username: &str, on: &str, system: bool| {
        let mut user = mr_hook["user"].clone();
        user["id"] = json!(author_id);
        user["username"] = json!(username);
        json!({
            "object_kind": "note",
            "event_type": "note",
            "user": user,
            "project": mr_hook["project"],
            "object_attributes": {"id": 1244, "note": "Looks good", "noteable_type": on,
                "author_id": author_id, "created_at": "2013-12-03 18:00:00 UTC",
                "updated_at": "2013-12-03 18:00:00 UTC", "system": system},
            "merge_request": mr_hook["object_attributes"],
        })
    };
    let first_review = |payload: &serde_json::Value| {
        let got = ingest_made("note.json", payload, Source::GitLab, &Options::default()).unwrap();
        let review = got.pull_requests.first().map(|u| u.apply(None)).map(|pr| {
            assert_eq!(pr.id.as_str(), "gitlab:gitlabhq/gitlab-test!1");
            assert_eq!(pr.opened_at, ts("2013-12-03T17:23:34Z"));
            pr.first_review_at
        });
        (review, notes(&got))
    };
    // Someone else (user 1, the merge request's author is 51).
    assert_eq!(
        first_review(&note(1, "root", "MergeRequest", false)),
        (Some(Some(ts("2013-12-03T18:00:00Z"))), vec![])
    );
    // Its author.
    assert_eq!(
        first_review(&note(51, "author", "MergeRequest", false)),
        (Some(None), vec![])
    );
    // A project access token's bot user.
    assert_eq!(
        first_review(&note(7, "project_278_bot_3f2a", "MergeRequest", false)),
        (
            Some(None),
            vec![
                "note.json: $.object_attributes: written by a bot: not a review; skipped"
                    .to_owned()
            ]
        )
    );
    // A system note ("added 1 commit") and a comment on an issue are no reviews.
    assert_eq!(
        first_review(&note(1, "root", "MergeRequest", true)),
        (
            None,
            vec!["note.json: $.object_attributes: GitLab system note (an event, not a comment): skipped".to_owned()]
        )
    );
    assert_eq!(
        first_review(&note(1, "root", "Issue", false)),
        (
            None,
            vec!["note.json: $.object_attributes: GitLab comment on Issue (not a merge request): skipped".to_owned()]
        )
    );
}
