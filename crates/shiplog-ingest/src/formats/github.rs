//! GitHub: webhook payloads and REST API list responses.
//!
//! | input | becomes |
//! |---|---|
//! | `deployment_status` webhook in a final state | a deployment (`success`; `failure`, `error` → failure) |
//! | REST `GET /repos/{o}/{r}/deployments` + `.../deployments/{id}/statuses` | a deployment per listed deployment with a final status (joined by [`super::combine`]) |
//! | `pull_request` webhook (any action), REST pulls list | a pull request |
//! | `pull_request_review` webhook, REST reviews list | the pull request's first review, unless by its author or a bot |
//! | `issue_comment` (on a pull request) and `pull_request_review_comment` webhooks, REST issue comments and review comments lists | the pull request's first review or comment, unless by its author or a bot |
//! | `issues` webhook, REST issues list | an incident, when the issue has an incident label |
//! | `workflow_run` webhook, REST workflow runs list | a deployment, when the workflow is one of `deploy_workflows` |
//! | `release` webhook (`published`, `released`), REST releases list | with `deploy_releases`, a successful deployment of the release's tag at `published_at` (drafts and pre-releases skipped); the caller resolves the tag to a commit |
//! | `deployment`, `push`, others | skipped with a note saying why |

use jiff::Timestamp;
use serde_json::Value as Json;
use shiplog_core::{
    Deployment, DeploymentId, DeploymentSource, DeploymentStatus, IncidentId, PullRequestId,
    Recorder,
};

use super::ListReader;
use super::json::{Node, Res};
use super::{
    Headers, IncidentState, IncidentUpdate, Observation, PendingDeployment, PendingReview,
    PendingStatus, PullRequestUpdate, Sink, make_id, pagerduty_link, repo_name,
};

const API_REPOS: &str = "https://api.github.com/repos/";
const DEPLOYMENT_STATES: &[&str] = &[
    "success",
    "failure",
    "error",
    "inactive",
    "in_progress",
    "queued",
    "pending",
];

/// Whether a JSON document looks like a GitHub webhook payload or REST list.
pub(crate) fn detect(doc: &Json) -> bool {
    if let Some(first) = doc.as_array().and_then(|a| a.first()) {
        return list_kind(first).is_some();
    }
    if doc.get("workflow_runs").is_some_and(Json::is_array) {
        return true;
    }
    event_of(doc).is_some()
}

