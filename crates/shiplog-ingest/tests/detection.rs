//! Auto-detection: every shared payload is recognised as its vendor's format, shiplog's own files
//! stay shiplog's, and a JSON document nobody defines is an error that suggests `--from`.

mod payloads;

use shiplog_ingest::formats::{Delivery, Detected, Source, detect};

fn files(dir: &str) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(payloads::path(dir))
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_file())
        .map(|e| format!("{dir}/{}", e.file_name().to_string_lossy()))
        .collect();
    out.sort();
    out
}

#[test]
fn every_shared_payload_is_detected_as_its_format() {
    let mut checked = 0;
    for (dir, source) in [
        ("github", Source::GitHub),
        ("gitlab", Source::GitLab),
        ("pagerduty", Source::PagerDuty),
        ("cdevents", Source::CdEvents),
        ("cdevents/v0.4.1", Source::CdEvents),
        ("cdevents/v0.5.1", Source::CdEvents),
    ] {
        for file in files(dir) {
            assert_eq!(
                detect(&payloads::delivery(&file)),
                Ok(Detected::Source(source)),
                "{file}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 13 + 5 + 2 + 6 + 13 + 35);
}

#[test]
fn shiplog_files_and_unknown_documents() {
    let d = |body: &str| Delivery::file("f", body.as_bytes().to_vec());
    assert_eq!(
        detect(&d(
            "{\"type\":\"incident\",\"id\":\"i\"}\n{\"type\":\"incident\"}\n"
        )),
        Ok(Detected::JsonLines)
    );
    assert_eq!(
        detect(&d("{\"type\":\"deployment\",\"id\":\"d\"}")),
        Ok(Detected::JsonLines)
    );
    assert_eq!(
        detect(&d("{\"type\":\"deployment\",")),
        Ok(Detected::JsonLines),
        "broken JSON: the JSON Lines reader says where"
    );
    assert_eq!(detect(&d("type,id\n")), Ok(Detected::Csv));
    // A pretty-printed document with one bad token: the JSON parser's own position, not a JSON
    // Lines error for each of its lines.
    assert_eq!(
        detect(&d(
            "{\n  \"action\": \"created\",\n  \"deployment\": {\n    \"id\": nul1\n  }\n}\n"
        ))
        .unwrap_err()
        .to_string(),
        "f: not valid JSON: expected ident at line 4 column 14"
    );
    // Broken JSON starting with `[` is never read as CSV.
    assert_eq!(
        detect(&d("[\n  {\"id\": 1},\n  {\"id\": 2,}\n]"))
            .unwrap_err()
            .to_string(),
        "f: not valid JSON: key must be a string at line 3 column 12"
    );
    assert_eq!(
        detect(&d("[{\"a\":1,\"a\":2}]")).unwrap_err().to_string(),
        "f: not valid JSON: duplicate key \"a\" (each key may appear once in an object) at line 1 column 11"
    );
    assert_eq!(
        detect(&d("{\n  \"hello\": \"world\"\n}"))
            .unwrap_err()
            .to_string(),
        "f: $: expected a GitHub, GitLab, PagerDuty or CDEvents payload, or shiplog's JSON Lines, and could not tell which this is; name the format with --from"
    );
}
