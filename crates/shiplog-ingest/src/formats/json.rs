//! Reading vendor JSON with the path of every value, so each problem names where it is
//! (`$.deployment_status.state`) and says what was expected there.
//!
//! serde_json parses; this module only walks the parsed value. Vendor payloads are large and mostly
//! irrelevant, so deriving a struct for each would mean declaring hundreds of fields to ignore;
//! walking lets each parser read the dozen values it needs, each with a precise message.

use std::fmt;

use jiff::Timestamp;
use serde_json::Value as Json;
use shiplog_core::Sha;

use crate::fields::{describe, quote};

/// One problem in a vendor payload: the file (or delivery), the JSON path and what is wrong.
///
/// Displays as `FILE: PATH: PROBLEM`, e.g.
/// `deploy.json: $.deployment_status.state: expected one of "success", "failure", "error", "inactive", "in_progress", "queued", "pending", got the number 3`,
/// or `FILE: PROBLEM` when the problem is about the whole file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadError {
    /// The file's label (a path, `<stdin>`, or a delivery id).
    pub file: String,
    /// The JSON path of the value at fault (`$` is the whole document); empty when the problem is
    /// not about a value (e.g. the file is not JSON).
    pub path: String,
    /// What was expected and what was found.
    pub problem: String,
}

impl fmt::Display for PayloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.file)?;
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.problem)
    }
}

impl std::error::Error for PayloadError {}

/// A problem at a path, before the file is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fault {
    pub path: String,
    pub problem: String,
}

impl Fault {
    pub fn new(path: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            problem: problem.into(),
        }
    }

    pub fn in_file(self, file: &str) -> PayloadError {
        PayloadError {
            file: file.to_owned(),
            path: self.path,
            problem: self.problem,
        }
    }
}

pub(crate) type Res<T> = Result<T, Fault>;

pub(crate) const SHA_EXPECTED: &str = "a 40-character hexadecimal commit sha";
pub(crate) const TIME_EXPECTED: &str = "an RFC 3339 timestamp (e.g. 2026-03-03T14:00:00Z)";

/// A JSON value and its path from the document's root.
#[derive(Debug, Clone)]
pub(crate) struct Node<'a> {
    pub value: &'a Json,
    pub path: String,
}

fn key_path(parent: &str, key: &str) -> String {
    if !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        format!("{parent}.{key}")
    } else {
        format!("{parent}[{key:?}]")
    }
}

impl<'a> Node<'a> {
    pub fn root(value: &'a Json) -> Self {
        Self {
            value,
            path: "$".to_owned(),
        }
    }

    /// Item `index` of the document's top-level list, read on its own (see
    /// [`for_each_item`](crate::strict_json::for_each_item)).
    pub fn item(value: &'a Json, index: usize) -> Self {
        Self {
            value,
            path: format!("$[{index}]"),
        }
    }

    pub fn fault(&self, problem: impl Into<String>) -> Fault {
        Fault::new(self.path.clone(), problem)
    }

    /// "expected {what}, got {this value}".
    pub fn expected(&self, what: &str) -> Fault {
        self.fault(format!("expected {what}, got {}", describe(self.value)))
    }

