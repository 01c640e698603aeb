//! The record types an import file may hold, and the validation of each.
//!
//! A record's `type` field picks its [`RecordType`] in [`RECORD_TYPES`]; the type lists the fields it
//! accepts (anything else is an error, since unknown fields are usually typos) and validates them. The
//! same code serves JSON Lines and CSV. To add a record type: write its record struct and a
//! `build_*` function reading its fields through [`Fields`], add a [`Record`] variant and add an
//! entry to [`RECORD_TYPES`].

use shiplog_core::{
    Capability, Deployment, DeploymentId, DeploymentSource, DeploymentStatus, Environment,
    Incident, IncidentId, PracticeChange, PracticeName, PracticeScope, PullRequest, PullRequestId,
    Recorder, RepositoryName, ServiceName, Sha, ShaPrefix, TeamName,
};

use jiff::Timestamp;
use serde_json::Value as Json;

use crate::error::Problem;
use crate::fields::{
    self, Cells, FieldProblem, Fields, Value, boolean, count, date, free_text, labels, name,
    recorder, services, sha_prefix, sha_prefixes, status, timestamp,
};

/// The field that names a record's type.
pub(crate) const TYPE_FIELD: &str = "type";

/// One valid record of an import file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// `"type": "deployment"`.
    Deployment(DeploymentRecord),
    /// `"type": "incident"`.
    Incident(IncidentRecord),
    /// `"type": "practice_change"`: nothing to resolve, so already the core type.
    PracticeChange(PracticeChange),
    /// `"type": "pull_request"`.
    PullRequest(Box<PullRequestRecord>),
}

impl Record {
    /// The value of the record's `type` field.
    pub fn type_name(&self) -> &'static str {
        match self {
            Record::Deployment(_) => DEPLOYMENT.name,
            Record::Incident(_) => INCIDENT.name,
            Record::PracticeChange(_) => PRACTICE_CHANGE.name,
            Record::PullRequest(_) => PULL_REQUEST.name,
        }
    }
}

/// A deployment as imported: a [`Deployment`] whose sha may still be abbreviated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentRecord {
    /// Required. Importing the same id again updates the deployment.
    pub id: DeploymentId,
    /// Required. The service deployed.
    pub service: ServiceName,
    /// Required. Where it was deployed.
    pub environment: Environment,
    /// Required. The commit deployed, full or abbreviated; the caller resolves it.
    pub sha: ShaPrefix,
    /// Required. When the deployment finished.
    pub finished_at: Timestamp,
    /// Optional. When it started; never after `finished_at`.
    pub started_at: Option<Timestamp>,
    /// Optional, `success` by default.
    pub status: DeploymentStatus,
    /// Optional, `false` by default. A hotfix or emergency change.
    pub unplanned: bool,
    /// Optional: `ci`, `ci:<system>` or `manual`; absent means unknown.
    pub recorded_by: Option<Recorder>,
}

impl DeploymentRecord {
    /// The deployment, once the caller has resolved [`sha`](Self::sha) to a full commit.
    pub fn into_deployment(self, sha: Sha, source: DeploymentSource) -> Deployment {
        debug_assert!(
            sha.has_prefix(&self.sha),
            "{sha} does not start with {}",
            self.sha
        );
        Deployment {
            id: self.id,
            service: self.service,
            environment: self.environment,
            sha,
            finished_at: self.finished_at,
            started_at: self.started_at,
            status: self.status,
            unplanned: self.unplanned,
            source,
            recorded_by: self.recorded_by,
        }
    }
}