/// The webhook event a payload is, from its shape (when there is no `X-GitHub-Event` header).
fn event_of(doc: &Json) -> Option<&'static str> {
    let has = |k: &str| doc.get(k).is_some_and(|v| !v.is_null());
    Some(if has("deployment_status") && has("deployment") {
        "deployment_status"
    } else if has("deployment") && has("repository") {
        "deployment"
    } else if has("workflow_run") && has("workflow") {
        "workflow_run"
    } else if has("review") && has("pull_request") {
        "pull_request_review"
    } else if has("comment") && has("pull_request") {
        "pull_request_review_comment"
    } else if has("pull_request") && has("repository") && has("number") {
        "pull_request"
    } else if has("release") && has("repository") {
        "release"
    } else if has("issue") && has("comment") {
        "issue_comment"
    } else if has("issue") && has("repository") {
        "issues"
    } else if has("ref") && has("before") && has("after") && has("repository") {
        "push"
    } else if has("check_run") {
        "check_run"
    } else if has("check_suite") {
        "check_suite"
    } else if has("sha") && has("state") && has("context") && has("commit") {
        "status"
    } else {
        return None;
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListKind {
    Pulls,
    Reviews,
    Deployments,
    Statuses,
    Releases,
    Runs,
    Issues,
    IssueComments,
    ReviewComments,
}

fn list_kind(item: &Json) -> Option<ListKind> {
    let has = |k: &str| item.get(k).is_some();
    Some(if has("merge_commit_sha") && has("head") && has("base") {
        ListKind::Pulls
    } else if has("pull_request_url") && has("submitted_at") {
        ListKind::Reviews
    } else if has("pull_request_url") && has("diff_hunk") {
        ListKind::ReviewComments
    } else if has("issue_url") && has("html_url") && has("user") && has("body") {
        ListKind::IssueComments
    } else if has("statuses_url") && has("task") && has("sha") {
        ListKind::Deployments
    } else if has("deployment_url") && has("state") {
        ListKind::Statuses
    } else if has("tag_name") && has("target_commitish") {
        ListKind::Releases
    } else if has("workflow_id") && has("head_sha") && has("run_number") {
        ListKind::Runs
    } else if has("number") && has("labels") && has("state") && has("repository_url") {
        ListKind::Issues
    } else {
        return None;
    })
}

pub(crate) fn parse(sink: &mut Sink<'_>, root: &Node<'_>, headers: &Headers) -> Res<()> {
    if root.value.is_array() {
        return parse_list(sink, root);
    }
    if let Some(runs) = root.opt("workflow_runs") {
        return parse_list(sink, &runs);
    }
    let event = match headers.get("x-github-event") {
        Some(event) => event.to_owned(),
        None => match event_of(root.value) {
            Some(event) => event.to_owned(),
            None => {
                return Err(root.fault(
                    "expected a GitHub webhook payload (deployment_status, pull_request, issues, workflow_run, ...) or a REST list, and could not tell which event this is; import it with its X-GitHub-Event header (a .http file)",
                ));
            }
        },
    };
    match event.as_str() {
        "deployment_status" => {
            let result = deployment_status(sink, root);
            sink.keep(result);
        }
        "pull_request" => {
            let action = root.opt("action").and_then(|a| a.value.as_str());
            let result = (|| {
                let (_, full_name) = full_name(root)?;
                pull_request(&root.get("pull_request", "a pull request")?, full_name, action)
            })();
            sink.keep(result.map(Some));
        }
        "pull_request_review" => {
            let result = review_webhook(sink, root, "review", "submitted_at");
            sink.keep(result.map(Some));
        }
        "pull_request_review_comment" | "issue_comment"
            if root.opt("action").and_then(|a| a.value.as_str()) == Some("deleted") =>
        {
            sink.note(
                root,
                "GitHub comment deleted: a deleted comment is no review; skipped",
            );
        }
        "pull_request_review_comment" => {
            let result = review_webhook(sink, root, "comment", "created_at");
            sink.keep(result.map(Some));
        }
        "issue_comment" => {
            let result = issue_comment_webhook(sink, root);
            sink.keep(result);
        }
        "issues" => {
            let result = (|| {
                let (_, full_name) = full_name(root)?;
                issue(sink, &root.get("issue", "an issue")?, full_name)
            })();
            sink.keep(result);
        }
        "workflow_run" => {
            let result = (|| {
                let (_, full_name) = full_name(root)?;
                let workflow = root.opt_at(&["workflow", "name"]).and_then(|n| n.value.as_str());
                workflow_run(sink, &root.get("workflow_run", "a workflow run")?, full_name, workflow)
            })();
            sink.keep(result);
        }
        "deployment" => sink.note(
            root,
            "GitHub deployment created: it is imported once a deployment_status reaches a final state (success, failure or error)",
        ),
        "push" => sink.note(
            root,
            "GitHub push: commits are read from the repository itself, so a push adds nothing",
        ),
        "release" => {
            let result = (|| {
                let (full_name_node, full_name) = full_name(root)?;
                let action = root.opt("action").and_then(|a| a.value.as_str());
                release(
                    sink,
                    &root.get("release", "a release")?,
                    &full_name_node,
                    full_name,
                    action,
                )
            })();
            sink.keep(result);
        }
        "ping" => sink.note(root, "GitHub ping: nothing to import"),
        other => sink.note(
            root,
            format!("GitHub {other} event: not a deployment, pull request or incident; skipped"),
        ),
    }
    Ok(())
}

fn parse_list(sink: &mut Sink<'_>, list: &Node<'_>) -> Res<()> {
    let items = list.items()?;
    if items.is_empty() {
        sink.note(list, "an empty list: nothing to import");
        return Ok(());
    }
    let mut reader = ListReader::default();
    for item in &items {
        list_item(sink, &mut reader, item);
    }
    Ok(())
}

/// One item of a REST list (read whole, or one at a time from a large file).
pub(crate) fn list_item(sink: &mut Sink<'_>, reader: &mut ListReader<ListKind>, item: &Node<'_>) {
    sink.item_path = Some(item.path.clone());
    let Some(kind) = reader.kind_of(
        sink,
        item,
        list_kind,
        "expected an item of a GitHub REST list (pulls, reviews, deployments, deployment statuses, releases, workflow runs or issues), and could not tell which",
    ) else {
        return;
    };
    {
        let result: Res<Option<Observation>> = match kind {
            ListKind::Pulls => (|| {
                let full_name = item
                    .at(
                        &["base", "repo", "full_name"],
                        "a repository name like owner/repo",
                    )?
                    .str()?;
                pull_request(item, full_name, None).map(Some)
            })(),
            ListKind::Reviews => listed_review(sink, item, "submitted_at", "pull_request_url"),
            ListKind::ReviewComments => listed_review(sink, item, "created_at", "pull_request_url"),
            ListKind::IssueComments => listed_issue_comment(sink, item),
            ListKind::Deployments => listed_deployment(sink, item),
            ListKind::Statuses => listed_status(item),
            ListKind::Releases => (|| {
                let url = item.get("url", "the release's API URL")?;
                let full_name = repo_from_api_url(&url)?;
                release(sink, item, &url, &full_name, None)
            })(),
            ListKind::Runs => (|| {
                let (_, full_name) = full_name(item)?;
                workflow_run(sink, item, full_name, None)
            })(),
            ListKind::Issues => (|| {
                let url = item.get("repository_url", "the issue's repository API URL")?;
                let full_name = repo_from_api_url(&url)?;
                issue(sink, item, &full_name)
            })(),
        };
        sink.keep(result);
    }
}

/// `owner/repo` from `https://api.github.com/repos/owner/repo[/...]`, or from a GitHub Enterprise
/// Server URL, `https://HOST/api/v3/repos/owner/repo[/...]`.
fn repo_from_api_url(node: &Node<'_>) -> Res<String> {
    let url = node.str()?;
    let rest = url.strip_prefix(API_REPOS).or_else(|| {
        let path = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))?;
        let (_host, path) = path.split_once('/')?;
        path.strip_prefix("api/v3/repos/")
    });
    let rest = rest.ok_or_else(|| {
        node.fault(format!(
            "expected a GitHub API URL starting {API_REPOS:?} (or https://HOST/api/v3/repos/ for GitHub Enterprise Server), got {url:?}"
        ))
    })?;
    let mut parts = rest.split('/');
    match (parts.next(), parts.next()) {
        (Some(owner), Some(repo)) if !owner.is_empty() && !repo.is_empty() => {
            Ok(format!("{owner}/{repo}"))
        }
        _ => Err(node.fault(format!(
            "expected a GitHub API URL like {API_REPOS}owner/repo, got {url:?}"
        ))),
    }
}

