//! JSON parsed into [`serde_json::Value`], refusing an object that names a key twice.
//!
//! serde_json keeps the last of duplicated keys, so `{"state":"failure","state":"success"}` would
//! silently store a success. Every import reader parses through here instead: a duplicated key is
//! an error naming the key, with serde_json's own line and column (the position just after the
//! second occurrence of the key).

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value as Json};

/// The most one record may hold: one item of a top-level list, one JSON Lines line. Counted as the
/// text of its strings and keys plus 8 bytes per value, which is about its size as JSON.
pub const MAX_RECORD_BYTES: usize = 16 << 20;

/// The most a single JSON document that is not a top-level list may hold (a webhook payload, a
/// PagerDuty `{"incidents": [...]}` list), counted the same way.
pub const MAX_DOCUMENT_BYTES: usize = 256 << 20;

/// Parses one JSON document of at most `limit` bytes (counted as for [`MAX_RECORD_BYTES`]).
pub(crate) fn from_slice(bytes: &[u8], limit: usize) -> Result<Json, serde_json::Error> {
    let budget = Budget::new(limit);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = (&mut de).deserialize_any(StrictVisitor { budget: &budget })?;
    de.end()?;
    Ok(value)
}

/// Parses one JSON document from text (at most `limit` bytes).
pub(crate) fn from_str(text: &str, limit: usize) -> Result<Json, serde_json::Error> {
    from_slice(text.as_bytes(), limit)
}

/// Reads a document that is a JSON array one item at a time: each item (at most
/// [`MAX_RECORD_BYTES`]) is handed to `each` with its index and dropped before the next is read,
/// so memory stays proportional to one item however long the list. Returns how many items there
/// were.
pub(crate) fn for_each_item(
    bytes: &[u8],
    each: impl FnMut(usize, Json),
) -> Result<usize, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let count = (&mut de).deserialize_seq(EachItem {
        each,
        first_only: false,
    })?;
    de.end()?;
    Ok(count)
}

/// The first item of a document that is a JSON array (`None` when it is empty); the rest is only
/// checked to be JSON.
pub(crate) fn first_item(bytes: &[u8]) -> Result<Option<Json>, serde_json::Error> {
    let mut first = None;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    (&mut de).deserialize_seq(EachItem {
        each: |_, value| first = Some(value),
        first_only: true,
    })?;
    de.end()?;
    Ok(first)
}

/// Reads a document that is a JSON object whose member `field` may be a long list (PagerDuty's
/// `{"incidents": [...]}`, GitHub's `{"workflow_runs": [...]}`): the list's items are handed to
/// `each` one at a time, as [`for_each_item`] does, and the object's other members are returned
/// (their total at most [`MAX_RECORD_BYTES`]). The count is `None` when `field` is absent or not a
/// list — then the returned object is the whole document.
pub(crate) fn for_each_in_field(
    bytes: &[u8],
    field: &str,
    each: impl FnMut(usize, Json),
) -> Result<(Map<String, Json>, Option<usize>), serde_json::Error> {
    let budget = Budget::new(MAX_RECORD_BYTES);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let found = (&mut de).deserialize_map(Wrapper {
        field,
        each,
        budget: &budget,
    })?;
    de.end()?;
    Ok(found)
}

/// Visits the object of [`for_each_in_field`].
struct Wrapper<'f, 'b, F> {
    field: &'f str,
    each: F,
    budget: &'b Budget,
}

impl<'de, F: FnMut(usize, Json)> Visitor<'de> for Wrapper<'_, '_, F> {
    type Value = (Map<String, Json>, Option<usize>);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut object = Map::new();
        let mut count = None;
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) || (key == self.field && count.is_some()) {
                return Err(de::Error::custom(format!(
                    "duplicate key {key:?} (each key may appear once in an object)"
                )));
            }
            self.budget.charge(key.len())?;
            if key == self.field {
                match map.next_value_seed(ListOrValue {
                    each: &mut self.each,
                    budget: self.budget,
                })? {
                    Listed::Items(n) => count = Some(n),
                    Listed::Value(value) => {
                        object.insert(key, value);
                    }
                }
            } else {
                let value = map.next_value_seed(StrictSeed {
                    budget: self.budget,
                })?;
                object.insert(key, value);
            }
        }
        Ok((object, count))
    }
}

/// The wrapped list's member: streamed when it is a list, kept when it is anything else.
enum Listed {
    Items(usize),
    Value(Json),
}

struct ListOrValue<'e, 'b, F> {
    each: &'e mut F,
    budget: &'b Budget,
}