/// An incident as imported: an [`Incident`] whose sha, if any, may still be abbreviated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentRecord {
    /// Required. Importing the same id again updates the incident (e.g. to resolve it).
    pub id: IncidentId,
    /// Required. The service affected.
    pub service: ServiceName,
    /// Optional, `production` by default. The environment affected.
    pub environment: Environment,
    /// Required. When the incident was opened.
    pub opened_at: Timestamp,
    /// Optional (absent or `null` while open). Never before `opened_at`.
    pub resolved_at: Option<Timestamp>,
    /// Optional. The deployment known to have caused the incident.
    pub deployment_id: Option<DeploymentId>,
    /// Optional. The commit known to have caused the incident, full or abbreviated.
    pub sha: Option<ShaPrefix>,
    /// Optional. A short description (trimmed; empty means absent).
    pub title: Option<String>,
}

impl IncidentRecord {
    /// The incident, once the caller has resolved [`sha`](Self::sha) (if any) to a full commit.
    pub fn into_incident(self, sha: Option<Sha>) -> Incident {
        debug_assert!(
            match (&self.sha, &sha) {
                (Some(prefix), Some(sha)) => sha.has_prefix(prefix),
                (None, None) => true,
                _ => false,
            },
            "the resolved sha {sha:?} does not match {:?}",
            self.sha
        );
        Incident {
            id: self.id,
            service: self.service,
            environment: self.environment,
            opened_at: self.opened_at,
            resolved_at: self.resolved_at,
            deployment_id: self.deployment_id,
            sha,
            title: self.title,
            duplicate_of: None,
        }
    }
}

/// A pull request as imported: a [`PullRequest`] whose commits may still be abbreviated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequestRecord {
    /// The record, with its commit fields (`merge_commit`, `head_sha`, `commits`) still empty:
    /// the caller resolves [`merge_commit`](Self::merge_commit), [`head_sha`](Self::head_sha)
    /// and [`commits`](Self::commits) and fills them in with [`Self::into_pull_request`].
    pub pull_request: PullRequest,
    /// Optional. The commit its merge created (merge, squash or last rebased commit).
    pub merge_commit: Option<ShaPrefix>,
    /// Optional. The last commit of its branch.
    pub head_sha: Option<ShaPrefix>,
    /// Optional. Its commits, oldest first.
    pub commits: Vec<ShaPrefix>,
}

impl PullRequestRecord {
    /// The pull request, once the caller has resolved its commits (in the same order).
    pub fn into_pull_request(
        self,
        merge_commit: Option<Sha>,
        head_sha: Option<Sha>,
        commits: Vec<Sha>,
    ) -> PullRequest {
        PullRequest {
            merge_commit,
            head_sha,
            commits,
            ..self.pull_request
        }
    }
}

/// A kind of record: the value of its `type` field, the other fields it accepts, and how it is built.
#[derive(Debug)]
pub struct RecordType {
    /// The value of the `type` field, e.g. `deployment`.
    pub name: &'static str,
    /// The fields accepted besides `type`, in documentation order.
    pub fields: &'static [&'static str],
    /// Reads the fields; `None` when any had a problem (recorded in `Fields`).
    build: for<'a> fn(&mut Fields<'a>) -> Option<Record>,
}

const DEPLOYMENT: RecordType = RecordType {
    name: "deployment",
    fields: &[
        "id",
        "service",
        "environment",
        "sha",
        "finished_at",
        "started_at",
        "status",
        "unplanned",
        "recorded_by",
    ],
    build: build_deployment,
};

const INCIDENT: RecordType = RecordType {
    name: "incident",
    fields: &[
        "id",
        "service",
        "environment",
        "opened_at",
        "resolved_at",
        "deployment_id",
        "sha",
        "title",
    ],
    build: build_incident,
};

const PRACTICE_CHANGE: RecordType = RecordType {
    name: "practice_change",
    fields: &[
        "name",
        "started_on",
        "ended_on",
        "services",
        "team",
        "capability",
        "note",
    ],
    build: build_practice_change,
};

const PULL_REQUEST: RecordType = RecordType {
    name: "pull_request",
    fields: &[
        "id",
        "repository",
        "number",
        "title",
        "opened_at",
        "ready_for_review_at",
        "draft",
        "first_review_at",
        "merged_at",
        "closed_at",
        "merge_commit",
        "head_sha",
        "head_branch",
        "base_branch",
        "commits",
        "first_commit_at",
        "additions",
        "deletions",
        "changed_files",
        "labels",
    ],
    build: build_pull_request,
};