/// A payload's `repository.full_name`: the node (for errors) and its text.
fn full_name<'a>(root: &Node<'a>) -> Res<(Node<'a>, &'a str)> {
    let node = root.at(
        &["repository", "full_name"],
        "a repository name like owner/repo",
    )?;
    let text = node.str()?;
    Ok((node, text))
}

fn service_of(sink: &Sink<'_>, node: &Node<'_>, full_name: &str) -> Res<shiplog_core::ServiceName> {
    let short = full_name.rsplit('/').next().unwrap_or(full_name);
    // The display name is the repository's short name; the map may use either.
    sink.options
        .service(node, "GitHub repository", &[short, full_name])
}

fn final_state(state: &str) -> Option<DeploymentStatus> {
    match state {
        "success" => Some(DeploymentStatus::Success),
        "failure" | "error" => Some(DeploymentStatus::Failure),
        _ => None,
    }
}

fn deployment_status(sink: &mut Sink<'_>, root: &Node<'_>) -> Res<Option<Observation>> {
    let status = root.get("deployment_status", "a deployment status")?;
    let state_node = status.get("state", "a deployment state")?;
    let state = state_node.one_of(DEPLOYMENT_STATES)?;
    let Some(final_status) = final_state(state) else {
        sink.note(
            &state_node,
            format!("GitHub deployment status {state:?} is not final (success, failure or error): skipped"),
        );
        return Ok(None);
    };
    let deployment = root.get("deployment", "a deployment")?;
    let (full_name_node, full_name) = full_name(root)?;
    let id_node = deployment.get("id", "the deployment's id")?;
    let id: DeploymentId = make_id(
        &id_node,
        &format!("github:{full_name}:deployment:{}", id_node.id_text()?),
    )?;
    let environment_node = status
        .opt("environment")
        .map_or_else(|| deployment.get("environment", "an environment name"), Ok)?;
    let environment = sink
        .options
        .environment(&environment_node, Some(environment_node.str()?))?;
    let sha = deployment.get("sha", super::json::SHA_EXPECTED)?.sha()?;
    let finished_at = status
        .get("created_at", super::json::TIME_EXPECTED)?
        .timestamp()?;
    let started_at = deployment
        .opt("created_at")
        .map(|n| n.timestamp())
        .transpose()?
        .filter(|s| *s <= finished_at);
    Ok(Some(Observation::Deployment(Deployment {
        id,
        service: service_of(sink, &full_name_node, full_name)?,
        environment,
        sha,
        finished_at,
        started_at,
        status: final_status,
        unplanned: false,
        source: DeploymentSource::Imported,
        recorded_by: Some(Recorder::ci("github-actions")),
    })))
}

