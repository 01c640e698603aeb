//! docs/import.md stays true: its examples parse, its error example is what users get, and its tables
//! list exactly the fields each record type accepts.

use shiplog_ingest::{Format, ImportErrors, RECORD_TYPES, parse};

const DOC: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/import.md"));

/// The fenced code blocks of the doc: (info string, content).
fn blocks() -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let mut open: Option<(&str, String)> = None;
    for line in DOC.lines() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(info)) => open = Some((info.trim(), String::new())),
            (Some(_), Some("")) => out.extend(open.take()),
            (Some((_, content)), _) => {
                content.push_str(line);
                content.push('\n');
            }
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "unclosed code block");
    out
}

fn error_lines(file: &str, text: &str, format: Format) -> Vec<String> {
    match parse(file, text.as_bytes(), format) {
        Ok(records) => panic!("should not parse, got {records:?}"),
        Err(ImportErrors(errors)) => errors.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn examples_parse() {
    let mut checked = 0;
    for (info, content) in blocks() {
        let format = match info {
            "jsonl" => Format::JsonLines,
            "csv" => Format::Csv,
            _ => continue,
        };
        match parse("docs/import.md", content.as_bytes(), format) {
            Ok(records) => assert!(!records.is_empty(), "{content}"),
            Err(errors) => panic!("an example in docs/import.md does not parse:\n{errors}"),
        }
        assert_eq!(Format::sniff(content.as_bytes()), format, "{content}");
        checked += 1;
    }
    assert_eq!(checked, 5, "the doc's examples");
}

#[test]
fn the_error_example_is_what_users_get() {
    let blocks = blocks();
    let bad = blocks
        .iter()
        .position(|(info, _)| *info == "jsonl bad")
        .expect("the doc has a bad example");
    let (_, input) = &blocks[bad];
    let (info, output) = &blocks[bad + 1];
    assert_eq!(*info, "text", "the bad example is followed by its output");
    let want: Vec<&str> = output.lines().collect();
    assert_eq!(error_lines("deploys.jsonl", input, Format::JsonLines), want);
}

#[test]
fn the_other_error_examples_are_what_users_get() {
    let blocks = blocks();
    let (_, shown) = blocks
        .iter()
        .filter(|(info, _)| *info == "text")
        .nth(1)
        .expect("the doc has a second list of errors");
    let blank = |n: usize| "\n".repeat(n);
    let cases = [
        (
            "deploys.jsonl",
            Format::JsonLines,
            format!(r#"{}{{"type":"deployment","id":"d-24","service":"api""#, blank(6)),
        ),
        ("deploys.jsonl", Format::JsonLines, format!("{}[]", blank(7))),
        (
            "deploys.jsonl",
            Format::JsonLines,
            format!(
                r#"{}{{"type":"incident","id":"inc-9","service":"api","opened_at":"2026-03-05T12:00:00Z","sha":"main"}}"#,
                blank(8)
            ),
        ),
        (
            "deploys.jsonl",
            Format::JsonLines,
            format!(
                r#"{}{{"type":"deployment","id":"d-25","service":"api","environment":"production","sha":"3f9c2a1","finished_at":"2026-03-05T10:00:00Z","status":"ok"}}"#,
                blank(9)
            ),
        ),
        (
            "deploys.csv",
            Format::Csv,
            "id,service,opened_at\ninc-9,api,2026-03-05T12:00:00Z\n".to_owned(),
        ),
        (
            "deploys.csv",
            Format::Csv,
            "type,id,service,environment,sha,started_at,finished_at,status,unplanned,opened_at,resolved_at,deployment_id,title\n\n\nincident,inc-9,api,,,,,,,2026-03-05T12:00:00Z,,\n".to_owned(),
        ),
    ];
    let got: Vec<String> = cases
        .iter()
        .flat_map(|(file, format, text)| error_lines(file, text, *format))
        .collect();
    let want: Vec<&str> = shown.lines().collect();
    assert_eq!(got, want);
}

#[test]
fn the_tables_list_every_field_of_every_record_type() {
    for record_type in RECORD_TYPES {
        let name = record_type.name;
        let section = DOC
            .split("\n## ")
            .find(|section| {
                section.lines().any(|line| {
                    line.starts_with("| `type`")
                        && line.trim_end().ends_with(&format!("| `{name}` |"))
                })
            })
            .unwrap_or_else(|| panic!("docs/import.md has no table for {name} records"));
        let documented: Vec<&str> = section
            .lines()
            .filter_map(|line| line.strip_prefix("| `"))
            .filter_map(|rest| rest.split('`').next())
            .collect();
        let mut accepted = vec!["type"];
        accepted.extend(record_type.fields);
        assert_eq!(documented, accepted, "the table of {name} records");
    }
}