/// Every record type, by the value of its `type` field.
pub static RECORD_TYPES: &[RecordType] = &[DEPLOYMENT, INCIDENT, PRACTICE_CHANGE, PULL_REQUEST];

fn build_deployment(f: &mut Fields<'_>) -> Option<Record> {
    let id = f.required("id", name::<DeploymentId>);
    let service = f.required("service", name::<ServiceName>);
    let environment = f.required("environment", name::<Environment>);
    let sha = f.required("sha", sha_prefix);
    let finished_at = f.required("finished_at", timestamp);
    let started_at = f.optional("started_at", timestamp);
    let status = f.optional("status", status);
    let unplanned = f.optional("unplanned", boolean);
    let recorded_by = f.optional("recorded_by", recorder);
    if let (Some(started), Some(finished)) = (&started_at, &finished_at)
        && started.at > finished.at
    {
        f.fail(
            "started_at",
            Problem::Expected {
                expected: format!("a time no later than finished_at ({})", finished.text),
                found: started.text.clone(),
            },
        );
    }
    if !f.is_ok() {
        return None;
    }
    Some(Record::Deployment(DeploymentRecord {
        id: id?,
        service: service?,
        environment: environment?,
        sha: sha?,
        finished_at: finished_at?.at,
        started_at: started_at.map(|s| s.at),
        status: status.unwrap_or(DeploymentStatus::Success),
        unplanned: unplanned.unwrap_or(false),
        recorded_by,
    }))
}

fn build_incident(f: &mut Fields<'_>) -> Option<Record> {
    let id = f.required("id", name::<IncidentId>);
    let service = f.required("service", name::<ServiceName>);
    let environment = f.optional("environment", name::<Environment>);
    let opened_at = f.required("opened_at", timestamp);
    let resolved_at = f.optional("resolved_at", timestamp);
    let deployment_id = f.optional("deployment_id", name::<DeploymentId>);
    let sha = f.optional("sha", sha_prefix);
    let title = f.optional("title", free_text);
    if let (Some(opened), Some(resolved)) = (&opened_at, &resolved_at)
        && resolved.at < opened.at
    {
        f.fail(
            "resolved_at",
            Problem::Expected {
                expected: format!("a time no earlier than opened_at ({})", opened.text),
                found: resolved.text.clone(),
            },
        );
    }
    if !f.is_ok() {
        return None;
    }
    Some(Record::Incident(IncidentRecord {
        id: id?,
        service: service?,
        environment: environment.unwrap_or_else(Environment::production),
        opened_at: opened_at?.at,
        resolved_at: resolved_at.map(|s| s.at),
        deployment_id,
        sha,
        title: title.flatten(),
    }))
}

fn build_practice_change(f: &mut Fields<'_>) -> Option<Record> {
    let practice = f.required("name", name::<PracticeName>);
    let started_on = f.required("started_on", date);
    let ended_on = f.optional("ended_on", date);
    let listed = f.optional("services", services);
    let team = f.optional("team", name::<TeamName>);
    let capability = f.optional("capability", name::<Capability>);
    let note = f.optional("note", free_text);
    if let (Some(started), Some(ended)) = (started_on, ended_on)
        && ended < started
    {
        f.fail(
            "ended_on",
            Problem::Expected {
                expected: format!("a date no earlier than started_on ({started})"),
                found: ended.to_string(),
            },
        );
    }
    if listed.as_ref().is_some_and(|s| !s.is_empty()) && team.is_some() {
        f.fail(
            "team",
            Problem::Expected {
                expected: "services or a team, not both".to_owned(),
                found: "both".to_owned(),
            },
        );
    }
    if !f.is_ok() {
        return None;
    }
    let scope = match team {
        Some(team) => PracticeScope::Team { team },
        None => PracticeScope::services(listed.unwrap_or_default()),
    };
    Some(Record::PracticeChange(PracticeChange {
        name: practice?,
        started_on: started_on?,
        ended_on,
        scope,
        capability,
        note: note.flatten(),
    }))
}