/// A release, as a deployment of its tag when releases are deployments (`deploy_releases`).
fn release(
    sink: &mut Sink<'_>,
    release: &Node<'_>,
    name_node: &Node<'_>,
    full_name: &str,
    action: Option<&str>,
) -> Res<Option<Observation>> {
    if !sink.options.deploy_releases {
        sink.note(
            release,
            "GitHub release: not a deployment unless --deploy-releases is given (a published release then deploys its tag); or read tags from git with --deploys tags",
        );
        return Ok(None);
    }
    if let Some(action) = action.filter(|a| !matches!(*a, "published" | "released")) {
        sink.note(
            release,
            format!("GitHub release {action}: only a published release is a deployment; skipped"),
        );
        return Ok(None);
    }
    let flag = |key: &str| release.opt(key).map(|n| n.bool()).transpose();
    if flag("draft")? == Some(true) {
        sink.note(
            release,
            "GitHub draft release: not published, so not a deployment; skipped",
        );
        return Ok(None);
    }
    if flag("prerelease")? == Some(true) {
        sink.note(
            release,
            "GitHub pre-release: not a production deployment; skipped",
        );
        return Ok(None);
    }
    let Some(published) = release.opt("published_at") else {
        sink.note(release, "GitHub release not published yet: skipped");
        return Ok(None);
    };
    let finished_at = published.timestamp()?;
    let id_node = release.get("id", "the release's id")?;
    let id = make_id(
        &id_node,
        &format!("github:{full_name}:release:{}", id_node.id_text()?),
    )?;
    let tag_node = release.get("tag_name", "the release's tag name")?;
    let tag = tag_node.str()?;
    if tag.trim().is_empty() {
        return Err(tag_node.expected("a tag name"));
    }
    Ok(Some(Observation::Release(super::PendingRelease {
        deployment: Deployment {
            id,
            service: service_of(sink, name_node, full_name)?,
            environment: sink.options.environment(release, None)?,
            sha: shiplog_core::Sha::from_bytes([0; 20]),
            finished_at,
            started_at: None,
            status: DeploymentStatus::Success,
            unplanned: false,
            source: DeploymentSource::Imported,
            recorded_by: None,
        },
        tag: tag.to_owned(),
        file: sink.file.to_owned(),
        path: release.path.clone(),
    })))
}

