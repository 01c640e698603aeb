//! JSON Lines: one JSON object per line.
//!
//! Each line is parsed on its own into a JSON object whose keys are then validated field by field, so
//! a bad line is reported with its number and the others are still checked. Blank lines are skipped;
//! `\r\n` line endings and a leading byte order mark are accepted. There are no comments (JSON has
//! none).

use serde_json::Value as Json;

use crate::Sink;
use crate::error::Problem;
use crate::fields::{self, Cells, Value};

pub(crate) fn parse(bytes: &[u8], sink: &mut Sink<'_>) {
    for (index, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = index as u64 + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let text = match std::str::from_utf8(raw) {
            Ok(text) => text,
            Err(err) => {
                let at = err.valid_up_to();
                let byte = raw.get(at).copied().unwrap_or_default();
                sink.error(
                    line,
                    None,
                    &Problem::LineNotUtf8 {
                        byte,
                        column: at + 1,
                    },
                );
                continue;
            }
        };
        if text.trim().is_empty() {
            continue;
        }
        let json: Json = match crate::strict_json::from_str(text, crate::MAX_RECORD_BYTES) {
            Ok(json) => json,
            Err(err) => {
                sink.error(line, None, &Problem::InvalidJson(json_message(&err)));
                continue;
            }
        };
        let Json::Object(object) = &json else {
            sink.error(line, None, &Problem::NotAnObject(fields::describe(&json)));
            continue;
        };
        let cells: Cells<'_> = object
            .iter()
            .map(|(key, value)| (key.as_str(), Value::Json(value)))
            .collect();
        sink.build(line, cells);
    }
}

/// serde_json's message with the position given as a column: the line is always 1 within a line.
fn json_message(err: &serde_json::Error) -> String {
    let full = err.to_string();
    let position = format!(" at line {} column {}", err.line(), err.column());
    match full.strip_suffix(&position) {
        Some(message) => format!("{message} at column {}", err.column()),
        None => full,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_messages_point_at_a_column() {
        let err = serde_json::from_str::<Json>("{\"a\": tru}").unwrap_err();
        assert_eq!(json_message(&err), "expected ident at column 10");
    }
}
