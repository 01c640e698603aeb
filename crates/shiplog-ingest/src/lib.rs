//! Parses shiplog's import files (JSON Lines and CSV) into validated deployment and incident records.
//!
//! `shiplog import` is how deployment and incident history from other tools (CI pipelines, incident
//! trackers, spreadsheets) reaches shiplog. Such files are written by hand or by quick scripts, so
//! most import failures are typos: a misspelt field, a timestamp without an offset, `"yes"` where
//! `true` was meant. This crate exists to turn those files into the validated types of
//! [`shiplog_core`] while reporting *every* bad line at once, each with the file, the line, the
//! field, what was expected and what was found:
//!
//! ```text
//! deploys.jsonl:3: field "finished_at": expected an RFC 3339 timestamp with an offset (e.g. 2026-03-03T14:00:00Z), got "2026-03-03 14:00"
//! ```
//!
//! The crate does no I/O: callers read the bytes (a file or standard input) and pass them to
//! [`parse`]. Abbreviated commit shas stay [`ShaPrefix`](shiplog_core::ShaPrefix)es here; the caller
//! resolves them against a repository and then builds the core events with
//! [`DeploymentRecord::into_deployment`] and [`IncidentRecord::into_incident`].
//!
//! The vendor formats (GitHub, GitLab, PagerDuty, CDEvents) live in [`formats`]: the same idea —
//! bytes in, validated records or precise problems out — for payloads shiplog does not define.
//!
//! The schema is documented for users in `docs/import.md`. Each record type is one entry of
//! [`RECORD_TYPES`] (its name, its fields and the function that validates them), written once for
//! both formats, so adding a record type means adding a struct, a [`Record`] variant and an entry.

mod csv_table;
mod error;
mod fields;
mod format;
pub mod formats;
mod json_lines;
mod record;
mod strict_json;

pub use error::{ImportError, ImportErrors, capped};
pub use format::Format;
pub use record::{
    DeploymentRecord, IncidentRecord, PullRequestRecord, RECORD_TYPES, Record, RecordType,
};
pub use strict_json::{MAX_DOCUMENT_BYTES, MAX_RECORD_BYTES};

use error::Problem;

/// A value and the 1-based line of the file it came from.
///
/// For CSV, the line is the physical line where the record starts (the header is line 1), so a quoted
/// cell spanning several lines does not shift the numbers of later records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    /// The 1-based line number.
    pub line: u64,
    /// The value found there.
    pub value: T,
}

/// Parses a whole import file.
///
/// `file` labels error messages (a path, or `<stdin>`). Returns the records in file order, or every
/// problem found: a file with any bad line yields no records at all, so an import is all or nothing.
/// The same id may appear more than once; applying the records in order makes the later one win.
///
/// ```
/// use shiplog_ingest::{Format, Record, parse};
///
/// let file = br#"{"type":"incident","id":"inc-4","service":"api","opened_at":"2026-03-03T15:00:00Z"}"#;
/// let records = parse("incidents.jsonl", file, Format::JsonLines).unwrap();
/// assert_eq!(records[0].line, 1);
/// assert!(matches!(&records[0].value, Record::Incident(i) if i.environment.as_str() == "production"));
///
/// let bad = b"type,id,service,opened_at\nincident,inc-5,api,2026-03-03 15:00\n";
/// let errors = parse("incidents.csv", bad, Format::Csv).unwrap_err();
/// assert_eq!(
///     errors.to_string(),
///     "incidents.csv:2: field \"opened_at\": expected an RFC 3339 timestamp with an offset \
///      (e.g. 2026-03-03T14:00:00Z), got \"2026-03-03 15:00\""
/// );
/// ```
pub fn parse(
    file: &str,
    bytes: &[u8],
    format: Format,
) -> Result<Vec<Located<Record>>, ImportErrors> {
    let mut sink = Sink {
        file,
        records: Vec::new(),
        errors: Vec::new(),
    };
    let bytes = format::strip_bom(bytes);
    match format {
        Format::JsonLines => json_lines::parse(bytes, &mut sink),
        Format::Csv => csv_table::parse(bytes, &mut sink),
    }
    if sink.errors.is_empty() {
        Ok(sink.records)
    } else {
        Err(ImportErrors(sink.errors))
    }
}

/// Collects the records and the errors of one file.
struct Sink<'f> {
    file: &'f str,
    records: Vec<Located<Record>>,
    errors: Vec<ImportError>,
}

impl Sink<'_> {
    fn error(&mut self, line: u64, field: Option<&str>, problem: &Problem) {
        self.errors.push(ImportError {
            file: self.file.to_owned(),
            line,
            field: field.map(str::to_owned),
            problem: problem.to_string(),
        });
    }

    /// Validates one record's fields and keeps the record or its problems.
    fn build(&mut self, line: u64, cells: fields::Cells<'_>) {
        match record::build(cells) {
            Ok(value) => self.records.push(Located { line, value }),
            Err(problems) => {
                for p in problems {
                    self.error(line, p.field.as_deref(), &p.problem);
                }
            }
        }
    }
}
