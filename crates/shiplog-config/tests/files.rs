//! The configuration read from real files: the template `shiplog config init` prints, discovery at
//! a repository root, and repositories resolved relative to the file.

use std::path::Path;

use shiplog_config::{Config, Definitions, FILE_NAME, TEMPLATE, discover, load};

/// The template with every commented-out setting (`#key`, `#[table]`) switched on.
fn uncommented() -> String {
    TEMPLATE
        .lines()
        .map(|line| match line.strip_prefix('#') {
            Some(rest)
                if rest.starts_with(|c: char| c.is_ascii_alphabetic() || c == '[' || c == '"') =>
            {
                rest
            }
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_template_is_the_defaults_and_its_examples_are_valid() {
    let tmp = tempfile::tempdir().expect("tmp");
    let path = tmp.path().join(FILE_NAME);
    std::fs::write(&path, TEMPLATE).expect("write");
    let defaults = load(&path).expect("the template parses");
    assert_eq!(defaults.definitions, Definitions::default());
    assert!(defaults.services.is_empty());

    std::fs::write(&path, uncommented()).expect("write");
    let example = load(&path).unwrap_or_else(|e| panic!("uncommented template: {e}"));
    let names: Vec<&str> = example.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["api", "web"]);
    assert_eq!(
        example.definitions.attribution_window,
        Some(jiff::SignedDuration::from_hours(24))
    );
    assert_eq!(
        example.definitions.hotfix_labels,
        Definitions::default().hotfix_labels
    );
    let teams = example.teams();
    assert_eq!(teams.len(), 2);
    assert_eq!(
        example
            .source_mappings()
            .services
            .get("Checkout API")
            .map(|s| s.to_string()),
        Some("api".to_owned())
    );
    // The effective configuration printed by `config check` is itself valid configuration.
    let effective = example.effective_toml();
    let again = shiplog_config::parse(&effective, "effective", tmp.path())
        .unwrap_or_else(|e| panic!("{e}\n{effective}"));
    assert_eq!(again.services, example.services);
    assert_eq!(again.definitions, example.definitions);
    assert_eq!(again.source_mappings(), example.source_mappings());
    assert!(effective.contains("#   platform: api\n"), "{effective}");
    assert!(
        effective.contains("paths = [\"services/api/**\", \"libs/common/**\"]"),
        "{effective}"
    );
}

#[test]
fn discovery_prefers_the_explicit_file_then_the_repository_root() {
    let tmp = tempfile::tempdir().expect("tmp");
    let root = tmp.path();
    let none = discover(None, Some(root)).expect("defaults");
    assert!(none.file.is_none());
    std::fs::write(root.join(FILE_NAME), "[services.api]\nteam = \"core\"\n").expect("write");
    let found = discover(None, Some(root)).expect("found");
    assert_eq!(found.file.as_deref(), Some(root.join(FILE_NAME).as_path()));
    let missing = discover(Some(&root.join("nope.toml")), Some(root)).unwrap_err();
    assert!(
        missing
            .to_string()
            .starts_with("cannot read the configuration"),
        "{missing}"
    );
}

#[test]
fn path_rules_belong_to_the_repository_they_name() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mono = tmp.path().join("mono");
    let other = tmp.path().join("other");
    std::fs::create_dir_all(&mono).expect("mkdir");
    std::fs::create_dir_all(&other).expect("mkdir");
    let text = "[services.api]\npaths = [\"services/api\"]\n\n[services.web]\npaths = [\"services/web/**\"]\n\n[services.lib]\nrepository = \"../other\"\npaths = [\"src/**\"]\n\n[services.whole]\n";
    std::fs::write(mono.join(FILE_NAME), text).expect("write");
    let config = load(&mono.join(FILE_NAME)).expect("load");
    let names = |root: &Path| -> Vec<String> {
        config
            .path_rules(root)
            .into_iter()
            .map(|(s, globs)| format!("{s}:{}", globs.len()))
            .collect()
    };
    assert_eq!(names(&mono), ["api:2", "web:1"]);
    assert_eq!(names(&other), ["lib:1"]);
    let _: &Config = &config;
}
