//! One record's raw fields, whatever format they came from, and the validation of each kind of field.
//!
//! JSON Lines gives typed JSON values and CSV gives text. Both readers turn a line into a list of
//! `(name, Value)` cells, and each record type validates its cells once, through [`Fields`], which
//! knows which field is being read and so can name it in every problem. The per-kind parsers
//! ([`name`], [`timestamp`], [`boolean`], ...) hold the format differences: a JSON `true` versus a CSV
//! `yes`, a JSON number where a string was expected.

use std::str::FromStr;

use jiff::Timestamp;
use serde_json::Value as Json;
use shiplog_core::{DeploymentStatus, NameError, ShaPrefix};

use crate::error::Problem;

/// One raw field value.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Value<'a> {
    /// A JSON value (`null` means absent for optional fields).
    Json(&'a Json),
    /// A CSV cell, already trimmed and never empty: empty cells are absent and not passed on.
    Text(&'a str),
}

/// A record's fields in file order (for JSON, key order), `type` included.
pub(crate) type Cells<'a> = Vec<(&'a str, Value<'a>)>;

/// A problem, and the field it is about if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldProblem {
    pub field: Option<String>,
    pub problem: Problem,
}

impl FieldProblem {
    pub fn new(field: Option<&str>, problem: Problem) -> Self {
        Self {
            field: field.map(str::to_owned),
            problem,
        }
    }
}

/// Reads the fields of one record of a known type, collecting a problem for each bad field so that
/// one pass reports them all.
pub(crate) struct Fields<'a> {
    record: &'static str,
    declared: &'static [&'static str],
    cells: Cells<'a>,
    problems: Vec<FieldProblem>,
}

impl<'a> Fields<'a> {
    /// Starts reading `cells` (without `type`) as a `record`, whose fields are `declared`.
    pub fn new(record: &'static str, declared: &'static [&'static str], cells: Cells<'a>) -> Self {
        Self {
            record,
            declared,
            cells,
            problems: Vec::new(),
        }
    }

    fn lookup(&self, name: &str) -> Option<Value<'a>> {
        debug_assert!(
            self.declared.contains(&name),
            "{} records read the undeclared field {name:?}",
            self.record
        );
        self.cells.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    /// A field that must be present.
    pub fn required<T>(
        &mut self,
        name: &'static str,
        parse: impl FnOnce(Value<'a>) -> Result<T, Problem>,
    ) -> Option<T> {
        let record = self.record;
        let parsed = match self.lookup(name) {
            None => Err(Problem::Missing { record }),
            Some(Value::Json(Json::Null)) => Err(Problem::Null { record }),
            Some(value) => parse(value),
        };
        self.keep(name, parsed)
    }

    /// A field that may be absent or `null`: `None` then, and also when it is invalid (which is
    /// recorded as a problem).
    pub fn optional<T>(
        &mut self,
        name: &'static str,
        parse: impl FnOnce(Value<'a>) -> Result<T, Problem>,
    ) -> Option<T> {
        match self.lookup(name) {
            None | Some(Value::Json(Json::Null)) => None,
            Some(value) => {
                let parsed = parse(value);
                self.keep(name, parsed)
            }
        }
    }

    fn keep<T>(&mut self, name: &str, parsed: Result<T, Problem>) -> Option<T> {
        parsed.map_err(|problem| self.fail(name, problem)).ok()
    }

    /// Records a problem with a field.
    pub fn fail(&mut self, name: &str, problem: Problem) {
        self.problems.push(FieldProblem::new(Some(name), problem));
    }

    /// Whether no field had a problem so far.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// The problems found.
    pub fn into_problems(self) -> Vec<FieldProblem> {
        self.problems
    }
}

/// A timestamp and the text it was written as (for messages).
#[derive(Debug, Clone)]
pub(crate) struct Stamp {
    pub at: Timestamp,
    pub text: String,
}

pub(crate) const TIMESTAMP_EXPECTED: &str =
    "an RFC 3339 timestamp with an offset (e.g. 2026-03-03T14:00:00Z)";
const STATUS_EXPECTED: &str = "\"success\" or \"failure\"";
const JSON_BOOL_EXPECTED: &str = "true or false";
const TEXT_BOOL_EXPECTED: &str = "true or false (or 1/0, yes/no)";
const STRING_EXPECTED: &str = "a string";

fn expected(expected: &str, found: String) -> Problem {
    Problem::Expected {
        expected: expected.to_owned(),
        found,
    }
}

/// The text of a value that must be a string; `what` describes the value expected, for the error.
fn text<'a>(value: Value<'a>, what: &str) -> Result<&'a str, Problem> {
    match value {
        Value::Text(text) => Ok(text),
        Value::Json(Json::String(text)) => Ok(text),
        Value::Json(other) => Err(expected(what, describe(other))),
    }
}

/// A validated name or identifier (service, environment, deployment or incident id).
pub(crate) fn name<T: FromStr<Err = NameError>>(value: Value<'_>) -> Result<T, Problem> {
    Ok(text(value, STRING_EXPECTED)?.parse()?)
}

/// A full or abbreviated commit sha.
pub(crate) fn sha_prefix(value: Value<'_>) -> Result<ShaPrefix, Problem> {
    Ok(ShaPrefix::new(text(value, STRING_EXPECTED)?)?)
}

/// An RFC 3339 timestamp that carries an offset.
pub(crate) fn timestamp(value: Value<'_>) -> Result<Stamp, Problem> {
    let text = text(value, TIMESTAMP_EXPECTED)?;
    match shiplog_core::window::parse_timestamp(text) {
        Some(at) => Ok(Stamp {
            at,
            text: text.trim().to_owned(),
        }),
        None => Err(expected(
            &shiplog_core::window::expected_timestamp(text, TIMESTAMP_EXPECTED),
            quote(text),
        )),
    }
}

/// A deployment status.
pub(crate) fn status(value: Value<'_>) -> Result<DeploymentStatus, Problem> {
    let text = text(value, STATUS_EXPECTED)?;
    text.parse()
        .map_err(|_| expected(STATUS_EXPECTED, quote(text)))
}

const RECORDER_EXPECTED: &str = "\"ci\", \"ci:<system>\" (e.g. ci:github-actions) or \"manual\"";

/// Who recorded a deployment: `ci`, `ci:<system>` or `manual`.
pub(crate) fn recorder(value: Value<'_>) -> Result<shiplog_core::Recorder, Problem> {
    let text = text(value, RECORDER_EXPECTED)?;
    text.parse()
        .map_err(|_| expected(RECORDER_EXPECTED, quote(text)))
}

/// A boolean: JSON `true`/`false`; in CSV also `1`/`0` and `yes`/`no`, in any case.
pub(crate) fn boolean(value: Value<'_>) -> Result<bool, Problem> {
    match value {
        Value::Json(Json::Bool(b)) => Ok(*b),
        Value::Json(other) => Err(expected(JSON_BOOL_EXPECTED, describe(other))),
        Value::Text(text) => match text.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Ok(true),
            "false" | "0" | "no" => Ok(false),
            _ => Err(expected(TEXT_BOOL_EXPECTED, quote(text))),
        },
    }
}

