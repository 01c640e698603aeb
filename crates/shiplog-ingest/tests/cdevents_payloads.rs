//! CDEvents: every conformance example in `shared/payloads/cdevents/v0.4.1` and `v0.5.1`, the
//! CloudEvents wrappings (binary `ce-*` headers and structured mode, as `.json` and `.http`), and
//! malformed input.

mod payloads;

use payloads::{ingest, ingest_all, ingest_made, notes, ts};
use serde_json::json;
use shiplog_core::{
    Deployment, DeploymentId, DeploymentSource, DeploymentStatus, Environment, IncidentId,
    Recorder, RepositoryName, ServiceName, Sha,
};
use shiplog_ingest::formats::{Delivery, IncidentState, IncidentUpdate, Options, Source};

const COMMIT: &str = "3f9c2a1e8b7d6c5f4a3b2c1d0e9f8a7b6c5d4e3f";
const OCI_ERROR: &str = "$.subject.content.artifactId: expected an artifact that names the deployed commit (a purl with ?commit=SHA, a vcs_url qualifier ending @SHA, or a 40-character sha as its version), got the string \"pkg:oci/myapp@sha256%3A0b31b1c02ff458ad9b7b81cbdf8f028bd5469\"...; or put the commit in customData.shiplog.sha";

fn detected(title: Option<&str>) -> IncidentUpdate {
    IncidentUpdate {
        id: IncidentId::new("cdevents:incident-123").unwrap(),
        service: ServiceName::new("myApp").unwrap(),
        environment: Environment::new("prod1").unwrap(),
        observed_at: ts("2022-11-11T13:52:20.079Z"),
        opened_at: Some(ts("2022-11-11T13:52:20.079Z")),
        state: IncidentState::Open,
        title: title.map(str::to_owned),
        sha: None,
        duplicate_of: None,
    }
}

#[test]
fn incidents_read_the_same_in_v0_4_and_v0_5() {
    for version in ["v0.4.1", "v0.5.1"] {
        for kind in ["detected", "reported"] {
            let got = ingest(
                &format!("cdevents/{version}/incident_{kind}.json"),
                &Options::default(),
            )
            .unwrap();
            assert_eq!(
                got.incidents,
                [detected(Some("Response time above threshold of 100ms"))],
                "{version} {kind}"
            );
        }
        let got = ingest(
            &format!("cdevents/{version}/incident_resolved.json"),
            &Options::default(),
        )
        .unwrap();
        assert_eq!(
            got.incidents,
            [IncidentUpdate {
                opened_at: None,
                state: IncidentState::Resolved(ts("2022-11-11T13:52:20.079Z")),
                title: None,
                ..detected(None)
            }]
        );
    }
}

#[test]
fn detected_and_resolved_sharing_one_event_id_are_still_two_updates_of_one_incident() {
    // The spec's own examples reuse one context.id: keying on the event id would drop the
    // resolution as a redelivery. shiplog keys incidents on the subject.
    let got = ingest_all(
        &[
            payloads::delivery("cdevents/v0.5.1/incident_detected.json"),
            payloads::delivery("cdevents/v0.5.1/incident_resolved.json"),
        ],
        &Options::default(),
    )
    .unwrap();
    let opened = got.incidents[0].apply(None);
    let resolved = got.incidents[1].apply(Some(&opened));
    assert_eq!(resolved.id.as_str(), "cdevents:incident-123");
    assert_eq!(
        (resolved.opened_at, resolved.resolved_at),
        (
            ts("2022-11-11T13:52:20.079Z"),
            Some(ts("2022-11-11T13:52:20.079Z"))
        )
    );
    assert_eq!(
        resolved.title.as_deref(),
        Some("Response time above threshold of 100ms")
    );
}

#[test]
fn cloudevents_binary_and_structured_modes_read_as_the_plain_event() {
    let plain = ingest(
        "cdevents/v0.5.1/incident_detected.json",
        &Options::default(),
    )
    .unwrap();
    for file in [
        "cdevents/incident_detected.cloudevents-http-binary.CONSTRUCTED.http",
        "cdevents/incident_detected.cloudevents-http-structured.CONSTRUCTED.http",
        "cdevents/incident_detected.cloudevents-structured.CONSTRUCTED.json",
    ] {
        let got = ingest(file, &Options::default()).unwrap();
        assert_eq!(got.incidents, plain.incidents, "{file}");
    }
}

