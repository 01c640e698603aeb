//! Every kind of bad input is reported with its file, line, field, what was expected and what was
//! found. The expected texts here are the messages users see; change them deliberately.

use shiplog_ingest::{Format, ImportError, ImportErrors, parse};

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

/// The messages for `text`, which must fail to parse.
fn errors(file: &str, text: impl AsRef<[u8]>, format: Format) -> Vec<String> {
    match parse(file, text.as_ref(), format) {
        Ok(records) => panic!("{file} should not parse, got {records:?}"),
        Err(ImportErrors(errors)) => errors.iter().map(ImportError::to_string).collect(),
    }
}

/// The single message for one bad JSON Lines line.
fn jsonl_error(line: &str) -> String {
    let all = errors("deploys.jsonl", line, Format::JsonLines);
    assert_eq!(all.len(), 1, "{all:#?}");
    all.into_iter().next().unwrap_or_default()
}

/// The single message for a CSV file.
fn csv_error(text: &str) -> String {
    let all = errors("deploys.csv", text, Format::Csv);
    assert_eq!(all.len(), 1, "{all:#?}");
    all.into_iter().next().unwrap_or_default()
}

/// A valid deployment line with `field` replaced by `value` (raw JSON), or removed when `None`.
fn deployment_with(field: &str, value: Option<&str>) -> String {
    let fields = [
        ("type", "\"deployment\"".to_owned()),
        ("id", "\"d-17\"".to_owned()),
        ("service", "\"api\"".to_owned()),
        ("environment", "\"production\"".to_owned()),
        ("sha", format!("\"{SHA}\"")),
        ("finished_at", "\"2026-03-03T14:00:00Z\"".to_owned()),
    ];
    let mut parts: Vec<String> = fields
        .iter()
        .filter(|(name, _)| *name != field)
        .map(|(name, v)| format!("\"{name}\":{v}"))
        .collect();
    if let Some(value) = value {
        parts.push(format!("\"{field}\":{value}"));
    }
    format!("{{{}}}", parts.join(","))
}

/// A valid incident line with `field` replaced by `value` (raw JSON), or removed when `None`.
fn incident_with(field: &str, value: Option<&str>) -> String {
    let fields = [
        ("type", "\"incident\""),
        ("id", "\"inc-4\""),
        ("service", "\"api\""),
        ("opened_at", "\"2026-03-03T15:00:00Z\""),
    ];
    let mut parts: Vec<String> = fields
        .iter()
        .filter(|(name, _)| *name != field)
        .map(|(name, v)| format!("\"{name}\":{v}"))
        .collect();
    if let Some(value) = value {
        parts.push(format!("\"{field}\":{value}"));
    }
    format!("{{{}}}", parts.join(","))
}

#[test]
fn the_helpers_build_valid_lines() {
    for line in [deployment_with("x", None), incident_with("x", None)] {
        assert!(
            parse("f", line.as_bytes(), Format::JsonLines).is_ok(),
            "{line}"
        );
    }
}