pub(crate) const DATE_EXPECTED: &str = "a date like 2026-03-03";
const SERVICES_EXPECTED: &str = "an array of service names";

/// A calendar date, `YYYY-MM-DD`.
pub(crate) fn date(value: Value<'_>) -> Result<jiff::civil::Date, Problem> {
    let text = text(value, DATE_EXPECTED)?;
    let trimmed = text.trim();
    match trimmed.parse::<jiff::civil::Date>() {
        Ok(date) if trimmed.len() == 10 => Ok(date),
        _ => Err(expected(DATE_EXPECTED, quote(text))),
    }
}

/// A list of service names: a JSON array of strings, or in CSV names separated by spaces or
/// commas.
pub(crate) fn services(value: Value<'_>) -> Result<Vec<shiplog_core::ServiceName>, Problem> {
    let names: Vec<&str> = match value {
        Value::Text(text) => text
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .collect(),
        Value::Json(Json::Array(items)) => items
            .iter()
            .map(|item| match item {
                Json::String(s) => Ok(s.as_str()),
                other => Err(expected(
                    SERVICES_EXPECTED,
                    format!("an array holding {}", describe(other)),
                )),
            })
            .collect::<Result<_, _>>()?,
        Value::Json(other) => return Err(expected(SERVICES_EXPECTED, describe(other))),
    };
    Ok(names
        .into_iter()
        .map(shiplog_core::ServiceName::new)
        .collect::<Result<_, _>>()?)
}

const COUNT_EXPECTED: &str = "a whole number of at least 0";
const SHAS_EXPECTED: &str = "an array of commit shas";
const LABELS_EXPECTED: &str = "an array of label names";

/// A count (a pull request's number, lines added): a JSON whole number, or in CSV its digits.
pub(crate) fn count(value: Value<'_>) -> Result<u64, Problem> {
    match value {
        Value::Json(Json::Number(n)) => n
            .as_u64()
            .ok_or_else(|| expected(COUNT_EXPECTED, describe(&Json::Number(n.clone())))),
        Value::Json(other) => Err(expected(COUNT_EXPECTED, describe(other))),
        Value::Text(text) => text
            .parse()
            .map_err(|_| expected(COUNT_EXPECTED, quote(text))),
    }
}