#[test]
fn oci_digests_name_no_commit_so_the_spec_examples_are_refused() {
    for file in [
        "cdevents/v0.4.1/service_deployed.json",
        "cdevents/v0.4.1/service_upgraded.json",
        "cdevents/v0.4.1/service_rolledback.json",
        "cdevents/v0.5.1/service_deployed.json",
        "cdevents/v0.5.1/service_upgraded.json",
        "cdevents/v0.5.1/service_rolledback.json",
        "cdevents/service_deployed.cloudevents-http-binary.CONSTRUCTED.http",
    ] {
        assert_eq!(
            ingest(file, &Options::default()).unwrap_err(),
            [format!("{file}: {OCI_ERROR}")],
            "{file}"
        );
    }
    for file in [
        "cdevents/service_deployed.cloudevents-structured.CONSTRUCTED.json",
        "cdevents/service_deployed.cloudevents-http-structured.CONSTRUCTED.http",
    ] {
        assert_eq!(
            ingest(file, &Options::default()).unwrap_err(),
            [format!("{file}: $.data{}", &OCI_ERROR[1..])],
            "{file}"
        );
    }
}

fn deployed(
    version: &str,
    kind: &str,
    edit: impl Fn(&mut serde_json::Value),
) -> Result<Vec<Deployment>, Vec<String>> {
    let mut event = payloads::json(&format!("cdevents/{version}/service_{kind}.json"));
    edit(&mut event);
    ingest_made("event.json", &event, Source::CdEvents, &Options::default()).map(|i| i.deployments)
}

#[test]
fn commits_come_from_custom_data_or_the_purl() {
    let expected = |unplanned| Deployment {
        id: DeploymentId::new("cdevents:271069a8-fc18-44f1-b38f-9d70a1695819").unwrap(),
        service: ServiceName::new("mySubject123").unwrap(),
        environment: Environment::new("test123").unwrap(),
        sha: Sha::from_hex(COMMIT).unwrap(),
        finished_at: ts("2023-03-20T14:27:05.315384Z"),
        started_at: None,
        status: DeploymentStatus::Success,
        unplanned,
        source: DeploymentSource::Imported,
        recorded_by: Some(Recorder::ci("cdevents")),
    };
    for version in ["v0.4.1", "v0.5.1"] {
        for (kind, unplanned) in [
            ("deployed", false),
            ("upgraded", false),
            ("rolledback", true),
        ] {
            let custom = deployed(version, kind, |e| {
                e["customData"] = json!({"shiplog": {"sha": COMMIT}})
            })
            .unwrap();
            assert_eq!(custom, [expected(unplanned)], "{version} {kind}");
        }
        for artifact in [
            format!(
                "pkg:oci/myapp@sha256%3A0b31b1c02ff458ad9b7b81cbdf8f028bd54699fa151f221d1e8de6817db93427?commit={COMMIT}"
            ),
            format!(
                "pkg:oci/myapp@sha256%3A0b31?vcs_url=git%2Bhttps://github.com/org/myapp.git%40{COMMIT}"
            ),
            format!("pkg:github/org/myapp@{COMMIT}"),
        ] {
            let got = deployed(version, "deployed", |e| {
                e["subject"]["content"]["artifactId"] = json!(artifact)
            })
            .unwrap();
            assert_eq!(got, [expected(false)], "{artifact}");
        }
    }
    // An abbreviated version is not a commit.
    assert!(
        deployed(
            "v0.5.1",
            "deployed",
            |e| e["subject"]["content"]["artifactId"] =
                json!("pkg:golang/mygit.com/myorg/myapp@234fd47e07d1004f0aed9c")
        )
        .is_err()
    );
    assert_eq!(
        deployed("v0.5.1", "deployed", |e| e["customData"] =
            json!({"shiplog": {"sha": "234fd47"}}))
        .unwrap_err(),
        [
            "event.json: $.customData.shiplog.sha: expected a 40-character hexadecimal commit sha, got \"234fd47\""
        ]
    );
}

#[test]
fn pipeline_runs_deploy_only_when_custom_data_says_so() {
    for version in ["v0.4.1", "v0.5.1"] {
        let file = format!("cdevents/{version}/pipelinerun_finished.json");
        let got = ingest(&file, &Options::default()).unwrap();
        assert_eq!(
            notes(&got),
            [format!(
                "{file}: $.subject: CDEvents pipelinerun.finished: a deployment only when customData.shiplog.environment names the environment it deployed to; skipped"
            )]
        );
        let mut event = payloads::json(&file);
        event["customData"] = json!({"shiplog": {"environment": "production", "service": "api"}});
        assert_eq!(
            ingest_made("run.json", &event, Source::CdEvents, &Options::default()).unwrap_err(),
            [
                "run.json: $.customData.shiplog.sha: missing; expected a 40-character hexadecimal commit sha (the commit the pipeline deployed)"
            ]
        );
        event["customData"]["shiplog"]["sha"] = json!(COMMIT);
        let got = ingest_made("run.json", &event, Source::CdEvents, &Options::default()).unwrap();
        assert_eq!(got.deployments.len(), 1);
        let d = &got.deployments[0];
        assert_eq!(
            (d.service.as_str(), d.environment.as_str(), d.status),
            ("api", "production", DeploymentStatus::Failure),
            "the examples' outcome is failure"
        );
        assert_eq!(d.recorded_by, Some(Recorder::ci("cdevents")));
    }
}

