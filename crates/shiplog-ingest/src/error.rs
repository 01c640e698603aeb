//! Import errors: one per problem, each naming the file, the line and (when there is one) the field.
//!
//! All the message texts live in [`Problem`], so they stay consistent across the two formats and the
//! record types, and read as "expected this, got that" wherever possible.

use std::fmt;

use shiplog_core::NameError;

/// One problem in an import file.
///
/// Displays as `FILE:LINE: field "NAME": PROBLEM`, or `FILE:LINE: PROBLEM` when the problem is not
/// about one field, e.g.
/// `deploys.jsonl:3: field "finished_at": expected an RFC 3339 timestamp with an offset (e.g. 2026-03-03T14:00:00Z), got "2026-03-03 14:00"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    /// The file's label, as given to [`parse`](crate::parse).
    pub file: String,
    /// The 1-based line (for CSV, where the record starts; the header is line 1).
    pub line: u64,
    /// The field (JSON key or CSV column) at fault, if the problem is about one.
    pub field: Option<String>,
    /// What was expected and what was found.
    pub problem: String,
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.file, self.line)?;
        if let Some(field) = &self.field {
            write!(f, "field {field:?}: ")?;
        }
        f.write_str(&self.problem)
    }
}

impl std::error::Error for ImportError {}

/// Every problem found in an import (never empty when returned by [`parse`](crate::parse)).
///
/// Displays one problem per line, in file order; past [`ImportErrors::SHOWN`] problems it says how
/// many more there are instead of listing them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportErrors(pub Vec<ImportError>);

impl ImportErrors {
    /// How many problems [`Display`](fmt::Display) lists before summarising the rest.
    pub const SHOWN: usize = 50;
}

impl fmt::Display for ImportErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&capped(&self.0))
    }
}

/// Problems one per line, at most [`ImportErrors::SHOWN`] of them, then how many more there are.
pub fn capped<T: fmt::Display>(problems: &[T]) -> String {
    let mut text = problems
        .iter()
        .take(ImportErrors::SHOWN)
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    let more = problems.len().saturating_sub(ImportErrors::SHOWN);
    if more > 0 {
        let s = if more == 1 { "" } else { "s" };
        text.push_str(&format!(
            "\n... and {more} more error{s} ({} in total)",
            problems.len()
        ));
    }
    text
}

impl std::error::Error for ImportErrors {}

/// What is wrong, without the file, line and field (see [`ImportError`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Problem {
    /// A JSON Lines line is not UTF-8.
    #[error("expected UTF-8 text, got the byte 0x{byte:02X} at column {column}")]
    LineNotUtf8 { byte: u8, column: usize },
    /// A CSV cell is not UTF-8.
    #[error("expected UTF-8 text, got the byte 0x{byte:02X} at byte {offset} of column {column}")]
    CellNotUtf8 {
        byte: u8,
        offset: usize,
        column: usize,
    },
    /// serde_json's message, with the column in the line.
    #[error("not valid JSON: {0}")]
    InvalidJson(String),
    /// A JSON Lines line holds valid JSON that is not an object.
    #[error("expected a JSON object, got {0}")]
    NotAnObject(String),
    /// The `type` field is absent.
    #[error("missing; expected {known}")]
    MissingType { known: String },
    /// The `type` field names no record type.
    #[error("unknown record type {found}; expected {known}")]
    UnknownType { found: String, known: String },
    /// A required field is absent (or, in CSV, empty).
    #[error("missing; required in {record} records")]
    Missing { record: &'static str },
    /// A required field is JSON `null`.
    #[error("null; required in {record} records")]
    Null { record: &'static str },
    /// A field the record type does not have.
    #[error("unknown field in {record} records{hint}; accepted fields: {accepted}")]
    UnknownField {
        record: &'static str,
        hint: String,
        accepted: String,
    },
    /// A CSV header names a column no record type has.
    #[error("unknown column{hint}; accepted columns: {accepted}")]
    UnknownColumn { hint: String, accepted: String },
    /// A value of the wrong kind or form.
    #[error("expected {expected}, got {found}")]
    Expected { expected: String, found: String },
    /// A name or identifier that does not validate.
    #[error(transparent)]
    Name(#[from] NameError),
    /// A CSV row with more or fewer cells than the header.
    #[error("expected {expected} columns as in the header, got {found}")]
    ColumnCount { expected: usize, found: usize },
    /// A CSV header without a `type` column.
    #[error("expected a header row with a \"type\" column, got {found}")]
    NoTypeColumn { found: String },
    /// A CSV header naming a column twice.
    #[error("expected each column once in the header, got it in columns {first} and {second}")]
    DuplicateColumn { first: usize, second: usize },
    /// A value in a column whose header cell is empty.
    #[error(
        "expected an empty cell in column {column}, which has no name in the header, got {found}"
    )]
    UnnamedColumn { column: usize, found: String },
    /// The csv crate could not read the file.
    #[error("not valid CSV: {0}")]
    InvalidCsv(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(line: u64, field: Option<&str>) -> ImportError {
        ImportError {
            file: "f.jsonl".to_owned(),
            line,
            field: field.map(str::to_owned),
            problem: "expected x, got y".to_owned(),
        }
    }

    #[test]
    fn errors_name_file_line_and_field() {
        assert_eq!(
            error(3, Some("sha")).to_string(),
            "f.jsonl:3: field \"sha\": expected x, got y"
        );
        assert_eq!(error(7, None).to_string(), "f.jsonl:7: expected x, got y");
    }

    #[test]
    fn long_lists_are_capped() {
        let all = ImportErrors((1..=53).map(|line| error(line, None)).collect());
        let text = all.to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), ImportErrors::SHOWN + 1);
        assert_eq!(lines[0], "f.jsonl:1: expected x, got y");
        assert_eq!(lines[49], "f.jsonl:50: expected x, got y");
        assert_eq!(lines[50], "... and 3 more errors (53 in total)");

        let one_more = ImportErrors((1..=51).map(|line| error(line, None)).collect());
        assert!(
            one_more
                .to_string()
                .ends_with("\n... and 1 more error (51 in total)")
        );

        let exactly = ImportErrors((1..=50).map(|line| error(line, None)).collect());
        assert_eq!(exactly.to_string().lines().count(), 50);
        assert!(!exactly.to_string().contains("more"));
    }
}