fn listed_deployment(sink: &mut Sink<'_>, item: &Node<'_>) -> Res<Option<Observation>> {
    let url = item.get("repository_url", "the deployment's repository API URL")?;
    let full_name = repo_from_api_url(&url)?;
    let id_node = item.get("id", "the deployment's id")?;
    let github_id = id_node.id_text()?;
    let environment_node = item.get("environment", "an environment name")?;
    let environment = sink
        .options
        .environment(&environment_node, Some(environment_node.str()?))?;
    let created_at = item
        .get("created_at", super::json::TIME_EXPECTED)?
        .timestamp()?;
    let deployment = Deployment {
        id: make_id(
            &id_node,
            &format!("github:{full_name}:deployment:{github_id}"),
        )?,
        service: service_of(sink, &url, &full_name)?,
        environment,
        sha: item.get("sha", super::json::SHA_EXPECTED)?.sha()?,
        finished_at: created_at,
        started_at: Some(created_at),
        status: DeploymentStatus::Success,
        unplanned: false,
        source: DeploymentSource::Imported,
        recorded_by: Some(Recorder::ci("github-actions")),
    };
    Ok(Some(Observation::PendingDeployment(PendingDeployment {
        key: format!("{full_name}:{github_id}"),
        deployment,
        path: item.path.clone(),
    })))
}

fn listed_status(item: &Node<'_>) -> Res<Option<Observation>> {
    let url_node = item.get("deployment_url", "the status's deployment API URL")?;
    let url = url_node.str()?;
    let full_name = repo_from_api_url(&url_node)?;
    let deployment_id = url
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| {
            url_node.fault(format!(
                "expected a deployment API URL ending in the deployment's number, got {url:?}"
            ))
        })?;
    let state = item
        .get("state", "a deployment state")?
        .one_of(DEPLOYMENT_STATES)?;
    Ok(Some(Observation::PendingStatus(PendingStatus {
        key: format!("{full_name}:{deployment_id}"),
        state: final_state(state),
        at: item
            .get("created_at", super::json::TIME_EXPECTED)?
            .timestamp()?,
        path: item.path.clone(),
    })))
}

fn opt_time(node: &Node<'_>, key: &str) -> Res<Option<Timestamp>> {
    node.opt(key).map(|n| n.timestamp()).transpose()
}

fn labels(node: &Node<'_>) -> Res<Vec<String>> {
    let Some(list) = node.opt("labels") else {
        return Ok(Vec::new());
    };
    list.items()?
        .iter()
        .map(|l| l.get("name", "a label name")?.str().map(str::to_owned))
        .collect()
}

fn login(node: &Node<'_>, key: &str) -> Option<String> {
    node.opt_at(&[key, "login"])
        .and_then(|l| l.value.as_str().map(str::to_owned))
}

/// A pull request object (webhook `pull_request` or REST list item).
fn pull_request(pr: &Node<'_>, full_name: &str, action: Option<&str>) -> Res<Observation> {
    let (update, author) = pull_request_update(pr, full_name, action)?;
    Ok(Observation::PullRequest(Box::new(update), author))
}

