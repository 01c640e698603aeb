//! CDEvents v0.4 and v0.5: plain JSON, or carried as a CloudEvent in structured mode (the CDEvent
//! is the CloudEvent's `data`) or binary mode (`ce-*` headers, the CDEvent as the body).
//!
//! v0.4 names the spec version `context.version` and gives the subject a `type`; v0.5 names it
//! `context.specversion` and drops the subject type (the event type says it). Both are read the
//! same way.
//!
//! | event | becomes |
//! |---|---|
//! | `service.deployed`, `service.upgraded`, `service.rolledback` | a successful deployment of service `subject.id` to `subject.content.environment.id`, id `cdevents:<context.id>` (a rollback is declared unplanned) |
//! | `pipelinerun.finished` | a deployment only when `customData.shiplog.environment` says the pipeline deploys |
//! | `incident.detected`, `incident.reported` | an open incident `cdevents:<subject.id>` |
//! | `incident.resolved` | that incident's resolution |
//! | `change.created`, `change.reviewed`, `change.merged`, `change.abandoned` | a pull request `cdevents:<repository>#<subject.id>` |
//! | anything else | skipped with a note |
//!
//! A deployment needs the commit it shipped. CDEvents names an artifact, so the commit comes from,
//! in order: `customData.shiplog.sha`; the artifact's purl (`subject.content.artifactId`): its
//! `commit` qualifier, the commit after `@` in its `vcs_url` qualifier, or its version when that
//! is a full 40-character sha (`pkg:github/org/app@<sha>`). An OCI digest
//! (`pkg:oci/app@sha256:...`) names an image, not a commit: such a deployment is an error that
//! says where to put the commit.

use std::str::FromStr;

use jiff::Timestamp;
use serde_json::Value as Json;
use shiplog_core::{
    Deployment, DeploymentSource, DeploymentStatus, IncidentId, Recorder, RepositoryName, Sha,
};

use super::json::{Node, Res, SHA_EXPECTED, TIME_EXPECTED};
use super::{
    Headers, IncidentState, IncidentUpdate, Observation, PullRequestUpdate, Sink, make_id,
    pagerduty_link,
};

const PREFIX: &str = "dev.cdevents.";

/// Whether a JSON document is a CDEvent, or a CloudEvent carrying one.
pub(crate) fn detect(doc: &Json) -> bool {
    let is = |v: Option<&Json>| {
        v.and_then(Json::as_str)
            .is_some_and(|t| t.starts_with(PREFIX))
    };
    is(doc.get("context").and_then(|c| c.get("type"))) || is(doc.get("type"))
}

pub(crate) fn parse(sink: &mut Sink<'_>, root: &Node<'_>, headers: &Headers) -> Res<()> {
    // Structured mode: the CloudEvent's data is the CDEvent.
    let (event, envelope_type) = if root.opt("specversion").is_some() && root.opt("data").is_some()
    {
        let data = root.get("data", "the CDEvent")?;
        if !data.value.is_object() {
            return Err(data.expected("the CDEvent as a JSON object"));
        }
        let t = root.get("type", "the CloudEvent type")?.str()?.to_owned();
        (data, Some(t))
    } else {
        (root.clone(), headers.get("ce-type").map(str::to_owned))
    };
    let context = event.get("context", "the CDEvent context")?;
    let version_node = match context.opt("specversion") {
        Some(v) => v,
        None => context.get(
            "version",
            "the CDEvents spec version (specversion, or version in v0.4)",
        )?,
    };
    let version = version_node.str()?;
    if !(version.starts_with("0.4.") || version.starts_with("0.5.")) {
        return Err(version_node.fault(format!(
            "expected CDEvents spec version 0.4.x or 0.5.x, got {version:?}"
        )));
    }
    let type_node = context.get(
        "type",
        "the event type, e.g. dev.cdevents.service.deployed.0.3.0",
    )?;
    let event_type = type_node.str()?;
    if let Some(outer) = &envelope_type
        && outer != event_type
    {
        return Err(type_node.fault(format!(
            "the CloudEvent says type {outer:?} but the CDEvent says {event_type:?}"
        )));
    }
    let Some(rest) = event_type.strip_prefix(PREFIX) else {
        return Err(type_node.fault(format!(
            "expected a CDEvents type starting {PREFIX:?}, got {event_type:?}"
        )));
    };
    let mut parts = rest.splitn(3, '.');
    let (subject, predicate) = match (parts.next(), parts.next()) {
        (Some(s), Some(p)) => (s, p),
        _ => {
            return Err(type_node.fault(format!(
                "expected a type like dev.cdevents.SUBJECT.PREDICATE.VERSION, got {event_type:?}"
            )));
        }
    };
    let e = Event {
        context,
        subject: event.get("subject", "the event's subject")?,
        custom: event
            .opt_at(&["customData", "shiplog"])
            .filter(|n| n.value.is_object()),
    };
    let result = match (subject, predicate) {
        ("service", "deployed" | "upgraded" | "rolledback") => {
            service_deployment(sink, &e, predicate == "rolledback")
        }
        ("pipelinerun", "finished") => pipeline_run(sink, &e),
        ("incident", "detected" | "reported" | "resolved") => incident(sink, &e, predicate),
        ("change", "created" | "reviewed" | "merged" | "abandoned") => change(&e, predicate),
        _ => {
            sink.note(
                &type_node,
                format!(
                    "CDEvents {subject}.{predicate}: not a deployment, incident or change; skipped"
                ),
            );
            Ok(None)
        }
    };
    sink.keep(result);
    Ok(())
}

