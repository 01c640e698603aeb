//! Valid import files, in both formats, parse to the expected records.

use jiff::Timestamp;
use shiplog_core::{
    Deployment, DeploymentId, DeploymentSource, DeploymentStatus, Environment, Incident,
    IncidentId, Recorder, ServiceName, Sha, ShaPrefix,
};
use shiplog_ingest::{DeploymentRecord, Format, IncidentRecord, Located, Record, parse};

const FULL_SHA: &str = "0123456789abcdef0123456789abcdef01234567";

fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn parse_ok(file: &str, text: &str, format: Format) -> Vec<Located<Record>> {
    match parse(file, text.as_bytes(), format) {
        Ok(records) => records,
        Err(errors) => panic!("{file} should parse, got:\n{errors}"),
    }
}

fn lines(records: &[Located<Record>]) -> Vec<u64> {
    records.iter().map(|r| r.line).collect()
}

/// A deployment with every field given.
fn full_deployment() -> DeploymentRecord {
    DeploymentRecord {
        id: DeploymentId::new("d-17").unwrap(),
        service: ServiceName::new("api").unwrap(),
        environment: Environment::new("production").unwrap(),
        sha: ShaPrefix::new(FULL_SHA).unwrap(),
        finished_at: ts("2026-03-03T14:00:00Z"),
        started_at: Some(ts("2026-03-03T13:52:10Z")),
        status: DeploymentStatus::Failure,
        unplanned: true,
        recorded_by: Some(Recorder::ci("github-actions")),
    }
}

/// A deployment with only the required fields given.
fn minimal_deployment() -> DeploymentRecord {
    DeploymentRecord {
        id: DeploymentId::new("d-18").unwrap(),
        service: ServiceName::new("payments/worker").unwrap(),
        environment: Environment::new("staging").unwrap(),
        sha: ShaPrefix::new("abc1234").unwrap(),
        finished_at: ts("2026-03-03T12:30:00Z"),
        started_at: None,
        status: DeploymentStatus::Success,
        unplanned: false,
        recorded_by: None,
    }
}

/// An incident with every field given.
fn full_incident() -> IncidentRecord {
    IncidentRecord {
        id: IncidentId::new("inc-4").unwrap(),
        service: ServiceName::new("api").unwrap(),
        environment: Environment::new("eu-production").unwrap(),
        opened_at: ts("2026-03-03T15:10:00Z"),
        resolved_at: Some(ts("2026-03-03T16:00:00Z")),
        deployment_id: Some(DeploymentId::new("d-17").unwrap()),
        sha: Some(ShaPrefix::new("0123456789ab").unwrap()),
        title: Some("Checkout errors, 5xx on /pay".to_owned()),
    }
}

/// An open incident with only the required fields given.
fn minimal_incident() -> IncidentRecord {
    IncidentRecord {
        id: IncidentId::new("inc-5").unwrap(),
        service: ServiceName::new("api").unwrap(),
        environment: Environment::production(),
        opened_at: ts("2026-03-04T09:00:00Z"),
        resolved_at: None,
        deployment_id: None,
        sha: None,
        title: None,
    }
}

#[test]
fn json_lines_with_every_field_and_defaults() {
    let text = format!(
        r#"{{"type":"deployment","id":"d-17","service":"api","environment":"production","sha":"{FULL_SHA}","finished_at":"2026-03-03T14:00:00Z","started_at":"2026-03-03T13:52:10Z","status":"failure","unplanned":true,"recorded_by":"ci:github-actions"}}

{{"type":"deployment","id":"d-18","service":"payments/worker","environment":"staging","sha":"ABC1234","finished_at":"2026-03-03T13:30:00+01:00"}}
   
{{"type":"incident","id":"inc-4","service":"api","environment":"eu-production","opened_at":"2026-03-03T15:10:00Z","resolved_at":"2026-03-03T16:00:00Z","deployment_id":"d-17","sha":"0123456789ab","title":"  Checkout errors, 5xx on /pay "}}
{{"type":"incident","id":"inc-5","service":"api","opened_at":"2026-03-04T09:00:00Z","resolved_at":null}}
"#
    );
    let records = parse_ok("deploys.jsonl", &text, Format::JsonLines);
    assert_eq!(lines(&records), [1, 3, 5, 6]);
    let values: Vec<Record> = records.into_iter().map(|r| r.value).collect();
    assert_eq!(
        values,
        [
            Record::Deployment(full_deployment()),
            Record::Deployment(minimal_deployment()),
            Record::Incident(full_incident()),
            Record::Incident(minimal_incident()),
        ]
    );
    assert_eq!(values[0].type_name(), "deployment");
    assert_eq!(values[2].type_name(), "incident");
}