/// A pull request object's update and its author's login.
fn pull_request_update(
    pr: &Node<'_>,
    full_name: &str,
    action: Option<&str>,
) -> Res<(PullRequestUpdate, Option<String>)> {
    let number_node = pr.get("number", "the pull request's number")?;
    let number = number_node.u64()?;
    let repository = repo_name(pr, full_name)?;
    let id: PullRequestId = make_id(&number_node, &format!("github:{full_name}#{number}"))?;
    let opened_at = pr
        .get("created_at", super::json::TIME_EXPECTED)?
        .timestamp()?;
    let updated_at = opt_time(pr, "updated_at")?.unwrap_or(opened_at);
    let merged_at = opt_time(pr, "merged_at")?;
    let merge_commit = match merged_at {
        Some(_) => pr.opt("merge_commit_sha").map(|n| n.sha()).transpose()?,
        None => None,
    };
    let draft = pr.opt("draft").map(|n| n.bool()).transpose()?;
    let mut update = PullRequestUpdate::new(id, repository, Some(number), updated_at);
    update.full = true;
    update.title = pr.opt("title").map(|n| n.text()).transpose()?.flatten();
    update.opened_at = Some(opened_at);
    update.draft = Some(draft.unwrap_or(false));
    update.ready_for_review_at = (action == Some("ready_for_review")).then_some(updated_at);
    update.merged_at = merged_at;
    update.closed_at = opt_time(pr, "closed_at")?;
    update.merge_commit = merge_commit;
    update.head_sha = pr.opt_at(&["head", "sha"]).map(|n| n.sha()).transpose()?;
    update.head_branch = pr
        .opt_at(&["head", "ref"])
        .map(|n| n.text())
        .transpose()?
        .flatten();
    update.base_branch = pr
        .opt_at(&["base", "ref"])
        .map(|n| n.text())
        .transpose()?
        .flatten();
    update.additions = pr.opt("additions").map(|n| n.u64()).transpose()?;
    update.deletions = pr.opt("deletions").map(|n| n.u64()).transpose()?;
    update.changed_files = pr.opt("changed_files").map(|n| n.u64()).transpose()?;
    update.labels = Some(labels(pr)?);
    Ok((update, login(pr, "user")))
}

/// Whether a review or comment was written by a bot (`user.type` "Bot", or a `[bot]` login): bots
/// (CI reports, coverage, dependency updates) are not reviewers, and would make pickup time zero.
fn by_bot(node: &Node<'_>) -> bool {
    node.opt_at(&["user", "type"])
        .and_then(|t| t.value.as_str())
        .is_some_and(|t| t.eq_ignore_ascii_case("bot"))
        || login(node, "user").is_some_and(|l| l.ends_with("[bot]"))
}

const BOT_NOTE: &str = "written by a bot: not a review; skipped";

/// A `pull_request_review` (the `review`, at `submitted_at`) or `pull_request_review_comment`
/// (the `comment`, at `created_at`) webhook: the pull request, with its first review when the
/// reviewer is neither its author nor a bot.
fn review_webhook(
    sink: &mut Sink<'_>,
    root: &Node<'_>,
    key: &str,
    time_key: &str,
) -> Res<Observation> {
    let (_, full_name) = full_name(root)?;
    let pr_node = root.get("pull_request", "a pull request")?;
    let (mut update, author) = pull_request_update(&pr_node, full_name, None)?;
    let review = root.get(key, &format!("a {key}"))?;
    let reviewer = login(&review, "user");
    if by_bot(&review) {
        sink.note(&review, BOT_NOTE);
    } else if !super::by_author(reviewer.as_deref(), author.as_deref()) {
        // A review by the author does not count; an unsubmitted (pending) review has no time.
        update.first_review_at = opt_time(&review, time_key)?;
    }
    Ok(Observation::PullRequest(Box::new(update), author))
}