struct Event<'a> {
    context: Node<'a>,
    subject: Node<'a>,
    /// `customData.shiplog`, when customData is a JSON object holding one.
    custom: Option<Node<'a>>,
}

impl<'a> Event<'a> {
    fn timestamp(&self) -> Res<Timestamp> {
        self.context.get("timestamp", TIME_EXPECTED)?.timestamp()
    }

    fn event_id(&self) -> Res<(Node<'a>, String)> {
        let node = self.context.get("id", "the event id")?;
        let text = node.id_text()?;
        Ok((node, text))
    }

    fn custom_text(&self, key: &str) -> Res<Option<(Node<'a>, &'a str)>> {
        match self.custom.as_ref().and_then(|c| c.opt(key)) {
            Some(n) => {
                let text = n.str()?;
                Ok(Some((n, text)))
            }
            None => Ok(None),
        }
    }

    /// The commit from `customData.shiplog.sha`, else from the artifact id (see the module docs).
    fn commit(&self) -> Res<Option<Sha>> {
        if let Some(n) = self.custom.as_ref().and_then(|c| c.opt("sha")) {
            return n.sha().map(Some);
        }
        Ok(self
            .subject
            .opt_at(&["content", "artifactId"])
            .and_then(|a| a.value.as_str().and_then(commit_of_artifact)))
    }
}

/// The commit a purl names, if it names one.
pub(crate) fn commit_of_artifact(artifact: &str) -> Option<Sha> {
    let purl = packageurl::PackageUrl::from_str(artifact).ok()?;
    let full = |text: &str| Sha::from_hex(text).ok();
    if let Some(commit) = purl.qualifiers().get("commit").and_then(|c| full(c)) {
        return Some(commit);
    }
    if let Some(vcs) = purl.qualifiers().get("vcs_url")
        && let Some((_, rev)) = vcs.rsplit_once('@')
        && let Some(commit) = full(rev)
    {
        return Some(commit);
    }
    purl.version().and_then(full)
}

fn environment_of(sink: &Sink<'_>, e: &Event<'_>) -> Res<shiplog_core::Environment> {
    if let Some((node, name)) = e.custom_text("environment")? {
        return sink.options.environment(&node, Some(name));
    }
    let node = e
        .subject
        .at(&["content", "environment", "id"], "the environment's id")?;
    sink.options.environment(&node, Some(node.str()?))
}

fn service_deployment(
    sink: &mut Sink<'_>,
    e: &Event<'_>,
    rollback: bool,
) -> Res<Option<Observation>> {
    let (service_node, service_name) = match e.custom_text("service")? {
        Some(found) => found,
        None => {
            let node = e.subject.get("id", "the service's id")?;
            let text = node.str()?;
            (node, text)
        }
    };
    let service = sink
        .options
        .service(&service_node, "CDEvents service", &[service_name])?;
    let environment = environment_of(sink, e)?;
    let sha = match e.commit()? {
        Some(sha) => sha,
        None => {
            let artifact = e.subject.opt_at(&["content", "artifactId"]);
            let (path, found) = match &artifact {
                Some(a) => (
                    a.path.clone(),
                    format!("got {}", crate::fields::describe(a.value)),
                ),
                None => (
                    format!("{}.content.artifactId", e.subject.path),
                    "it is missing".to_owned(),
                ),
            };
            return Err(super::json::Fault::new(
                path,
                format!(
                    "expected an artifact that names the deployed commit (a purl with ?commit=SHA, a vcs_url qualifier ending @SHA, or a 40-character sha as its version), {found}; or put the commit in customData.shiplog.sha"
                ),
            ));
        }
    };
    let (id_node, id) = e.event_id()?;
    Ok(Some(Observation::Deployment(Deployment {
        id: make_id(&id_node, &format!("cdevents:{id}"))?,
        service,
        environment,
        sha,
        finished_at: e.timestamp()?,
        started_at: None,
        status: DeploymentStatus::Success,
        unplanned: rollback,
        source: DeploymentSource::Imported,
        recorded_by: Some(Recorder::ci("cdevents")),
    })))
}