#[test]
fn json_lines_explicit_nulls_and_empty_titles_mean_absent() {
    let text = r#"{"type":"deployment","id":"d-18","service":"payments/worker","environment":"staging","sha":"abc1234","finished_at":"2026-03-03T12:30:00Z","started_at":null,"status":null,"unplanned":null,"recorded_by":null}
{"type":"incident","id":"inc-5","service":"api","environment":null,"opened_at":"2026-03-04T09:00:00Z","resolved_at":null,"deployment_id":null,"sha":null,"title":"  "}"#;
    let values: Vec<Record> = parse_ok("x.jsonl", text, Format::JsonLines)
        .into_iter()
        .map(|r| r.value)
        .collect();
    assert_eq!(
        values,
        [
            Record::Deployment(minimal_deployment()),
            Record::Incident(minimal_incident())
        ]
    );
}

#[test]
fn json_lines_accept_crlf_and_a_byte_order_mark() {
    let text = "\u{feff}{\"type\":\"incident\",\"id\":\"inc-5\",\"service\":\"api\",\"opened_at\":\"2026-03-04T09:00:00Z\"}\r\n\r\n{\"type\":\"incident\",\"id\":\"inc-6\",\"service\":\"api\",\"opened_at\":\"2026-03-04T10:00:00Z\"}\r\n";
    let records = parse_ok("x.jsonl", text, Format::JsonLines);
    assert_eq!(lines(&records), [1, 3]);
    assert_eq!(records[0].value, Record::Incident(minimal_incident()));
}

#[test]
fn empty_files_hold_no_records() {
    assert!(parse_ok("x.jsonl", "", Format::JsonLines).is_empty());
    assert!(parse_ok("x.jsonl", "\n\n  \n", Format::JsonLines).is_empty());
    assert!(parse_ok("x.csv", "", Format::Csv).is_empty());
    assert!(parse_ok("x.csv", "type,id,service\n", Format::Csv).is_empty());
}

const CSV_HEADER: &str = "type,id,service,environment,sha,finished_at,started_at,status,unplanned,recorded_by,opened_at,resolved_at,deployment_id,title";

#[test]
fn csv_with_every_field_mixed_types_and_quoting() {
    let text = format!(
        "{CSV_HEADER}\n\
         deployment,d-17,api,production,{FULL_SHA},2026-03-03T14:00:00Z,2026-03-03T13:52:10Z,failure,true,ci:github-actions,,,,\n\
         deployment,d-18,payments/worker,staging,abc1234,2026-03-03T12:30:00Z,,,,,,,,\n\
         incident,inc-4,api,eu-production,0123456789ab,,,,,,2026-03-03T15:10:00Z,2026-03-03T16:00:00Z,d-17,\"Checkout errors, 5xx on /pay\"\n\
         ,,,,,,,,,,,,,\n\
         \"incident\", inc-5 ,api,,,,,,,,2026-03-04T09:00:00Z,,,\"\"\n"
    );
    let records = parse_ok("deploys.csv", &text, Format::Csv);
    assert_eq!(lines(&records), [2, 3, 4, 6]);
    let values: Vec<Record> = records.into_iter().map(|r| r.value).collect();
    assert_eq!(
        values,
        [
            Record::Deployment(full_deployment()),
            Record::Deployment(minimal_deployment()),
            Record::Incident(full_incident()),
            Record::Incident(minimal_incident()),
        ]
    );
}

#[test]
fn csv_columns_may_come_in_any_order_and_only_as_needed() {
    let text = "service,type,opened_at,id\napi,incident,2026-03-04T09:00:00Z,inc-5\n";
    let records = parse_ok("x.csv", text, Format::Csv);
    assert_eq!(records[0].value, Record::Incident(minimal_incident()));
}

#[test]
fn csv_with_a_byte_order_mark_and_crlf() {
    let text = "\u{feff}type,id,service,opened_at\r\nincident,inc-5,api,2026-03-04T09:00:00Z\r\n\r\nincident,inc-6,api,2026-03-04T10:00:00Z\r\n";
    let records = parse_ok("x.csv", text, Format::Csv);
    assert_eq!(records[0].value, Record::Incident(minimal_incident()));
    // The blank line 3 is skipped; line numbers still count it.
    assert_eq!(lines(&records), [2, 4]);
}

