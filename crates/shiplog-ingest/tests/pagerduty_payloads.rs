//! PagerDuty: the two real v3 webhook events in `shared/payloads/pagerduty` (they belong to two
//! different incidents and carry no `data.created_at`), the REST list, and malformed input.

mod payloads;

use payloads::{ingest, ingest_made, notes, ts};
use serde_json::json;
use shiplog_core::{Environment, Incident, IncidentId, ServiceName};
use shiplog_ingest::formats::{IncidentState, IncidentUpdate, Options, Source};

fn update(
    id: &str,
    observed: &str,
    opened: Option<&str>,
    state: IncidentState,
    title: &str,
) -> IncidentUpdate {
    IncidentUpdate {
        id: IncidentId::new(id).unwrap(),
        service: ServiceName::new("pig208").unwrap(),
        environment: Environment::production(),
        observed_at: ts(observed),
        opened_at: opened.map(ts),
        state,
        title: Some(title.to_owned()),
        sha: None,
        duplicate_of: None,
    }
}

#[test]
fn triggered_opens_at_the_event_time() {
    let got = ingest(
        "pagerduty/incident.triggered.v3.zulip-fixture.json",
        &Options::default(),
    )
    .unwrap();
    assert_eq!(
        got.incidents,
        [update(
            "pagerduty:PFQZPSY",
            "2021-06-04T13:35:29.781Z",
            Some("2021-06-04T13:35:29.781Z"),
            IncidentState::Open,
            "Test Incident 3"
        )]
    );
}

#[test]
fn resolved_says_only_when_it_was_resolved() {
    let got = ingest(
        "pagerduty/incident.resolved.v3.zulip-fixture.json",
        &Options::default(),
    )
    .unwrap();
    let at = ts("2021-06-04T13:16:53.816Z");
    assert_eq!(
        got.incidents,
        [update(
            "pagerduty:PCPZE64",
            "2021-06-04T13:16:53.816Z",
            None,
            IncidentState::Resolved(at),
            "Test Incident"
        )]
    );
    // Never seen open: it opens when it was resolved (the only time known).
    let first = got.incidents[0].apply(None);
    assert_eq!((first.opened_at, first.resolved_at), (at, Some(at)));
    // Seen open before: only resolved_at changes.
    let stored = Incident {
        opened_at: ts("2021-06-04T12:00:00Z"),
        resolved_at: None,
        sha: None,
        title: Some("Test Incident".to_owned()),
        ..first.clone()
    };
    assert_eq!(
        got.incidents[0].apply(Some(&stored)),
        Incident {
            resolved_at: Some(at),
            ..stored
        }
    );
}

#[test]
fn other_incident_events_keep_the_state_and_service_mapping_applies() {
    let mut event = payloads::json("pagerduty/incident.triggered.v3.zulip-fixture.json");
    event["event"]["event_type"] = json!("incident.acknowledged");
    let options = Options {
        services: [("PA2P440".to_owned(), ServiceName::new("api").unwrap())].into(),
        environment: Some(Environment::new("prod").unwrap()),
        ..Options::default()
    };
    let got = ingest_made("ack.json", &event, Source::PagerDuty, &options).unwrap();
    let u = &got.incidents[0];
    assert_eq!((u.state, u.opened_at), (IncidentState::Unknown, None));
    assert_eq!(
        (u.service.as_str(), u.environment.as_str()),
        ("api", "prod")
    );

    event["event"]["event_type"] = json!("service.updated");
    let got = ingest_made("svc.json", &event, Source::PagerDuty, &options).unwrap();
    assert!(got.incidents.is_empty());
    assert_eq!(
        notes(&got),
        [
            "svc.json: $.event.event_type: PagerDuty service.updated event: not about an incident; skipped"
        ]
    );
}

#[test]
fn the_rest_incidents_list_gives_whole_incidents() {
    let list = json!({"incidents": [
        {"id": "PCPZE64", "incident_number": 6, "title": "Test Incident", "status": "resolved", "created_at": "2021-06-04T13:00:00Z",
         "last_status_change_at": "2021-06-04T13:16:53Z", "service": {"id": "PA2P440", "summary": "pig208"}},
        {"id": "PFQZPSY", "incident_number": 9, "title": "Test Incident 3", "status": "acknowledged", "created_at": "2021-06-04T13:35:29Z",
         "service": {"id": "PA2P440", "summary": "pig208"}}
    ], "limit": 25, "offset": 0, "more": false});
    let got = ingest_made(
        "incidents.json",
        &list,
        Source::PagerDuty,
        &Options::default(),
    )
    .unwrap();
    let all: Vec<Incident> = got.incidents.iter().map(|u| u.apply(None)).collect();
    assert_eq!(all[0].id.as_str(), "pagerduty:PCPZE64");
    assert_eq!(
        (all[0].opened_at, all[0].resolved_at),
        (ts("2021-06-04T13:00:00Z"), Some(ts("2021-06-04T13:16:53Z")))
    );
    assert_eq!(
        (all[1].opened_at, all[1].resolved_at),
        (ts("2021-06-04T13:35:29Z"), None)
    );
}

#[test]
fn malformed_events_name_the_json_path() {
    let base = payloads::json("pagerduty/incident.resolved.v3.zulip-fixture.json");
    let cases: Vec<(serde_json::Value, &str)> = vec![
        (
            {
                let mut p = base.clone();
                p["event"]["occurred_at"] = json!(1622812613);
                p
            },
            "pd.json: $.event.occurred_at: expected an RFC 3339 timestamp (e.g. 2026-03-03T14:00:00Z), got the number 1622812613",
        ),
        (
            {
                let mut p = base.clone();
                p["event"]["data"].as_object_mut().unwrap().remove("id");
                p
            },
            "pd.json: $.event.data.id: missing; expected the incident's id",
        ),
        (
            {
                let mut p = base.clone();
                p["event"]["data"]["service"]["summary"] = json!("Checkout API");
                p
            },
            "pd.json: $.event.data.service.summary: the PagerDuty service \"Checkout API\" is not a shiplog service name (expected a service name made of ASCII letters, digits, '-', '_', '.', '/' and ':', got ' ' in \"Checkout API\"); map it with --service 'Checkout API=NAME' or give --service NAME",
        ),
    ];
    for (payload, expected) in cases {
        assert_eq!(
            ingest_made("pd.json", &payload, Source::PagerDuty, &Options::default()).unwrap_err(),
            [expected]
        );
    }
}
