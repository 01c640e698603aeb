//! docs/ingestion.md stays true: every error and note it shows is what the parsers say for the
//! input it describes.

mod payloads;

use serde_json::json;
use shiplog_ingest::formats::{Delivery, Options, Source, combine, parse};

const DOC: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../docs/ingestion.md"
));

/// The lines of the doc's `text` blocks.
fn text_lines() -> Vec<&'static str> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in DOC.lines() {
        match (inside, line) {
            (false, "```text") => inside = true,
            (true, "```") => inside = false,
            (true, l) => out.push(l),
            _ => {}
        }
    }
    out
}

fn messages(label: &str, body: &[u8], source: Source) -> Vec<String> {
    let d = Delivery::file(label, body.to_vec());
    match parse(&d, source, &Options::default()) {
        Ok(p) => combine(vec![p])
            .notes
            .iter()
            .map(|n| format!("skipped {n}"))
            .collect(),
        Err(list) => list.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn every_message_shown_is_produced() {
    let edit = |rel: &str, f: &dyn Fn(&mut serde_json::Value)| {
        let mut v = payloads::json(rel);
        f(&mut v);
        serde_json::to_vec(&v).expect("json")
    };
    let mut produced = Vec::new();
    produced.extend(messages(
        "event.json",
        &edit("pagerduty/incident.triggered.v3.zulip-fixture.json", &|v| {
            v["event"]["data"]["service"]["summary"] = json!("Checkout API")
        }),
        Source::PagerDuty,
    ));
    produced.extend(messages(
        "deploy.json",
        &edit("github/deployment_status_payload.json", &|v| {
            v["deployment_status"]["state"] = json!(3)
        }),
        Source::GitHub,
    ));
    produced.extend(messages(
        "deploy.json",
        &edit("github/deployment_status_payload.json", &|v| {
            v["deployment"]["sha"] = json!("f95f852")
        }),
        Source::GitHub,
    ));
    produced.extend(messages(
        "hook.json",
        &edit("gitlab/deployment_hook.success.zulip-fixture.json", &|v| {
            v.as_object_mut().map(|o| o.remove("status_changed_at"));
        }),
        Source::GitLab,
    ));
    produced.extend(messages(
        "event.json",
        &payloads::bytes("cdevents/v0.5.1/service_deployed.json"),
        Source::CdEvents,
    ));
    produced.extend(messages(
        "broken.json",
        b"{\"deployment_status\": ",
        Source::GitHub,
    ));
    produced.extend(messages(
        "issues.json",
        &payloads::bytes("github/issues_labeled.json"),
        Source::GitHub,
    ));
    let lines = text_lines();
    assert!(lines.len() >= 7, "the doc's examples: {lines:?}");
    for line in lines {
        assert!(
            produced.iter().any(|p| p == line),
            "docs/ingestion.md shows\n  {line}\nbut the parsers say\n  {}",
            produced.join("\n  ")
        );
    }
}
