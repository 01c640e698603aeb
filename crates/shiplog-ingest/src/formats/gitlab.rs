//! GitLab: webhook payloads (deployment, merge request, issue, push) and REST API list responses
//! (deployments, merge requests, issues).
//!
//! GitLab writes times three ways: RFC 3339 in the REST API, `2025-05-02 12:30:19 +0000` in
//! deployment hooks (`status_changed_at`) and `2013-12-03 17:23:34 UTC` in older merge request
//! hooks. All three are read.
//!
//! | input | becomes |
//! |---|---|
//! | deployment hook, `success` / `failed` | a deployment, id `gitlab:deployment:ID` (GitLab's deployment ids are global, so the hook and the API agree) |
//! | deployments list (`GET /projects/:id/deployments`) | the same; the list does not name the project, so `--service` is required |
//! | merge request hook (any action), merge requests list | a pull request `gitlab:group/project!IID`; an `approved` hook by someone other than the author is its first review |
//! | note hook on a merge request | the merge request, with its first review when the comment is by someone other than its author, not a bot and not a system note |
//! | issue hook, issues list, where the issue is an incident (type `incident`, or an incident label) | an incident `gitlab:group/project:issue:IID` |
//! | push hook, other hooks | skipped with a note |

use jiff::Timestamp;
use serde_json::Value as Json;
use shiplog_core::{Deployment, DeploymentSource, DeploymentStatus, Recorder, Sha};

use super::ListReader;
use super::json::{Node, Res, SHA_EXPECTED};
use super::{
    Headers, IncidentState, IncidentUpdate, Observation, PullRequestUpdate, Sink, make_id,
    pagerduty_link,
};

const TIME_EXPECTED: &str =
    "a GitLab time (2026-03-03T14:00:00Z, 2026-03-03 14:00:00 +0000 or 2026-03-03 14:00:00 UTC)";

/// Whether a JSON document looks like a GitLab webhook payload or REST list.
pub(crate) fn detect(doc: &Json) -> bool {
    if doc.get("object_kind").is_some_and(Json::is_string) {
        return true;
    }
    doc.as_array()
        .and_then(|a| a.first())
        .is_some_and(|item| list_kind(item).is_some())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListKind {
    Deployments,
    MergeRequests,
    Issues,
}

fn list_kind(item: &Json) -> Option<ListKind> {
    let has = |k: &str| item.get(k).is_some();
    Some(
        if has("iid") && has("sha") && has("deployable") && has("environment") {
            ListKind::Deployments
        } else if has("iid") && has("project_id") && has("source_branch") && has("target_branch") {
            ListKind::MergeRequests
        } else if has("iid") && has("project_id") && (has("issue_type") || has("type")) {
            ListKind::Issues
        } else {
            return None;
        },
    )
}

/// Reads any of GitLab's time formats.
pub(crate) fn time(node: &Node<'_>) -> Res<Timestamp> {
    let text = node
        .value
        .as_str()
        .ok_or_else(|| node.expected(TIME_EXPECTED))?;
    let t = text.trim();
    if let Some(at) = shiplog_core::window::parse_timestamp(t) {
        return Ok(at);
    }
    if let Ok(at) =
        jiff::fmt::strtime::parse("%Y-%m-%d %H:%M:%S%.f %z", t).and_then(|b| b.to_timestamp())
    {
        return Ok(at);
    }
    if let Ok(at) = jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S%.f UTC", t)
        .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC))
    {
        return Ok(at.timestamp());
    }
    Err(node.fault(format!(
        "expected {TIME_EXPECTED}, got {}",
        crate::fields::quote(text)
    )))
}

fn opt_time(node: &Node<'_>, key: &str) -> Res<Option<Timestamp>> {
    node.opt(key).map(|n| time(&n)).transpose()
}