#[test]
fn csv_lines_are_where_records_start_even_after_multi_line_cells() {
    let text = "type,id,service,opened_at,title\n\
                incident,inc-1,api,2026-03-04T09:00:00Z,\"first line\nsecond line, with a comma\"\n\
                incident,inc-2,api,2026-03-04T09:00:00Z,\"says \"\"hi\"\"\"\n";
    let records = parse_ok("x.csv", text, Format::Csv);
    assert_eq!(lines(&records), [2, 4]);
    let titles: Vec<Option<String>> = records
        .into_iter()
        .map(|r| match r.value {
            Record::Incident(i) => i.title,
            Record::Deployment(_) | Record::PracticeChange(_) | Record::PullRequest(_) => None,
        })
        .collect();
    assert_eq!(
        titles,
        [
            Some("first line\nsecond line, with a comma".to_owned()),
            Some("says \"hi\"".to_owned())
        ]
    );
}

#[test]
fn csv_booleans_accept_common_spellings() {
    let mut text = String::from("type,id,service,environment,sha,finished_at,unplanned\n");
    let spellings = [
        "true", "false", "1", "0", "yes", "no", "TRUE", "False", "Yes", "NO", "",
    ];
    for (i, spelling) in spellings.iter().enumerate() {
        text.push_str(&format!(
            "deployment,d-{i},api,production,abcd,2026-03-03T14:00:00Z,{spelling}\n"
        ));
    }
    let unplanned: Vec<bool> = parse_ok("x.csv", &text, Format::Csv)
        .into_iter()
        .map(|r| match r.value {
            Record::Deployment(d) => d.unplanned,
            Record::Incident(_) | Record::PracticeChange(_) | Record::PullRequest(_) => {
                unreachable!()
            }
        })
        .collect();
    assert_eq!(
        unplanned,
        [
            true, false, true, false, true, false, true, false, true, false, false
        ]
    );
}