fn build_pull_request(f: &mut Fields<'_>) -> Option<Record> {
    let id = f.required("id", name::<PullRequestId>);
    let repository = f.required("repository", name::<RepositoryName>);
    let number = f.optional("number", count);
    let title = f.optional("title", free_text);
    let opened_at = f.required("opened_at", timestamp);
    let ready_for_review_at = f.optional("ready_for_review_at", timestamp);
    let draft = f.optional("draft", boolean);
    let first_review_at = f.optional("first_review_at", timestamp);
    let merged_at = f.optional("merged_at", timestamp);
    let closed_at = f.optional("closed_at", timestamp);
    let merge_commit = f.optional("merge_commit", sha_prefix);
    let head_sha = f.optional("head_sha", sha_prefix);
    let head_branch = f.optional("head_branch", free_text);
    let base_branch = f.optional("base_branch", free_text);
    let commits = f.optional("commits", sha_prefixes);
    let first_commit_at = f.optional("first_commit_at", timestamp);
    let additions = f.optional("additions", count);
    let deletions = f.optional("deletions", count);
    let changed_files = f.optional("changed_files", count);
    let labels = f.optional("labels", labels);
    // The same rules as every other source's pull requests (`PullRequest::validate`), named by
    // field: nothing but the first commit and the first review precedes the opening, and a merge
    // commit needs a merge.
    if let Some(opened) = &opened_at {
        for (field, at) in [
            ("ready_for_review_at", &ready_for_review_at),
            ("merged_at", &merged_at),
            ("closed_at", &closed_at),
        ] {
            if let Some(at) = at
                && at.at < opened.at
            {
                f.fail(
                    field,
                    Problem::Expected {
                        expected: format!("a time no earlier than opened_at ({})", opened.text),
                        found: at.text.clone(),
                    },
                );
            }
        }
    }
    if merge_commit.is_some() && merged_at.is_none() {
        f.fail(
            "merge_commit",
            Problem::Expected {
                expected: "a merge commit only with merged_at (the pull request was merged)"
                    .to_owned(),
                found: "no merged_at".to_owned(),
            },
        );
    }
    if !f.is_ok() {
        return None;
    }
    let merged_at = merged_at.map(|m| m.at);
    let mut pull_request = PullRequest {
        id: id?,
        repository: repository?,
        number,
        title: title.flatten(),
        opened_at: opened_at?.at,
        ready_for_review_at: ready_for_review_at.map(|s| s.at),
        draft: draft.unwrap_or(false),
        first_review_at: first_review_at.map(|s| s.at),
        merged_at,
        // Merged means closed.
        closed_at: closed_at.map(|s| s.at).or(merged_at),
        merge_commit: None,
        head_sha: None,
        head_branch: head_branch.flatten(),
        base_branch: base_branch.flatten(),
        commits: Vec::new(),
        first_commit_at: first_commit_at.map(|s| s.at),
        additions,
        deletions,
        changed_files,
        labels: labels.unwrap_or_default(),
    };
    pull_request.normalize_labels();
    Some(Record::PullRequest(Box::new(PullRequestRecord {
        pull_request,
        merge_commit,
        head_sha,
        commits: commits.unwrap_or_default(),
    })))
}

/// `"deployment", "incident", "practice_change" or "pull_request"`: the known types, for messages.
fn known_types() -> String {
    let quoted: Vec<String> = RECORD_TYPES
        .iter()
        .map(|t| format!("{:?}", t.name))
        .collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => quoted.concat(),
    }
}