/// An `issue_comment` webhook: on a pull request, its first comment when the commenter is neither
/// its author nor a bot (the payload's `issue` is the pull request as an issue: number, title,
/// author and opening); on an issue, nothing.
fn issue_comment_webhook(sink: &mut Sink<'_>, root: &Node<'_>) -> Res<Option<Observation>> {
    let (_, full_name) = full_name(root)?;
    let issue = root.get("issue", "an issue")?;
    if issue.opt("pull_request").is_none() {
        sink.note(
            &issue,
            "GitHub issue comment on an issue, not a pull request: skipped",
        );
        return Ok(None);
    }
    let number_node = issue.get("number", "the pull request's number")?;
    let number = number_node.u64()?;
    let comment = root.get("comment", "a comment")?;
    let at = comment
        .get("created_at", super::json::TIME_EXPECTED)?
        .timestamp()?;
    let mut update = PullRequestUpdate::new(
        make_id(&number_node, &format!("github:{full_name}#{number}"))?,
        repo_name(&issue, full_name)?,
        Some(number),
        at,
    );
    update.title = issue.opt("title").map(|n| n.text()).transpose()?.flatten();
    update.opened_at = opt_time(&issue, "created_at")?;
    let author = login(&issue, "user");
    let commenter = login(&comment, "user");
    if by_bot(&comment) {
        sink.note(&comment, BOT_NOTE);
    } else if !super::by_author(commenter.as_deref(), author.as_deref()) {
        update.first_review_at = Some(at);
    }
    Ok(Some(Observation::PullRequest(Box::new(update), author)))
}

/// A review (`submitted_at`) or review comment (`created_at`) from a REST list, found by its
/// pull request's API URL; whether its author wrote the pull request is decided when the
/// import's pull requests are joined.
fn listed_review(
    sink: &mut Sink<'_>,
    item: &Node<'_>,
    time_key: &str,
    url_key: &str,
) -> Res<Option<Observation>> {
    let Some(at) = opt_time(item, time_key)? else {
        return Ok(None); // a pending review: not submitted yet
    };
    if by_bot(item) {
        sink.note(item, BOT_NOTE);
        return Ok(None);
    }
    let url_node = item.get(url_key, "the pull request's API URL")?;
    let url = url_node.str()?;
    let full_name = repo_from_api_url(&url_node)?;
    let number = url
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .and_then(|n| n.parse::<u64>().ok())
        .ok_or_else(|| {
            url_node.fault(format!(
                "expected a pull request API URL ending in its number, got {url:?}"
            ))
        })?;
    Ok(Some(Observation::PendingReview(PendingReview {
        pull_request: make_id(&url_node, &format!("github:{full_name}#{number}"))?,
        reviewer: login(item, "user"),
        at,
        path: item.path.clone(),
    })))
}

/// An issue comment from a REST list (`GET /repos/{o}/{r}/issues/comments`): a pull request's
/// comment when its page is a pull request's (`html_url` `.../pull/N#issuecomment-...`); comments
/// on issues are skipped.
fn listed_issue_comment(sink: &mut Sink<'_>, item: &Node<'_>) -> Res<Option<Observation>> {
    let html = item.get("html_url", "the comment's web URL")?;
    let on_pull = html.str()?.contains("/pull/");
    if !on_pull {
        sink.note(
            item,
            "GitHub issue comment on an issue, not a pull request: skipped",
        );
        return Ok(None);
    }
    listed_review(sink, item, "created_at", "issue_url")
}