#[test]
fn recorders_in_both_formats() {
    let jsonl = ["\"ci\"", "\"manual\"", "\" ci:gitlab \"", "null"]
        .iter()
        .enumerate()
        .map(|(i, who)| {
            format!(
                r#"{{"type":"deployment","id":"d-{i}","service":"api","environment":"production","sha":"abcd","finished_at":"2026-03-03T14:00:00Z","recorded_by":{who}}}"#
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    let csv = "type,id,service,environment,sha,finished_at,recorded_by\n\
               deployment,d-0,api,production,abcd,2026-03-03T14:00:00Z,ci\n\
               deployment,d-1,api,production,abcd,2026-03-03T14:00:00Z,manual\n\
               deployment,d-2,api,production,abcd,2026-03-03T14:00:00Z,ci:gitlab\n\
               deployment,d-3,api,production,abcd,2026-03-03T14:00:00Z,\n";
    let expected = [
        Some(Recorder::Ci { system: None }),
        Some(Recorder::Manual),
        Some(Recorder::ci("gitlab")),
        None,
    ];
    for (file, text, format) in [
        ("x.jsonl", jsonl.as_str(), Format::JsonLines),
        ("x.csv", csv, Format::Csv),
    ] {
        let recorders: Vec<Option<Recorder>> = parse_ok(file, text, format)
            .into_iter()
            .map(|r| match r.value {
                Record::Deployment(d) => d.recorded_by,
                Record::Incident(_) | Record::PracticeChange(_) | Record::PullRequest(_) => {
                    unreachable!()
                }
            })
            .collect();
        assert_eq!(recorders, expected, "{file}");
    }
}

#[test]
fn csv_unnamed_trailing_columns_are_allowed_when_empty() {
    let text = "type,id,service,opened_at,,\nincident,inc-5,api,2026-03-04T09:00:00Z,,\n";
    let records = parse_ok("x.csv", text, Format::Csv);
    assert_eq!(records[0].value, Record::Incident(minimal_incident()));
}

#[test]
fn the_same_id_twice_is_allowed_and_kept_in_order() {
    let text = r#"{"type":"incident","id":"inc-5","service":"api","opened_at":"2026-03-04T09:00:00Z"}
{"type":"incident","id":"inc-5","service":"api","opened_at":"2026-03-04T09:00:00Z","resolved_at":"2026-03-04T10:00:00Z"}"#;
    let records = parse_ok("x.jsonl", text, Format::JsonLines);
    assert_eq!(lines(&records), [1, 2]);
    // Applied in order, the later record wins: the incident ends up resolved.
    let Record::Incident(last) = &records[1].value else {
        panic!("expected an incident");
    };
    assert_eq!(last.resolved_at, Some(ts("2026-03-04T10:00:00Z")));
}

#[test]
fn both_formats_agree() {
    let jsonl = format!(
        r#"{{"type":"deployment","id":"d-17","service":"api","environment":"production","sha":"{FULL_SHA}","finished_at":"2026-03-03T14:00:00Z","started_at":"2026-03-03T13:52:10Z","status":"failure","unplanned":true,"recorded_by":"ci:github-actions"}}"#
    );
    let csv = format!(
        "type,id,service,environment,sha,finished_at,started_at,status,unplanned,recorded_by\n\
         deployment,d-17,api,production,{FULL_SHA},2026-03-03T14:00:00Z,2026-03-03T13:52:10Z,failure,true,ci:github-actions\n"
    );
    let from_jsonl = parse_ok("x.jsonl", &jsonl, Format::JsonLines);
    let from_csv = parse_ok("x.csv", &csv, Format::Csv);
    assert_eq!(from_jsonl[0].value, from_csv[0].value);
}

#[test]
fn records_become_core_events_once_shas_are_resolved() {
    let sha = Sha::from_hex(FULL_SHA).unwrap();
    let deployment = full_deployment().into_deployment(sha, DeploymentSource::Imported);
    assert_eq!(
        deployment,
        Deployment {
            id: DeploymentId::new("d-17").unwrap(),
            service: ServiceName::new("api").unwrap(),
            environment: Environment::new("production").unwrap(),
            sha,
            finished_at: ts("2026-03-03T14:00:00Z"),
            started_at: Some(ts("2026-03-03T13:52:10Z")),
            status: DeploymentStatus::Failure,
            unplanned: true,
            source: DeploymentSource::Imported,
            recorded_by: Some(Recorder::ci("github-actions")),
        }
    );

    let incident = full_incident().into_incident(Some(sha));
    assert_eq!(
        incident,
        Incident {
            id: IncidentId::new("inc-4").unwrap(),
            service: ServiceName::new("api").unwrap(),
            environment: Environment::new("eu-production").unwrap(),
            opened_at: ts("2026-03-03T15:10:00Z"),
            resolved_at: Some(ts("2026-03-03T16:00:00Z")),
            deployment_id: Some(DeploymentId::new("d-17").unwrap()),
            sha: Some(sha),
            title: Some("Checkout errors, 5xx on /pay".to_owned()),
            duplicate_of: None,
        }
    );
    assert_eq!(minimal_incident().into_incident(None).sha, None);
}

#[test]
fn practice_changes_in_both_formats() {
    use shiplog_core::{Capability, PracticeChange, PracticeName, PracticeScope, ServiceName};
    let jsonl = r#"{"type":"practice_change","name":"Trunk-based  development","started_on":"2026-03-03","services":["web","api"],"capability":"trunk-based-development","note":" No long branches "}
{"type":"practice_change","name":"Pairing","started_on":"2026-01-05","ended_on":"2026-02-01","team":"payments"}
{"type":"practice_change","name":"Everyone","started_on":"2026-04-01","services":[]}
"#;
    let csv = "type,name,started_on,ended_on,services,team,capability,note\n\
               practice_change,Trunk-based development,2026-03-03,,\"web, api\",,trunk-based-development,No long branches\n\
               practice_change,Pairing,2026-01-05,2026-02-01,,payments,,\n\
               practice_change,Everyone,2026-04-01,,,,,\n";
    let from_json: Vec<Record> = parse_ok("p.jsonl", jsonl, Format::JsonLines)
        .into_iter()
        .map(|r| r.value)
        .collect();
    let from_csv: Vec<Record> = parse_ok("p.csv", csv, Format::Csv)
        .into_iter()
        .map(|r| r.value)
        .collect();
    assert_eq!(from_json, from_csv);
    let Record::PracticeChange(first) = &from_json[0] else {
        panic!("not a practice change: {:?}", from_json[0]);
    };
    assert_eq!(
        *first,
        PracticeChange {
            name: PracticeName::new("Trunk-based development").unwrap(),
            started_on: "2026-03-03".parse().unwrap(),
            ended_on: None,
            scope: PracticeScope::services(vec![
                ServiceName::new("api").unwrap(),
                ServiceName::new("web").unwrap()
            ]),
            capability: Some(Capability::new("trunk-based-development").unwrap()),
            note: Some("No long branches".to_owned()),
        }
    );
    assert!(matches!(
        &from_json[1],
        Record::PracticeChange(p) if p.scope.describe() == "team payments"
    ));
    assert!(matches!(
        &from_json[2],
        Record::PracticeChange(p) if p.scope == PracticeScope::AllServices
    ));
}

#[test]
fn pull_requests_read_the_same_from_json_lines_and_csv() {
    let jsonl = r#"{"type":"pull_request","id":"forge:acme/shop#12","repository":"acme/shop","number":12,"title":" Faster search ","opened_at":"2026-03-02T14:00:00Z","first_review_at":"2026-03-02T13:00:00Z","merged_at":"2026-03-03T08:00:00Z","merge_commit":"3F9C2A1","commits":["9e8d7c6","5a4b3c2d1e"],"first_commit_at":"2026-03-02T09:00:00+01:00","labels":["search","performance","search"],"additions":10,"changed_files":4,"draft":false}"#;
    let csv = "type,id,repository,number,title,opened_at,first_review_at,merged_at,merge_commit,commits,first_commit_at,labels,additions,changed_files,draft\n\
               pull_request,forge:acme/shop#12,acme/shop,12, Faster search ,2026-03-02T14:00:00Z,2026-03-02T13:00:00Z,2026-03-03T08:00:00Z,3F9C2A1,\"9e8d7c6 5a4b3c2d1e\",2026-03-02T09:00:00+01:00,\"search, performance,search\",10,4,no\n";
    let from_json = parse_ok("prs.jsonl", jsonl, Format::JsonLines);
    let from_csv = parse_ok("prs.csv", csv, Format::Csv);
    assert_eq!(from_json[0].value, from_csv[0].value);
    let Record::PullRequest(pr) = &from_json[0].value else {
        panic!("a pull request: {:?}", from_json[0].value);
    };
    assert_eq!(
        pr.merge_commit.as_ref().map(|s| s.as_str()),
        Some("3f9c2a1")
    );
    assert_eq!(pr.commits.len(), 2);
    let p = &pr.pull_request;
    assert_eq!(p.title.as_deref(), Some("Faster search"));
    assert_eq!(p.labels, ["performance", "search"]);
    assert_eq!(p.closed_at, p.merged_at, "merged means closed");
    assert_eq!(
        p.first_commit_at,
        Some("2026-03-02T08:00:00Z".parse().unwrap())
    );
    assert_eq!(
        p.first_review_at,
        Some("2026-03-02T13:00:00Z".parse().unwrap()),
        "a review before the opening is kept"
    );
    assert_eq!(p.additions, Some(10));
    assert_eq!(p.changed_files, Some(4));
    assert_eq!(p.deletions, None, "absent is unknown");
}

#[test]
fn a_pull_request_without_changed_files_has_an_unknown_count() {
    let jsonl = concat!(
        r#"{"type":"pull_request","id":"forge:acme/shop#1","repository":"acme/shop","opened_at":"2026-03-02T14:00:00Z","changed_files":0}"#,
        "\n",
        r#"{"type":"pull_request","id":"forge:acme/shop#2","repository":"acme/shop","opened_at":"2026-03-02T14:00:00Z","changed_files":null}"#,
        "\n",
        r#"{"type":"pull_request","id":"forge:acme/shop#3","repository":"acme/shop","opened_at":"2026-03-02T14:00:00Z"}"#,
    );
    let csv = "type,id,repository,opened_at,changed_files\n\
               pull_request,forge:acme/shop#1,acme/shop,2026-03-02T14:00:00Z,0\n\
               pull_request,forge:acme/shop#2,acme/shop,2026-03-02T14:00:00Z,\n\
               pull_request,forge:acme/shop#3,acme/shop,2026-03-02T14:00:00Z, \n";
    for (name, text, format) in [
        ("prs.jsonl", jsonl, Format::JsonLines),
        ("prs.csv", csv, Format::Csv),
    ] {
        let counts: Vec<Option<u64>> = parse_ok(name, text, format)
            .iter()
            .map(|r| match &r.value {
                Record::PullRequest(pr) => pr.pull_request.changed_files,
                other => panic!("a pull request: {other:?}"),
            })
            .collect();
        assert_eq!(counts, [Some(0), None, None], "{name}");
    }
}