#[test]
fn invalid_json() {
    assert_eq!(
        jsonl_error(r#"{"type":"deployment","id":"d-17""#),
        "deploys.jsonl:1: not valid JSON: EOF while parsing an object at column 32"
    );
    assert_eq!(
        jsonl_error("{'type':'deployment'}"),
        "deploys.jsonl:1: not valid JSON: key must be a string at column 2"
    );
    assert_eq!(
        jsonl_error("# deployments"),
        "deploys.jsonl:1: not valid JSON: expected value at column 1"
    );
    assert_eq!(
        jsonl_error(r#"{"type":"incident"} {"type":"incident"}"#),
        "deploys.jsonl:1: not valid JSON: trailing characters at column 21"
    );
}

#[test]
fn lines_that_are_not_objects() {
    assert_eq!(
        jsonl_error("[1, 2]"),
        "deploys.jsonl:1: expected a JSON object, got an array"
    );
    assert_eq!(
        jsonl_error("\"deployment\""),
        "deploys.jsonl:1: expected a JSON object, got the string \"deployment\""
    );
    assert_eq!(
        jsonl_error("42"),
        "deploys.jsonl:1: expected a JSON object, got the number 42"
    );
    assert_eq!(
        jsonl_error("null"),
        "deploys.jsonl:1: expected a JSON object, got null"
    );
}

#[test]
fn missing_type() {
    assert_eq!(
        jsonl_error(&deployment_with("type", None)),
        "deploys.jsonl:1: field \"type\": missing; expected \"deployment\", \"incident\", \"practice_change\" or \"pull_request\""
    );
    assert_eq!(
        jsonl_error(&deployment_with("type", Some("null"))),
        "deploys.jsonl:1: field \"type\": missing; expected \"deployment\", \"incident\", \"practice_change\" or \"pull_request\""
    );
}

#[test]
fn unknown_type() {
    assert_eq!(
        jsonl_error(&deployment_with("type", Some("\"deploy\""))),
        "deploys.jsonl:1: field \"type\": unknown record type \"deploy\"; expected \"deployment\", \"incident\", \"practice_change\" or \"pull_request\""
    );
    assert_eq!(
        jsonl_error(&deployment_with("type", Some("2"))),
        "deploys.jsonl:1: field \"type\": expected \"deployment\", \"incident\", \"practice_change\" or \"pull_request\", got the number 2"
    );
}

#[test]
fn missing_required_fields() {
    for field in ["id", "service", "environment", "sha", "finished_at"] {
        assert_eq!(
            jsonl_error(&deployment_with(field, None)),
            format!("deploys.jsonl:1: field {field:?}: missing; required in deployment records")
        );
    }
    for field in ["id", "service", "opened_at"] {
        assert_eq!(
            jsonl_error(&incident_with(field, None)),
            format!("deploys.jsonl:1: field {field:?}: missing; required in incident records")
        );
    }
    assert_eq!(
        jsonl_error(&deployment_with("service", Some("null"))),
        "deploys.jsonl:1: field \"service\": null; required in deployment records"
    );
}

#[test]
fn wrong_json_types() {
    assert_eq!(
        jsonl_error(&deployment_with("unplanned", Some("\"yes\""))),
        "deploys.jsonl:1: field \"unplanned\": expected true or false, got the string \"yes\""
    );
    assert_eq!(
        jsonl_error(&deployment_with("unplanned", Some("1"))),
        "deploys.jsonl:1: field \"unplanned\": expected true or false, got the number 1"
    );
    assert_eq!(
        jsonl_error(&deployment_with("id", Some("17"))),
        "deploys.jsonl:1: field \"id\": expected a string, got the number 17"
    );
    assert_eq!(
        jsonl_error(&deployment_with("service", Some("[\"api\"]"))),
        "deploys.jsonl:1: field \"service\": expected a string, got an array"
    );
    assert_eq!(
        jsonl_error(&incident_with("title", Some("{}"))),
        "deploys.jsonl:1: field \"title\": expected a string, got an object"
    );
    assert_eq!(
        jsonl_error(&deployment_with("finished_at", Some("1772546400"))),
        "deploys.jsonl:1: field \"finished_at\": expected an RFC 3339 timestamp with an offset (e.g. 2026-03-03T14:00:00Z), got the number 1772546400"
    );
    assert_eq!(
        jsonl_error(&deployment_with("status", Some("false"))),
        "deploys.jsonl:1: field \"status\": expected \"success\" or \"failure\", got false"
    );
}

/// Service and environment names are ASCII: a look-alike (a Cyrillic `а`, a full-width `ａｐｉ`)
/// would otherwise make a second `api` that reads like the first.
#[test]
fn look_alike_names_are_refused() {
    assert_eq!(
        jsonl_error(&deployment_with("service", Some("\"\u{430}pi\""))),
        "deploys.jsonl:1: field \"service\": expected a service name made of ASCII letters, digits, '-', '_', '.', '/' and ':', got '\u{430}' (U+0430, not ASCII) in \"\u{430}pi\""
    );
    assert_eq!(
        jsonl_error(&deployment_with(
            "service",
            Some("\"\u{ff41}\u{ff50}\u{ff49}\"")
        )),
        "deploys.jsonl:1: field \"service\": expected a service name made of ASCII letters, digits, '-', '_', '.', '/' and ':', got '\u{ff41}' (U+FF41, not ASCII) in \"\u{ff41}\u{ff50}\u{ff49}\""
    );
    assert!(
        jsonl_error(&deployment_with(
            "environment",
            Some("\"pr\u{43e}duction\"")
        ))
        .contains("(U+043E, not ASCII)")
    );
}

/// A key given twice is refused, naming the key and where: last-one-wins would store a success
/// for `"state":"failure","state":"success"`.
#[test]
fn duplicate_keys_are_refused() {
    let line = r#"{"type":"deployment","id":"d1","service":"api","environment":"production","sha":"abcd","finished_at":"2026-03-03T14:00:00Z","status":"failure","status":"success"}"#;
    assert_eq!(
        jsonl_error(line),
        "deploys.jsonl:1: not valid JSON: duplicate key \"status\" (each key may appear once in an object) at column 151"
    );
}

#[test]
fn bad_names() {
    assert_eq!(
        jsonl_error(&deployment_with("service", Some("\"my api\""))),
        "deploys.jsonl:1: field \"service\": expected a service name made of ASCII letters, digits, '-', '_', '.', '/' and ':', got ' ' in \"my api\""
    );
    assert_eq!(
        jsonl_error(&deployment_with("environment", Some("\" \""))),
        "deploys.jsonl:1: field \"environment\": expected a non-empty environment name"
    );
    assert_eq!(
        jsonl_error(&deployment_with(
            "id",
            Some(&format!("\"{}\"", "d".repeat(256)))
        )),
        "deploys.jsonl:1: field \"id\": expected a deployment id of at most 255 characters, got 256"
    );
    assert_eq!(
        jsonl_error(&incident_with("id", Some("\"inc#4\""))),
        "deploys.jsonl:1: field \"id\": expected a incident id made of letters, digits, '-', '_', '.', '/' and ':', got '#' in \"inc#4\""
    );
    assert_eq!(
        jsonl_error(&incident_with("deployment_id", Some("\"d 17\""))),
        "deploys.jsonl:1: field \"deployment_id\": expected a deployment id made of letters, digits, '-', '_', '.', '/', ':', '@' and '+', got ' ' in \"d 17\""
    );
}

#[test]
fn bad_shas() {
    assert_eq!(
        jsonl_error(&deployment_with("sha", Some("\"main\""))),
        "deploys.jsonl:1: field \"sha\": expected a commit sha: 4 to 40 hexadecimal characters, got \"main\""
    );
    assert_eq!(
        jsonl_error(&deployment_with("sha", Some("\"abc\""))),
        "deploys.jsonl:1: field \"sha\": expected a commit sha: 4 to 40 hexadecimal characters, got \"abc\""
    );
    assert_eq!(
        jsonl_error(&incident_with("sha", Some(&format!("\"{SHA}0\"")))),
        format!(
            "deploys.jsonl:1: field \"sha\": expected a commit sha: 4 to 40 hexadecimal characters, got \"{SHA}0\""
        )
    );
}

#[test]
fn naive_and_malformed_timestamps() {
    assert_eq!(
        jsonl_error(&deployment_with(
            "finished_at",
            Some("\"2026-03-03 14:00\"")
        )),
        "deploys.jsonl:1: field \"finished_at\": expected an RFC 3339 timestamp with an offset (e.g. 2026-03-03T14:00:00Z), got \"2026-03-03 14:00\""
    );
    assert_eq!(
        jsonl_error(&deployment_with(
            "started_at",
            Some("\"2026-03-03T13:00:00\"")
        )),
        "deploys.jsonl:1: field \"started_at\": expected an RFC 3339 timestamp with an offset (e.g. 2026-03-03T14:00:00Z), got \"2026-03-03T13:00:00\""
    );
    assert_eq!(
        jsonl_error(&incident_with("opened_at", Some("\"yesterday\""))),
        "deploys.jsonl:1: field \"opened_at\": expected an RFC 3339 timestamp with an offset (e.g. 2026-03-03T14:00:00Z), got \"yesterday\""
    );
    assert_eq!(
        jsonl_error(&incident_with(
            "resolved_at",
            Some("\"2026-02-30T10:00:00Z\"")
        )),
        "deploys.jsonl:1: field \"resolved_at\": expected an RFC 3339 timestamp with an offset (e.g. 2026-03-03T14:00:00Z), got \"2026-02-30T10:00:00Z\""
    );
}

#[test]
fn resolved_before_opened() {
    assert_eq!(
        jsonl_error(&incident_with(
            "resolved_at",
            Some("\"2026-03-03T16:00:00+02:00\"")
        )),
        "deploys.jsonl:1: field \"resolved_at\": expected a time no earlier than opened_at (2026-03-03T15:00:00Z), got 2026-03-03T16:00:00+02:00"
    );
    // Resolving at the very moment of opening is allowed.
    let same = incident_with("resolved_at", Some("\"2026-03-03T15:00:00Z\""));
    assert!(parse("f", same.as_bytes(), Format::JsonLines).is_ok());
}

#[test]
fn started_after_finished() {
    assert_eq!(
        jsonl_error(&deployment_with(
            "started_at",
            Some("\"2026-03-03T14:00:01Z\"")
        )),
        "deploys.jsonl:1: field \"started_at\": expected a time no later than finished_at (2026-03-03T14:00:00Z), got 2026-03-03T14:00:01Z"
    );
}

#[test]
fn bad_status() {
    assert_eq!(
        jsonl_error(&deployment_with("status", Some("\"ok\""))),
        "deploys.jsonl:1: field \"status\": expected \"success\" or \"failure\", got \"ok\""
    );
    assert_eq!(
        jsonl_error(&deployment_with("status", Some("\"Success\""))),
        "deploys.jsonl:1: field \"status\": expected \"success\" or \"failure\", got \"Success\""
    );
}

#[test]
fn bad_recorded_by() {
    for (value, found) in [
        ("\"robot\"", "\"robot\""),
        ("\"CI\"", "\"CI\""),
        ("\"ci:\"", "\"ci:\""),
        ("\"ci:git hub\"", "\"ci:git hub\""),
        ("true", "true"),
    ] {
        assert_eq!(
            jsonl_error(&deployment_with("recorded_by", Some(value))),
            format!(
                "deploys.jsonl:1: field \"recorded_by\": expected \"ci\", \"ci:<system>\" (e.g. ci:github-actions) or \"manual\", got {found}"
            )
        );
    }
    // CSV names the physical line of the bad row.
    assert_eq!(
        csv_error(&format!(
            "type,id,service,environment,sha,finished_at,recorded_by\n\
             deployment,d-1,api,production,{SHA},2026-03-03T14:00:00Z,ci\n\
             deployment,d-2,api,production,{SHA},2026-03-03T15:00:00Z,person\n"
        )),
        "deploys.csv:3: field \"recorded_by\": expected \"ci\", \"ci:<system>\" (e.g. ci:github-actions) or \"manual\", got \"person\""
    );
}

#[test]
fn unknown_fields_are_named_with_the_accepted_ones() {
    let line = format!(
        r#"{{"type":"deployment","id":"d-17","service":"api","environment":"production","sha":"{SHA}","finshed_at":"2026-03-03T14:00:00Z"}}"#
    );
    assert_eq!(
        errors("deploys.jsonl", line, Format::JsonLines),
        [
            "deploys.jsonl:1: field \"finshed_at\": unknown field in deployment records (did you mean \"finished_at\"?); accepted fields: type, id, service, environment, sha, finished_at, started_at, status, unplanned, recorded_by",
            "deploys.jsonl:1: field \"finished_at\": missing; required in deployment records",
        ]
    );
    assert_eq!(
        jsonl_error(&deployment_with("commit", Some("\"abcd\""))),
        "deploys.jsonl:1: field \"commit\": unknown field in deployment records; accepted fields: type, id, service, environment, sha, finished_at, started_at, status, unplanned, recorded_by"
    );
    assert_eq!(
        jsonl_error(&deployment_with("title", Some("\"Release 4\""))),
        "deploys.jsonl:1: field \"title\": unknown field in deployment records (it is a field of incident records); accepted fields: type, id, service, environment, sha, finished_at, started_at, status, unplanned, recorded_by"
    );
    assert_eq!(
        jsonl_error(&incident_with("unplanned", Some("null"))),
        "deploys.jsonl:1: field \"unplanned\": unknown field in incident records (it is a field of deployment records); accepted fields: type, id, service, environment, opened_at, resolved_at, deployment_id, sha, title"
    );
}

#[test]
fn every_bad_field_of_a_line_is_reported() {
    let line = r#"{"type":"deployment","id":"d 1","service":"api","sha":"xyz","finished_at":"2026-03-03","unplanned":"no"}"#;
    assert_eq!(
        errors("deploys.jsonl", line, Format::JsonLines),
        [
            "deploys.jsonl:1: field \"id\": expected a deployment id made of letters, digits, '-', '_', '.', '/', ':', '@' and '+', got ' ' in \"d 1\"",
            "deploys.jsonl:1: field \"environment\": missing; required in deployment records",
            "deploys.jsonl:1: field \"sha\": expected a commit sha: 4 to 40 hexadecimal characters, got \"xyz\"",
            "deploys.jsonl:1: field \"finished_at\": expected an RFC 3339 timestamp with an offset (e.g. 2026-03-03T14:00:00Z), got \"2026-03-03\"",
            "deploys.jsonl:1: field \"unplanned\": expected true or false, got the string \"no\"",
        ]
    );
}

#[test]
fn json_lines_that_are_not_utf8() {
    let mut bytes = deployment_with("x", None).into_bytes();
    bytes.push(b'\n');
    bytes.extend_from_slice(b"{\"type\":\"incident\",\"title\":\"caf\xE9\"}\n");
    assert_eq!(
        errors("deploys.jsonl", bytes, Format::JsonLines),
        ["deploys.jsonl:2: expected UTF-8 text, got the byte 0xE9 at column 32"]
    );
}

#[test]
fn csv_cells_that_are_not_utf8() {
    let bytes: &[u8] =
        b"type,id,service,opened_at,title\nincident,inc-4,api,2026-03-03T15:00:00Z,caf\xE9\n";
    assert_eq!(
        errors("deploys.csv", bytes, Format::Csv),
        [
            "deploys.csv:2: field \"title\": expected UTF-8 text, got the byte 0xE9 at byte 4 of column 5"
        ]
    );
    // A required field that cannot be read is reported once, not also as missing.
    let bytes: &[u8] = b"type,id,service,opened_at\nincident,inc-4,\xFFapi,2026-03-03T15:00:00Z\n";
    assert_eq!(
        errors("deploys.csv", bytes, Format::Csv),
        [
            "deploys.csv:2: field \"service\": expected UTF-8 text, got the byte 0xFF at byte 1 of column 3"
        ]
    );
    let bytes: &[u8] = b"type,id,serv\xFFice\n";
    assert_eq!(
        errors("deploys.csv", bytes, Format::Csv),
        ["deploys.csv:1: expected UTF-8 text, got the byte 0xFF at byte 5 of column 3"]
    );
}

#[test]
fn csv_rows_with_the_wrong_number_of_columns() {
    assert_eq!(
        csv_error(
            "type,id,service,opened_at\nincident,inc-4,api\nincident,inc-5,api,2026-03-03T15:00:00Z\n"
        ),
        "deploys.csv:2: expected 4 columns as in the header, got 3"
    );
    assert_eq!(
        csv_error("type,id,service,opened_at\nincident,inc-4,api,2026-03-03T15:00:00Z,Outage\n"),
        "deploys.csv:2: expected 4 columns as in the header, got 5"
    );
}

#[test]
fn csv_header_without_type() {
    assert_eq!(
        csv_error("id,service,opened_at\ninc-4,api,2026-03-03T15:00:00Z\n"),
        "deploys.csv:1: expected a header row with a \"type\" column, got \"id,service,opened_at\""
    );
    // A file without a header at all.
    assert_eq!(
        csv_error("incident,inc-4,api,2026-03-03T15:00:00Z\n"),
        "deploys.csv:1: expected a header row with a \"type\" column, got \"incident,inc-4,api,2026-03-03T15:00:00Z\""
    );
}

#[test]
fn csv_unknown_duplicate_and_unnamed_columns() {
    assert_eq!(
        errors(
            "deploys.csv",
            "type,id,service,opend_at,colour\nincident,inc-4,api,2026-03-03T15:00:00Z,red\n",
            Format::Csv
        ),
        [
            "deploys.csv:1: field \"opend_at\": unknown column (did you mean \"opened_at\"?); accepted columns: type, id, service, environment, sha, finished_at, started_at, status, unplanned, recorded_by, opened_at, resolved_at, deployment_id, title, name, started_on, ended_on, services, team, capability, note, repository, number, ready_for_review_at, draft, first_review_at, merged_at, closed_at, merge_commit, head_sha, head_branch, base_branch, commits, first_commit_at, additions, deletions, changed_files, labels",
            "deploys.csv:1: field \"colour\": unknown column; accepted columns: type, id, service, environment, sha, finished_at, started_at, status, unplanned, recorded_by, opened_at, resolved_at, deployment_id, title, name, started_on, ended_on, services, team, capability, note, repository, number, ready_for_review_at, draft, first_review_at, merged_at, closed_at, merge_commit, head_sha, head_branch, base_branch, commits, first_commit_at, additions, deletions, changed_files, labels",
            "deploys.csv:2: field \"opened_at\": missing; required in incident records",
        ]
    );
    assert_eq!(
        csv_error("type,id,service,id,opened_at\nincident,inc-4,api,inc-5,2026-03-03T15:00:00Z\n"),
        "deploys.csv:1: field \"id\": expected each column once in the header, got it in columns 2 and 4"
    );
    assert_eq!(
        csv_error("type,id,service,,opened_at\nincident,inc-4,api,oops,2026-03-03T15:00:00Z\n"),
        "deploys.csv:2: expected an empty cell in column 4, which has no name in the header, got \"oops\""
    );
}

#[test]
fn csv_values_are_validated_like_json_ones() {
    let text = "type,id,service,environment,sha,finished_at,started_at,status,unplanned,title\n\
                deployment,d-1,api,production,abcd,2026-03-03 14:00,,,,\n\
                deployment,d-2,api,production,abcd,2026-03-03T14:00:00Z,,done,maybe,\n\
                deployment,d-3,api,,abcd,2026-03-03T14:00:00Z,,,,Release 4\n\
                incidnt,inc-1,api,,,,,,,\n\
                ,inc-2,api,,,,,,,\n";
    assert_eq!(
        errors("deploys.csv", text, Format::Csv),
        [
            "deploys.csv:2: field \"finished_at\": expected an RFC 3339 timestamp with an offset (e.g. 2026-03-03T14:00:00Z), got \"2026-03-03 14:00\"",
            "deploys.csv:3: field \"status\": expected \"success\" or \"failure\", got \"done\"",
            "deploys.csv:3: field \"unplanned\": expected true or false (or 1/0, yes/no), got \"maybe\"",
            "deploys.csv:4: field \"title\": unknown field in deployment records (it is a field of incident records); accepted fields: type, id, service, environment, sha, finished_at, started_at, status, unplanned, recorded_by",
            "deploys.csv:4: field \"environment\": missing; required in deployment records",
            "deploys.csv:5: field \"type\": unknown record type \"incidnt\"; expected \"deployment\", \"incident\", \"practice_change\" or \"pull_request\"",
            "deploys.csv:6: field \"type\": missing; expected \"deployment\", \"incident\", \"practice_change\" or \"pull_request\"",
        ]
    );
}

#[test]
fn several_bad_lines_are_all_reported_and_nothing_is_returned() {
    let good = deployment_with("x", None);
    let text = [
        good.clone(),
        deployment_with("status", Some("\"ok\"")),
        String::new(),
        good.clone(),
        "not json".to_owned(),
        incident_with("opened_at", None),
        good,
        "[]".to_owned(),
    ]
    .join("\n");
    assert_eq!(
        errors("deploys.jsonl", text, Format::JsonLines),
        [
            "deploys.jsonl:2: field \"status\": expected \"success\" or \"failure\", got \"ok\"",
            "deploys.jsonl:5: not valid JSON: expected ident at column 2",
            "deploys.jsonl:6: field \"opened_at\": missing; required in incident records",
            "deploys.jsonl:8: expected a JSON object, got an array",
        ]
    );
}

#[test]
fn the_error_list_is_capped_when_displayed() {
    let text = "[]\n".repeat(60);
    let Err(all) = parse("<stdin>", text.as_bytes(), Format::JsonLines) else {
        panic!("should not parse");
    };
    assert_eq!(all.0.len(), 60, "every error is kept");
    assert_eq!(all.0[59].line, 60);
    assert_eq!(all.0[59].field, None);
    let shown = all.to_string();
    let shown: Vec<&str> = shown.lines().collect();
    assert_eq!(shown.len(), 51);
    assert_eq!(shown[0], "<stdin>:1: expected a JSON object, got an array");
    assert_eq!(
        shown[49],
        "<stdin>:50: expected a JSON object, got an array"
    );
    assert_eq!(shown[50], "... and 10 more errors (60 in total)");
}

#[test]
fn errors_carry_their_parts() {
    let Err(all) = parse(
        "d.jsonl",
        deployment_with("sha", Some("\"xyz\"")).as_bytes(),
        Format::JsonLines,
    ) else {
        panic!("should not parse");
    };
    assert_eq!(
        all.0,
        [ImportError {
            file: "d.jsonl".to_owned(),
            line: 1,
            field: Some("sha".to_owned()),
            problem: "expected a commit sha: 4 to 40 hexadecimal characters, got \"xyz\""
                .to_owned(),
        }]
    );
    let as_error: &dyn std::error::Error = &all;
    assert!(as_error.to_string().starts_with("d.jsonl:1: field \"sha\""));
}

#[test]
fn csv_errors_name_physical_lines_despite_bom_crlf_blank_lines_and_multi_line_cells() {
    let text = "\u{feff}type,id,service,opened_at,title\r\n\
                \r\n\
                incident,inc-1,api,2026-03-03T15:00:00Z,\"two\r\nlines\"\r\n\
                incident,inc-2,api,2026-03-03T15:00:00,\r\n\
                \r\n\
                incident,inc 3,api,2026-03-03T15:00:00Z,\r\n";
    assert_eq!(
        errors("deploys.csv", text, Format::Csv),
        [
            "deploys.csv:5: field \"opened_at\": expected an RFC 3339 timestamp with an offset (e.g. 2026-03-03T14:00:00Z), got \"2026-03-03T15:00:00\"",
            "deploys.csv:7: field \"id\": expected a incident id made of letters, digits, '-', '_', '.', '/' and ':', got ' ' in \"inc 3\"",
        ]
    );
}

#[test]
fn bad_practice_changes_name_the_field() {
    assert_eq!(
        jsonl_error(r#"{"type":"practice_change","name":"TBD","started_on":"3 March"}"#),
        "deploys.jsonl:1: field \"started_on\": expected a date like 2026-03-03, got \"3 March\""
    );
    assert_eq!(
        jsonl_error(
            r#"{"type":"practice_change","name":"TBD","started_on":"2026-03-03","services":"api"}"#
        ),
        "deploys.jsonl:1: field \"services\": expected an array of service names, got the string \"api\""
    );
    assert_eq!(
        jsonl_error(
            r#"{"type":"practice_change","name":"TBD","started_on":"2026-03-03","ended_on":"2026-03-01"}"#
        ),
        "deploys.jsonl:1: field \"ended_on\": expected a date no earlier than started_on (2026-03-03), got 2026-03-01"
    );
    assert_eq!(
        jsonl_error(
            r#"{"type":"practice_change","name":"TBD","started_on":"2026-03-03","services":["api"],"team":"core"}"#
        ),
        "deploys.jsonl:1: field \"team\": expected services or a team, not both, got both"
    );
    assert_eq!(
        errors(
            "p.jsonl",
            r#"{"type":"practice_change","started_on":"2026-03-03","capability":"Trunk"}"#,
            Format::JsonLines
        ),
        [
            "p.jsonl:1: field \"name\": missing; required in practice_change records",
            "p.jsonl:1: field \"capability\": expected a capability slug made of lowercase letters, digits and single hyphens inside, got 'T' in \"Trunk\"",
        ]
    );
}

#[test]
fn bad_pull_requests_name_the_field() {
    assert_eq!(
        errors(
            "p.jsonl",
            r#"{"type":"pull_request","id":"forge:acme/shop#1","repository":"acme/shop","number":"1","opened_at":"2026-03-03T10:00:00Z","merged_at":"2026-03-03T09:00:00Z","commits":"abcd"}"#,
            Format::JsonLines
        ),
        [
            "p.jsonl:1: field \"number\": expected a whole number of at least 0, got the string \"1\"",
            "p.jsonl:1: field \"commits\": expected an array of commit shas, got the string \"abcd\"",
            "p.jsonl:1: field \"merged_at\": expected a time no earlier than opened_at (2026-03-03T10:00:00Z), got 2026-03-03T09:00:00Z",
        ]
    );
    assert_eq!(
        errors(
            "p.csv",
            "type,id,repository,opened_at,merge_commit,commits\npull_request,forge:acme/shop#1,acme shop,2026-03-03T10:00:00Z,abcd,abcd main\n",
            Format::Csv
        ),
        [
            "p.csv:2: field \"repository\": expected a repository name made of letters, digits, '-', '_', '.' and '/', got ' ' in \"acme shop\"",
            "p.csv:2: field \"commits\": expected a commit sha: 4 to 40 hexadecimal characters, got \"main\"",
            "p.csv:2: field \"merge_commit\": expected a merge commit only with merged_at (the pull request was merged), got no merged_at",
        ]
    );
}

#[test]
fn a_changed_file_count_must_be_a_non_negative_integer() {
    assert_eq!(
        errors(
            "p.jsonl",
            concat!(
                r#"{"type":"pull_request","id":"forge:acme/shop#1","repository":"acme/shop","opened_at":"2026-03-03T10:00:00Z","changed_files":3}"#,
                "\n",
                r#"{"type":"pull_request","id":"forge:acme/shop#2","repository":"acme/shop","opened_at":"2026-03-03T10:00:00Z","changed_files":-1}"#,
                "\n",
                r#"{"type":"pull_request","id":"forge:acme/shop#3","repository":"acme/shop","opened_at":"2026-03-03T10:00:00Z","changed_files":2.5}"#,
                "\n",
                r#"{"type":"pull_request","id":"forge:acme/shop#4","repository":"acme/shop","opened_at":"2026-03-03T10:00:00Z","changed_files":"12"}"#,
            ),
            Format::JsonLines
        ),
        [
            "p.jsonl:2: field \"changed_files\": expected a whole number of at least 0, got the number -1",
            "p.jsonl:3: field \"changed_files\": expected a whole number of at least 0, got the number 2.5",
            "p.jsonl:4: field \"changed_files\": expected a whole number of at least 0, got the string \"12\"",
        ]
    );
    assert_eq!(
        errors(
            "p.csv",
            "type,id,repository,opened_at,changed_files\npull_request,forge:acme/shop#1,acme/shop,2026-03-03T10:00:00Z,1000+\npull_request,forge:acme/shop#2,acme/shop,2026-03-03T10:00:00Z,-4\n",
            Format::Csv
        ),
        [
            "p.csv:2: field \"changed_files\": expected a whole number of at least 0, got \"1000+\"",
            "p.csv:3: field \"changed_files\": expected a whole number of at least 0, got \"-4\"",
        ]
    );
}