impl<'de, F: FnMut(usize, Json)> DeserializeSeed<'de> for ListOrValue<'_, '_, F> {
    type Value = Listed;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Listed, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, F: FnMut(usize, Json)> Visitor<'de> for ListOrValue<'_, '_, F> {
    type Value = Listed;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Listed, A::Error> {
        EachItem {
            each: |i, v| (self.each)(i, v),
            first_only: false,
        }
        .visit_seq(seq)
        .map(Listed::Items)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Listed, A::Error> {
        StrictVisitor {
            budget: self.budget,
        }
        .visit_map(map)
        .map(Listed::Value)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Listed, E> {
        Ok(Listed::Value(Json::Bool(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Listed, E> {
        Ok(Listed::Value(Json::Number(v.into())))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Listed, E> {
        Ok(Listed::Value(Json::Number(v.into())))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Listed, E> {
        Ok(Listed::Value(
            Number::from_f64(v).map_or(Json::Null, Json::Number),
        ))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Listed, E> {
        self.budget.charge(v.len())?;
        Ok(Listed::Value(Json::String(v.to_owned())))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Listed, E> {
        Ok(Listed::Value(Json::Null))
    }
}

/// A document reduced for telling what it is: every list, at any depth, keeps only its first item
/// (the rest is only checked to be JSON), so a PagerDuty or GitHub list wrapped in an object is
/// recognised without reading it whole.
pub(crate) fn skeleton(bytes: &[u8]) -> Result<Json, serde_json::Error> {
    let budget = Budget::new(MAX_DOCUMENT_BYTES);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = (&mut de).deserialize_any(SkeletonVisitor { budget: &budget })?;
    de.end()?;
    Ok(value)
}

struct SkeletonVisitor<'b> {
    budget: &'b Budget,
}

impl<'de> DeserializeSeed<'de> for SkeletonVisitor<'_> {
    type Value = Json;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Json, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for SkeletonVisitor<'_> {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        if let Some(first) = seq.next_element_seed(SkeletonVisitor {
            budget: self.budget,
        })? {
            items.push(first);
            while seq.next_element::<IgnoredAny>()?.is_some() {}
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            self.budget.charge(key.len())?;
            let value = map.next_value_seed(SkeletonVisitor {
                budget: self.budget,
            })?;
            object.insert(key, value);
        }
        Ok(Json::Object(object))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Json, E> {
        StrictVisitor {
            budget: self.budget,
        }
        .visit_bool(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Json, E> {
        StrictVisitor {
            budget: self.budget,
        }
        .visit_i64(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Json, E> {
        StrictVisitor {
            budget: self.budget,
        }
        .visit_u64(v)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Json, E> {
        StrictVisitor {
            budget: self.budget,
        }
        .visit_f64(v)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Json, E> {
        StrictVisitor {
            budget: self.budget,
        }
        .visit_str(v)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Json, E> {
        StrictVisitor {
            budget: self.budget,
        }
        .visit_unit()
    }
}

/// How much of its limit a value being read has used.
struct Budget {
    used: Cell<usize>,
    limit: usize,
}

impl Budget {
    fn new(limit: usize) -> Self {
        Self {
            used: Cell::new(0),
            limit,
        }
    }

    fn charge<E: de::Error>(&self, bytes: usize) -> Result<(), E> {
        let used = self.used.get().saturating_add(bytes).saturating_add(8);
        self.used.set(used);
        if used > self.limit {
            return Err(E::custom(format!(
                "a record larger than the limit of {} MiB (one webhook payload, one item of a list or one JSON Lines line; see docs/ingestion.md); split the file",
                self.limit >> 20
            )));
        }
        Ok(())
    }
}

struct EachItem<F> {
    each: F,
    first_only: bool,
}

impl<'de, F: FnMut(usize, Json)> Visitor<'de> for EachItem<F> {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array")
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<usize, A::Error> {
        let mut count = 0;
        loop {
            if self.first_only && count > 0 {
                if seq.next_element::<IgnoredAny>()?.is_none() {
                    return Ok(count);
                }
            } else {
                let budget = Budget::new(MAX_RECORD_BYTES);
                match seq.next_element_seed(StrictSeed { budget: &budget })? {
                    Some(item) => (self.each)(count, item),
                    None => return Ok(count),
                }
            }
            count += 1;
        }
    }
}

/// Reads one value as [`StrictVisitor`] does.
struct StrictSeed<'b> {
    budget: &'b Budget,
}

impl<'de> DeserializeSeed<'de> for StrictSeed<'_> {
    type Value = Json;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Json, D::Error> {
        deserializer.deserialize_any(StrictVisitor {
            budget: self.budget,
        })
    }
}

/// Builds a [`Json`] value, refusing duplicate keys and values over the budget.
struct StrictVisitor<'b> {
    budget: &'b Budget,
}

impl<'de> Visitor<'de> for StrictVisitor<'_> {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Json, E> {
        self.budget.charge(0)?;
        Ok(Json::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Json, E> {
        self.budget.charge(0)?;
        Ok(Json::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Json, E> {
        self.budget.charge(0)?;
        Ok(Json::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Json, E> {
        self.budget.charge(0)?;
        Ok(Number::from_f64(v).map_or(Json::Null, Json::Number))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Json, E> {
        self.budget.charge(v.len())?;
        Ok(Json::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Json, E> {
        self.budget.charge(v.len())?;
        Ok(Json::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Json, E> {
        self.budget.charge(0)?;
        Ok(Json::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Json, E> {
        self.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Json, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        self.budget.charge(0)?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(StrictSeed {
            budget: self.budget,
        })? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        self.budget.charge(0)?;
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format!(
                    "duplicate key {key:?} (each key may appear once in an object)"
                )));
            }
            self.budget.charge(key.len())?;
            let value = map.next_value_seed(StrictSeed {
                budget: self.budget,
            })?;
            object.insert(key, value);
        }
        Ok(Json::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_refused_with_their_position() {
        let err = from_str(
            "{\"state\":\"failure\",\n \"state\":\"success\"}",
            MAX_RECORD_BYTES,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "duplicate key \"state\" (each key may appear once in an object) at line 2 column 8"
        );
        let nested = from_slice(br#"[{"a":{"b":1,"b":2}}]"#, MAX_RECORD_BYTES).unwrap_err();
        assert!(
            nested.to_string().starts_with("duplicate key \"b\""),
            "{nested}"
        );
    }

    #[test]
    fn a_list_wrapped_in_an_object_is_read_one_item_at_a_time() {
        let mut seen = Vec::new();
        let (rest, n) = for_each_in_field(
            br#"{"limit":2,"incidents":[{"id":"a"},{"id":"b"}],"more":false}"#,
            "incidents",
            |i, v| seen.push((i, v)),
        )
        .unwrap();
        assert_eq!(n, Some(2));
        assert_eq!(seen[1], (1, serde_json::json!({"id": "b"})));
        assert_eq!(
            Json::Object(rest),
            serde_json::json!({"limit": 2, "more": false})
        );
        // Without the list, the object is the whole document.
        let (rest, n) =
            for_each_in_field(br#"{"incident":{"id":"a"}}"#, "incidents", |_, _| {}).unwrap();
        assert_eq!(
            (Json::Object(rest), n),
            (serde_json::json!({"incident": {"id": "a"}}), None)
        );
        let err = for_each_in_field(
            br#"{"incidents":[],"incidents":[]}"#,
            "incidents",
            |_, _| {},
        )
        .unwrap_err();
        assert!(
            err.to_string().starts_with("duplicate key \"incidents\""),
            "{err}"
        );
        let err = for_each_in_field(
            b"{\"incidents\":[1,\n{\"a\":1,\"a\":2}]}",
            "incidents",
            |_, _| {},
        )
        .unwrap_err();
        assert_eq!((err.line(), err.column()), (2, 10));
        assert_eq!(
            skeleton(br#"{"incidents":[{"n":1},{"n":2}],"x":[[1,2],3]}"#).unwrap(),
            serde_json::json!({"incidents": [{"n": 1}], "x": [[1]]})
        );
    }

    #[test]
    fn lists_are_read_one_item_at_a_time() {
        let mut seen = Vec::new();
        let n = for_each_item(b" [ {\"a\":1}, 2 ,\"x\" ] ", |i, v| seen.push((i, v))).unwrap();
        assert_eq!(n, 3);
        assert_eq!(seen[0], (0, serde_json::json!({"a": 1})));
        assert_eq!(seen[2], (2, serde_json::json!("x")));
        let err = for_each_item(b"[1,\n{\"a\":1,\"a\":2}]", |_, _| {}).unwrap_err();
        assert_eq!((err.line(), err.column()), (2, 10));
        assert_eq!(
            first_item(b"[{\"a\":1},[],3]").unwrap(),
            Some(serde_json::json!({"a": 1}))
        );
        assert_eq!(first_item(b"[]").unwrap(), None);
        assert!(first_item(b"[1,2").is_err());
    }

    #[test]
    fn records_over_the_limit_are_refused() {
        let big = format!("[\"{}\"]", "x".repeat(MAX_RECORD_BYTES + 1));
        let err = for_each_item(big.as_bytes(), |_, _| {}).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("a record larger than the limit of 16 MiB"),
            "{err}"
        );
        assert!(from_str("{\"a\":\"0123456789\"}", 16).is_err());
        assert!(from_str("{\"a\":\"0123456789\"}", 64).is_ok());
    }

    #[test]
    fn values_read_as_serde_json_reads_them() {
        let text = r#"{"a":[1,-2,3.5,"x",null,true,{"b":{}}],"c":18446744073709551615}"#;
        assert_eq!(
            from_str(text, MAX_RECORD_BYTES).unwrap(),
            serde_json::from_str::<Json>(text).unwrap()
        );
    }
}