fn pipeline_run(sink: &mut Sink<'_>, e: &Event<'_>) -> Res<Option<Observation>> {
    if e.custom_text("environment")?.is_none() {
        sink.note(
            &e.subject,
            "CDEvents pipelinerun.finished: a deployment only when customData.shiplog.environment names the environment it deployed to; skipped",
        );
        return Ok(None);
    }
    let outcome_node = e.subject.at(&["content", "outcome"], "the run's outcome")?;
    let status = match outcome_node.str()? {
        "success" => DeploymentStatus::Success,
        "failure" | "error" => DeploymentStatus::Failure,
        other => {
            sink.note(
                &outcome_node,
                format!(
                    "pipeline run outcome {other:?}: neither a deployment nor a failed one; skipped"
                ),
            );
            return Ok(None);
        }
    };
    let (service_node, service_name) = match e.custom_text("service")? {
        Some(found) => found,
        None => {
            let node = e
                .subject
                .at(&["content", "pipelineName"], "the pipeline's name")?;
            let text = node.str()?;
            (node, text)
        }
    };
    let service = sink
        .options
        .service(&service_node, "CDEvents pipeline", &[service_name])?;
    let sha = match e.commit()? {
        Some(sha) => sha,
        None => {
            let custom_path = e
                .custom
                .as_ref()
                .map_or("$.customData.shiplog".to_owned(), |c| c.path.clone());
            return Err(super::json::Fault::new(
                format!("{custom_path}.sha"),
                format!("missing; expected {SHA_EXPECTED} (the commit the pipeline deployed)"),
            ));
        }
    };
    let (id_node, id) = e.event_id()?;
    Ok(Some(Observation::Deployment(Deployment {
        id: make_id(&id_node, &format!("cdevents:{id}"))?,
        service,
        environment: environment_of(sink, e)?,
        sha,
        finished_at: e.timestamp()?,
        started_at: None,
        status,
        unplanned: false,
        source: DeploymentSource::Imported,
        recorded_by: Some(Recorder::ci("cdevents")),
    })))
}

fn incident(sink: &mut Sink<'_>, e: &Event<'_>, predicate: &str) -> Res<Option<Observation>> {
    let id_node = e.subject.get("id", "the incident's id")?;
    let id: IncidentId = make_id(&id_node, &format!("cdevents:{}", id_node.id_text()?))?;
    let at = e.timestamp()?;
    let service = match e.custom_text("service")? {
        Some((node, name)) => sink.options.service(&node, "CDEvents service", &[name])?,
        None => match e.subject.opt_at(&["content", "service", "id"]) {
            Some(node) => sink
                .options
                .service(&node, "CDEvents service", &[node.str()?])?,
            None => sink.options.service.clone().ok_or_else(|| {
                super::json::Fault::new(
                    format!("{}.content.service", e.subject.path),
                    "missing; expected the affected service (or give --service NAME)",
                )
            })?,
        },
    };
    let content = e.subject.opt("content");
    let title = content
        .as_ref()
        .and_then(|c| c.opt("description"))
        .map(|n| n.text())
        .transpose()?
        .flatten();
    let ticket = content
        .as_ref()
        .and_then(|c| c.opt("ticketURI"))
        .and_then(|t| t.value.as_str().map(str::to_owned));
    let (state, opened_at) = match predicate {
        "resolved" => (IncidentState::Resolved(at), None),
        _ => (IncidentState::Open, Some(at)),
    };
    Ok(Some(Observation::Incident(IncidentUpdate {
        id,
        service,
        environment: environment_of(sink, e)?,
        observed_at: at,
        opened_at,
        state,
        // The incident's own description names its state ("restored below ..."): only the
        // opening events title it.
        title: if predicate == "resolved" { None } else { title },
        sha: e.commit()?,
        duplicate_of: ticket.as_deref().and_then(pagerduty_link).map(Some),
    })))
}

fn change(e: &Event<'_>, predicate: &str) -> Res<Option<Observation>> {
    let repo_node = e.subject.at(
        &["content", "repository", "id"],
        "the change's repository id",
    )?;
    let repository = repo_node
        .str()?
        .parse::<RepositoryName>()
        .map_err(|err| repo_node.fault(err.to_string()))?;
    let id_node = e.subject.get("id", "the change's id")?;
    let change_id = id_node.id_text()?;
    let at = e.timestamp()?;
    let mut update = PullRequestUpdate::new(
        make_id(&id_node, &format!("cdevents:{repository}#{change_id}"))?,
        repository,
        change_id.parse().ok(),
        at,
    );
    match predicate {
        "created" => {
            update.opened_at = Some(at);
            update.title = e
                .subject
                .opt_at(&["content", "description"])
                .map(|n| n.text())
                .transpose()?
                .flatten();
        }
        "reviewed" => update.first_review_at = Some(at),
        "merged" => {
            update.merged_at = Some(at);
            update.closed_at = Some(at);
            update.merge_commit = e.commit()?;
        }
        _ => update.closed_at = Some(at),
    }
    Ok(Some(Observation::PullRequest(Box::new(update), None)))
}