pub(crate) fn parse(sink: &mut Sink<'_>, root: &Node<'_>, headers: &Headers) -> Res<()> {
    if root.value.is_array() {
        return parse_list(sink, root);
    }
    let kind_node = root.get("object_kind", "a GitLab event kind (object_kind)")?;
    let kind = kind_node.str()?;
    let _ = headers; // X-Gitlab-Event names the same thing as object_kind.
    match kind {
        "deployment" => {
            let result = deployment_hook(sink, root);
            sink.keep(result);
        }
        "merge_request" => {
            let result = merge_request_hook(root);
            sink.keep(result);
        }
        "note" => {
            let result = note_hook(sink, root);
            sink.keep(result);
        }
        "issue" | "work_item" => {
            let result = (|| {
                let path = root
                    .at(&["project", "path_with_namespace"], "the project's path")?
                    .str()?
                    .to_owned();
                let attrs = root.get("object_attributes", "the issue")?;
                let is_incident = root
                    .opt("event_type")
                    .is_some_and(|e| e.value.as_str() == Some("incident"));
                issue(sink, &attrs, &path, is_incident, hook_labels)
            })();
            sink.keep(result);
        }
        "push" | "tag_push" => sink.note(
            root,
            format!(
                "GitLab {kind}: commits are read from the repository itself, so a push adds nothing"
            ),
        ),
        other => sink.note(
            &kind_node,
            format!("GitLab {other} event: not a deployment, merge request or incident; skipped"),
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
        "expected an item of a GitLab REST list (deployments, merge requests or issues), and could not tell which",
    ) else {
        return;
    };
    {
        let result = match kind {
            ListKind::Deployments => listed_deployment(sink, item),
            ListKind::MergeRequests => listed_merge_request(item),
            ListKind::Issues => (|| {
                let path = project_path(item, '#')?;
                issue(sink, item, &path, false, list_labels)
            })(),
        };
        sink.keep(result);
    }
}

/// `group/project` from a REST item's `references.full` (`group/project!45`, `group/project#12`).
fn project_path(item: &Node<'_>, separator: char) -> Res<String> {
    let full = item.at(&["references", "full"], "a reference like group/project!1")?;
    let text = full.str()?;
    match text.rsplit_once(separator) {
        Some((path, _)) if !path.is_empty() => Ok(path.to_owned()),
        _ => Err(full.fault(format!(
            "expected a reference like group/project{separator}1, got {text:?}"
        ))),
    }
}

fn deployment_status(sink: &mut Sink<'_>, node: &Node<'_>) -> Res<Option<DeploymentStatus>> {
    let status = node.str()?;
    Ok(match status {
        "success" => Some(DeploymentStatus::Success),
        "failed" => Some(DeploymentStatus::Failure),
        other => {
            sink.note(
                node,
                format!(
                    "GitLab deployment status {other:?} is not final (success or failed): skipped"
                ),
            );
            None
        }
    })
}

fn deployment_hook(sink: &mut Sink<'_>, root: &Node<'_>) -> Res<Option<Observation>> {
    let Some(status) = deployment_status(sink, &root.get("status", "a deployment status")?)? else {
        return Ok(None);
    };
    let id_node = root.get("deployment_id", "the deployment's id")?;
    let project = root.get("project", "the project")?;
    let path = project
        .get("path_with_namespace", "the project's path")?
        .str()?;
    let name = project
        .opt("name")
        .and_then(|n| n.value.as_str())
        .unwrap_or(path);
    let url_node = root.get("commit_url", "the deployed commit's URL")?;
    let url = url_node.str()?;
    let sha_text = url.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    let sha = Sha::from_hex(sha_text).map_err(|_| {
        url_node.fault(format!(
            "expected a commit URL ending in {SHA_EXPECTED}, got {}",
            crate::fields::quote(url)
        ))
    })?;
    let env_node = root.get("environment", "an environment name")?;
    Ok(Some(Observation::Deployment(Deployment {
        id: make_id(
            &id_node,
            &format!("gitlab:deployment:{}", id_node.id_text()?),
        )?,
        service: sink
            .options
            .service(&project, "GitLab project", &[name, path])?,
        environment: sink.options.environment(&env_node, Some(env_node.str()?))?,
        sha,
        finished_at: time(&root.get("status_changed_at", TIME_EXPECTED)?)?,
        started_at: None,
        status,
        unplanned: false,
        source: DeploymentSource::Imported,
        recorded_by: Some(Recorder::ci("gitlab")),
    })))
}

fn listed_deployment(sink: &mut Sink<'_>, item: &Node<'_>) -> Res<Option<Observation>> {
    let Some(status) = deployment_status(sink, &item.get("status", "a deployment status")?)? else {
        return Ok(None);
    };
    let Some(service) = sink.options.service.clone() else {
        return Err(item.fault(
            "GitLab's deployments list does not name the project; give the service with --service NAME",
        ));
    };
    let id_node = item.get("id", "the deployment's id")?;
    let env_node = item.at(&["environment", "name"], "an environment name")?;
    let created_at = time(&item.get("created_at", TIME_EXPECTED)?)?;
    let finished_at = match item.opt_at(&["deployable", "finished_at"]) {
        Some(n) => time(&n)?,
        None => time(&item.get("updated_at", TIME_EXPECTED)?)?,
    };
    Ok(Some(Observation::Deployment(Deployment {
        id: make_id(
            &id_node,
            &format!("gitlab:deployment:{}", id_node.id_text()?),
        )?,
        service,
        environment: sink.options.environment(&env_node, Some(env_node.str()?))?,
        sha: item.get("sha", SHA_EXPECTED)?.sha()?,
        finished_at,
        started_at: Some(created_at).filter(|s| *s <= finished_at),
        status,
        unplanned: false,
        source: DeploymentSource::Imported,
        recorded_by: Some(Recorder::ci("gitlab")),
    })))
}

fn merge_request_hook(root: &Node<'_>) -> Res<Option<Observation>> {
    let path_node = root.at(&["project", "path_with_namespace"], "the project's path")?;
    let path = path_node.str()?;
    let attrs = root.get("object_attributes", "the merge request")?;
    let iid_node = attrs.get("iid", "the merge request's number (iid)")?;
    let iid = iid_node.u64()?;
    let opened_at = time(&attrs.get("created_at", TIME_EXPECTED)?)?;
    let updated_at = opt_time(&attrs, "updated_at")?.unwrap_or(opened_at);
    let state = attrs
        .get("state", "a merge request state")?
        .one_of(&["opened", "closed", "merged", "locked"])?;
    let action = attrs.opt("action").and_then(|a| a.value.as_str());
    let mut update = PullRequestUpdate::new(
        make_id(&iid_node, &format!("gitlab:{path}!{iid}"))?,
        super::repo_name(&path_node, path)?,
        Some(iid),
        updated_at,
    );
    update.full = true;
    update.title = attrs.opt("title").map(|n| n.text()).transpose()?.flatten();
    update.opened_at = Some(opened_at);
    let draft = match attrs.opt("draft") {
        Some(d) => d.bool()?,
        None => attrs
            .opt("work_in_progress")
            .map(|d| d.bool())
            .transpose()?
            .unwrap_or(false),
    };
    update.draft = Some(draft);
    let left_draft = root.opt_at(&["changes", "draft"]).is_some_and(|c| {
        c.value.get("previous") == Some(&Json::Bool(true))
            && c.value.get("current") == Some(&Json::Bool(false))
    });
    update.ready_for_review_at = left_draft.then_some(updated_at);
    let merged = state == "merged";
    update.merged_at = match attrs.opt("merged_at") {
        Some(n) => Some(time(&n)?),
        None => merged.then_some(updated_at),
    };
    update.closed_at = match attrs.opt("closed_at") {
        Some(n) => Some(time(&n)?),
        None => (merged || state == "closed").then_some(updated_at),
    };
    if merged {
        update.merge_commit = attrs.opt("merge_commit_sha").map(|n| n.sha()).transpose()?;
    }
    update.head_sha = attrs
        .opt_at(&["last_commit", "id"])
        .map(|n| n.sha())
        .transpose()?;
    update.head_branch = attrs
        .opt("source_branch")
        .map(|n| n.text())
        .transpose()?
        .flatten();
    update.base_branch = attrs
        .opt("target_branch")
        .map(|n| n.text())
        .transpose()?
        .flatten();
    update.changed_files = changes_count(&attrs);
    update.labels = Some(hook_labels(&attrs)?);
    // An approval by someone other than the author is a review. Ids compare; none is kept.
    if matches!(action, Some("approved" | "approval")) {
        let author = attrs.opt("author_id").and_then(|a| a.value.as_u64());
        let approver = root.opt_at(&["user", "id"]).and_then(|u| u.value.as_u64());
        if approver.is_some() && approver != author {
            update.first_review_at = Some(updated_at);
        }
    }
    Ok(Some(Observation::PullRequest(Box::new(update), None)))
}

/// Whether a GitLab user is a bot: project and group access tokens act as users named
/// `project_<id>_bot_<hash>` and `group_<id>_bot_<hash>`; other bots are commonly `...-bot`.
fn bot_username(username: &str) -> bool {
    let lower = username.to_ascii_lowercase();
    ((lower.starts_with("project_") || lower.starts_with("group_")) && lower.contains("_bot"))
        || lower.ends_with("-bot")
        || lower.ends_with("_bot")
        || lower.ends_with("[bot]")
}

/// A note (comment) hook: on a merge request, the merge request with its first review when the
/// comment is by someone other than its author (ids compare; none is kept), not by a bot and not a
/// system note ("added 1 commit"); on anything else, nothing.
fn note_hook(sink: &mut Sink<'_>, root: &Node<'_>) -> Res<Option<Observation>> {
    let attrs = root.get("object_attributes", "the note")?;
    let on = attrs.get("noteable_type", "what the note is on")?.str()?;
    if on != "MergeRequest" {
        sink.note(
            &attrs,
            format!("GitLab comment on {on} (not a merge request): skipped"),
        );
        return Ok(None);
    }
    if attrs.opt("system").map(|s| s.bool()).transpose()? == Some(true) {
        sink.note(
            &attrs,
            "GitLab system note (an event, not a comment): skipped",
        );
        return Ok(None);
    }
    let path_node = root.at(&["project", "path_with_namespace"], "the project's path")?;
    let path = path_node.str()?;
    let mr = root.get("merge_request", "the merge request commented on")?;
    let iid_node = mr.get("iid", "the merge request's number (iid)")?;
    let iid = iid_node.u64()?;
    let at = time(&attrs.get("created_at", TIME_EXPECTED)?)?;
    let mut update = PullRequestUpdate::new(
        make_id(&iid_node, &format!("gitlab:{path}!{iid}"))?,
        super::repo_name(&path_node, path)?,
        Some(iid),
        at,
    );
    update.title = mr.opt("title").map(|n| n.text()).transpose()?.flatten();
    update.opened_at = opt_time(&mr, "created_at")?;
    let author = mr.opt("author_id").and_then(|a| a.value.as_u64());
    let commenter = attrs
        .opt("author_id")
        .or_else(|| root.opt_at(&["user", "id"]))
        .and_then(|a| a.value.as_u64());
    let bot = root
        .opt_at(&["user", "username"])
        .and_then(|u| u.value.as_str())
        .is_some_and(bot_username);
    if bot {
        sink.note(&attrs, "written by a bot: not a review; skipped");
    } else if commenter.is_some() && commenter != author {
        update.first_review_at = Some(at);
    }
    Ok(Some(Observation::PullRequest(Box::new(update), None)))
}

fn listed_merge_request(item: &Node<'_>) -> Res<Option<Observation>> {
    let path = project_path(item, '!')?;
    let iid_node = item.get("iid", "the merge request's number (iid)")?;
    let iid = iid_node.u64()?;
    let opened_at = time(&item.get("created_at", TIME_EXPECTED)?)?;
    let updated_at = opt_time(item, "updated_at")?.unwrap_or(opened_at);
    let mut update = PullRequestUpdate::new(
        make_id(&iid_node, &format!("gitlab:{path}!{iid}"))?,
        super::repo_name(item, &path)?,
        Some(iid),
        updated_at,
    );
    update.full = true;
    update.title = item.opt("title").map(|n| n.text()).transpose()?.flatten();
    update.opened_at = Some(opened_at);
    update.draft = Some(
        item.opt("draft")
            .map(|d| d.bool())
            .transpose()?
            .unwrap_or(false),
    );
    update.merged_at = opt_time(item, "merged_at")?;
    update.closed_at = opt_time(item, "closed_at")?.or(update.merged_at);
    if update.merged_at.is_some() {
        update.merge_commit = match item.opt("merge_commit_sha") {
            Some(n) => Some(n.sha()?),
            None => item.opt("squash_commit_sha").map(|n| n.sha()).transpose()?,
        };
    }
    update.head_sha = item.opt("sha").map(|n| n.sha()).transpose()?;
    update.head_branch = item
        .opt("source_branch")
        .map(|n| n.text())
        .transpose()?
        .flatten();
    update.base_branch = item
        .opt("target_branch")
        .map(|n| n.text())
        .transpose()?
        .flatten();
    update.changed_files = changes_count(item);
    update.labels = Some(list_labels(item)?);
    Ok(Some(Observation::PullRequest(Box::new(update), None)))
}

/// A merge request's `changes_count`, the number of files it changes, when it is exact. GitLab
/// gives it as a string ("12") and caps it for large diffs ("1000+"), and leaves it out of lists
/// and hooks that do not compute it (or `null` while the diff is being prepared): only a plain
/// non-negative integer (a string of digits, or a JSON number) is a count; anything else is
/// unknown, never an error, since the merge request itself is fine.
fn changes_count(node: &Node<'_>) -> Option<u64> {
    let value = node.opt("changes_count")?.value;
    match value {
        Json::String(text) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => {
            text.parse().ok()
        }
        Json::Number(n) => n.as_u64(),
        _ => None,
    }
}

/// The label names of a hook's object: `labels` is a list of objects with a `title`.
fn hook_labels(node: &Node<'_>) -> Res<Vec<String>> {
    labels_with(node, |x| {
        x.get("title", "a label title")?.str().map(str::to_owned)
    })
}

/// The label names of a REST list item: `labels` is a list of strings.
fn list_labels(node: &Node<'_>) -> Res<Vec<String>> {
    labels_with(node, |x| x.str().map(str::to_owned))
}

fn labels_with(node: &Node<'_>, name: impl Fn(&Node<'_>) -> Res<String>) -> Res<Vec<String>> {
    node.opt("labels")
        .map(|l| l.items()?.iter().map(&name).collect())
        .transpose()
        .map(Option::unwrap_or_default)
}