    /// The member `key`, when present and not `null`.
    pub fn opt(&self, key: &str) -> Option<Node<'a>> {
        match self.value.get(key) {
            None | Some(Json::Null) => None,
            Some(value) => Some(Node {
                value,
                path: key_path(&self.path, key),
            }),
        }
    }

    /// The member `key`; missing or `null` is a problem that says what was expected.
    pub fn get(&self, key: &str, what: &str) -> Res<Node<'a>> {
        if !self.value.is_object() {
            return Err(self.expected("an object"));
        }
        match self.value.get(key) {
            None => Err(Fault::new(
                key_path(&self.path, key),
                format!("missing; expected {what}"),
            )),
            Some(Json::Null) => Err(Fault::new(
                key_path(&self.path, key),
                format!("expected {what}, got null"),
            )),
            Some(value) => Ok(Node {
                value,
                path: key_path(&self.path, key),
            }),
        }
    }

    /// Follows `keys` from here, each required to be an object on the way.
    pub fn at(&self, keys: &[&str], what: &str) -> Res<Node<'a>> {
        let mut node = self.clone();
        for (i, key) in keys.iter().enumerate() {
            let step = if i + 1 == keys.len() {
                what
            } else {
                "an object"
            };
            node = node.get(key, step)?;
        }
        Ok(node)
    }

    /// Follows `keys` from here; `None` when any is absent or `null`.
    pub fn opt_at(&self, keys: &[&str]) -> Option<Node<'a>> {
        let mut node = self.clone();
        for key in keys {
            node = node.opt(key)?;
        }
        Some(node)
    }

    pub fn str(&self) -> Res<&'a str> {
        self.value.as_str().ok_or_else(|| self.expected("a string"))
    }

    pub fn u64(&self) -> Res<u64> {
        self.value
            .as_u64()
            .ok_or_else(|| self.expected("a non-negative integer"))
    }

    pub fn bool(&self) -> Res<bool> {
        self.value
            .as_bool()
            .ok_or_else(|| self.expected("true or false"))
    }

    pub fn items(&self) -> Res<Vec<Node<'a>>> {
        let items = self
            .value
            .as_array()
            .ok_or_else(|| self.expected("an array"))?;
        Ok(items
            .iter()
            .enumerate()
            .map(|(i, value)| Node {
                value,
                path: format!("{}[{i}]", self.path),
            })
            .collect())
    }

    /// A string or a number, as text (vendor ids come as either).
    pub fn id_text(&self) -> Res<String> {
        match self.value {
            Json::String(s) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
            Json::Number(n) => Ok(n.to_string()),
            _ => Err(self.expected("an id (a string or a number)")),
        }
    }

    pub fn sha(&self) -> Res<Sha> {
        let text = self
            .value
            .as_str()
            .ok_or_else(|| self.expected(SHA_EXPECTED))?;
        Sha::from_hex(text)
            .map_err(|_| self.fault(format!("expected {SHA_EXPECTED}, got {}", quote(text))))
    }

    /// An RFC 3339 timestamp with an offset.
    pub fn timestamp(&self) -> Res<Timestamp> {
        let text = self
            .value
            .as_str()
            .ok_or_else(|| self.expected(TIME_EXPECTED))?;
        shiplog_core::window::parse_timestamp(text).ok_or_else(|| {
            let expected = shiplog_core::window::expected_timestamp(text, TIME_EXPECTED);
            self.fault(format!("expected {expected}, got {}", quote(text)))
        })
    }

    /// Free text, trimmed; `None` when empty.
    pub fn text(&self) -> Res<Option<String>> {
        let text = self.str()?.trim();
        Ok((!text.is_empty()).then(|| text.to_owned()))
    }

    /// One of `allowed` string values.
    pub fn one_of(&self, allowed: &[&str]) -> Res<&'a str> {
        let expected = || {
            let list = allowed
                .iter()
                .map(|a| format!("{a:?}"))
                .collect::<Vec<_>>()
                .join(", ");
            format!("one of {list}")
        };
        match self.value.as_str() {
            Some(text) if allowed.contains(&text) => Ok(text),
            Some(text) => Err(self.fault(format!("expected {}, got {}", expected(), quote(text)))),
            None => Err(self.expected(&expected())),
        }
    }
}

/// Parses a whole document (duplicate keys refused, at most
/// [`MAX_DOCUMENT_BYTES`](crate::strict_json::MAX_DOCUMENT_BYTES)), or says why it is not JSON,
/// with serde_json's line and column.
pub(crate) fn parse_document(bytes: &[u8]) -> Result<Json, String> {
    let bytes = crate::format::strip_bom(bytes);
    crate::strict_json::from_slice(bytes, crate::strict_json::MAX_DOCUMENT_BYTES).map_err(not_json)
}

/// A serde_json error as a problem: its message ends with the line and column.
pub(crate) fn not_json(e: serde_json::Error) -> String {
    format!("not valid JSON: {e}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Json {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn paths_name_keys_and_indexes() {
        let json = doc(r#"{"a":{"b-c":[{"d":3}]}}"#);
        let root = Node::root(&json);
        let d = root.at(&["a", "b-c"], "an array").unwrap().items().unwrap()[0]
            .get("d", "a string")
            .unwrap();
        assert_eq!(d.path, r#"$.a["b-c"][0].d"#);
        assert_eq!(
            d.str().unwrap_err(),
            Fault::new(r#"$.a["b-c"][0].d"#, "expected a string, got the number 3")
        );
    }

    #[test]
    fn missing_and_null_say_what_was_expected() {
        let json = doc(r#"{"x":null}"#);
        let root = Node::root(&json);
        assert_eq!(
            root.get("y", SHA_EXPECTED)
                .unwrap_err()
                .to_string_for_test(),
            "$.y: missing; expected a 40-character hexadecimal commit sha"
        );
        assert_eq!(
            root.get("x", "a string").unwrap_err().to_string_for_test(),
            "$.x: expected a string, got null"
        );
        assert!(root.opt("x").is_none());
    }

    #[test]
    fn values_are_checked() {
        let json = doc(r#"{"t":"2026-03-03 14:00","s":"abc","k":"done","n":"12","i":7}"#);
        let root = Node::root(&json);
        let get = |k| root.get(k, "x").unwrap();
        assert_eq!(
            get("t").timestamp().unwrap_err().problem,
            "expected an RFC 3339 timestamp (e.g. 2026-03-03T14:00:00Z), got \"2026-03-03 14:00\""
        );
        assert_eq!(
            get("s").sha().unwrap_err().problem,
            "expected a 40-character hexadecimal commit sha, got \"abc\""
        );
        assert_eq!(
            get("k")
                .one_of(&["success", "failure"])
                .unwrap_err()
                .problem,
            "expected one of \"success\", \"failure\", got \"done\""
        );
        assert_eq!(get("n").id_text().unwrap(), "12");
        assert_eq!(get("i").id_text().unwrap(), "7");
    }

    impl Fault {
        fn to_string_for_test(&self) -> String {
            format!("{}: {}", self.path, self.problem)
        }
    }
}
