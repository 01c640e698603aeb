//! PagerDuty: v3 webhook events and the REST incidents list (`GET /incidents`, or one incident
//! from `GET /incidents/{id}`).
//!
//! v3 webhooks describe what happened to an incident and leave out `data.created_at`, so an event
//! is an [`IncidentUpdate`]: `incident.triggered` opens the incident at the event's `occurred_at`
//! (or `data.created_at` when present), `incident.resolved` sets only its resolution time,
//! `incident.reopened` reopens it, and the other `incident.*` events (acknowledged, escalated,
//! annotated, ...) update its title and service without changing its state. Incident ids are
//! `pagerduty:` and PagerDuty's incident id, so a redelivered or repeated event (PagerDuty
//! delivers at least once) changes nothing.

use serde_json::Value as Json;

use super::json::{Node, Res, TIME_EXPECTED};
use super::{IncidentState, IncidentUpdate, Observation, Sink, make_id};

/// Whether a JSON document is a PagerDuty v3 webhook event or a REST incidents response.
pub(crate) fn detect(doc: &Json) -> bool {
    doc.get("event")
        .and_then(|e| e.get("event_type"))
        .is_some_and(Json::is_string)
        || doc
            .get("incidents")
            .and_then(Json::as_array)
            .is_some_and(|list| list.iter().all(|i| i.get("incident_number").is_some()))
        || doc
            .get("incident")
            .is_some_and(|i| i.get("incident_number").is_some())
}

pub(crate) fn parse(sink: &mut Sink<'_>, root: &Node<'_>) -> Res<()> {
    if let Some(list) = root.opt("incidents") {
        for item in list.items()? {
            list_item(sink, &item);
        }
        return Ok(());
    }
    if let Some(one) = root.opt("incident") {
        let result = listed_incident(sink, &one);
        sink.keep(result);
        return Ok(());
    }
    let event = root.get(
        "event",
        "a PagerDuty v3 webhook event (or an incidents list)",
    )?;
    let result = webhook_event(sink, &event);
    sink.keep(result);
    Ok(())
}

/// One incident of a REST incidents list (read whole, or one at a time from a large file).
pub(crate) fn list_item(sink: &mut Sink<'_>, item: &Node<'_>) {
    let result = listed_incident(sink, item);
    sink.keep(result);
}

fn webhook_event(sink: &mut Sink<'_>, event: &Node<'_>) -> Res<Option<Observation>> {
    let type_node = event.get("event_type", "an event type like incident.triggered")?;
    let event_type = type_node.str()?;
    let Some(what) = event_type.strip_prefix("incident.") else {
        sink.note(
            &type_node,
            format!("PagerDuty {event_type} event: not about an incident; skipped"),
        );
        return Ok(None);
    };
    let occurred_at = event.get("occurred_at", TIME_EXPECTED)?.timestamp()?;
    let data = event.get("data", "the incident")?;
    let state = match what {
        "triggered" | "reopened" => IncidentState::Open,
        "resolved" => IncidentState::Resolved(occurred_at),
        _ => IncidentState::Unknown,
    };
    let opened_at = match data.opt("created_at") {
        Some(n) => Some(n.timestamp()?),
        None if what == "triggered" => Some(occurred_at),
        None => None,
    };
    incident(sink, &data, occurred_at, opened_at, state).map(Some)
}

fn listed_incident(sink: &mut Sink<'_>, item: &Node<'_>) -> Res<Option<Observation>> {
    let created_at = item.get("created_at", TIME_EXPECTED)?.timestamp()?;
    let changed_at = item
        .opt("last_status_change_at")
        .map(|n| n.timestamp())
        .transpose()?;
    let status = item.get("status", "an incident status")?.one_of(&[
        "triggered",
        "acknowledged",
        "resolved",
    ])?;
    let state = if status == "resolved" {
        let at = match item.opt("resolved_at") {
            Some(n) => n.timestamp()?,
            None => item
                .get("last_status_change_at", TIME_EXPECTED)?
                .timestamp()?,
        };
        IncidentState::Resolved(at)
    } else {
        IncidentState::Open
    };
    let observed_at = changed_at.unwrap_or(created_at);
    incident(sink, item, observed_at, Some(created_at), state).map(Some)
}

fn incident(
    sink: &mut Sink<'_>,
    data: &Node<'_>,
    observed_at: jiff::Timestamp,
    opened_at: Option<jiff::Timestamp>,
    state: IncidentState,
) -> Res<Observation> {
    let id_node = data.get("id", "the incident's id")?;
    let id = make_id(&id_node, &format!("pagerduty:{}", id_node.id_text()?))?;
    let service = data.get("service", "the incident's service")?;
    let service_id = service
        .opt("id")
        .and_then(|n| n.value.as_str())
        .unwrap_or("");
    let summary_node = service.get("summary", "the service's name (summary)")?;
    let summary = summary_node.str()?;
    Ok(Observation::Incident(IncidentUpdate {
        id,
        service: sink.options.service(
            &summary_node,
            "PagerDuty service",
            &[summary, service_id],
        )?,
        environment: sink.options.environment(data, None)?,
        observed_at,
        opened_at,
        state,
        title: data.opt("title").map(|n| n.text()).transpose()?.flatten(),
        sha: None,
        duplicate_of: None,
    }))
}