#[test]
fn change_events_make_a_pull_request() {
    let files = ["created", "reviewed", "merged"]
        .map(|k| payloads::delivery(&format!("cdevents/v0.5.1/change_{k}.json")));
    let got = ingest_all(&files, &Options::default()).unwrap();
    let mut pr = None;
    for u in &got.pull_requests {
        pr = Some(u.apply(pr.as_ref()));
    }
    let pr = pr.unwrap();
    assert_eq!(pr.id.as_str(), "cdevents:TestRepo/TestOrg#mySubject123");
    assert_eq!(
        pr.repository,
        RepositoryName::new("TestRepo/TestOrg").unwrap()
    );
    assert_eq!(pr.number, None);
    let at = ts("2023-03-20T14:27:05.315384Z");
    assert_eq!(
        (pr.opened_at, pr.first_review_at, pr.merged_at, pr.closed_at),
        (at, Some(at), Some(at), Some(at))
    );
    let v4 = ingest("cdevents/v0.4.1/change_merged.json", &Options::default()).unwrap();
    assert_eq!(v4.pull_requests[0].apply(None).merged_at, Some(at));
}

#[test]
fn every_other_conformance_example_is_skipped_with_a_note() {
    for version in ["v0.4.1", "v0.5.1"] {
        let dir = payloads::path(&format!("cdevents/{version}"));
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for name in names {
            let file = format!("cdevents/{version}/{name}");
            let stem = name.trim_end_matches(".json");
            let (subject, predicate) = stem.split_once('_').unwrap();
            let handled = matches!(subject, "service" | "incident" | "pipelinerun" | "change")
                && matches!(
                    predicate,
                    "deployed"
                        | "upgraded"
                        | "rolledback"
                        | "detected"
                        | "reported"
                        | "resolved"
                        | "finished"
                        | "created"
                        | "reviewed"
                        | "merged"
                        | "abandoned"
                );
            if handled {
                continue;
            }
            let got = ingest(&file, &Options::default()).unwrap();
            assert_eq!(
                notes(&got),
                [format!(
                    "{file}: $.context.type: CDEvents {subject}.{predicate}: not a deployment, incident or change; skipped"
                )],
                "{file}"
            );
        }
    }
}

#[test]
fn malformed_events_name_the_json_path() {
    let base = payloads::json("cdevents/v0.5.1/incident_detected.json");
    let cases: Vec<(serde_json::Value, &str)> = vec![
        (
            {
                let mut p = base.clone();
                p["context"]["specversion"] = json!("0.3.0");
                p
            },
            "ev.json: $.context.specversion: expected CDEvents spec version 0.4.x or 0.5.x, got \"0.3.0\"",
        ),
        (
            {
                let mut p = base.clone();
                p["context"]["timestamp"] = json!("yesterday");
                p
            },
            "ev.json: $.context.timestamp: expected an RFC 3339 timestamp (e.g. 2026-03-03T14:00:00Z), got \"yesterday\"",
        ),
        (
            {
                let mut p = base.clone();
                p["subject"]["content"]
                    .as_object_mut()
                    .unwrap()
                    .remove("environment");
                p
            },
            "ev.json: $.subject.content.environment: missing; expected an object",
        ),
        (
            {
                let mut p = base.clone();
                p["subject"]["id"] = json!("incident 123");
                p
            },
            "ev.json: $.subject.id: cannot make an id of \"cdevents:incident 123\": expected a incident id made of letters, digits, '-', '_', '.', '/' and ':', got ' ' in \"cdevents:incident 123\"",
        ),
    ];
    for (payload, expected) in cases {
        assert_eq!(
            ingest_made("ev.json", &payload, Source::CdEvents, &Options::default()).unwrap_err(),
            [expected]
        );
    }
    // A binary-mode event whose ce-type disagrees with its body.
    let body = payloads::bytes("cdevents/v0.5.1/incident_detected.json");
    let mut request = b"POST /cdevents HTTP/1.1\r\nce-specversion: 1.0\r\nce-type: dev.cdevents.incident.resolved.0.3.0\r\n\r\n".to_vec();
    request.extend_from_slice(&body);
    let d = Delivery::from_http("ce.http", &request).unwrap();
    assert_eq!(
        ingest_all(&[d], &Options::default()).unwrap_err(),
        [
            "ce.http: $.context.type: the CloudEvent says type \"dev.cdevents.incident.resolved.0.3.0\" but the CDEvent says \"dev.cdevents.incident.detected.0.3.0\""
        ]
    );
}
