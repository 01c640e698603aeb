//! The embedded Quick Check data equals the files it was derived from, value for value.
//!
//! The source files live outside the crate, in `../shared/payloads/dora-quickcheck/` relative to
//! the workspace (`CARGO_MANIFEST_DIR/../../../shared/...`). This test fails loudly when they are
//! missing: the embedded data must never drift from DORA's published files unnoticed.

use std::path::PathBuf;

use serde_json::Value;
use shiplog_guide::data::{quickcheck, slug_of};

fn source_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/payloads/dora-quickcheck")
}

fn load(name: &str) -> Value {
    let path = source_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "the DORA Quick Check source file {} is missing ({e}): this test compares the embedded data with it",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn embedded_benchmarks_equal_the_source_files() {
    let data = quickcheck();
    let mut values = 0;
    for edition in ["2024", "2025"] {
        for kind in ["industry", "organization_size"] {
            let source = load(&format!("editions-{edition}-{kind}_metrics.json"));
            let embedded = &data.benchmarks[&format!("{edition}-{kind}")];
            let rows = source.as_object().expect("rows");
            assert_eq!(rows.len(), embedded.len(), "{edition} {kind} rows");
            for (key, row) in rows {
                let mine = &embedded[key];
                let row = row.as_object().expect("row");
                assert_eq!(
                    row["name"].as_str(),
                    Some(mine.name.as_str()),
                    "{edition} {kind} {key}"
                );
                assert_eq!(
                    row.len() - 1,
                    mine.values.len(),
                    "{edition} {kind} {key} metrics"
                );
                for (metric, v) in row.iter().filter(|(k, _)| *k != "name") {
                    let [mean, std] = mine.values[metric];
                    assert_eq!(
                        v["mean"].as_f64(),
                        Some(mean),
                        "{edition} {kind} {key} {metric} mean"
                    );
                    assert_eq!(
                        v["std"].as_f64(),
                        Some(std),
                        "{edition} {kind} {key} {metric} std"
                    );
                    values += 2;
                }
            }
        }
    }
    assert!(values > 400, "{values}");
}

#[test]
fn embedded_statements_equal_the_source_file() {
    let source = load("capability_prioritization_questions.json");
    let source = source.as_array().expect("list");
    let data = quickcheck();
    assert_eq!(source.len(), data.statements.len());
    for (s, mine) in source.iter().zip(&data.statements) {
        assert_eq!(s["article_url"].as_str(), Some(mine.article_url.as_str()));
        assert_eq!(s["capability_name"].as_str(), Some(mine.name.as_str()));
        assert_eq!(s["response_prompt"].as_str(), Some(mine.prompt.as_str()));
        let questions = s["questions"].as_array().expect("questions");
        assert_eq!(questions.len(), mine.statements.len());
        for (i, (q, text)) in questions.iter().zip(&mine.statements).enumerate() {
            assert_eq!(
                q["number"].as_u64(),
                Some(i as u64 + 1),
                "numbered in order"
            );
            assert_eq!(q["question_text"].as_str(), Some(text.as_str()));
        }
    }
}

#[test]
fn embedded_buckets_and_names_equal_the_source_files() {
    let data = quickcheck();
    let responses = load("metrics_question_responses.json");
    let responses = responses.as_object().expect("metrics");
    assert_eq!(responses.len(), data.buckets.len());
    for (metric, buckets) in responses {
        let buckets = buckets.as_object().expect("buckets");
        assert_eq!(buckets.len(), 6, "{metric}");
        for (n, text) in buckets {
            assert_eq!(
                text.as_str(),
                Some(data.buckets[metric][n].as_str()),
                "{metric} {n}"
            );
        }
    }
    let details = load("metrics_details.json");
    for (metric, d) in details.as_object().expect("metrics") {
        assert_eq!(
            d["friendly_name"].as_str(),
            Some(data.metric_names[metric].as_str())
        );
    }
}

#[test]
fn embedded_model_equals_the_core_model_file() {
    let source = load("dora-core-v2-model.core_data.json");
    let groups = source["capabilities"].as_object().expect("groups");
    let data = quickcheck();
    assert_eq!(groups.len(), data.groups.len());
    // serde_json's map is sorted by key: look each one up by slug.
    for (slug, group) in groups {
        let mine = data
            .groups
            .iter()
            .find(|g| &g.slug == slug)
            .expect("group embedded");
        assert_eq!(group["name"].as_str(), Some(mine.name.as_str()));
        let entities = group["entities"].as_object().expect("entities");
        assert_eq!(entities.len(), mine.capabilities.len());
        for (slug, c) in entities {
            let m = mine
                .capabilities
                .iter()
                .find(|m| &m.slug == slug)
                .expect("capability embedded");
            assert_eq!(c["name"].as_str(), Some(m.name.as_str()));
            assert_eq!(c.get("link").and_then(Value::as_str), m.link.as_deref());
            if let Some(link) = &m.link {
                assert_eq!(slug_of(link), slug, "the article path names the slug");
            }
        }
    }
}