fn issue(sink: &mut Sink<'_>, issue: &Node<'_>, full_name: &str) -> Res<Option<Observation>> {
    let number_node = issue.get("number", "the issue's number")?;
    let number = number_node.u64()?;
    if issue.opt("pull_request").is_some() {
        sink.note(
            issue,
            format!("#{number} is a pull request, not an issue: skipped"),
        );
        return Ok(None);
    }
    let names = labels(issue)?;
    let wanted = sink.options.incident_labels();
    if !names.iter().any(|l| wanted.contains(&l.to_lowercase())) {
        sink.note(
            issue,
            format!(
                "issue #{number} is not an incident: none of its labels ({}) is an incident label ({}); add one with --incident-label",
                if names.is_empty() { "none".to_owned() } else { names.join(", ") },
                wanted.join(", ")
            ),
        );
        return Ok(None);
    }
    let opened_at = issue
        .get("created_at", super::json::TIME_EXPECTED)?
        .timestamp()?;
    let observed_at = opt_time(issue, "updated_at")?.unwrap_or(opened_at);
    let state = issue
        .get("state", "\"open\" or \"closed\"")?
        .one_of(&["open", "closed"])?;
    let state = if state == "closed" {
        let closed = opt_time(issue, "closed_at")?.unwrap_or(observed_at);
        IncidentState::Resolved(closed)
    } else {
        IncidentState::Open
    };
    let title = issue.opt("title").map(|n| n.text()).transpose()?.flatten();
    let body = issue
        .opt("body")
        .and_then(|b| b.value.as_str().map(str::to_owned));
    let text = format!(
        "{} {}",
        title.as_deref().unwrap_or(""),
        body.unwrap_or_default()
    );
    let id: IncidentId = make_id(&number_node, &format!("github:{full_name}:issue:{number}"))?;
    Ok(Some(Observation::Incident(IncidentUpdate {
        id,
        service: service_of(sink, issue, full_name)?,
        environment: sink.options.environment(issue, None)?,
        observed_at,
        opened_at: Some(opened_at),
        state,
        title,
        sha: None,
        duplicate_of: Some(pagerduty_link(&text)),
    })))
}

fn workflow_run(
    sink: &mut Sink<'_>,
    run: &Node<'_>,
    full_name: &str,
    workflow: Option<&str>,
) -> Res<Option<Observation>> {
    let name = run
        .opt("name")
        .and_then(|n| n.value.as_str())
        .filter(|n| !n.is_empty())
        .or(workflow)
        .unwrap_or("");
    let path = run.opt("path").and_then(|n| n.value.as_str()).unwrap_or("");
    let file = path.rsplit('/').next().unwrap_or("");
    let wanted = &sink.options.deploy_workflows;
    if !wanted
        .iter()
        .any(|w| (!w.is_empty()) && (w == name || w == path || w == file))
    {
        sink.note(
            run,
            format!(
                "workflow run of {:?} ({path}) is not a deployment: name it with --deploy-workflow to count its runs",
                name
            ),
        );
        return Ok(None);
    }
    let status = run.get("status", "a workflow run status")?.str()?;
    if status != "completed" {
        sink.note(
            run,
            format!("workflow run is {status:?}, not completed: skipped"),
        );
        return Ok(None);
    }
    let conclusion_node = run.get("conclusion", "a workflow run conclusion")?;
    let conclusion = conclusion_node.str()?;
    let outcome = match conclusion {
        "success" => DeploymentStatus::Success,
        "failure" | "timed_out" | "startup_failure" => DeploymentStatus::Failure,
        other => {
            sink.note(
                &conclusion_node,
                format!("workflow run concluded {other:?}: neither a deployment nor a failed one; skipped"),
            );
            return Ok(None);
        }
    };
    let id_node = run.get("id", "the run's id")?;
    let attempt = run
        .opt("run_attempt")
        .map(|n| n.u64())
        .transpose()?
        .unwrap_or(1);
    let finished_at = run
        .get("updated_at", super::json::TIME_EXPECTED)?
        .timestamp()?;
    let started_at = opt_time(run, "run_started_at")?.filter(|s| *s <= finished_at);
    Ok(Some(Observation::Deployment(Deployment {
        id: make_id(
            &id_node,
            &format!(
                "github:{full_name}:workflow_run:{}:{attempt}",
                id_node.id_text()?
            ),
        )?,
        service: service_of(sink, run, full_name)?,
        environment: sink.options.environment(run, None)?,
        sha: run.get("head_sha", super::json::SHA_EXPECTED)?.sha()?,
        finished_at,
        started_at,
        status: outcome,
        unplanned: false,
        source: DeploymentSource::Imported,
        recorded_by: Some(Recorder::ci("github-actions")),
    })))
}
