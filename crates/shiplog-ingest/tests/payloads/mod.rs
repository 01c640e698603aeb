//! Reading the real recorded payloads in `shared/payloads` (beside the project; never copied into
//! it) through the vendor parsers.

#![allow(dead_code)]

use std::path::PathBuf;

use shiplog_ingest::formats::{
    Delivery, Detected, Ingested, Options, Source, combine, detect, parse,
};

/// The path of a shared payload, e.g. `github/deployment_status_payload.json`.
pub fn path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/payloads")
        .join(rel)
}

/// The bytes of a shared payload.
pub fn bytes(rel: &str) -> Vec<u8> {
    let p = path(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
}

/// A shared payload as a delivery labelled with its relative path (`.http` files with headers).
pub fn delivery(rel: &str) -> Delivery {
    let body = bytes(rel);
    if rel.ends_with(".http") {
        Delivery::from_http(rel, &body).unwrap_or_else(|e| panic!("{e}"))
    } else {
        Delivery::file(rel, body)
    }
}

/// A shared payload parsed as JSON (to derive inputs from at test time).
pub fn json(rel: &str) -> serde_json::Value {
    serde_json::from_slice(&bytes(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Detects, parses and combines deliveries; errors as display lines.
pub fn ingest_all(deliveries: &[Delivery], options: &Options) -> Result<Ingested, Vec<String>> {
    let mut parsed = Vec::new();
    let mut errors = Vec::new();
    for d in deliveries {
        let source = match detect(d) {
            Ok(Detected::Source(s)) => s,
            Ok(other) => panic!("{}: detected {other:?}, expected a vendor format", d.label),
            Err(e) => {
                errors.push(e.to_string());
                continue;
            }
        };
        match parse(d, source, options) {
            Ok(p) => parsed.push(p),
            Err(list) => errors.extend(list.iter().map(ToString::to_string)),
        }
    }
    if errors.is_empty() {
        Ok(combine(parsed))
    } else {
        Err(errors)
    }
}

/// One shared payload, detected, parsed and combined.
pub fn ingest(rel: &str, options: &Options) -> Result<Ingested, Vec<String>> {
    ingest_all(&[delivery(rel)], options)
}

/// One delivery made at test time (e.g. a payload with a value broken on purpose).
pub fn ingest_made(
    label: &str,
    body: &serde_json::Value,
    source: Source,
    options: &Options,
) -> Result<Ingested, Vec<String>> {
    let d = Delivery::file(label, serde_json::to_vec(body).expect("serialize"));
    match parse(&d, source, options) {
        Ok(p) => Ok(combine(vec![p])),
        Err(list) => Err(list.iter().map(ToString::to_string).collect()),
    }
}

pub fn ts(text: &str) -> jiff::Timestamp {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// The notes as display lines.
pub fn notes(ingested: &Ingested) -> Vec<String> {
    ingested.notes.iter().map(ToString::to_string).collect()
}