/// An issue (hook `object_attributes` or list item) that is an incident.
fn issue(
    sink: &mut Sink<'_>,
    attrs: &Node<'_>,
    path: &str,
    is_incident: bool,
    labels_of: impl Fn(&Node<'_>) -> Res<Vec<String>>,
) -> Res<Option<Observation>> {
    let iid_node = attrs.get("iid", "the issue's number (iid)")?;
    let iid = iid_node.u64()?;
    let typed_incident = ["type", "issue_type"].iter().any(|k| {
        attrs
            .opt(k)
            .and_then(|t| t.value.as_str())
            .is_some_and(|t| t.eq_ignore_ascii_case("incident"))
    });
    let names = labels_of(attrs)?;
    let wanted = sink.options.incident_labels();
    let labelled = names.iter().any(|l| wanted.contains(&l.to_lowercase()));
    if !(is_incident || typed_incident || labelled) {
        sink.note(
            attrs,
            format!(
                "issue #{iid} is not an incident: its type is not incident and none of its labels is an incident label ({}); add one with --incident-label",
                wanted.join(", ")
            ),
        );
        return Ok(None);
    }
    let opened_at = time(&attrs.get("created_at", TIME_EXPECTED)?)?;
    let observed_at = opt_time(attrs, "updated_at")?.unwrap_or(opened_at);
    let state = attrs
        .get("state", "\"opened\" or \"closed\"")?
        .one_of(&["opened", "closed"])?;
    let state = if state == "closed" {
        IncidentState::Resolved(opt_time(attrs, "closed_at")?.unwrap_or(observed_at))
    } else {
        IncidentState::Open
    };
    let title = attrs.opt("title").map(|n| n.text()).transpose()?.flatten();
    let description = attrs
        .opt("description")
        .and_then(|d| d.value.as_str().map(str::to_owned))
        .unwrap_or_default();
    let short = path.rsplit('/').next().unwrap_or(path);
    Ok(Some(Observation::Incident(IncidentUpdate {
        id: make_id(&iid_node, &format!("gitlab:{path}:issue:{iid}"))?,
        service: sink
            .options
            .service(attrs, "GitLab project", &[short, path])?,
        environment: sink.options.environment(attrs, None)?,
        observed_at,
        opened_at: Some(opened_at),
        state,
        duplicate_of: Some(pagerduty_link(&format!(
            "{} {description}",
            title.as_deref().unwrap_or("")
        ))),
        title,
        sha: None,
    })))
}