/// A list of text items: a JSON array of strings, or in CSV items separated by `separator`.
fn list<'a>(
    value: Value<'a>,
    what: &str,
    separator: fn(char) -> bool,
) -> Result<Vec<&'a str>, Problem> {
    match value {
        Value::Text(text) => Ok(text
            .split(separator)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect()),
        Value::Json(Json::Array(items)) => items
            .iter()
            .map(|item| match item {
                Json::String(s) => Ok(s.as_str()),
                other => Err(expected(
                    what,
                    format!("an array holding {}", describe(other)),
                )),
            })
            .collect(),
        Value::Json(other) => Err(expected(what, describe(other))),
    }
}

/// Commit shas, full or abbreviated: a JSON array of strings, or in CSV shas separated by spaces
/// or commas.
pub(crate) fn sha_prefixes(value: Value<'_>) -> Result<Vec<ShaPrefix>, Problem> {
    list(value, SHAS_EXPECTED, |c| c == ',' || c.is_whitespace())?
        .into_iter()
        .map(|s| Ok(ShaPrefix::new(s)?))
        .collect()
}

/// Labels: a JSON array of strings, or in CSV labels separated by commas (a label may hold
/// spaces); each trimmed, empty ones dropped.
pub(crate) fn labels(value: Value<'_>) -> Result<Vec<String>, Problem> {
    Ok(list(value, LABELS_EXPECTED, |c| c == ',')?
        .into_iter()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect())
}

/// Free text, trimmed; `None` when empty.
pub(crate) fn free_text(value: Value<'_>) -> Result<Option<String>, Problem> {
    let text = text(value, STRING_EXPECTED)?.trim();
    Ok((!text.is_empty()).then(|| text.to_owned()))
}

const MAX_QUOTED: usize = 60;

/// Text as shown in messages: quoted, escaped and cut to a readable length.
pub(crate) fn quote(text: &str) -> String {
    if text.chars().count() <= MAX_QUOTED {
        format!("{text:?}")
    } else {
        let cut: String = text.chars().take(MAX_QUOTED).collect();
        format!("{cut:?}...")
    }
}

/// A JSON value as shown in messages, saying what kind of value it is.
pub(crate) fn describe(value: &Json) -> String {
    match value {
        Json::Null => "null".to_owned(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => format!("the number {n}"),
        Json::String(s) => format!("the string {}", quote(s)),
        Json::Array(_) => "an array".to_owned(),
        Json::Object(_) => "an object".to_owned(),
    }
}

/// The candidate closest to a misspelt `name`, if one is close enough to be what was meant.
pub(crate) fn suggest<'c>(
    name: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    if name.len() > 64 {
        return None;
    }
    let name = name.to_ascii_lowercase();
    let limit = (name.chars().count() / 3).clamp(1, 3);
    candidates
        .into_iter()
        .map(|c| (edit_distance(&name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// The Levenshtein distance between two strings, in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

/// A " (did you mean ...?)" hint, or nothing.
pub(crate) fn did_you_mean<'c>(
    name: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> String {
    suggest(name, candidates)
        .map(|c| format!(" (did you mean {c:?}?)"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(edit_distance("finshed_at", "finished_at"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn suggestions_only_for_near_misses() {
        let fields = ["id", "service", "finished_at", "started_at"];
        assert_eq!(suggest("finshed_at", fields), Some("finished_at"));
        assert_eq!(suggest("Service", fields), Some("service"));
        assert_eq!(suggest("ids", fields), Some("id"));
        assert_eq!(suggest("colour", fields), None);
        assert_eq!(did_you_mean("colour", fields), "");
    }

    #[test]
    fn values_are_described_by_kind() {
        assert_eq!(describe(&Json::Null), "null");
        assert_eq!(describe(&serde_json::json!(true)), "true");
        assert_eq!(describe(&serde_json::json!(1.5)), "the number 1.5");
        assert_eq!(
            describe(&serde_json::json!("a\"b")),
            "the string \"a\\\"b\""
        );
        assert_eq!(describe(&serde_json::json!([1])), "an array");
        assert_eq!(describe(&serde_json::json!({})), "an object");
        assert_eq!(quote(&"x".repeat(61)), format!("\"{}\"...", "x".repeat(60)));
    }

    #[test]
    fn text_booleans_accept_common_spellings() {
        for (text, want) in [("true", true), ("TRUE", true), ("1", true), ("Yes", true)] {
            assert_eq!(boolean(Value::Text(text)), Ok(want), "{text}");
        }
        for (text, want) in [
            ("false", false),
            ("False", false),
            ("0", false),
            ("no", false),
        ] {
            assert_eq!(boolean(Value::Text(text)), Ok(want), "{text}");
        }
        assert!(boolean(Value::Text("y")).is_err());
        assert!(boolean(Value::Json(&serde_json::json!(1))).is_err());
    }
}