/// Every field any record type accepts, `type` first, each once: the columns a CSV header may name.
pub(crate) fn all_fields() -> Vec<&'static str> {
    let mut all = vec![TYPE_FIELD];
    for field in RECORD_TYPES.iter().flat_map(|t| t.fields) {
        if !all.contains(field) {
            all.push(field);
        }
    }
    all
}

/// Picks the record type named by the `type` cell and validates the other cells as that type.
pub(crate) fn build(cells: Cells<'_>) -> Result<Record, Vec<FieldProblem>> {
    let (types, rest): (Cells<'_>, Cells<'_>) =
        cells.into_iter().partition(|(n, _)| *n == TYPE_FIELD);
    let text = match types.first().map(|(_, v)| *v) {
        None | Some(Value::Json(Json::Null)) => {
            return Err(vec![type_problem(Problem::MissingType {
                known: known_types(),
            })]);
        }
        Some(Value::Text(text)) => text,
        Some(Value::Json(Json::String(text))) => text.as_str(),
        Some(Value::Json(other)) => {
            return Err(vec![type_problem(Problem::Expected {
                expected: known_types(),
                found: fields::describe(other),
            })]);
        }
    };
    let Some(record_type) = RECORD_TYPES.iter().find(|t| t.name == text.trim()) else {
        return Err(vec![type_problem(Problem::UnknownType {
            found: fields::quote(text),
            known: known_types(),
        })]);
    };

    let mut problems = Vec::new();
    for (field, _) in &rest {
        if !record_type.fields.contains(field) {
            problems.push(FieldProblem::new(
                Some(field),
                unknown_field(record_type, field),
            ));
        }
    }
    let mut f = Fields::new(
        record_type.name,
        record_type.fields,
        rest.into_iter()
            .filter(|(n, _)| record_type.fields.contains(n))
            .collect(),
    );
    let record = (record_type.build)(&mut f);
    problems.extend(f.into_problems());
    match record {
        Some(record) if problems.is_empty() => Ok(record),
        _ => Err(problems),
    }
}

fn type_problem(problem: Problem) -> FieldProblem {
    FieldProblem::new(Some(TYPE_FIELD), problem)
}

fn unknown_field(record_type: &RecordType, field: &str) -> Problem {
    let owner = RECORD_TYPES
        .iter()
        .find(|t| t.fields.contains(&field))
        .map(|t| t.name);
    let hint = match owner {
        Some(owner) => format!(" (it is a field of {owner} records)"),
        None => fields::did_you_mean(field, record_type.fields.iter().copied()),
    };
    Problem::UnknownField {
        record: record_type.name,
        hint,
        accepted: accepted(record_type),
    }
}

fn accepted(record_type: &RecordType) -> String {
    std::iter::once(TYPE_FIELD)
        .chain(record_type.fields.iter().copied())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_types_are_listed_for_messages() {
        assert_eq!(
            known_types(),
            "\"deployment\", \"incident\", \"practice_change\" or \"pull_request\""
        );
    }

    #[test]
    fn csv_columns_are_the_union_of_fields() {
        assert_eq!(
            all_fields(),
            [
                "type",
                "id",
                "service",
                "environment",
                "sha",
                "finished_at",
                "started_at",
                "status",
                "unplanned",
                "recorded_by",
                "opened_at",
                "resolved_at",
                "deployment_id",
                "title",
                "name",
                "started_on",
                "ended_on",
                "services",
                "team",
                "capability",
                "note",
                "repository",
                "number",
                "ready_for_review_at",
                "draft",
                "first_review_at",
                "merged_at",
                "closed_at",
                "merge_commit",
                "head_sha",
                "head_branch",
                "base_branch",
                "commits",
                "first_commit_at",
                "additions",
                "deletions",
                "changed_files",
                "labels"
            ]
        );
    }

    #[test]
    fn record_types_name_themselves() {
        for t in RECORD_TYPES {
            assert!(!t.fields.contains(&TYPE_FIELD), "{}", t.name);
        }
    }
}
